import type { FaultKind } from './fault-rule.js';

/** What the proxy has seen and done since it started (or since `stats.reset()`). */
export interface FaultProxyStats {
  /** Calls received, by operation (`PutRecords`, `GetItem`…; `''` for a call with no `X-Amz-Target`). */
  readonly requests: Readonly<Record<string, number>>;
  /** Calls passed on to the emulator. */
  readonly forwarded: number;
  /** Calls a rule took, by fault (latency counts calls delayed). */
  readonly injected: Readonly<Partial<Record<FaultKind, number>>>;
  /** PutRecords entries failed at random and held back from the emulator. */
  readonly failedEntries: number;
  /** Entries (PutRecords) or calls (PutRecord) refused by the per-shard write limits. */
  readonly writeThrottled: number;
  /** GetRecords calls refused by the per-shard read limits. */
  readonly readThrottled: number;
  /** Calls the emulator could not be reached for (answered with InternalFailure). */
  readonly upstreamErrors: number;
}

/** The proxy's mutable counters; {@link FaultStats.snapshot} hands out a frozen copy. */
export class FaultStats {
  #requests: Record<string, number> = {};
  #forwarded = 0;
  #injected: Partial<Record<FaultKind, number>> = {};
  #failedEntries = 0;
  #writeThrottled = 0;
  #readThrottled = 0;
  #upstreamErrors = 0;

  request(operation: string): void {
    this.#requests[operation] = (this.#requests[operation] ?? 0) + 1;
  }
  forwarded(): void {
    this.#forwarded += 1;
  }
  injected(kind: FaultKind): void {
    this.#injected[kind] = (this.#injected[kind] ?? 0) + 1;
  }
  failedEntries(count: number): void {
    this.#failedEntries += count;
  }
  writeThrottled(count: number): void {
    this.#writeThrottled += count;
  }
  readThrottled(): void {
    this.#readThrottled += 1;
  }
  upstreamError(): void {
    this.#upstreamErrors += 1;
  }

  reset(): void {
    this.#requests = {};
    this.#forwarded = 0;
    this.#injected = {};
    this.#failedEntries = 0;
    this.#writeThrottled = 0;
    this.#readThrottled = 0;
    this.#upstreamErrors = 0;
  }

  snapshot(): FaultProxyStats {
    return Object.freeze({
      requests: Object.freeze({ ...this.#requests }),
      forwarded: this.#forwarded,
      injected: Object.freeze({ ...this.#injected }),
      failedEntries: this.#failedEntries,
      writeThrottled: this.#writeThrottled,
      readThrottled: this.#readThrottled,
      upstreamErrors: this.#upstreamErrors,
    });
  }
}
