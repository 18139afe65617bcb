/** One running emulator: where to reach it and how to stop it. */
export interface EmulatorServer {
  /** Which emulator this is, e.g. `kinesis-mock`. */
  readonly name: string;
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** Stops the server and frees its port. Idempotent. */
  stop(): Promise<void>;
}

/** Options shared by every emulator starter. */
export interface EmulatorOptions {
  /** Port on 127.0.0.1; a free one is chosen when omitted. */
  port?: number;
  /**
   * How long the emulator keeps a stream or table in CREATING / UPDATING / DELETING, in ms. Short by default
   * so tests run fast; keep it above 0 where a test must observe the intermediate status.
   * @defaultValue 10
   */
  statusDelayMs?: number;
}

/** The status delay used when none is given: short enough for tests, long enough to see CREATING. */
export const DEFAULT_STATUS_DELAY_MS = 10;
