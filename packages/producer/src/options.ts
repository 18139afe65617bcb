import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { type BackoffOptions, type Clock, systemClock, ValidationError, validateBackoff } from '@kinesis-kit/core';
import * as defaults from './defaults.js';
import type { ProducerKinesisClient } from './sender.js';

/** Which metrics are uploaded: none, the summary set, or all (KPL `MetricsLevel`). */
export type MetricsLevel = 'none' | 'summary' | 'detailed';

/** The finest dimension metrics are uploaded at (KPL `MetricsGranularity`). */
export type MetricsGranularity = 'global' | 'stream' | 'shard';

/** AWS credentials, or a provider of them, as the AWS SDK v3 accepts them. */
export type ProducerCredentials = NonNullable<ConstructorParameters<typeof KinesisClient>[0]>['credentials'];

/**
 * Configuration of a {@link KinesisProducer}: the KPL's options in camelCase with the KPL's defaults, plus
 * the memory bounds the KPL lacks and the collaborators tests inject.
 */
export interface ProducerOptions {
  /** AWS region of the clients the producer creates. @defaultValue the SDK's region resolution */
  region?: string;
  /**
   * Kinesis endpoint URL of the client the producer creates, e.g. a local emulator. Not used for CloudWatch
   * (no emulator has it): pass a `cloudWatchClient` or set `metricsLevel: 'none'` when testing locally.
   */
  endpoint?: string;
  /** Credentials of the clients the producer creates. @defaultValue the SDK's default provider chain */
  credentials?: ProducerCredentials;
  /**
   * A Kinesis client to use instead of creating one (a `KinesisClient`, or anything with its `send` for
   * PutRecords and ListShards). The producer never destroys a client it was given.
   * Give it `maxAttempts: 1`: the producer retries per record, and SDK retries of a whole PutRecords call
   * would only add duplicates and delay.
   */
  kinesisClient?: ProducerKinesisClient;
  /** A CloudWatch client for metric uploads, instead of creating one. Never destroyed by the producer. */
  cloudWatchClient?: CloudWatchClient;

  /** Pack user records bound for the same shard into one Kinesis record. @defaultValue true */
  aggregationEnabled?: boolean;
  /** Most user records in one aggregate, 1 … 2^53−1. @defaultValue 4294967295 */
  aggregationMaxCount?: number;
  /** Largest aggregate in bytes, 64 … 10 MiB. @defaultValue 51200 */
  aggregationMaxSize?: number;
  /** Most Kinesis records in one PutRecords call, 1 … 500. @defaultValue 500 */
  collectionMaxCount?: number;
  /** Largest PutRecords call in bytes (partition keys + data, as the service counts), 52224 … 5 MiB. @defaultValue 5242880 */
  collectionMaxSize?: number;
  /**
   * Longest time in ms a user record waits to be batched before it is sent (0 … 2^31−1). Records of one
   * partition key are reordered by at most about twice this when nothing fails. @defaultValue 100
   */
  recordMaxBufferedTime?: number;
  /** A user record not put within this many ms fails with code `Expired` (100 … 2^31−1). @defaultValue 30000 */
  recordTtl?: number;
  /**
   * Per-shard rate limit in percent of the shard's write limits (1,000 records/s and 1 MiB/s), ≥ 1. The
   * KPL's 150 lets one producer use a shard fully; lower it when several producers share a stream.
   * @defaultValue 150
   */
  rateLimit?: number;
  /** Most PutRecords calls in flight, 1 … 256. @defaultValue 24 */
  maxConnections?: number;
  /**
   * Time allowed for one PutRecords call in ms, 100 … 600000. A call that times out may still have
   * succeeded, so retrying it can write duplicates. @defaultValue 6000
   */
  requestTimeout?: number;
  /** Fail a throttled user record at once instead of retrying it. @defaultValue false */
  failIfThrottled?: boolean;
  /**
   * Largest user record in bytes, UTF-8 partition key and data together, 64 … 10 MiB. Raise it only for
   * streams whose maximum record size was raised. @defaultValue 1048576
   */
  maxUserRecordSize?: number;
  /**
   * Most user records accepted and not yet settled. Beyond it `addUserRecord` rejects with
   * `BufferFullError`; `waitForCapacity()` and `writable()` wait instead. @defaultValue 100000
   */
  maxOutstandingRecords?: number;
  /** Most bytes (partition keys and data) of user records accepted and not yet settled. @defaultValue 67108864 */
  maxOutstandingBytes?: number;
  /**
   * Copy the bytes of each record before `addUserRecord` returns, as the KPL does, so what is sent is what the
   * caller passed even if it then reuses or changes its buffer. The copy is the aggregate the record joins
   * (only a record sent alone gets memory of its own), so it costs next to nothing. **Set it to `false` only if
   * you never modify a `Uint8Array`/`Buffer` after passing it until its promise settles**: a record sent alone
   * then sends the caller's memory as it is at send time, which may be long after the call. Strings are never
   * copied: they are encoded into the aggregate, or into memory of the producer's own when sent alone.
   * @defaultValue true
   */
  copyData?: boolean;
  /** Backoff after a retriable failure other than throttling (full jitter). @defaultValue `{ baseMs: 100, maxMs: 5000 }` */
  retryBackoff?: BackoffOptions;
  /** Backoff after throttling (full jitter). @defaultValue `{ baseMs: 250, maxMs: 5000 }` */
  throttlingBackoff?: BackoffOptions;

