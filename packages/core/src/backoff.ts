import { ValidationError } from './errors.js';

/** The two numbers of an exponential backoff. */
export interface BackoffOptions {
  /** The delay cap of the first retry, in ms; each later retry doubles it. */
  readonly baseMs: number;
  /** No delay is ever longer than this, in ms. */
  readonly maxMs: number;
}

/** Backoff after transient and server errors (the AWS SDK v3 default base). */
export const DEFAULT_BACKOFF: BackoffOptions = Object.freeze({ baseMs: 100, maxMs: 20_000 });

/** Backoff after throttling: a larger base, because retrying quickly is exactly what the service asked us not to do. */
export const DEFAULT_THROTTLING_BACKOFF: BackoffOptions = Object.freeze({ baseMs: 500, maxMs: 20_000 });

/** Beyond this exponent `2^attempt` only matters as "larger than any cap"; keeps the math finite. */
const MAX_EXPONENT = 52;

/**
 * The delay before retry number `attempt` (0 for the first retry), with "full jitter":
 *
 * ```
 * delay = random() × min(maxMs, baseMs × 2^attempt)      random() ∈ [0, 1)
 * ```
 *
 * Full jitter (rather than a fixed or "equal jitter" delay) spreads the retries of many clients that failed
 * together over the whole window, which is what drains a throttled shard fastest (AWS Architecture Blog,
 * "Exponential Backoff And Jitter"). The result is rounded down to whole milliseconds.
 *
 * @param random - source of uniform numbers in [0, 1); inject a constant in tests.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), MAX_EXPONENT);
  const cap = Math.min(options.maxMs, options.baseMs * 2 ** exponent);
  return Math.floor(random() * cap);
}

/** Throws a {@link ValidationError} naming the bad value unless `0 ≤ baseMs ≤ maxMs` and both are finite. */
export function validateBackoff(options: BackoffOptions, field = 'backoff'): void {
  const { baseMs, maxMs } = options;
  if (!Number.isFinite(baseMs) || baseMs < 0) {
    throw new ValidationError(`${field}.baseMs must be a finite number ≥ 0, got ${baseMs}`, {
      field: `${field}.baseMs`,
      value: baseMs,
    });
  }
  if (!Number.isFinite(maxMs) || maxMs < baseMs) {
    throw new ValidationError(`${field}.maxMs must be a finite number ≥ baseMs (${baseMs}), got ${maxMs}`, {
      field: `${field}.maxMs`,
      value: maxMs,
    });
  }
}
