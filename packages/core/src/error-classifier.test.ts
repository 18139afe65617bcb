import {
  AccessDeniedException,
  ExpiredIteratorException,
  ExpiredNextTokenException,
  InternalFailureException,
  InvalidArgumentException,
  KMSAccessDeniedException,
  KMSThrottlingException,
  LimitExceededException,
  ProvisionedThroughputExceededException,
  ResourceInUseException,
  ResourceNotFoundException,
  ValidationException,
} from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { classifyError, type ErrorClass, isRetriable, isThrottlingError } from './error-classifier.js';
import { AbortError, KinesisKitError, ShutdownError, TimeoutError, ValidationError } from './errors.js';

const $metadata = { httpStatusCode: 400 };

/** What the SDK throws for an error it has no class for: a plain ServiceException-shaped error. */
function serviceError(name: string, fault: 'client' | 'server', status: number, extra: object = {}): Error {
  return Object.assign(new Error(name), { name, $fault: fault, $metadata: { httpStatusCode: status }, ...extra });
}

function nodeError(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

describe('classifyError', () => {
  it.each<[string, unknown, ErrorClass]>([
    // Throttling: the service asked us to slow down.
    [
      'ProvisionedThroughputExceededException',
      new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata }),
      'throttling',
    ],
    ['KMSThrottlingException', new KMSThrottlingException({ message: 'slow', $metadata }), 'throttling'],
    ['LimitExceededException', new LimitExceededException({ message: 'ListShards rate', $metadata }), 'throttling'],
    ['ThrottlingException (DynamoDB)', serviceError('ThrottlingException', 'client', 400), 'throttling'],
    ['RequestLimitExceeded (DynamoDB)', serviceError('RequestLimitExceeded', 'client', 400), 'throttling'],
    ['TooManyRequestsException', serviceError('TooManyRequestsException', 'client', 429), 'throttling'],
    ['an unknown error with status 429', serviceError('Whatever', 'client', 429), 'throttling'],
    [
      'an error the SDK marks $retryable throttling',
      serviceError('Odd', 'client', 400, { $retryable: { throttling: true } }),
      'throttling',
    ],
    // Transient: the request may never have arrived, or its answer was lost.
    ['ECONNRESET', nodeError('ECONNRESET', 'socket hang up'), 'transient'],
    ['ECONNREFUSED', nodeError('ECONNREFUSED'), 'transient'],
    ['ETIMEDOUT', nodeError('ETIMEDOUT'), 'transient'],
    ['EPIPE', nodeError('EPIPE'), 'transient'],
    ['EAI_AGAIN', nodeError('EAI_AGAIN'), 'transient'],
    ['an HTTP/2 protocol error', nodeError('ERR_HTTP2_ERROR', 'Protocol error'), 'transient'],
    ['a network code one cause deep', new Error('fetch failed', { cause: nodeError('ECONNRESET') }), 'transient'],
    ['the SDK request TimeoutError', Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'transient'],
    ['RequestTimeout', serviceError('RequestTimeout', 'client', 408), 'transient'],
    [
      'an SDK AbortError (a per-attempt timeout)',
      Object.assign(new Error('Request aborted'), { name: 'AbortError' }),
      'transient',
    ],
    ['an error the SDK marks $retryable', serviceError('Odd', 'client', 400, { $retryable: {} }), 'transient'],
    ['our TimeoutError', new TimeoutError('waited too long'), 'transient'],
    // Transient too: failures that pass, which the KPL retries until recordTtl (issue 11: final before).
    [
      'CredentialsProviderError (an IMDS/STS hiccup)',
      Object.assign(new Error('Could not load credentials'), { name: 'CredentialsProviderError', tryNextLink: false }),
      'transient',
    ],
    ['ExpiredTokenException', serviceError('ExpiredTokenException', 'client', 400), 'transient'],
    ['InvalidSignatureException', serviceError('InvalidSignatureException', 'client', 400), 'transient'],
    ['RequestExpired (clock skew)', serviceError('RequestExpired', 'client', 400), 'transient'],
    ['RequestTimeTooSkewed', serviceError('RequestTimeTooSkewed', 'client', 403), 'transient'],
    ['UnrecognizedClientException', serviceError('UnrecognizedClientException', 'client', 400), 'transient'],
    ['KMSDisabledException (a PutRecords entry code)', { name: 'KMSDisabledException' }, 'transient'],
    ['an unknown per-record code', { name: 'UnknownError' }, 'transient'],
    ['an unknown 4xx service error', serviceError('SomethingNew', 'client', 400), 'transient'],
    ['a plain Error carrying an HTTP status', Object.assign(new Error('?'), { $metadata }), 'transient'],
    ['a retriable KinesisKitError', new KinesisKitError('X', 'x', { retriable: true }), 'transient'],
    // Server: the service failed.
    ['InternalFailureException', new InternalFailureException({ message: 'oops', $metadata }), 'server'],
    ['InternalFailure', serviceError('InternalFailure', 'server', 500), 'server'],
    ['ServiceUnavailable', serviceError('ServiceUnavailable', 'server', 503), 'server'],
    ['an unknown 5xx (kinesis-mock’s bad-iterator answer)', serviceError('Unknown', 'server', 500), 'server'],
    [
      'an unknown 502 with no $fault',
      Object.assign(new Error('bad gateway'), { $metadata: { httpStatusCode: 502 } }),
      'server',
    ],
    // Client: retrying the same call cannot help.
    ['ResourceNotFoundException', new ResourceNotFoundException({ message: 'no stream', $metadata }), 'client'],
    ['AccessDeniedException', new AccessDeniedException({ message: 'no', $metadata }), 'client'],
    ['ValidationException', new ValidationException({ message: 'bad', $metadata }), 'client'],
    ['InvalidArgumentException', new InvalidArgumentException({ message: 'bad', $metadata }), 'client'],
    ['KMSAccessDeniedException', new KMSAccessDeniedException({ message: 'no', $metadata }), 'client'],
    ['ResourceInUseException', new ResourceInUseException({ message: 'updating', $metadata }), 'client'],
    ['ExpiredIteratorException', new ExpiredIteratorException({ message: 'old', $metadata }), 'client'],
    ['ExpiredNextTokenException', new ExpiredNextTokenException({ message: 'old', $metadata }), 'client'],
    ['AccessDeniedException as a PutRecords entry code', { name: 'AccessDeniedException' }, 'client'],
    ['KMSNotFoundException', serviceError('KMSNotFoundException', 'client', 400), 'client'],
    ['ValidationError (query protocol: CloudWatch)', serviceError('ValidationError', 'client', 400), 'client'],
    ['SerializationException', serviceError('SerializationException', 'client', 400), 'client'],
    [
      'UnknownOperationException (an emulator lacks it)',
      serviceError('UnknownOperationException', 'client', 400),
      'client',
    ],
    ['ConditionalCheckFailedException', serviceError('ConditionalCheckFailedException', 'client', 400), 'client'],
    [
      'MissingAuthenticationTokenException',
      serviceError('MissingAuthenticationTokenException', 'client', 403),
      'client',
    ],
    ['a RangeError', new RangeError('out of range'), 'client'],
    ['our AbortError', new AbortError(), 'client'],
    ['our ValidationError', new ValidationError('bad'), 'client'],
    ['our ShutdownError', new ShutdownError('closing'), 'client'],
    ['a plain Error', new Error('bug'), 'client'],
    ['a TypeError', new TypeError('x is not a function'), 'client'],
    ['a thrown string', 'boom', 'client'],
    ['null', null, 'client'],
    ['undefined', undefined, 'client'],
  ])('classifies %s', (_label, error, expected) => {
    expect(classifyError(error)).toBe(expected);
    expect(isRetriable(error)).toBe(expected !== 'client');
    expect(isThrottlingError(error)).toBe(expected === 'throttling');
  });

  it('does not follow an endless cause chain', () => {
    const a: Error & { cause?: unknown } = new Error('a');
    const b: Error & { cause?: unknown } = new Error('b', { cause: a });
    a.cause = b;
    expect(classifyError(a)).toBe('client');
  });
});
