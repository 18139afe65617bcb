import type { ExtendedSequenceNumber } from '../extended-sequence-number.js';
import type { KinesisClientRecord } from '../kinesis-client-record.js';
import type { LeaseHashKeyRange } from '../leases/lease.js';

/** A shard that follows a closed one, as GetRecords (or SubscribeToShard) reports it at shard end. */
export interface ChildShardInfo {
  readonly shardId: string;
  readonly parentShardIds: readonly string[];
  readonly hashKeyRange: LeaseHashKeyRange | undefined;
}

/** One batch of user records from a shard. */
export interface RecordsBatch {
  /** Deaggregated user records in shard order (not yet filtered against the checkpoint). */
  readonly records: readonly KinesisClientRecord[];
  /** How far behind the tip of the shard the read was; `undefined` if the server did not say. */
  readonly millisBehindLatest: number | undefined;
  /** The shard is closed and every record has been returned. */
  readonly isAtShardEnd: boolean;
  /** The children of the closed shard, when the server reports them (kinesalite does not). */
  readonly childShards: readonly ChildShardInfo[] | undefined;
}

/**
 * Reads one shard, one batch at a time, pulled by the shard consumer: the next batch is fetched only when
 * asked for, so a slow processor is never overrun. The polling implementation uses GetRecords; an enhanced
 * fan-out implementation (SubscribeToShard) can implement the same interface by pulling one event at a time.
 *
 * This is the shard consumer's only view of retrieval: it calls `start` once per tenure, then `next` in a loop,
 * and `stop` when it halts (possibly more than once, and while a `next` is pending). Everything else — pacing,
 * iterators, re-subscribing, retrying an expired iterator — stays inside the implementation. A `next` that
 * rejects (other than on `signal`) is reported and retried by the shard consumer with a backoff, on the same
 * fetcher, which must then resume after the last batch it returned.
 */
export interface RecordsFetcher {
  /**
   * Positions the fetcher: records after `checkpoint` (a sequence number is read from `AT_SEQUENCE_NUMBER`
   * so a checkpoint inside an aggregate can resume there), or at the sentinel's position.
   */
  start(checkpoint: ExtendedSequenceNumber, signal?: AbortSignal): Promise<void>;
  /** The next batch, after whatever wait the retrieval rules demand. Rejects with an AbortError on `signal`. */
  next(signal?: AbortSignal): Promise<RecordsBatch>;
  /** Releases what the fetcher holds (a subscription, batches read ahead). Idempotent. */
  stop(): void;
}

/** What a fetcher is made for. */
export interface FetcherTarget {
  readonly streamName: string;
  readonly shardId: string;
  /** The shard's hash key range, for the KCL's aggregate filter; unknown means no filtering. */
  readonly hashKeyRange: LeaseHashKeyRange | undefined;
}

/** Makes the fetcher of one shard. */
export type RecordsFetcherFactory = (target: FetcherTarget) => RecordsFetcher;