  /** Which metrics are uploaded to CloudWatch. @defaultValue 'detailed' */
  metricsLevel?: MetricsLevel;
  /** The finest dimension metrics are uploaded at. @defaultValue 'shard' */
  metricsGranularity?: MetricsGranularity;
  /** CloudWatch namespace, 1 … 255 characters, not starting with `AWS/`. @defaultValue 'KinesisProducerLibrary' */
  metricsNamespace?: string;
  /** Time between metric uploads in ms, 1 … 60000. @defaultValue 60000 */
  metricsUploadDelay?: number;

  /** Source of time and sleeps; tests pass a `ManualClock`. @defaultValue the system clock */
  clock?: Clock;
  /** Uniform numbers in [0, 1) for backoff jitter; tests pass a constant. @defaultValue `Math.random` */
  random?: () => number;
}

/** {@link ProducerOptions} with every default applied and every value validated. */
export interface ResolvedProducerOptions {
  readonly region: string | undefined;
  readonly endpoint: string | undefined;
  readonly credentials: ProducerCredentials | undefined;
  readonly kinesisClient: ProducerKinesisClient | undefined;
  readonly cloudWatchClient: CloudWatchClient | undefined;
  readonly aggregationEnabled: boolean;
  readonly aggregationMaxCount: number;
  readonly aggregationMaxSize: number;
  readonly collectionMaxCount: number;
  readonly collectionMaxSize: number;
  readonly recordMaxBufferedTime: number;
  readonly recordTtl: number;
  readonly rateLimit: number;
  readonly maxConnections: number;
  readonly requestTimeout: number;
  readonly failIfThrottled: boolean;
  readonly maxUserRecordSize: number;
  readonly maxOutstandingRecords: number;
  readonly maxOutstandingBytes: number;
  readonly copyData: boolean;
  readonly retryBackoff: BackoffOptions;
  readonly throttlingBackoff: BackoffOptions;
  readonly metricsLevel: MetricsLevel;
  readonly metricsGranularity: MetricsGranularity;
  readonly metricsNamespace: string;
  readonly metricsUploadDelay: number;
  readonly clock: Clock;
  readonly random: () => number;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
const TEN_MIB = 10 * 1024 * 1024;

function integer(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(`${name} must be a whole number from ${min} to ${max}, got ${String(value)}`, {
      field: name,
      value,
    });
  }
  return value;
}

function boolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new ValidationError(`${name} must be true or false, got ${String(value)}`, { field: name, value });
  }
  return value;
}

function oneOf<T extends string>(name: string, value: unknown, fallback: T, allowed: readonly T[]): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ValidationError(
      `${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${String(value)}`,
      {
        field: name,
        value,
      },
    );
  }
  return value as T;
}

function backoff(name: string, value: BackoffOptions | undefined, fallback: BackoffOptions): BackoffOptions {
  if (value === undefined) return fallback;
  validateBackoff(value, name);
  return Object.freeze({ baseMs: value.baseMs, maxMs: value.maxMs });
}

/**
 * Applies the defaults to `options` and validates every value.
 * @throws {@link @kinesis-kit/core!ValidationError} naming the first bad option, the rule and the value.
 */
