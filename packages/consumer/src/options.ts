import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { type Clock, systemClock, ValidationError } from '@kinesis-kit/core';
import {
  DEFAULT_CALL_PROCESS_RECORDS_EVEN_FOR_EMPTY_RECORD_LIST,
  DEFAULT_CLEANUP_LEASES_UPON_SHARD_COMPLETION,
  DEFAULT_DYNAMO_DB_REQUEST_TIMEOUT,
  DEFAULT_ENABLE_PRIORITY_LEASE_ASSIGNMENT,
  DEFAULT_EPSILON_MILLIS,
  DEFAULT_FAILOVER_TIME_MILLIS,
  DEFAULT_IDLE_TIME_BETWEEN_READS_IN_MILLIS,
  DEFAULT_INITIAL_POSITION_IN_STREAM,
  DEFAULT_KINESIS_REQUEST_TIMEOUT,
  DEFAULT_LEASE_BALANCING,
  DEFAULT_LEASE_CLEANUP_INTERVAL_MILLIS,
  DEFAULT_MAX_LEASES_FOR_WORKER,
  DEFAULT_MAX_LEASES_TO_STEAL_AT_ONE_TIME,
  DEFAULT_MAX_PENDING_PROCESS_RECORDS_INPUT,
  DEFAULT_MAX_PROCESS_RECORDS_ATTEMPTS,
  DEFAULT_MAX_RECORDS,
  DEFAULT_METRICS_BUFFER_TIME_MILLIS,
  DEFAULT_METRICS_LEVEL,
  DEFAULT_PARENT_SHARD_POLL_INTERVAL_MILLIS,
  DEFAULT_PROCESS_RECORDS_ERROR_POLICY,
  DEFAULT_SHARD_SYNC_INTERVAL_MILLIS,
  DEFAULT_SHUTDOWN_TIMEOUT_MILLIS,
  DEFAULT_TASK_BACKOFF_TIME_MILLIS,
  MIN_FAILOVER_TIME_MILLIS,
  MIN_TIME_BETWEEN_GET_RECORDS_MILLIS,
} from './defaults.js';
import type { LeaseStore } from './leases/lease-store.js';
import type { LeaseBalancing } from './leases/lease-taker.js';
import { consoleLogger, type Logger } from './logger.js';
import type { RecordProcessorFactory, RecordProcessorOption } from './record-processor.js';
import { toRecordProcessorFactory } from './record-processor.js';

/** Where a shard that has no checkpoint yet starts. */
export type InitialPositionInStream = 'LATEST' | 'TRIM_HORIZON' | { readonly timestamp: Date };

/** KCL metrics levels: `NONE` publishes nothing, `SUMMARY` the per-operation totals, `DETAILED` everything. */
export type MetricsLevel = 'NONE' | 'SUMMARY' | 'DETAILED';

/**
 * What to do when `processRecords` throws:
 * - `'continue'` (the KCL's behaviour): report it (event, log, metric) and go on with the next batch;
 * - `'retry'`: report it, back off and call `processRecords` again with the same batch, at most
 *   `maxProcessRecordsAttempts` times, then go on.
 */
export type ProcessRecordsErrorPolicy = 'continue' | 'retry';

