import {
  type BackoffOptions,
  backoffDelay,
  DEFAULT_BACKOFF,
  DEFAULT_THROTTLING_BACKOFF,
  validateBackoff,
} from './backoff.js';
import { type Clock, systemClock } from './clock.js';
import { classifyError, type ErrorClass } from './error-classifier.js';
import { AbortError, ValidationError } from './errors.js';

/** Attempts made by {@link retry} when the caller sets neither `maxAttempts` nor anything else (the AWS SDK default). */
export const DEFAULT_MAX_ATTEMPTS = 3;

/**
 * The reusable part of a retry: how to classify failures and how long to wait. Producer and consumer options
 * take one of these, so tests can pass a policy with zero delays or a {@link ManualClock}.
 */
export interface RetryPolicy {
  /**
   * Most calls of `fn`, the first included. `Infinity` is allowed only together with a `deadline`.
   * @defaultValue 3 ({@link DEFAULT_MAX_ATTEMPTS})
   */
  readonly maxAttempts?: number;
  /** Backoff after `transient` and `server` errors. @defaultValue `{ baseMs: 100, maxMs: 20_000 }` */
  readonly backoff?: BackoffOptions;
  /** Backoff after `throttling` errors. @defaultValue `{ baseMs: 500, maxMs: 20_000 }` */
  readonly throttlingBackoff?: BackoffOptions;
  /** Decides whether and how a failure is retried. @defaultValue {@link classifyError} */
  readonly classify?: (error: unknown) => ErrorClass;
  /** Source of time and sleeps. @defaultValue {@link systemClock} */
  readonly clock?: Clock;
  /** Uniform numbers in [0, 1) for the jitter. @defaultValue `Math.random` */
  readonly random?: () => number;
}

/** What {@link RetryOptions.onRetry} is told before each wait. */
export interface RetryEvent {
  /** The attempt that just failed, from 1. */
  readonly attempt: number;
  readonly error: unknown;
  readonly errorClass: ErrorClass;
  /** How long {@link retry} is about to wait before the next attempt. */
  readonly delayMs: number;
}

/** Options of one {@link retry} call: a policy plus the limits and hooks of this call. */
export interface RetryOptions extends RetryPolicy {
  /** Epoch ms (by `clock`) after which no new attempt starts. Attempts already running are not interrupted. */
  readonly deadline?: number;
  /** Stops retrying, and interrupts a wait, when aborted. Also handed to `fn` to cancel its request. */
  readonly signal?: AbortSignal;
  /**
   * Called before each wait, e.g. to emit an event or count errors. If it throws, the retry ends with that
   * error.
   */
  readonly onRetry?: (event: RetryEvent) => void;
}

/** What `fn` is told on each call. */
export interface AttemptContext {
  /** The attempt number, from 1. */
  readonly attempt: number;
  /** The caller's signal, to pass on to the SDK (`client.send(command, { abortSignal })`). */
  readonly signal: AbortSignal | undefined;
}

/**
 * Calls `fn` until it succeeds, retrying failures that {@link classifyError} (or `options.classify`) calls
 * retriable, with full-jitter exponential backoff ({@link backoffDelay}; throttling uses its own, larger base).
 *
 * It stops at the first of:
 * - a `client` error: rethrown at once;
 * - `maxAttempts` calls: the last error is rethrown;
 * - the `deadline`: when the next wait would reach it, the last error is rethrown without waiting;
 * - the `signal`: an {@link AbortError} whose `cause` is the last error (or, if no attempt failed yet, the
 *   abort reason).
 *
 * Errors are rethrown **unwrapped**, so callers can still branch on the SDK's exception class or `name`; the
 * attempt count and every intermediate error are reported through `onRetry`. The first attempt always runs,
 * even if the deadline has already passed: the deadline bounds retries, not the call.
 */
export async function retry<T>(fn: (context: AttemptContext) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const throttlingBackoff = options.throttlingBackoff ?? DEFAULT_THROTTLING_BACKOFF;
  const classify = options.classify ?? classifyError;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const { deadline, signal, onRetry } = options;
  validateRetryOptions(maxAttempts, deadline);
  validateBackoff(backoff, 'backoff');
  validateBackoff(throttlingBackoff, 'throttlingBackoff');

  if (signal?.aborted) throw new AbortError('The retry was aborted before its first attempt', { cause: signal.reason });
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn({ attempt, signal });
    } catch (error) {
      if (signal?.aborted) throw abortedAfter(attempt, error);
      const errorClass = classify(error);
      if (errorClass === 'client' || attempt >= maxAttempts) throw error;
      const delayMs = backoffDelay(attempt - 1, errorClass === 'throttling' ? throttlingBackoff : backoff, random);
      if (deadline !== undefined && clock.now() + delayMs >= deadline) throw error;
      onRetry?.({ attempt, error, errorClass, delayMs });
      try {
        await clock.sleep(delayMs, signal);
      } catch {
        throw abortedAfter(attempt, error);
      }
    }
  }
}

function abortedAfter(attempts: number, lastError: unknown): AbortError {
  return new AbortError(`The retry was aborted after ${attempts} attempt${attempts === 1 ? '' : 's'}`, {
    cause: lastError,
  });
}

function validateRetryOptions(maxAttempts: number, deadline: number | undefined): void {
  const whole = Number.isInteger(maxAttempts) || maxAttempts === Number.POSITIVE_INFINITY;
  if (!whole || maxAttempts < 1) {
    throw new ValidationError(`maxAttempts must be a whole number ≥ 1 or Infinity, got ${maxAttempts}`, {
      field: 'maxAttempts',
      value: maxAttempts,
    });
  }
  if (maxAttempts === Number.POSITIVE_INFINITY && deadline === undefined) {
    throw new ValidationError('maxAttempts may be Infinity only with a deadline: never retry forever', {
      field: 'maxAttempts',
      value: maxAttempts,
    });
  }
  if (deadline !== undefined && !Number.isFinite(deadline)) {
    throw new ValidationError(`deadline must be a finite epoch time in ms, got ${deadline}`, {
      field: 'deadline',
      value: deadline,
    });
  }
}
