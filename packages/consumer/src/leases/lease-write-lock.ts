import { AbortError, type Clock, callWithTimeout } from '@kinesis-kit/core';

/** What one locked write is: its name (for errors), how long it may take once it runs, what cancels it. */
export interface LockedWrite<T> {
  /** The call's name, used in timeout and abort errors (`RenewLease`, `UpdateLease`…). */
  readonly operation: string;
  /** Longest the write may take, asked once the lock is acquired (a deadline may depend on the time then). */
  readonly timeoutMs: () => number;
  /** Aborts the wait for the lock and the write. */
  readonly signal?: AbortSignal | undefined;
  readonly write: (signal: AbortSignal) => Promise<T>;
}

/**
 * Serializes the writes of each lease (a renewal and a checkpoint racing on one counter would make one of them
 * look like a lost lease), with bounded waits: the lock is let go when a write settles or its deadline passes,
 * whichever is first, so a write that hangs past its deadline (a client that ignores the abort) cannot hold the
 * lease's lock, and every wait is bounded by the deadlines of the writes ahead of it. Nothing sleeps under it.
 */
export class LeaseWriteLock {
  readonly #clock: Clock;
  readonly #tails = new Map<string, Promise<void>>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Runs `write` on `leaseKey` after the writes queued before it. */
  run<T>(leaseKey: string, { operation, timeoutMs, signal, write }: LockedWrite<T>): Promise<T> {
    const previous = this.#tails.get(leaseKey) ?? Promise.resolve();
    const clock = this.#clock;
    const run = untilAborted(previous, signal, operation).then(() =>
      callWithTimeout(write, { operation, timeoutMs: Math.max(1, timeoutMs()), clock, signal }),
    );
    const tail = Promise.allSettled([previous, run]).then(() => undefined);
    this.#tails.set(leaseKey, tail);
    void tail.then(() => {
      if (this.#tails.get(leaseKey) === tail) this.#tails.delete(leaseKey);
    });
    return run;
  }
}

/** Resolves with `promise` (which never rejects), or rejects with an AbortError as soon as `signal` aborts. */
function untilAborted(promise: Promise<void>, signal: AbortSignal | undefined, operation: string): Promise<void> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(new AbortError(`${operation} was aborted`, { cause: signal.reason }));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortError(`${operation} was aborted`, { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