/** Options of a {@link KinesisConsumer}. Names and defaults follow the Java KCL 2.x, in camelCase. */
export interface KinesisConsumerOptions {
  /** The stream to consume. */
  readonly streamName: string;
  /**
   * Names the application: the lease table (unless `tableName` says otherwise) and the metrics namespace.
   * Every worker of one application uses the same name.
   */
  readonly applicationName: string;
  /** The record processor: a class extending {@link RecordProcessor}, or a function returning a new instance. */
  readonly processor: RecordProcessorOption;
  /** The DynamoDB lease table. @defaultValue `applicationName` */
  readonly tableName?: string;
  /** This worker's name in the lease table; unique per process. @defaultValue `<hostname>:<random UUID>` */
  readonly workerIdentifier?: string;
  /** Where shards without a checkpoint start. @defaultValue `'LATEST'` */
  readonly initialPositionInStream?: InitialPositionInStream;
  /**
   * A lease not renewed for this long is expired and may be taken by another worker. Leases are renewed
   * every `failoverTimeMillis / 3 − epsilonMillis`. Every worker sharing the table must use the same value.
   * @defaultValue 10 000 (minimum 100)
   */
  readonly failoverTimeMillis?: number;
  /** Slack in the renew interval. @defaultValue 25 */
  readonly epsilonMillis?: number;
  /** Most leases this worker holds. @defaultValue `Infinity` */
  readonly maxLeasesForWorker?: number;
  /** Most leases stolen in one taker round, from the most loaded worker. @defaultValue 1 */
  readonly maxLeasesToStealAtOneTime?: number;
  /** Take leases untouched for 3 × failover before balancing. @defaultValue true */
  readonly enablePriorityLeaseAssignment?: boolean;
  /**
   * How leases are balanced between workers: `'fair-share'` (take only up to the fair share, steal from every
   * worker above it at once) or `'kcl-2x'` (the Java KCL 2.x taker's rules exactly). Both are safe on a table
   * shared with Java workers. @defaultValue 'fair-share'
   */
  readonly leaseBalancing?: LeaseBalancing;
  /** How often shards are listed to create leases for new ones. @defaultValue 60 000 (minimum 10) */
  readonly shardSyncIntervalMillis?: number;
  /** Records per GetRecords call, 1 to 10 000. @defaultValue 10 000 */
  readonly maxRecords?: number;
  /**
   * Wait between the starts of two GetRecords calls of a shard, as the KCL (it sleeps this minus the time
   * since the last call, so a slow processor costs no extra wait). Kept while behind too: the shard's 5
   * GetRecords/s are shared with every application reading the stream. @defaultValue 1 500
   */
  readonly idleTimeBetweenReadsInMillis?: number;
  /**
   * Opt-in faster spacing while a shard is behind (a full batch, or `MillisBehindLatest` > 0), 200 ms or more
   * (200 ms takes the shard's whole 5 reads/s, leaving nothing to other applications on the stream). Not a KCL
   * setting. @defaultValue `idleTimeBetweenReadsInMillis`
   */
  readonly catchUpTimeBetweenReadsInMillis?: number;
  /**
   * Batches read ahead while `processRecords` runs, 0 to 10; 0 reads only when asked. @defaultValue 1
   */
  readonly maxPendingProcessRecordsInput?: number;
  /**
   * Longest one Kinesis call (GetRecords, GetShardIterator, ListShards) may take before it is abandoned and
   * retried: the AWS SDK sets no timeout, and a call on a connection that stopped answering would otherwise
   * stall its shard for good. @defaultValue 30 000 (KCL `kinesisRequestTimeout`)
   */
  readonly kinesisRequestTimeout?: number;
  /**
   * Longest one lease-table call may take before it is abandoned and retried.
   * @defaultValue 60 000 (KCL `dynamoDbRequestTimeout`)
   */
  readonly dynamoDbRequestTimeout?: number;
  /** Call `processRecords` for empty batches too. @defaultValue false */
  readonly callProcessRecordsEvenForEmptyRecordList?: boolean;
  /** Delete leases of finished shards once their children have started. @defaultValue true */
  readonly cleanupLeasesUponShardCompletion?: boolean;
  /** How often finished leases are checked for deletion. @defaultValue 60 000 */
  readonly leaseCleanupIntervalMillis?: number;
  /** How often a child shard checks whether its parents have finished. @defaultValue 10 000 */
  readonly parentShardPollIntervalMillis?: number;
  /** Backoff before a failed `initialize` or shard-end step is tried again. @defaultValue 500 */
  readonly taskBackoffTimeMillis?: number;
  /** What a `processRecords` exception does to its batch. @defaultValue `'continue'` */
  readonly processRecordsErrorPolicy?: ProcessRecordsErrorPolicy;
  /** Attempts per batch under the `'retry'` policy. @defaultValue 3 */
  readonly maxProcessRecordsAttempts?: number;
  /** Metrics detail. @defaultValue `'DETAILED'` */
  readonly metricsLevel?: MetricsLevel;
  /** CloudWatch namespace. @defaultValue `applicationName` */
  readonly metricsNamespace?: string;
  /** How long metric values are aggregated before one PutMetricData round. @defaultValue 10 000 */
  readonly metricsBufferTimeMillis?: number;
  /**
   * Longest wait in `shutdown()` for processors to finish (`shutdownRequested` included). After it, the
   * leases of processors still running are left to expire instead of being released. @defaultValue 60 000
   */
  readonly shutdownTimeoutMillis?: number;
  /** Shut down gracefully on SIGTERM and SIGINT. @defaultValue false */
  readonly handleSignals?: boolean;
  /** Read leases with consistent reads. @defaultValue false (as the KCL) */
  readonly consistentReads?: boolean;
  /** AWS region for the clients this consumer creates. */
  readonly region?: string;
  /**
   * Endpoint of every client this consumer creates (e.g. a local emulator). Left unset, each client finds its
   * own in `AWS_ENDPOINT_URL_KINESIS`, `AWS_ENDPOINT_URL_DYNAMODB` or `AWS_ENDPOINT_URL_CLOUDWATCH` (as
   * `kinesis-kit local` exports them), then in the SDK's usual places.
   */
  readonly endpoint?: string;
  /** Kinesis client to use instead of creating one; it is not destroyed on shutdown. */
  readonly kinesisClient?: KinesisClient;
  /** DynamoDB client to use instead of creating one; it is not destroyed on shutdown. */
  readonly dynamoDBClient?: DynamoDBClient;
  /** CloudWatch client for metrics; it is not destroyed on shutdown. */
  readonly cloudWatchClient?: CloudWatchClient;
  /** The lease store; replaces the DynamoDB table (tests use the in-memory store). */
  readonly leaseStore?: LeaseStore;
  /** Source of time. @defaultValue the system clock */
  readonly clock?: Clock;
  /** Where log lines go. @defaultValue warnings and errors to the console */
  readonly logger?: Logger;
}

