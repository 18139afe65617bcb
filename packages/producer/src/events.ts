import type { EventEnvelope, TypedEventEmitter } from '@kinesis-kit/core';

/** Count, sum, minimum and maximum of a set of values: how per-record figures travel in one event. */
export interface Stats {
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
}

/**
 * The producer's events, by type. Per-user-record figures are carried as {@link Stats} on the event of
 * the Kinesis record that holds them, so a busy producer emits one event per aggregate, not per record.
 */
export interface ProducerEvents {
  /** User records entered a stream's pipeline since the previous event of this type. */
  'producer.records.received': { readonly streamName: string; readonly count: number };
  /** A Kinesis record (an aggregate or a lone user record) was put, settling its user records. */
  'producer.record.put': {
    readonly streamName: string;
    readonly shardId: string;
    readonly predictedShardId: string | undefined;
    readonly sequenceNumber: string;
    /** Bytes of the Kinesis record, partition key included. */
    readonly bytes: number;
    readonly userRecords: number;
    /** Per user record: its data bytes. */
    readonly userDataBytes: Stats;
    /** Per user record: attempts before this one. */
    readonly retries: Stats;
    /** Per attempt of each user record: time waited before the attempt started, in ms. */
    readonly bufferingTimeMs: Stats;
  };
  /**
   * A Kinesis record failed an attempt (an error entry in a PutRecords response, or a whole failed call),
   * or user records failed for good (`final`: expired, a non-retriable error, `failIfThrottled`).
   */
  'producer.record.failed': {
    readonly streamName: string;
    /** The shard it was sent to or meant for, when known. */
    readonly shardId: string | undefined;
    readonly errorCode: string;
    readonly errorMessage: string | undefined;
    readonly userRecords: number;
    /** Whether this concerns one Kinesis record's attempt (true) or user records failing for good (false). */
    readonly attempt: boolean;
    /** Whether the user records failed for good. */
    readonly final: boolean;
    /**
     * Set on an attempt that failed because the whole PutRecords call failed. The call's error is counted
     * once, by its `producer.request` event (`errorCode`), as the KPL counts it once per request.
     */
    readonly callFailed?: boolean;
    /** Per attempt of each user record failing for good: time waited before the attempt, in ms (`final` only). */
    readonly bufferingTimeMs?: Stats;
    /** Per user record failing for good: attempts made (`final` only). */
    readonly retries?: Stats;
  };
  /** A PutRecords call completed, successfully or not. */
  'producer.request': {
    readonly streamName: string;
    readonly kinesisRecords: number;
    readonly userRecords: number;
    readonly bytes: number;
    readonly durationMs: number;
    /** Entries the service failed (0 when the whole call failed: see `errorCode`). */
    readonly failedRecordCount: number;
    /** Set when the whole call failed: the exception's name. */
    readonly errorCode?: string;
    readonly errorMessage?: string;
  };
  /** A stream's shard map was (re)loaded. */
  'producer.shard-map.loaded': { readonly streamName: string; readonly openShards: number; readonly reason: string };
  /** Something failed that is not one record's fate: a shard listing, a metrics upload. */
  'producer.error': { readonly error: Error; readonly streamName?: string; readonly operation: string };
}

/** Any producer event envelope. */
export type ProducerEvent = EventEnvelope<ProducerEvents>;

/** The producer's emitter type. */
export type ProducerEventEmitter = TypedEventEmitter<ProducerEvents>;

/** Accumulates values into {@link Stats} without allocating per value. */
export class StatsBuilder {
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  add(value: number): void {
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  build(): Stats {
    return this.count === 0
      ? { count: 0, sum: 0, min: 0, max: 0 }
      : { count: this.count, sum: this.sum, min: this.min, max: this.max };
  }
}
