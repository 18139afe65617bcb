import { Aggregator, type AggregatorLimits } from './aggregator.js';
import type { OutgoingRecord } from './outgoing-record.js';
import { RateLimiter } from './rate-limiter.js';

/**
 * Everything the producer keeps for one predicted shard: the open aggregate, the Kinesis records ready to
 * go (oldest first), the shard's rate limiter and its retry state.
 *
 * At most one PutRecords call carries a shard's records at a time (`inFlight`). That keeps a shard's
 * records in order when nothing fails (the KPL can reorder even with one connection, a common complaint),
 * and a throttled shard's backoff (`pausedUntil`) holds back only that shard.
 */
export class ShardQueue {
  readonly shardId: string;
  readonly aggregator: Aggregator;
  readonly limiter: RateLimiter;
  #ready: OutgoingRecord[] = [];
  #head = 0;
  /** Bytes of the ready records. */
  readyBytes = 0;
  inFlight = false;
  /** No record of this shard is sent before this time (a backoff after failures). */
  pausedUntil = 0;
  /** Responses in a row that throttled this shard: the exponent of the throttling backoff. */
  throttles = 0;
  /** Set by the pipeline while handling one response, so one throttled call counts once. */
  throttledInResponse = false;
  /** Where the aggregator hands completed Kinesis records; set by the pipeline, which keeps the totals. */
  emit: (record: OutgoingRecord) => void = (record) => this.push(record);

  constructor(shardId: string, limits: AggregatorLimits, rateLimit: number, now: number) {
    this.shardId = shardId;
    this.aggregator = new Aggregator(limits, shardId);
    this.limiter = new RateLimiter(rateLimit, now);
  }

  get readyCount(): number {
    return this.#ready.length - this.#head;
  }

  peek(): OutgoingRecord | undefined {
    return this.#ready[this.#head];
  }

  push(record: OutgoingRecord): void {
    this.#ready.push(record);
    this.readyBytes += record.size;
  }

  shift(): OutgoingRecord | undefined {
    const record = this.#ready[this.#head];
    if (record === undefined) return undefined;
    this.#ready[this.#head] = EMPTY_SLOT;
    this.#head++;
    this.readyBytes -= record.size;
    if (this.#head === this.#ready.length) {
      this.#ready = [];
      this.#head = 0;
    } else if (this.#head > 256 && this.#head * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#head);
      this.#head = 0;
    }
    return record;
  }

  /** Puts a record that failed back at the front, ahead of newer ones. */
  unshift(record: OutgoingRecord): void {
    if (this.#head > 0) {
      this.#head--;
      this.#ready[this.#head] = record;
    } else {
      this.#ready.unshift(record);
    }
    this.readyBytes += record.size;
  }

  /** The ready records, oldest first, without removing them. */
  *readyRecords(): Generator<OutgoingRecord> {
    for (let i = this.#head; i < this.#ready.length; i++) {
      const record = this.#ready[i];
      if (record !== undefined) yield record;
    }
  }

  /** Removes and returns every ready record, oldest first. */
  takeAll(): OutgoingRecord[] {
    const records = this.#ready.slice(this.#head);
    this.#ready = [];
    this.#head = 0;
    this.readyBytes = 0;
    return records;
  }
}

// Keeps the array packed (no holes) while letting the shifted record be collected.
const EMPTY_SLOT: OutgoingRecord = Object.freeze({
  records: [],
  data: new Uint8Array(0),
  partitionKey: '',
  explicitHashKey: '0',
  aggregated: false,
  size: 0,
  userDataBytes: 0,
  userDataMinBytes: 0,
  userDataMaxBytes: 0,
  predictedShardId: undefined,
  deadline: 0,
  expiresAt: 0,
});