/** Options with every default applied; what the consumer's parts read. */
export interface ResolvedConsumerOptions {
  readonly streamName: string;
  readonly applicationName: string;
  readonly processorFactory: RecordProcessorFactory;
  readonly tableName: string;
  readonly workerIdentifier: string;
  readonly initialPositionInStream: InitialPositionInStream;
  readonly failoverTimeMillis: number;
  readonly epsilonMillis: number;
  readonly maxLeasesForWorker: number;
  readonly maxLeasesToStealAtOneTime: number;
  readonly enablePriorityLeaseAssignment: boolean;
  readonly leaseBalancing: LeaseBalancing;
  readonly shardSyncIntervalMillis: number;
  readonly maxRecords: number;
  readonly idleTimeBetweenReadsInMillis: number;
  readonly catchUpTimeBetweenReadsInMillis: number;
  readonly maxPendingProcessRecordsInput: number;
  readonly kinesisRequestTimeout: number;
  readonly dynamoDbRequestTimeout: number;
  readonly callProcessRecordsEvenForEmptyRecordList: boolean;
  readonly cleanupLeasesUponShardCompletion: boolean;
  readonly leaseCleanupIntervalMillis: number;
  readonly parentShardPollIntervalMillis: number;
  readonly taskBackoffTimeMillis: number;
  readonly processRecordsErrorPolicy: ProcessRecordsErrorPolicy;
  readonly maxProcessRecordsAttempts: number;
  readonly metricsLevel: MetricsLevel;
  readonly metricsNamespace: string;
  readonly metricsBufferTimeMillis: number;
  readonly shutdownTimeoutMillis: number;
  readonly handleSignals: boolean;
  readonly consistentReads: boolean;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Applies defaults and checks every option; the first bad one throws a {@link @kinesis-kit/core!ValidationError} naming the
 * option, the rule and the value.
 */
export function resolveConsumerOptions(options: KinesisConsumerOptions): ResolvedConsumerOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('KinesisConsumer needs an options object', { field: 'options', value: options });
  }
  const streamName = requireName(options.streamName, 'streamName', /^[a-zA-Z0-9_.-]{1,128}$/);
  const applicationName = requireName(options.applicationName, 'applicationName', /^[a-zA-Z0-9_.-]{3,255}$/);
  const tableName = requireName(options.tableName ?? applicationName, 'tableName', /^[a-zA-Z0-9_.-]{3,255}$/);
  const failoverTimeMillis = wholeNumber(
    options.failoverTimeMillis,
    'failoverTimeMillis',
    DEFAULT_FAILOVER_TIME_MILLIS,
    MIN_FAILOVER_TIME_MILLIS,
  );
  const epsilonMillis = wholeNumber(options.epsilonMillis, 'epsilonMillis', DEFAULT_EPSILON_MILLIS, 0);
  if (failoverTimeMillis / 3 - epsilonMillis < 1) {
    throw new ValidationError(
      `epsilonMillis must be below failoverTimeMillis / 3 (${Math.floor(failoverTimeMillis / 3)}) so leases are renewed, got ${epsilonMillis}`,
      { field: 'epsilonMillis', value: epsilonMillis },
    );
  }
  const workerIdentifier = options.workerIdentifier ?? `${hostname()}:${randomUUID()}`;
  if (typeof workerIdentifier !== 'string' || workerIdentifier.length === 0) {
    throw new ValidationError(`workerIdentifier must be a non-empty string, got ${JSON.stringify(workerIdentifier)}`, {
      field: 'workerIdentifier',
      value: workerIdentifier,
    });
  }
  const metricsLevel = options.metricsLevel ?? DEFAULT_METRICS_LEVEL;
  if (metricsLevel !== 'NONE' && metricsLevel !== 'SUMMARY' && metricsLevel !== 'DETAILED') {
    throw new ValidationError(
      `metricsLevel must be 'NONE', 'SUMMARY' or 'DETAILED', got ${JSON.stringify(metricsLevel)}`,
      {
        field: 'metricsLevel',
        value: metricsLevel,
      },
    );
  }
  const processRecordsErrorPolicy = options.processRecordsErrorPolicy ?? DEFAULT_PROCESS_RECORDS_ERROR_POLICY;
  if (processRecordsErrorPolicy !== 'continue' && processRecordsErrorPolicy !== 'retry') {
    throw new ValidationError(
      `processRecordsErrorPolicy must be 'continue' or 'retry', got ${JSON.stringify(processRecordsErrorPolicy)}`,
      { field: 'processRecordsErrorPolicy', value: processRecordsErrorPolicy },
    );
  }
  return Object.freeze({
    streamName,
    applicationName,
    processorFactory: toRecordProcessorFactory(options.processor),
    tableName,
    workerIdentifier,
    initialPositionInStream: initialPosition(options.initialPositionInStream),
    failoverTimeMillis,
    epsilonMillis,
    maxLeasesForWorker: wholeNumber(
      options.maxLeasesForWorker,
      'maxLeasesForWorker',
      DEFAULT_MAX_LEASES_FOR_WORKER,
      1,
      true,
    ),
    maxLeasesToStealAtOneTime: wholeNumber(
      options.maxLeasesToStealAtOneTime,
      'maxLeasesToStealAtOneTime',
      DEFAULT_MAX_LEASES_TO_STEAL_AT_ONE_TIME,
      0,
    ),
    enablePriorityLeaseAssignment: bool(
      options.enablePriorityLeaseAssignment,
      'enablePriorityLeaseAssignment',
      DEFAULT_ENABLE_PRIORITY_LEASE_ASSIGNMENT,
    ),
    leaseBalancing: leaseBalancing(options.leaseBalancing),
    shardSyncIntervalMillis: wholeNumber(
      options.shardSyncIntervalMillis,
      'shardSyncIntervalMillis',
      DEFAULT_SHARD_SYNC_INTERVAL_MILLIS,
      10,
    ),
    maxRecords: wholeNumber(options.maxRecords, 'maxRecords', DEFAULT_MAX_RECORDS, 1, false, 10_000),
    idleTimeBetweenReadsInMillis: wholeNumber(
      options.idleTimeBetweenReadsInMillis,
      'idleTimeBetweenReadsInMillis',
      DEFAULT_IDLE_TIME_BETWEEN_READS_IN_MILLIS,
      0,
    ),
    catchUpTimeBetweenReadsInMillis: wholeNumber(
      options.catchUpTimeBetweenReadsInMillis,
      'catchUpTimeBetweenReadsInMillis',
      options.idleTimeBetweenReadsInMillis ?? DEFAULT_IDLE_TIME_BETWEEN_READS_IN_MILLIS,
      MIN_TIME_BETWEEN_GET_RECORDS_MILLIS,
    ),
    kinesisRequestTimeout: wholeNumber(
      options.kinesisRequestTimeout,
      'kinesisRequestTimeout',
      DEFAULT_KINESIS_REQUEST_TIMEOUT,
      1,
    ),
    dynamoDbRequestTimeout: wholeNumber(
      options.dynamoDbRequestTimeout,
      'dynamoDbRequestTimeout',
      DEFAULT_DYNAMO_DB_REQUEST_TIMEOUT,
      1,
    ),
    maxPendingProcessRecordsInput: wholeNumber(
      options.maxPendingProcessRecordsInput,
      'maxPendingProcessRecordsInput',
      DEFAULT_MAX_PENDING_PROCESS_RECORDS_INPUT,
      0,
      false,
      10,
    ),
    callProcessRecordsEvenForEmptyRecordList: bool(
      options.callProcessRecordsEvenForEmptyRecordList,
      'callProcessRecordsEvenForEmptyRecordList',
      DEFAULT_CALL_PROCESS_RECORDS_EVEN_FOR_EMPTY_RECORD_LIST,
    ),
    cleanupLeasesUponShardCompletion: bool(
      options.cleanupLeasesUponShardCompletion,
      'cleanupLeasesUponShardCompletion',
      DEFAULT_CLEANUP_LEASES_UPON_SHARD_COMPLETION,
    ),
    leaseCleanupIntervalMillis: wholeNumber(
      options.leaseCleanupIntervalMillis,
      'leaseCleanupIntervalMillis',
      DEFAULT_LEASE_CLEANUP_INTERVAL_MILLIS,
      10,
    ),
    parentShardPollIntervalMillis: wholeNumber(
      options.parentShardPollIntervalMillis,
      'parentShardPollIntervalMillis',
      DEFAULT_PARENT_SHARD_POLL_INTERVAL_MILLIS,
      10,
    ),
    taskBackoffTimeMillis: wholeNumber(
      options.taskBackoffTimeMillis,
      'taskBackoffTimeMillis',
      DEFAULT_TASK_BACKOFF_TIME_MILLIS,
      0,
    ),
    processRecordsErrorPolicy,
    maxProcessRecordsAttempts: wholeNumber(
      options.maxProcessRecordsAttempts,
      'maxProcessRecordsAttempts',
      DEFAULT_MAX_PROCESS_RECORDS_ATTEMPTS,
      1,
    ),
    metricsLevel,
    metricsNamespace: requireName(options.metricsNamespace ?? applicationName, 'metricsNamespace', /^.{1,255}$/),
    metricsBufferTimeMillis: wholeNumber(
      options.metricsBufferTimeMillis,
      'metricsBufferTimeMillis',
      DEFAULT_METRICS_BUFFER_TIME_MILLIS,
      10,
    ),
    shutdownTimeoutMillis: wholeNumber(
      options.shutdownTimeoutMillis,
      'shutdownTimeoutMillis',
      DEFAULT_SHUTDOWN_TIMEOUT_MILLIS,
      0,
      true,
    ),
    handleSignals: bool(options.handleSignals, 'handleSignals', false),
    consistentReads: bool(options.consistentReads, 'consistentReads', false),
    clock: options.clock ?? systemClock,
    logger: options.logger ?? consoleLogger,
  });
}

