import {
  type _Record,
  type ChildShard,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import {
  AbortError,
  backoffDelay,
  type Clock,
  callWithTimeout,
  classifyError,
  DEFAULT_BACKOFF,
  DEFAULT_THROTTLING_BACKOFF,
  deaggregate,
  HashKeyCache,
  type HashKeyRange,
  KinesisKitError,
  retry,
  ValidationError,
} from '@kinesis-kit/core';
import { MIN_TIME_BETWEEN_GET_RECORDS_MILLIS } from '../defaults.js';
import type { ConsumerEventEmitter } from '../events.js';
import type { ExtendedSequenceNumber } from '../extended-sequence-number.js';
import type { KinesisClientRecord } from '../kinesis-client-record.js';
import type { ChildShardInfo, FetcherTarget, RecordsBatch, RecordsFetcher } from './records-fetcher.js';

/** Options of a {@link PollingFetcher}. */
export interface PollingFetcherOptions extends FetcherTarget {
  readonly client: Pick<KinesisClient, 'send'>;
  readonly maxRecords: number;
  readonly idleTimeBetweenReadsInMillis: number;
  /**
   * Wait between the starts of two GetRecords calls while behind (a full batch, or `MillisBehindLatest` > 0).
   * Never below 200 ms (the shard's 5 calls/s). @defaultValue `idleTimeBetweenReadsInMillis`, as the KCL
   */
  readonly catchUpTimeBetweenReadsInMillis?: number;
  /** Longest one GetRecords or GetShardIterator call may take (`kinesisRequestTimeout`). */
  readonly requestTimeoutMillis: number;
  /** The timestamp `AT_TIMESTAMP` checkpoints start from (the KCL keeps it in configuration, not the lease). */
  readonly initialTimestamp: Date | undefined;
  readonly clock: Clock;
  readonly events: ConsumerEventEmitter;
}

/** Above this many consecutive throttles a shard's reads are reported as errors, not just events. */
const MAX_CONSECUTIVE_THROTTLES_QUIET = 5;

/**
 * Polls one shard with GetRecords, as the KCL's polling retrieval:
 * - starts with GetShardIterator at the checkpoint (`AT_SEQUENCE_NUMBER`; sentinels map to their iterator types);
 * - spaces the starts of its calls `idleTimeBetweenReadsInMillis` apart, as the KCL does (it sleeps
 *   `idleTimeBetweenReadsInMillis − timeSinceLastCall`), also while behind: the shard's 5 GetRecords/s are
 *   shared with every other application on the stream, and a reader that takes them all starves the rest.
 *   `catchUpTimeBetweenReadsInMillis` opts in to a shorter spacing while behind; never under 200 ms;
 * - renews an expired iterator `AFTER_SEQUENCE_NUMBER` the last record fetched;
 * - treats `ResourceNotFoundException` from GetShardIterator or GetRecords as the end of the shard, as the KCL
 *   does: the shard is past retention (or the stream was deleted), and retrying would stall its children;
 * - backs off with full jitter on throttling and on transient or server errors;
 * - deaggregates with core's `deaggregate`, applying the shard's hash key range exactly as the Java KCL
 *   does, and reports every dropped aggregate.
 */
export class PollingFetcher implements RecordsFetcher {
  readonly #o: PollingFetcherOptions;
  #iterator: string | undefined;
  #start: ExtendedSequenceNumber | undefined;
  #lastFetchedSequence: string | undefined;
  #lastCallAt = Number.NEGATIVE_INFINITY;
  #nextDelay = 0;
  #consecutiveThrottles = 0;
  #consecutiveFailures = 0;
  #ended = false;
  readonly #hashKeyRange: HashKeyRange | undefined;
  /** Partition keys are hashed once per shard, not once per aggregate: streams reuse their keys. */
  readonly #hashKeys = new HashKeyCache(10_000);

  constructor(options: PollingFetcherOptions) {
    this.#o = options;
    const range = options.hashKeyRange;
    this.#hashKeyRange =
      range === undefined
        ? undefined
        : { startingHashKey: BigInt(range.startingHashKey), endingHashKey: BigInt(range.endingHashKey) };
  }

  async start(checkpoint: ExtendedSequenceNumber, signal?: AbortSignal): Promise<void> {
    if (checkpoint.isShardEnd) {
      throw new ValidationError(`Shard ${this.#o.shardId} is already at SHARD_END; there is nothing to fetch`, {
        field: 'checkpoint',
        value: checkpoint.sequenceNumber,
        shardId: this.#o.shardId,
      });
    }
    this.#start = checkpoint;
    this.#lastFetchedSequence = undefined;
    this.#ended = false;
    this.#iterator = await this.#getIterator(this.#iteratorInput(checkpoint), signal);
  }

  async next(signal?: AbortSignal): Promise<RecordsBatch> {
    const { clock, shardId } = this.#o;
    for (;;) {
      if (this.#ended)
        return { records: [], millisBehindLatest: undefined, isAtShardEnd: true, childShards: undefined };
      if (this.#iterator === undefined) await this.#restartIterator(signal);
      const iterator = this.#iterator;
      if (iterator === undefined) continue;
      const wait = Math.max(
        this.#lastCallAt + Math.max(this.#nextDelay, MIN_TIME_BETWEEN_GET_RECORDS_MILLIS) - clock.now(),
        0,
      );
      if (wait > 0) await clock.sleep(wait, signal);
      this.#lastCallAt = clock.now();
      let output: GetRecordsCommandOutput;
      try {
        output = await callWithTimeout(
          (abortSignal) =>
            this.#o.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: this.#o.maxRecords }), {
              abortSignal,
            }),
          { operation: 'GetRecords', timeoutMs: this.#o.requestTimeoutMillis, clock, signal },
        );
      } catch (error) {
        if (signal?.aborted) throw new AbortError('Fetching records was aborted', { cause: error, shardId });
        await this.#onError(error, signal);
        continue;
      }
      this.#consecutiveThrottles = 0;
      this.#consecutiveFailures = 0;
      return this.#toBatch(output, clock.now() - this.#lastCallAt);
    }
  }

  stop(): void {
    this.#iterator = undefined;
  }

  #toBatch(output: GetRecordsCommandOutput, durationMs: number): RecordsBatch {
    const { events, shardId } = this.#o;
    const raw = output.Records ?? [];
    const records: KinesisClientRecord[] = [];
    let bytes = 0;
    for (const record of raw) {
      bytes += record.Data?.byteLength ?? 0;
      records.push(...this.#deaggregate(record));
    }
    const last = raw.at(-1)?.SequenceNumber;
    if (last !== undefined) this.#lastFetchedSequence = last;
    this.#iterator = output.NextShardIterator;
    const isAtShardEnd = output.NextShardIterator === undefined || output.NextShardIterator === null;
    if (isAtShardEnd) this.#ended = true;
    const millisBehindLatest = output.MillisBehindLatest;
    // Caught up (or an empty read): wait the idle time. Behind (the server says so, or the batch was full): the
    // catch-up spacing, which is the idle time too unless the application opted in to reading faster.
    const behind = (millisBehindLatest !== undefined && millisBehindLatest > 0) || raw.length >= this.#o.maxRecords;
    const idle = this.#o.idleTimeBetweenReadsInMillis;
    this.#nextDelay = raw.length > 0 && behind ? (this.#o.catchUpTimeBetweenReadsInMillis ?? idle) : idle;
    events.emit('records.fetched', { shardId, kinesisRecords: raw.length, bytes, millisBehindLatest, durationMs });
    return {
      records,
      millisBehindLatest,
      isAtShardEnd,
      childShards: isAtShardEnd ? toChildShards(output.ChildShards) : undefined,
    };
  }

  #deaggregate(record: _Record): KinesisClientRecord[] {
    const { shardId, events } = this.#o;
    const sequenceNumber = record.SequenceNumber ?? '';
    const arrival = record.ApproximateArrivalTimestamp ?? new Date(this.#o.clock.now());
    const result = deaggregate(
      { data: record.Data ?? new Uint8Array(0), partitionKey: record.PartitionKey ?? '', sequenceNumber },
      this.#hashKeyRange === undefined ? {} : { hashKeyRange: this.#hashKeyRange, hashKeyOf: this.#hashKeys.hashKeyOf },
    );
    if (result.status === 'dropped') {
      events.emit('records.aggregateDropped', {
        shardId,
        sequenceNumber,
        userRecords: result.recordCount,
        reason: `${result.outOfRangeCount} user record(s) outside the shard's hash key range`,
      });
      return [];
    }
    const out: KinesisClientRecord[] = new Array(result.records.length);
    const encryptionType = record.EncryptionType;
    for (let i = 0; i < result.records.length; i++) {
      const user = result.records[i];
      if (user === undefined) continue;
      // Built field by field rather than with spreads: this runs once per user record.
      const client: {
        -readonly [K in keyof KinesisClientRecord]: KinesisClientRecord[K];
      } = {
        data: user.data,
        partitionKey: user.partitionKey,
        sequenceNumber: user.sequenceNumber,
        subSequenceNumber: user.subSequenceNumber,
        approximateArrivalTimestamp: arrival,
        aggregated: user.aggregated,
      };
      if (user.explicitHashKey !== undefined) client.explicitHashKey = user.explicitHashKey;
      if (encryptionType !== undefined) client.encryptionType = encryptionType;
      out[i] = client;
    }
    return out;
  }

  async #onError(error: unknown, signal: AbortSignal | undefined): Promise<void> {
    const { events, shardId, clock } = this.#o;
    const name = error instanceof Error ? error.name : undefined;
    if (name === 'ExpiredIteratorException') {
      events.emit('records.iteratorExpired', { shardId });
      this.#iterator = undefined;
      return;
    }
    if (name === 'ResourceNotFoundException') {
      // The shard is gone (past retention, or the stream was deleted): treat it as ended, as the KCL does.
      this.#ended = true;
      return;
    }
    const errorClass = classifyError(error);
    if (errorClass === 'throttling') {
      this.#consecutiveThrottles++;
      const delayMs = Math.max(
        MIN_TIME_BETWEEN_GET_RECORDS_MILLIS,
        backoffDelay(this.#consecutiveThrottles - 1, DEFAULT_THROTTLING_BACKOFF),
      );
      events.emit('records.throttled', { shardId, consecutive: this.#consecutiveThrottles, delayMs });
      if (this.#consecutiveThrottles > MAX_CONSECUTIVE_THROTTLES_QUIET) {
        events.emit('error', { operation: 'GetRecords', error, shardId });
      }
      await clock.sleep(delayMs, signal);
      return;
    }
    if (errorClass === 'client') {
      // InvalidArgument and the like: a fresh iterator is the KCL's answer, and it cannot make things worse.
      if (name === 'InvalidArgumentException') {
        this.#iterator = undefined;
        events.emit('error', { operation: 'GetRecords', error, shardId });
        return;
      }
      throw error;
    }
    this.#consecutiveFailures++;
    events.emit('error', { operation: 'GetRecords', error, shardId });
    await clock.sleep(backoffDelay(this.#consecutiveFailures - 1, DEFAULT_BACKOFF), signal);
  }

  async #restartIterator(signal: AbortSignal | undefined): Promise<void> {
    const start = this.#start;
    if (start === undefined) {
      throw new KinesisKitError('FETCHER_NOT_STARTED', 'next() was called before start()', {
        shardId: this.#o.shardId,
      });
    }
    const input: GetShardIteratorCommandInput =
      this.#lastFetchedSequence === undefined
        ? this.#iteratorInput(start)
        : {
            StreamName: this.#o.streamName,
            ShardId: this.#o.shardId,
            ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
            StartingSequenceNumber: this.#lastFetchedSequence,
          };
    this.#iterator = await this.#getIterator(input, signal);
  }

  #iteratorInput(checkpoint: ExtendedSequenceNumber): GetShardIteratorCommandInput {
    const base = { StreamName: this.#o.streamName, ShardId: this.#o.shardId };
    switch (checkpoint.sequenceNumber) {
      case 'TRIM_HORIZON':
        return { ...base, ShardIteratorType: 'TRIM_HORIZON' };
      case 'LATEST':
        return { ...base, ShardIteratorType: 'LATEST' };
      case 'AT_TIMESTAMP': {
        const timestamp = this.#o.initialTimestamp;
        if (timestamp === undefined) {
          throw new ValidationError(
            `Shard ${this.#o.shardId} is checkpointed AT_TIMESTAMP but initialPositionInStream has no timestamp`,
            { field: 'initialPositionInStream', shardId: this.#o.shardId },
          );
        }
        return { ...base, ShardIteratorType: 'AT_TIMESTAMP', Timestamp: timestamp };
      }
      default:
        return { ...base, ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: checkpoint.sequenceNumber };
    }
  }

  async #getIterator(
    input: GetShardIteratorCommandInput,
    signal: AbortSignal | undefined,
  ): Promise<string | undefined> {
    const output = await retry(
      ({ signal: s }) =>
        callWithTimeout((abortSignal) => this.#o.client.send(new GetShardIteratorCommand(input), { abortSignal }), {
          operation: 'GetShardIterator',
          timeoutMs: this.#o.requestTimeoutMillis,
          clock: this.#o.clock,
          signal: s,
        }),
      {
        maxAttempts: 10,
        clock: this.#o.clock,
        signal,
        onRetry: ({ error }) =>
          this.#o.events.emit('error', { operation: 'GetShardIterator', error, shardId: this.#o.shardId }),
      },
    ).catch((error: unknown) => {
      // The shard is gone: past retention (a parent whose checkpoint points into trimmed data after a long
      // outage) or the stream was deleted. A client error for retry(), but the end of the shard for us, as
      // for the KCL, so its children can start instead of waiting on it forever.
      if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
      throw error;
    });
    if (output === undefined || output.ShardIterator === undefined) this.#ended = true;
    return output?.ShardIterator;
  }
}

function toChildShards(children: ChildShard[] | undefined): ChildShardInfo[] | undefined {
  if (children === undefined || children.length === 0) return undefined;
  const out: ChildShardInfo[] = [];
  for (const child of children) {
    if (child.ShardId === undefined) continue;
    const range = child.HashKeyRange;
    out.push({
      shardId: child.ShardId,
      parentShardIds: [...(child.ParentShards ?? [])].sort(),
      hashKeyRange:
        range?.StartingHashKey !== undefined && range.EndingHashKey !== undefined
          ? { startingHashKey: range.StartingHashKey, endingHashKey: range.EndingHashKey }
          : undefined,
    });
  }
  return out;
}
