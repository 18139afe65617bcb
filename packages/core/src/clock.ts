import { AbortError } from './errors.js';

/**
 * Time as Kinesis Kit sees it. Everything that waits or stamps takes a `Clock`, so tests can drive time
 * with a {@link ManualClock} instead of sleeping or faking global timers.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /**
   * Resolves after `ms` milliseconds. Rejects with an {@link AbortError} as soon as `signal` aborts (at
   * once if it already has), and leaves no timer or listener behind either way.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function abortErrorFor(signal: AbortSignal): AbortError {
  return new AbortError('The wait was aborted', { cause: signal.reason });
}

/**
 * The real clock: `Date.now()` and `setTimeout`. Its timers keep the process alive on purpose: a retry
 * that is sleeping is still work in progress, and dropping it because the event loop looked idle would
 * lose records silently.
 */
export const systemClock: Clock = Object.freeze({
  now: (): number => Date.now(),
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortErrorFor(signal));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, ms),
      );
      function onAbort(this: AbortSignal): void {
        clearTimeout(timer);
        reject(abortErrorFor(this));
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
});

interface Sleeper {
  readonly dueAt: number;
  /** Tie-breaker so sleepers due at the same instant wake in the order they started sleeping. */
  readonly order: number;
  readonly resolve: () => void;
}

interface SleeperWaiter {
  readonly count: number;
  readonly resolve: () => void;
}

/**
 * A clock that only moves when told to. `advance(ms)` wakes due sleepers one at a time, in due order,
 * and lets each one's continuation run before moving on, so code that sleeps again after waking (a
 * retry loop) is driven to completion within one `advance`.
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * const done = retry(fn, { clock });
 * await clock.whenSleeping();
 * await clock.advance(1_000);
 * ```
 */
export class ManualClock implements Clock {
  #now: number;
  #nextOrder = 0;
  #sleepers: Sleeper[] = [];
  #waiters: SleeperWaiter[] = [];

  /** @param start - the initial time in epoch milliseconds. @defaultValue 0 */
  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** How many `sleep` calls are waiting for time to pass. */
  get sleeperCount(): number {
    return this.#sleepers.length;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortErrorFor(signal));
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        if (signal) reject(abortErrorFor(signal));
      };
      const sleeper: Sleeper = {
        dueAt: this.#now + ms,
        order: this.#nextOrder++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#sleepers.push(sleeper);
      this.#notifyWaiters();
    });
  }

  /** Resolves once at least `count` sleepers are waiting; lets a test advance only after code under test sleeps. */
  whenSleeping(count = 1): Promise<void> {
    if (this.#sleepers.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  /** Moves time forward by `ms`, waking every sleeper that falls due on the way, earliest first. */
  advance(ms: number): Promise<void> {
    return this.advanceTo(this.#now + Math.max(0, ms));
  }

  /** Moves time forward to `time` (never backwards), waking due sleepers earliest first. */
  async advanceTo(time: number): Promise<void> {
    for (;;) {
      const next = this.#earliestDue(time);
      if (next === undefined) break;
      this.#sleepers = this.#sleepers.filter((s) => s !== next);
      this.#now = Math.max(this.#now, next.dueAt);
      next.resolve();
      await settle();
    }
    this.#now = Math.max(this.#now, time);
  }

  #earliestDue(limit: number): Sleeper | undefined {
    let earliest: Sleeper | undefined;
    for (const s of this.#sleepers) {
      if (s.dueAt > limit) continue;
      if (
        earliest === undefined ||
        s.dueAt < earliest.dueAt ||
        (s.dueAt === earliest.dueAt && s.order < earliest.order)
      ) {
        earliest = s;
      }
    }
    return earliest;
  }

  #notifyWaiters(): void {
    const ready = this.#waiters.filter((w) => this.#sleepers.length >= w.count);
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }
}

/** Lets pending promise continuations run: a macrotask turn drains every microtask queued before it. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
