import { AGGREGATED_RECORD_PARTITION_KEY, AggregatedRecordBuilder } from '@kinesis-kit/core';
import type { OutgoingRecord } from './outgoing-record.js';
import { NEVER, type ProducerTime } from './producer-time.js';
import { NO_BYTES, NO_RECORD, type UserRecord } from './user-record.js';

/** Limits of an {@link Aggregator}. */
export interface AggregatorLimits {
  /** Pack records at all; when false every user record becomes its own Kinesis record. */
  readonly enabled: boolean;
  readonly maxCount: number;
  readonly maxSize: number;
  /** The stream's record size limit (partition key + data). */
  readonly maxRecordSize: number;
}

/**
 * Packs the user records bound for one shard into KPL aggregates, never across shards (the KCL drops an
 * aggregate holding a record outside the shard's range). Sizes are exact before adding, so an aggregate
 * never exceeds `aggregationMaxSize`; a record too large to share an aggregate is sent alone, as is an
 * aggregate of one (the KPL sends a lone record plain, so consumers without deaggregation still read it).
 *
 * The copy `addUserRecord` owes the caller (`copyData`) is the aggregate itself: a record that joins one is
 * encoded into the builder's records region at once, and from the seal on it views its data in the sealed
 * aggregate, so no record allocates memory of its own. For speed and for the memory bound: a copy of each
 * record's own (one off-heap allocation each) ran the pipeline at 0.54–0.68× its rate before copying was added,
 * this design at 0.90–1.05× (in-process A/B of the no-op-sender pipeline, CPU time, 50,000 × 100 B, medians of
 * five runs of 6–12 rounds, one with --max-semi-space-size=64 --single-threaded-gc, 2026-12-04; string records
 * 0.79–0.82× and 0.98–1.17×); and the aggregate is memory of its own, not
 * a slab of Node's buffer pool one stuck record would pin. A record sent alone takes a copy of its own
 * (`single`); one that leaves an open aggregate unbuilt (`drain`) too.
 */
export class Aggregator {
  readonly #limits: AggregatorLimits;
  readonly #predictedShardId: string | undefined;
  readonly #builder: AggregatedRecordBuilder;
  // Survives each aggregate (its slots are reused), with #count the records in use: an aggregate's records are
  // copied out once, at their exact number, instead of growing a new array record by record.
  readonly #records: UserRecord[] = [];
  #count = 0;
  #deadline = NEVER;
  #expiresAt = NEVER;
  #userDataBytes = 0;
  #userDataMinBytes = Number.POSITIVE_INFINITY;
  #userDataMaxBytes = 0;

