import { type Clock, systemClock } from './clock.js';
import { ValidationError } from './errors.js';

/** Options of {@link runAtFixedRate} and {@link runWithFixedDelay}. */
export interface ScheduleOptions {
  /** The period (fixed rate: start to start) or the pause (fixed delay: end to start), in ms. */
  readonly intervalMs: number;
  /** Wait before the first round, in ms. @defaultValue `intervalMs` (0 starts the first round at once) */
  readonly initialDelayMs?: number;
  /** Ends the loop: a wait stops at once, a running round is handed the signal and awaited. */
  readonly signal: AbortSignal;
  /**
   * Told about a round that threw or rejected, unless the signal had aborted (a round cut short by shutdown is
   * not a failure). The loop goes on with the next round. If `onError` itself throws, that is ignored: a report
   * that fails must not stop the schedule it reports on.
   */
  readonly onError: (error: unknown) => void;
  /** @defaultValue {@link systemClock} */
  readonly clock?: Clock;
}

/** One round of a loop; gets the loop's signal to pass on to its calls. */
export type ScheduledRound = (signal: AbortSignal) => Promise<void> | void;

/**
 * Runs `round` every `intervalMs`, start to start (Java's `scheduleAtFixedRate`), until the signal aborts. A round
 * that overruns delays the next one; no burst of catch-up rounds follows a stall, because a lease renewer that
 * fires three renewals at once after a GC pause helps nobody. Rounds never overlap.
 *
 * Resolves once the signal has aborted and the running round (if any) has finished; never rejects.
 *
 * @throws {@link ValidationError} at once for a bad interval.
 */
export function runAtFixedRate(round: ScheduledRound, options: ScheduleOptions): Promise<void> {
  const { intervalMs, initialDelayMs, clock } = resolve(options);
  return (async () => {
    let next = clock.now() + initialDelayMs;
    for (;;) {
      if (!(await sleepUnlessAborted(clock, next - clock.now(), options.signal))) return;
      await guarded(round, options);
      next = Math.max(next + intervalMs, clock.now());
    }
  })();
}

/**
 * Runs `round`, waits `intervalMs` after it ends, and again, until the signal aborts (Java's
 * `scheduleWithFixedDelay`): the pause between rounds is the same however long a round takes.
 *
 * Resolves once the signal has aborted and the running round (if any) has finished; never rejects.
 *
 * @throws {@link ValidationError} at once for a bad interval.
 */
export function runWithFixedDelay(round: ScheduledRound, options: ScheduleOptions): Promise<void> {
  const { intervalMs, initialDelayMs, clock } = resolve(options);
  return (async () => {
    let wait = initialDelayMs;
    for (;;) {
      if (!(await sleepUnlessAborted(clock, wait, options.signal))) return;
      await guarded(round, options);
      wait = intervalMs;
    }
  })();
}

function resolve(options: ScheduleOptions) {
  const intervalMs = options.intervalMs;
  if (!(Number.isFinite(intervalMs) && intervalMs > 0)) {
    throw new ValidationError(`intervalMs must be a finite number of ms > 0, got ${intervalMs}`, {
      field: 'intervalMs',
      value: intervalMs,
    });
  }
  const initialDelayMs = options.initialDelayMs ?? intervalMs;
  if (!(Number.isFinite(initialDelayMs) && initialDelayMs >= 0)) {
    throw new ValidationError(`initialDelayMs must be a finite number of ms ≥ 0, got ${initialDelayMs}`, {
      field: 'initialDelayMs',
      value: initialDelayMs,
    });
  }
  return { intervalMs, initialDelayMs, clock: options.clock ?? systemClock };
}

/** Sleeps; false if the signal aborted (before or during the wait), so loops end without a rejection. */
async function sleepUnlessAborted(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms <= 0) return true;
  try {
    await clock.sleep(ms, signal);
    return true;
  } catch {
    return false;
  }
}

async function guarded(round: ScheduledRound, options: ScheduleOptions): Promise<void> {
  try {
    await round(options.signal);
  } catch (error) {
    if (options.signal.aborted) return;
    try {
      options.onError(error);
    } catch {
      // Documented: a failing report does not stop the schedule.
    }
  }
}
