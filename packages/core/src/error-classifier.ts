import { AbortError, KinesisKitError } from './errors.js';

/**
 * How a failed call should be treated, after the AWS SDK v3 (smithy) retry model:
 * - `throttling`: the service asked us to slow down; retry with a longer backoff.
 * - `transient`: the request probably never reached the service or its answer was lost (connection reset,
 *   DNS hiccup, request timeout); retry.
 * - `server`: the service failed (5xx); retry.
 * - `client`: the request itself is wrong or can never succeed as it is; do not retry.
 */
export type ErrorClass = 'throttling' | 'transient' | 'server' | 'client';

/**
 * Error names that mean "slow down". Kinesis, DynamoDB, KMS and CloudWatch use several of them.
 * `LimitExceededException` is listed because Kinesis returns it for control-plane rate limits (ListShards,
 * DescribeStreamSummary…); it also means "too many shards" on CreateStream, where retrying until the
 * deadline is harmless.
 */
export const THROTTLING_ERROR_NAMES: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'LimitExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'KMSThrottlingException',
  'BandwidthLimitExceeded',
  'SlowDown',
  'PriorRequestNotComplete',
  'TransactionInProgressException',
]);

/** Error names of timeouts raised by the SDK or by a request that was given up on. */
export const TRANSIENT_ERROR_NAMES: ReadonlySet<string> = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/** Node.js `error.code`s of network failures: the request may never have reached the service. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_HTTP2_ERROR',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_STREAM_CANCEL',
  'ERR_HTTP2_INVALID_SESSION',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/** Error names of server-side failures that some services send with a 4xx-looking shape. */
export const SERVER_ERROR_NAMES: ReadonlySet<string> = new Set([
  'InternalFailure',
  'InternalFailureException',
  'InternalServerError',
  'InternalServerErrorException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);

/** How far down a `cause` chain to look for a network error code (fetch-style wrappers nest one level). */
const MAX_CAUSE_DEPTH = 3;

/**
 * Classifies a failure of an AWS SDK v3 call (or of our own code) so retry logic can decide what to do.
 *
 * Order matters: throttling wins over everything (it needs the longer backoff), then transient, then
 * server; whatever is left is a client error and is not retried. Unknown values (a thrown string) are
 * client errors: retrying code we do not understand would only repeat the failure.
 *
 * Decisions worth knowing:
 * - `ExpiredIteratorException` and `ExpiredNextTokenException` are **client** errors: repeating the same
 *   call with the same expired iterator or token can never succeed. The consumer handles them by getting a
 *   fresh iterator (`AFTER_SEQUENCE_NUMBER`) or restarting the listing, which is a different call.
 * - `ResourceInUseException` is a client error here; where it means "the stream is still UPDATING", the
 *   caller knows and can pass its own `classify` to {@link retry}.
 * - Our {@link AbortError} is a client error (the caller cancelled). An `AbortError` from the SDK that is not
 *   ours is **transient**: `retry()` stops on its own signal before classifying, so an abort it did not ask
 *   for comes from a per-attempt request timeout.
 * - Any other {@link KinesisKitError} follows its `retriable` flag (`transient` or `client`).
 */
export function classifyError(error: unknown): ErrorClass {
  if (error instanceof AbortError) return 'client';
  if (error instanceof KinesisKitError) return error.retriable ? 'transient' : 'client';
  if (typeof error !== 'object' || error === null) return 'client';

  const name = stringProperty(error, 'name');
  const status = httpStatusOf(error);
  const retryable = objectProperty(error, '$retryable');

  if ((name !== undefined && THROTTLING_ERROR_NAMES.has(name)) || status === 429) return 'throttling';
  if (retryable !== undefined && retryable.throttling === true) return 'throttling';

  if (name !== undefined && (TRANSIENT_ERROR_NAMES.has(name) || name === 'AbortError')) return 'transient';
  if (hasNetworkErrorCode(error)) return 'transient';
  if (retryable !== undefined) return 'transient';

  if (name !== undefined && SERVER_ERROR_NAMES.has(name)) return 'server';
  if (stringProperty(error, '$fault') === 'server') return 'server';
  if (status !== undefined && status >= 500) return 'server';

  return 'client';
}

/** Whether retrying the failed call could help: every class but `client`. */
export function isRetriable(error: unknown): boolean {
  return classifyError(error) !== 'client';
}

/** Whether the service asked us to slow down. */
export function isThrottlingError(error: unknown): boolean {
  return classifyError(error) === 'throttling';
}

function hasNetworkErrorCode(error: object): boolean {
  let current: unknown = error;
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH; depth++) {
    if (typeof current !== 'object' || current === null) return false;
    const code = stringProperty(current, 'code');
    if (code !== undefined && NETWORK_ERROR_CODES.has(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

function httpStatusOf(error: object): number | undefined {
  const metadata = objectProperty(error, '$metadata');
  const status = metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

function stringProperty(value: object, key: string): string | undefined {
  const property: unknown = (value as Record<string, unknown>)[key];
  return typeof property === 'string' ? property : undefined;
}

function objectProperty(value: object, key: string): Record<string, unknown> | undefined {
  const property: unknown = (value as Record<string, unknown>)[key];
  return typeof property === 'object' && property !== null ? (property as Record<string, unknown>) : undefined;
}