  constructor(limits: AggregatorLimits, predictedShardId: string | undefined) {
    this.#limits = limits;
    this.#predictedShardId = predictedShardId;
    this.#builder = new AggregatedRecordBuilder({
      maxBytes: limits.maxSize,
      maxCount: limits.maxCount,
      maxRecordBytes: limits.maxRecordSize,
    });
  }

  /** User records waiting in the open aggregate. */
  get count(): number {
    return this.#count;
  }

  /** Earliest deadline in the open aggregate, `Infinity` when empty. */
  get deadline(): ProducerTime {
    return this.#deadline;
  }

  /** Earliest expiry in the open aggregate, `Infinity` when empty. */
  get expiresAt(): ProducerTime {
    return this.#expiresAt;
  }

  /**
   * Adds a user record. Every Kinesis record completed on the way (the full aggregate it did not fit in,
   * or the record itself when it cannot share one) is handed to `emit`, oldest first.
   */
  add(record: UserRecord, emit: (out: OutgoingRecord) => void): void {
    if (!this.#limits.enabled) {
      emit(single(record, this.#predictedShardId));
      return;
    }
    if (this.#builder.tryAdd(record)) {
      this.#push(record);
      return;
    }
    if (this.#count > 0) {
      const sealed = this.seal();
      if (sealed !== undefined) emit(sealed);
      if (this.#builder.tryAdd(record)) {
        this.#push(record);
        return;
      }
    }
    emit(single(record, this.#predictedShardId));
  }

  /** Closes the open aggregate and returns it as a Kinesis record, or `undefined` when empty. */
  seal(): OutgoingRecord | undefined {
    const first = this.#records[0];
    if (this.#count === 0 || first === undefined) return undefined;
    let out: OutgoingRecord;
    if (this.#count === 1) {
      // Sent plain: the record takes its data out of the builder, whose records region the next one reuses.
      first.bytes = this.#builder.recordData(first.offset, first.dataLength);
      first.offset = 0;
      out = single(first, this.#predictedShardId);
      // A flush may have made the aggregate due earlier than its record.
      out.deadline = this.#deadline;
    } else {
      const data = this.#builder.build();
      // Each record's data now lives in the aggregate: point the records at it.
      const base = this.#builder.recordsOffset;
      const records = this.#records;
      for (let i = 0; i < this.#count; i++) {
        const record = records[i] as UserRecord;
        record.bytes = data;
        record.offset += base;
      }
      out = {
        records: this.#records.slice(0, this.#count),
        data,
        partitionKey: AGGREGATED_RECORD_PARTITION_KEY,
        explicitHashKey: first.hashKey.toString(),
        aggregated: true,
        size: AGGREGATED_RECORD_PARTITION_KEY.length + data.length,
        userDataBytes: this.#userDataBytes,
        userDataMinBytes: this.#userDataMinBytes,
        userDataMaxBytes: this.#userDataMaxBytes,
        predictedShardId: this.#predictedShardId,
        deadline: this.#deadline,
        expiresAt: this.#expiresAt,
      };
    }
    this.#clear();
    return out;
  }

  /** Empties the open aggregate without building it and returns its records (for re-routing). */
  drain(): UserRecord[] {
    const records = this.#records.slice(0, this.#count);
    for (const record of records) {
      record.bytes = this.#builder.recordData(record.offset, record.dataLength);
      record.offset = 0;
    }
    this.#clear();
    return records;
  }

  /** Starts the next aggregate empty. */
  #clear(): void {
    this.#builder.reset();
    // Let go of the records, keep the slots.
    this.#records.fill(NO_RECORD, 0, this.#count);
    this.#count = 0;
    this.#deadline = NEVER;
    this.#expiresAt = NEVER;
    this.#userDataBytes = 0;
    this.#userDataMinBytes = Number.POSITIVE_INFINITY;
    this.#userDataMaxBytes = 0;
  }

  /** Makes the open aggregate due at once (a flush). */
  expedite(now: ProducerTime): void {
    if (this.#count > 0 && this.#deadline > now) this.#deadline = now;
  }

  /** Takes the record the builder has just accepted: its data is in the builder's records region now. */
  #push(record: UserRecord): void {
    record.bytes = NO_BYTES;
    record.offset = this.#builder.lastDataOffset;
    record.borrowed = false;
    if (this.#count < this.#records.length) this.#records[this.#count] = record;
    else this.#records.push(record);
    this.#count++;
    if (record.deadline < this.#deadline) this.#deadline = record.deadline;
    if (record.expiresAt < this.#expiresAt) this.#expiresAt = record.expiresAt;
    const dataBytes = record.dataLength;
    this.#userDataBytes += dataBytes;
    if (dataBytes < this.#userDataMinBytes) this.#userDataMinBytes = dataBytes;
    if (dataBytes > this.#userDataMaxBytes) this.#userDataMaxBytes = dataBytes;
  }
}

/**
 * A user record sent as its own Kinesis record, with its hash key set explicitly (as the KPL does). Its data is
 * moved into memory of its own first, unless it has it: neither the caller's buffer (`copyData`) nor a view
 * pinning an older aggregate whose other records have settled.
 */
export function single(record: UserRecord, predictedShardId: string | undefined): OutgoingRecord {
  return {
    records: [record],
    data: record.ownData(),
    partitionKey: record.partitionKey,
    explicitHashKey: record.hashKey.toString(),
    aggregated: false,
    size: record.size,
    userDataBytes: record.dataLength,
    userDataMinBytes: record.dataLength,
    userDataMaxBytes: record.dataLength,
    predictedShardId,
    deadline: record.deadline,
    expiresAt: record.expiresAt,
  };
}