function requireName(value: unknown, field: string, pattern: RegExp): string {
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new ValidationError(`${field} must match ${pattern}, got ${JSON.stringify(value)}`, { field, value });
  }
  return value;
}

function wholeNumber(
  value: number | undefined,
  field: string,
  fallback: number,
  min: number,
  allowInfinity = false,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (allowInfinity && value === Number.POSITIVE_INFINITY) return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new ValidationError(
      `${field} must be a whole number ${range}${allowInfinity ? ' or Infinity' : ''}, got ${String(value)}`,
      { field, value },
    );
  }
  return value;
}

function leaseBalancing(value: LeaseBalancing | undefined): LeaseBalancing {
  if (value === undefined) return DEFAULT_LEASE_BALANCING;
  if (value === 'fair-share' || value === 'kcl-2x') return value;
  throw new ValidationError(`leaseBalancing must be 'fair-share' or 'kcl-2x', got ${JSON.stringify(value)}`, {
    field: 'leaseBalancing',
    value,
  });
}

function bool(value: boolean | undefined, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new ValidationError(`${field} must be true or false, got ${JSON.stringify(value)}`, { field, value });
  }
  return value;
}

function initialPosition(value: InitialPositionInStream | undefined): InitialPositionInStream {
  if (value === undefined) return DEFAULT_INITIAL_POSITION_IN_STREAM;
  if (value === 'LATEST' || value === 'TRIM_HORIZON') return value;
  if (typeof value === 'object' && value !== null && value.timestamp instanceof Date) {
    if (Number.isNaN(value.timestamp.getTime())) {
      throw new ValidationError('initialPositionInStream.timestamp must be a valid Date, got an invalid one', {
        field: 'initialPositionInStream.timestamp',
        value,
      });
    }
    return Object.freeze({ timestamp: new Date(value.timestamp.getTime()) });
  }
  throw new ValidationError(
    `initialPositionInStream must be 'LATEST', 'TRIM_HORIZON' or { timestamp: Date }, got ${JSON.stringify(value)}`,
    { field: 'initialPositionInStream', value },
  );
}
