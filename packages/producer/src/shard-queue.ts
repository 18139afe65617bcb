import { type BackoffOptions, backoffDelay } from '@kinesis-kit/core';
import { Aggregator, type AggregatorLimits } from './aggregator.js';
import type { OutgoingRecord } from './outgoing-record.js';
import { later, type ProducerTime } from './producer-time.js';
import { RateLimiter } from './rate-limiter.js';

/**
 * Kinesis records ready to send across every shard of one stream: the collector sends at once when these
 * would fill a PutRecords call. Each {@link ShardQueue} of the stream keeps it up to date as its own ready
 * records come and go, so nothing outside the queues counts.
 */
export class ReadyTotals {
  count = 0;
  bytes = 0;
}

/** What a {@link ShardQueue} needs to back itself off after a failed attempt. */
export interface ShardBackoff {
  /** Backoff after a retriable failure other than throttling. */
  readonly retry: BackoffOptions;
  /** Backoff after throttling. */
  readonly throttling: BackoffOptions;
  /** Source of uniform numbers in [0, 1) for the jitter. */
  readonly random: () => number;
}

/**
 * Everything the producer keeps for one predicted shard: the open aggregate, the Kinesis records ready to
 * go (oldest first), the shard's rate limiter and its retry state.
 *
 * At most one PutRecords call carries a shard's records at a time ({@link ShardQueue.inFlight}). That keeps a
 * shard's records in order when nothing fails (the KPL can reorder even with one connection, a common
 * complaint), and a throttled shard's backoff ({@link ShardQueue.pausedUntil}) holds back only that shard.
 *
 * The queue owns its counters and its back-off; the pipeline tells it what happened ({@link ShardQueue.sent},
 * {@link ShardQueue.answered}, {@link ShardQueue.retry}) and asks what it may do.
 */
export class ShardQueue {
  /** The predicted shard; `undefined` for records sent without a prediction (no shard map). */
  readonly shardId: string | undefined;
  readonly aggregator: Aggregator;
  readonly limiter: RateLimiter;
  readonly #totals: ReadyTotals;
  readonly #backoff: ShardBackoff;
  #ready: OutgoingRecord[] = [];
  #head = 0;
  #readyBytes = 0;
  #inFlight = false;
  #pausedUntil = 0 as ProducerTime;
  /** Responses in a row that throttled this shard: the exponent of the throttling backoff. */
  #throttles = 0;
  /** Set while one response is handled, so one throttled call counts once however many entries it throttled. */
  #throttledInResponse = false;
  /** Where the aggregator hands completed Kinesis records. */
  readonly emit = (record: OutgoingRecord): void => this.push(record);

  constructor(
    shardId: string | undefined,
    limits: AggregatorLimits,
    rateLimit: number,
    now: ProducerTime,
    totals: ReadyTotals,
    backoff: ShardBackoff,
  ) {
    this.shardId = shardId;
    this.aggregator = new Aggregator(limits, shardId);
    this.limiter = new RateLimiter(rateLimit, now);
    this.#totals = totals;
    this.#backoff = backoff;
  }

  get readyCount(): number {
    return this.#ready.length - this.#head;
  }

  /** Bytes of the ready records. */
  get readyBytes(): number {
    return this.#readyBytes;
  }

  /** Whether a PutRecords call carrying this shard's records is in flight. */
  get inFlight(): boolean {
    return this.#inFlight;
  }

  /** No record of this shard is sent before this time (a backoff after failures). */
  get pausedUntil(): ProducerTime {
    return this.#pausedUntil;
  }

  peek(): OutgoingRecord | undefined {
    return this.#ready[this.#head];
  }

  push(record: OutgoingRecord): void {
    this.#ready.push(record);
    this.#readyBytes += record.size;
    this.#totals.count++;
    this.#totals.bytes += record.size;
  }

  shift(): OutgoingRecord | undefined {
    const record = this.#ready[this.#head];
    if (record === undefined) return undefined;
    this.#ready[this.#head] = EMPTY_SLOT;
    this.#head++;
    this.#readyBytes -= record.size;
    this.#totals.count--;
    this.#totals.bytes -= record.size;
    if (this.#head === this.#ready.length) {
      this.#ready = [];
      this.#head = 0;
    } else if (this.#head > 256 && this.#head * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#head);
      this.#head = 0;
    }
    return record;
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
    this.#totals.count -= records.length;
    this.#totals.bytes -= this.#readyBytes;
    this.#readyBytes = 0;
    return records;
  }

  /** Records of this shard were taken into a PutRecords call: no other call carries the shard until it is answered. */
  sent(): void {
    this.#inFlight = true;
  }

  /** The call carrying this shard's records came back; its entries are handled next, then {@link endOfAnswer}. */
  answered(): void {
    this.#inFlight = false;
    this.#throttledInResponse = false;
  }

  /** Every entry of the answer has been handled: a response that did not throttle the shard resets its throttling backoff. */
  endOfAnswer(): void {
    if (!this.#throttledInResponse) this.#throttles = 0;
  }

  /**
   * Puts a record that failed back at the front, ahead of newer ones, so the shard waits for it (that keeps
   * order), and backs the shard off from `end`, the end of the failed attempt.
   *
   * Throttling is the shard's own signal: the shard backs off longer for each throttled response in a row,
   * once per response. A transient or server failure of some entries says nothing about the shard (others
   * landed beside them), so that wait grows with the record's own failures (`failures`, this one included):
   * scattered failures cost short pauses, and only a record that fails again and again waits long.
   */
  retry(record: OutgoingRecord, throttled: boolean, failures: number, end: ProducerTime): void {
    if (throttled) {
      if (!this.#throttledInResponse) {
        this.#throttledInResponse = true;
        this.#pauseUntil(later(end, backoffDelay(this.#throttles, this.#backoff.throttling, this.#backoff.random)));
        this.#throttles++;
      }
    } else {
      this.#pauseUntil(later(end, backoffDelay(failures - 1, this.#backoff.retry, this.#backoff.random)));
    }
    this.#unshift(record);
  }

  #pauseUntil(at: ProducerTime): void {
    if (at > this.#pausedUntil) this.#pausedUntil = at;
  }

  #unshift(record: OutgoingRecord): void {
    if (this.#head > 0) {
      this.#head--;
      this.#ready[this.#head] = record;
    } else {
      this.#ready.unshift(record);
    }
    this.#readyBytes += record.size;
    this.#totals.count++;
    this.#totals.bytes += record.size;
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
  deadline: 0 as ProducerTime,
  expiresAt: 0 as ProducerTime,
});
