import {
  type _Record,
  type ChildShard,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { callWithTimeout } from './call-with-timeout.js';
import { type Clock, systemClock } from './clock.js';
import { ValidationError } from './errors.js';
import { MAX_RECORDS_PER_GET_RECORDS, SHARD_READ_CALLS_PER_SECOND } from './limits.js';
import { type RetryEvent, type RetryPolicy, retry } from './retry.js';
import { validateNumber, validateWholeNumber } from './validate-options.js';

/**
 * Shortest time between the starts of two GetRecords calls on one shard: the shard serves 5 calls/s, so a
 * reader never calls more often, whatever its spacing options say (the KCL raises smaller values to 200 too).
 */
export const MIN_TIME_BETWEEN_GET_RECORDS_MILLIS = 1_000 / SHARD_READ_CALLS_PER_SECOND;

/** The KCL's `idleTimeBetweenReadsInMillis` default: the wait between two reads of a caught-up shard. */
export const DEFAULT_IDLE_TIME_BETWEEN_READS_IN_MILLIS = 1_500;

/** The KCL's `kinesisRequestTimeout` default: the longest one GetRecords or GetShardIterator may take. */
export const DEFAULT_KINESIS_REQUEST_TIMEOUT = 30_000;

/**
 * Attempts per call when {@link ReadShardOptions.retry} does not say: throttling is expected on a shared
 * shard, and ten attempts with the throttling backoff ride out more than a minute of it before giving up.
 */
export const DEFAULT_READ_SHARD_MAX_ATTEMPTS = 10;

/** How many times in a row an iterator may expire before the read gives up: a fresh one expiring again is a fault. */
const MAX_CONSECUTIVE_EXPIRED_ITERATORS = 3;

/** Where {@link readShard} starts: a GetShardIterator type with its argument, or an iterator already held. */
export type ShardPosition =
  | { readonly type: 'TRIM_HORIZON' | 'LATEST' }
  | { readonly type: 'AT_TIMESTAMP'; readonly timestamp: Date }
  | { readonly type: 'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER'; readonly sequenceNumber: string }
  /** Resume with an iterator from an earlier read's {@link ShardRead.nextShardIterator} (valid 5 minutes). */
  | { readonly type: 'ITERATOR'; readonly shardIterator: string };

/** One GetRecords answer, as {@link readShard} yields it. */
export interface ShardRead {
  /** The Kinesis records as the service returned them (KPL aggregates still packed: see `deaggregate`). */
  readonly records: readonly _Record[];
  readonly millisBehindLatest: number | undefined;
  /**
   * The iterator the next read will use: hand it to a later `readShard` (`{ type: 'ITERATOR' }`) to resume
   * here. `undefined` when the shard is closed and every record has been read (SHARD_END).
   */
  readonly nextShardIterator: string | undefined;
  /** The shard's children, on the read that reaches SHARD_END. */
  readonly childShards: readonly ChildShard[] | undefined;
}

/** What {@link ReadShardOptions.onRetry} is told before each wait. */
export interface ShardReadRetryEvent extends RetryEvent {
  readonly operation: 'GetShardIterator' | 'GetRecords';
  readonly shardId: string;
}

/** Options of {@link readShard}. */
export interface ReadShardOptions {
  readonly client: Pick<KinesisClient, 'send'>;
  /** The stream's name; give this or `streamArn`. */
  readonly streamName?: string;
  readonly streamArn?: string;
  readonly shardId: string;
  readonly from: ShardPosition;
  /** Most records per GetRecords call. @defaultValue 10000 */
  readonly maxRecords?: number;
  /**
   * Time between the starts of two GetRecords calls once caught up (an empty read, or `MillisBehindLatest` 0),
   * as the KCL's `idleTimeBetweenReadsInMillis`: the time a call took counts into it. Never below 200 ms.
   * @defaultValue 1500
   */
  readonly idleTimeBetweenReadsInMillis?: number;
  /**
   * Time between the starts of two calls while behind (a full read, or `MillisBehindLatest` > 0). The shard's 5
   * calls/s are shared with every other reader of the stream. Never below 200 ms.
   * @defaultValue `idleTimeBetweenReadsInMillis`, as the KCL
   */
  readonly catchUpTimeBetweenReadsInMillis?: number;
  /** Longest one GetShardIterator or GetRecords call may take, in ms (`kinesisRequestTimeout`). @defaultValue 30000 */
  readonly requestTimeout?: number;
  /**
   * How failed calls are retried: throttling with its own longer backoff, timeouts, network and server errors
   * with full jitter; client errors are thrown at once. @defaultValue core's policy with 10 attempts per call
   */
  readonly retry?: RetryPolicy;
  /** Called before each retry wait (to log or count throttles); if it throws, the read ends with that error. */
  readonly onRetry?: (event: ShardReadRetryEvent) => void;
  /**
   * End the iteration at the first read that finds nothing new (no records and `MillisBehindLatest` 0), after
   * yielding it; otherwise the reader follows the shard until SHARD_END or the signal.
   * @defaultValue false
   */
  readonly stopAtLatest?: boolean;
  /** Ends the iteration, quietly, at once: a waiting or running call is abandoned. */
  readonly signal?: AbortSignal;
  /** @defaultValue the retry policy's clock, else {@link systemClock} */
  readonly clock?: Clock;
}

/**
 * Reads one shard with GetShardIterator and GetRecords, as the KCL's polling retrieval does, and yields each
 * answer in order.
 *
 * - Calls are spaced as the KCL spaces them: `idleTimeBetweenReadsInMillis` between the starts of two calls
 *   (the time a call and its caller took counts into it), `catchUpTimeBetweenReadsInMillis` while behind, and
 *   never less than 200 ms. There is no wait before the first call.
 * - Each call is bounded by `requestTimeout` ({@link callWithTimeout}) and retried with core's {@link retry}:
 *   full-jitter backoff, the longer throttling backoff for `ProvisionedThroughputExceededException`.
 * - An expired iterator is renewed `AFTER_SEQUENCE_NUMBER` the last record read (or at `from` if none was).
 * - The iteration ends at SHARD_END (the last read's `nextShardIterator` is `undefined`), at the first caught-up
 *   read with `stopAtLatest`, when the signal aborts (quietly: check `signal.aborted`), or when the consumer of
 *   the iterator stops (`break`).
 *
 * Errors that retrying cannot fix (`InvalidArgumentException`, `ResourceNotFoundException`, exhausted retries)
 * end the iteration with that error, unwrapped, so callers can branch on its `name`.
 *
 * @example
 * ```ts
 * for await (const read of readShard({ client, streamName: 'orders', shardId, from: { type: 'TRIM_HORIZON' } })) {
 *   for (const record of read.records) handle(record);
 * }
 * ```
 * @throws {@link ValidationError} for bad options, at once (before any iteration).
 */
export function readShard(options: ReadShardOptions): AsyncGenerator<ShardRead, void, undefined> {
  return reading(resolve(options), options);
}

async function* reading(
  settings: ReturnType<typeof resolve>,
  options: ReadShardOptions,
): AsyncGenerator<ShardRead, void, undefined> {
  const { client, shardId, signal, clock } = settings;
  let lastSequenceNumber: string | undefined;
  let lastCallAt = Number.NEGATIVE_INFINITY;
  let nextSpacing = 0;
  let expiredInARow = 0;

  const call = <T>(
    operation: ShardReadRetryEvent['operation'],
    send: (abortSignal: AbortSignal) => Promise<T>,
    beforeAttempt?: (attempt: number) => Promise<void>,
  ) =>
    retry(
      async ({ attempt, signal: attemptSignal }) => {
        await beforeAttempt?.(attempt);
        return callWithTimeout(send, { operation, timeoutMs: settings.requestTimeout, clock, signal: attemptSignal });
      },
      {
        ...settings.retry,
        clock,
        ...(signal === undefined ? {} : { signal }),
        onRetry: (event) => options.onRetry?.({ ...event, operation, shardId }),
      },
    );

  const iteratorAt = async (position: ShardPosition): Promise<string | undefined> => {
    if (position.type === 'ITERATOR') return position.shardIterator;
    const input: GetShardIteratorCommandInput = {
      ...settings.stream,
      ShardId: shardId,
      ShardIteratorType: position.type,
      ...(position.type === 'AT_TIMESTAMP' ? { Timestamp: position.timestamp } : {}),
      ...(position.type === 'AT_SEQUENCE_NUMBER' || position.type === 'AFTER_SEQUENCE_NUMBER'
        ? { StartingSequenceNumber: position.sequenceNumber }
        : {}),
    };
    const output = await call('GetShardIterator', (abortSignal) =>
      client.send(new GetShardIteratorCommand(input), { abortSignal }),
    );
    return output.ShardIterator;
  };

  // The spacing is between the starts of calls; a retry waits its backoff, and at least the shard's 200 ms. The
  // wait comes before the call's timeout starts, so it never counts against requestTimeout.
  const spaced = async (attempt: number): Promise<void> => {
    const spacing = Math.max(MIN_TIME_BETWEEN_GET_RECORDS_MILLIS, attempt === 1 ? nextSpacing : 0);
    const wait = lastCallAt + spacing - clock.now();
    if (wait > 0) await clock.sleep(wait, signal);
    lastCallAt = clock.now();
  };
  const getRecords = (shardIterator: string): Promise<GetRecordsCommandOutput> =>
    call(
      'GetRecords',
      (abortSignal) =>
        client.send(new GetRecordsCommand({ ShardIterator: shardIterator, Limit: settings.maxRecords }), {
          abortSignal,
        }),
      spaced,
    );

  try {
    let iterator = await iteratorAt(options.from);
    while (iterator !== undefined) {
      let output: GetRecordsCommandOutput;
      try {
        output = await getRecords(iterator);
      } catch (error) {
        if (!(error instanceof Error) || error.name !== 'ExpiredIteratorException') throw error;
        // An iterator handed in cannot be renewed before a record has been read: nothing says where it pointed.
        const renewable = lastSequenceNumber !== undefined || options.from.type !== 'ITERATOR';
        if (++expiredInARow > MAX_CONSECUTIVE_EXPIRED_ITERATORS || !renewable) throw error;
        iterator = await iteratorAt(
          lastSequenceNumber === undefined
            ? options.from
            : { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: lastSequenceNumber },
        );
        continue;
      }
      expiredInARow = 0;
      const records = output.Records ?? [];
      const last = records.at(-1)?.SequenceNumber;
      if (last !== undefined) lastSequenceNumber = last;
      iterator = output.NextShardIterator ?? undefined;
      const behind = (output.MillisBehindLatest ?? 0) > 0 || records.length >= settings.maxRecords;
      nextSpacing = records.length > 0 && behind ? settings.catchUpSpacing : settings.idleSpacing;
      yield {
        records,
        millisBehindLatest: output.MillisBehindLatest,
        nextShardIterator: iterator,
        childShards: iterator === undefined ? (output.ChildShards ?? []) : undefined,
      };
      if (settings.stopAtLatest && records.length === 0 && (output.MillisBehindLatest ?? 0) === 0) return;
    }
  } catch (error) {
    if (signal?.aborted) return;
    throw error;
  }
}

function resolve(options: ReadShardOptions) {
  const { streamName, streamArn, shardId } = options;
  if ((streamName === undefined) === (streamArn === undefined)) {
    throw new ValidationError('readShard needs exactly one of streamName and streamArn', {
      field: 'streamName',
      value: streamName,
      shardId,
    });
  }
  const maxRecords = validateWholeNumber('maxRecords', options.maxRecords, MAX_RECORDS_PER_GET_RECORDS, {
    min: 1,
    max: MAX_RECORDS_PER_GET_RECORDS,
  });
  const idleSpacing = validateNumber(
    'idleTimeBetweenReadsInMillis',
    options.idleTimeBetweenReadsInMillis,
    DEFAULT_IDLE_TIME_BETWEEN_READS_IN_MILLIS,
    { min: 0 },
  );
  const catchUpSpacing = validateNumber(
    'catchUpTimeBetweenReadsInMillis',
    options.catchUpTimeBetweenReadsInMillis,
    idleSpacing,
    { min: 0 },
  );
  const requestTimeout = validateNumber('requestTimeout', options.requestTimeout, DEFAULT_KINESIS_REQUEST_TIMEOUT, {
    min: 1,
    allowInfinity: true,
  });
  return {
    client: options.client,
    shardId,
    stream: streamArn === undefined ? { StreamName: streamName } : { StreamARN: streamArn },
    maxRecords,
    idleSpacing,
    catchUpSpacing,
    requestTimeout,
    retry: { maxAttempts: DEFAULT_READ_SHARD_MAX_ATTEMPTS, ...options.retry },
    stopAtLatest: options.stopAtLatest ?? false,
    signal: options.signal,
    clock: options.clock ?? options.retry?.clock ?? systemClock,
  };
}
