import type { ProducerTime } from './producer-time.js';
import type { UserRecord } from './user-record.js';

/**
 * One Kinesis record on its way out: an aggregate of user records bound for the same shard, or a single
 * user record sent as it is. It is what the rate limiter counts, the collector batches and PutRecords
 * answers for.
 */
export interface OutgoingRecord {
  /** The user records it carries, in order; a user record's index is its subsequence number. */
  readonly records: readonly UserRecord[];
  readonly data: Uint8Array;
  /** `"a"` for an aggregate, the user's key for a record sent alone. */
  readonly partitionKey: string;
  /** Decimal hash key that routes it: the first user record's, always set (as the KPL does). */
  readonly explicitHashKey: string;
  /** Whether `data` is a KPL aggregate (so results report subsequence numbers inside it). */
  readonly aggregated: boolean;
  /** Bytes as the service counts them against record and request limits: partition key + data. */
  readonly size: number;
  /** Sum of the user records' data bytes (a metric). */
  readonly userDataBytes: number;
  /** Smallest and largest user record's data bytes (a metric, gathered while the records were added). */
  readonly userDataMinBytes: number;
  readonly userDataMaxBytes: number;
  /** The shard it was aggregated for; `undefined` when it was built without a shard map. */
  readonly predictedShardId: string | undefined;
  /** Earliest deadline of its user records. */
  deadline: ProducerTime;
  /** Earliest expiry of its user records. */
  readonly expiresAt: ProducerTime;
}
