import { type Clock, systemClock } from './clock.js';
import { AbortError, TimeoutError } from './errors.js';

/** Options of {@link callWithTimeout}. */
export interface CallTimeoutOptions {
  /** The call's name, used in errors (`GetRecords`, `UpdateItem`…). */
  readonly operation: string;
  /** Longest the call may take, in ms. `Infinity` sets no limit (the caller's signal still applies). */
  readonly timeoutMs: number;
  /** Source of the timer. @defaultValue {@link systemClock} */
  readonly clock?: Clock;
  /**
   * The caller's signal: aborting it aborts the call, which then rejects with an {@link AbortError}.
   * `undefined` is accepted so callers can pass on an optional signal of their own as it is.
   */
  readonly signal?: AbortSignal | undefined;
  /**
   * The error a timed-out call rejects with.
   * @defaultValue a retriable {@link TimeoutError}: "`operation` took longer than `timeoutMs` ms"
   */
  readonly timeoutError?: () => Error;
}

/**
 * Runs one remote call with a time limit. `fn` gets a signal to pass to the SDK (`{ abortSignal }`), which
 * aborts when `timeoutMs` passes or the caller's signal aborts; the returned promise settles at that moment
 * even if the client ignores the signal.
 *
 * The AWS SDK for JavaScript v3 sets no request timeout by default, so a connection that stops answering
 * (a dropped NAT entry, a half-open socket) holds a call forever. A timed-out call rejects with a retriable
 * {@link TimeoutError}, so {@link retry} tries again.
 *
 * @example
 * ```ts
 * const output = await callWithTimeout((abortSignal) => client.send(command, { abortSignal }), {
 *   operation: 'GetRecords',
 *   timeoutMs: 30_000,
 *   signal,
 * });
 * ```
 */
export async function callWithTimeout<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  options: CallTimeoutOptions,
): Promise<T> {
  const { operation, timeoutMs, clock = systemClock, signal } = options;
  if (signal?.aborted) throw new AbortError(`${operation} was aborted`, { cause: signal.reason });
  const request = new AbortController();
  const onAbort = (): void => request.abort(new AbortError(`${operation} was aborted`, { cause: signal?.reason }));
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = new AbortController();
  if (timeoutMs !== Number.POSITIVE_INFINITY) {
    clock.sleep(timeoutMs, timer.signal).then(
      () =>
        request.abort(options.timeoutError?.() ?? new TimeoutError(`${operation} took longer than ${timeoutMs} ms`)),
      () => {},
    );
  }
  try {
    return await settledOrAborted(fn(request.signal), request.signal);
  } catch (error) {
    // The SDK reports an abort as its own AbortError; report why we aborted instead.
    const reason: unknown = request.signal.aborted ? request.signal.reason : undefined;
    throw reason instanceof Error ? reason : error;
  } finally {
    timer.abort();
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Settles with `promise`, or rejects as soon as `signal` aborts: a client that ignores the signal cannot hang us. */
function settledOrAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve(promise).then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