export function resolveProducerOptions(options: ProducerOptions = {}): ResolvedProducerOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError(`options must be an object, got ${String(options)}`, {
      field: 'options',
      value: options,
    });
  }
  const namespace = options.metricsNamespace ?? defaults.DEFAULT_METRICS_NAMESPACE;
  if (typeof namespace !== 'string' || namespace.length < 1 || namespace.length > 255 || namespace.startsWith('AWS/')) {
    throw new ValidationError(
      `metricsNamespace must be 1 to 255 characters and must not start with 'AWS/', got ${JSON.stringify(namespace)}`,
      { field: 'metricsNamespace', value: namespace },
    );
  }
  for (const name of ['region', 'endpoint'] as const) {
    const value: unknown = options[name];
    if (value !== undefined && (typeof value !== 'string' || value === '')) {
      throw new ValidationError(`${name} must be a non-empty string, got ${JSON.stringify(value)}`, {
        field: name,
        value,
      });
    }
  }
  if (options.random !== undefined && typeof options.random !== 'function') {
    throw new ValidationError('random must be a function returning numbers in [0, 1)', {
      field: 'random',
      value: options.random,
    });
  }
  const recordTtl = integer('recordTtl', options.recordTtl, defaults.DEFAULT_RECORD_TTL, 100, MAX_TIMER_MS);
  const recordMaxBufferedTime = integer(
    'recordMaxBufferedTime',
    options.recordMaxBufferedTime,
    defaults.DEFAULT_RECORD_MAX_BUFFERED_TIME,
    0,
    MAX_TIMER_MS,
  );
  const maxUserRecordSize = integer(
    'maxUserRecordSize',
    options.maxUserRecordSize,
    defaults.DEFAULT_MAX_USER_RECORD_SIZE,
    64,
    TEN_MIB,
  );
  const maxOutstandingBytes = integer(
    'maxOutstandingBytes',
    options.maxOutstandingBytes,
    defaults.DEFAULT_MAX_OUTSTANDING_BYTES,
    1,
    Number.MAX_SAFE_INTEGER,
  );
  if (maxOutstandingBytes < maxUserRecordSize) {
    throw new ValidationError(
      `maxOutstandingBytes must be ≥ maxUserRecordSize (${maxUserRecordSize}) so the largest record fits, got ${maxOutstandingBytes}`,
      { field: 'maxOutstandingBytes', value: maxOutstandingBytes },
    );
  }
  return Object.freeze({
    region: options.region,
    endpoint: options.endpoint,
    credentials: options.credentials,
    kinesisClient: options.kinesisClient,
    cloudWatchClient: options.cloudWatchClient,
    aggregationEnabled: boolean('aggregationEnabled', options.aggregationEnabled, defaults.DEFAULT_AGGREGATION_ENABLED),
    aggregationMaxCount: integer(
      'aggregationMaxCount',
      options.aggregationMaxCount,
      defaults.DEFAULT_AGGREGATION_MAX_COUNT,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    aggregationMaxSize: integer(
      'aggregationMaxSize',
      options.aggregationMaxSize,
      defaults.DEFAULT_AGGREGATION_MAX_SIZE,
      64,
      TEN_MIB,
    ),
    collectionMaxCount: integer(
      'collectionMaxCount',
      options.collectionMaxCount,
      defaults.DEFAULT_COLLECTION_MAX_COUNT,
      1,
      500,
    ),
    collectionMaxSize: integer(
      'collectionMaxSize',
      options.collectionMaxSize,
      defaults.DEFAULT_COLLECTION_MAX_SIZE,
      52_224,
      5 * 1024 * 1024,
    ),
    recordMaxBufferedTime,
    recordTtl,
    rateLimit: integer('rateLimit', options.rateLimit, defaults.DEFAULT_RATE_LIMIT, 1, 1_000_000),
    maxConnections: integer('maxConnections', options.maxConnections, defaults.DEFAULT_MAX_CONNECTIONS, 1, 256),
    requestTimeout: integer('requestTimeout', options.requestTimeout, defaults.DEFAULT_REQUEST_TIMEOUT, 100, 600_000),
    failIfThrottled: boolean('failIfThrottled', options.failIfThrottled, defaults.DEFAULT_FAIL_IF_THROTTLED),
    maxUserRecordSize,
    maxOutstandingRecords: integer(
      'maxOutstandingRecords',
      options.maxOutstandingRecords,
      defaults.DEFAULT_MAX_OUTSTANDING_RECORDS,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    maxOutstandingBytes,
    copyData: boolean('copyData', options.copyData, defaults.DEFAULT_COPY_DATA),
    retryBackoff: backoff('retryBackoff', options.retryBackoff, defaults.DEFAULT_RETRY_BACKOFF),
    throttlingBackoff: backoff('throttlingBackoff', options.throttlingBackoff, defaults.DEFAULT_THROTTLING_BACKOFF),
    metricsLevel: oneOf<MetricsLevel>('metricsLevel', options.metricsLevel, defaults.DEFAULT_METRICS_LEVEL, [
      'none',
      'summary',
      'detailed',
    ]),
    metricsGranularity: oneOf<MetricsGranularity>(
      'metricsGranularity',
      options.metricsGranularity,
      defaults.DEFAULT_METRICS_GRANULARITY,
      ['global', 'stream', 'shard'],
    ),
    metricsNamespace: namespace,
    metricsUploadDelay: integer(
      'metricsUploadDelay',
      options.metricsUploadDelay,
      defaults.DEFAULT_METRICS_UPLOAD_DELAY,
      1,
      60_000,
    ),
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
  });
}
