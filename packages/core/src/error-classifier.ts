import { AbortError, KinesisKitError } from './errors.js';

/**
 * How a failed call should be treated, after the AWS SDK v3 (smithy) retry model:
 * - `throttling`: the service asked us to slow down; retry with a longer backoff.
 * - `transient`: the request probably never reached the service, its answer was lost (connection reset,
 *   DNS hiccup, request timeout), or it failed for a reason that can pass (credentials being refreshed,
 *   clock skew the SDK corrects, an error we do not know); retry.
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

/**
 * Error names certain to repeat when the same call is made again: the only service errors that are final.
 * The KPL retries every error until `recordTtl`; we do too, except where retrying cannot help and would
 * only hold records (and memory) until their TTL:
 * - the request itself is invalid (`ValidationException`, `InvalidArgumentException`, `SerializationException`,
 *   the query protocol's `ValidationError`, `InvalidParameterValue`…) or names an operation the endpoint lacks;
 * - what it names does not exist (`ResourceNotFoundException`: no such stream, table or key);
 * - the caller may not do it (`AccessDeniedException`, `KMSAccessDeniedException`): a policy does not change
 *   within a record's TTL;
 * - a condition or an iterator failed (`ConditionalCheckFailedException`, `ExpiredIteratorException`): the
 *   same call is answered the same way (the consumer makes a different call instead).
 *
 * Not listed, so retried: `CredentialsProviderError` (an IMDS or STS hiccup), `ExpiredTokenException` (the
 * provider refreshes), `InvalidSignatureException`/`RequestExpired`/`RequestTimeTooSkewed` (the SDK corrects
 * its clock skew on the next attempt), `UnrecognizedClientException` (a key not yet known everywhere),
 * `KMSDisabledException`/`KMSInvalidStateException` (a key an operator can re-enable) and any error we have
 * never heard of.
 */
export const FINAL_ERROR_NAMES: ReadonlySet<string> = new Set([
  // The request is invalid as it is.
  'ValidationException',
  'ValidationError',
  'InvalidArgumentException',
  'InvalidParameterException',
  'InvalidParameterValue',
  'InvalidParameterValueException',
  'InvalidParameterCombination',
  'MissingParameter',
  'MalformedQueryString',
  'SerializationException',
  'IncompleteSignature',
  'MissingAuthenticationTokenException',
  'UnknownOperationException',
  'InvalidAction',
  // What it names does not exist.
  'ResourceNotFoundException',
  'KMSNotFoundException',
  // The caller may not.
  'AccessDeniedException',
  'AccessDenied',
  'KMSAccessDeniedException',
  'KMSOptInRequired',
  'OptInRequired',
  // The same call gets the same answer.
  'ResourceInUseException',
  'ExpiredIteratorException',
  'ExpiredNextTokenException',
  'ConditionalCheckFailedException',
  'TransactionCanceledException',
]);

/**
 * Names of JavaScript's own errors: thrown by code (ours or a callback's), not by a service, and certain
 * to be thrown again by the same code.
 */
const PROGRAMMING_ERROR_NAMES: ReadonlySet<string> = new Set([
  'Error',
  'TypeError',
  'RangeError',
  'ReferenceError',
  'SyntaxError',
  'EvalError',
  'URIError',
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
 * Order matters: throttling wins over everything (it needs the longer backoff), then the errors certain to
 * repeat ({@link FINAL_ERROR_NAMES}: `client`), then transient, then server. What is left is retried as
 * `transient` if it came from a service or the SDK (it has a name, a `$metadata` or a `$fault`): the KPL
 * retries every error until `recordTtl`, and one final answer to an IMDS hiccup or a skewed clock would
 * fail every record of a call (issue 11). Only what cannot be a service's answer stays `client`: a thrown
 * string, `null`, or one of JavaScript's own errors (`Error`, `TypeError`…) with no HTTP status, a bug
 * that retrying would only repeat.
 *
 * Decisions worth knowing:
 * - `ExpiredIteratorException` and `ExpiredNextTokenException` are **client** errors: repeating the same
 *   call with the same expired iterator or token can never succeed. The consumer handles them by getting a
 *   fresh iterator (`AFTER_SEQUENCE_NUMBER`) or restarting the listing, which is a different call.
 * - `ResourceInUseException` is a client error here; where it means "the stream is still UPDATING", the
 *   caller knows and can pass its own `classify` to {@link retry}.
 * - `AccessDeniedException` is a client error: on PutRecords a policy does not change within a record's
 *   TTL. (Where a missing permission has a fallback, as ListShards has for the producer, the caller acts on
 *   the name before it classifies.)
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
  const fault = stringProperty(error, '$fault');
  const retryable = objectProperty(error, '$retryable');

  if ((name !== undefined && THROTTLING_ERROR_NAMES.has(name)) || status === 429) return 'throttling';
  if (retryable !== undefined && retryable.throttling === true) return 'throttling';

  if (name !== undefined && FINAL_ERROR_NAMES.has(name)) return 'client';

  if (name !== undefined && (TRANSIENT_ERROR_NAMES.has(name) || name === 'AbortError')) return 'transient';
  if (hasNetworkErrorCode(error)) return 'transient';
  if (retryable !== undefined) return 'transient';

  if (name !== undefined && SERVER_ERROR_NAMES.has(name)) return 'server';
  if (fault === 'server') return 'server';
  if (status !== undefined && status >= 500) return 'server';

  // Not a service's answer: a bug, which the same code would only throw again.
  if (status === undefined && fault === undefined && (name === undefined || PROGRAMMING_ERROR_NAMES.has(name))) {
    return 'client';
  }
  return 'transient';
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
