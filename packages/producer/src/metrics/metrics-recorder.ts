import type { EventEnvelope, Unsubscribe } from '@kinesis-kit/core';
import type { ProducerEventEmitter, ProducerEvents, Stats } from '../events.js';
import { type MetricSeries, MetricsAccumulator } from './metrics-accumulator.js';

/** The producer's metrics as {@link KinesisProducer.getMetrics} returns them. */
export interface ProducerMetricsSnapshot {
  /** Epoch ms the figures start from: the producer's construction. */
  readonly since: number;
  /** Epoch ms the snapshot was taken. */
  readonly at: number;
  /** Every series at every granularity, whatever `metricsLevel` and `metricsGranularity` upload. */
  readonly metrics: readonly MetricSeries[];
}

const ONE: Stats = Object.freeze({ count: 1, sum: 1, min: 1, max: 1 });
const ZERO: Stats = Object.freeze({ count: 1, sum: 0, min: 0, max: 0 });

function repeated(value: number, count: number): Stats {
  return { count, sum: value * count, min: value, max: value };
}

/**
 * Turns producer events into the KPL's metrics: a subscriber like any other, so users can feed their own
 * system from the same events. Keeps two accumulators: since the last upload (what CloudWatch gets) and
 * since construction (what {@link KinesisProducer.getMetrics} shows).
 */
export class MetricsRecorder {
  readonly #since: number;
  #window = new MetricsAccumulator();
  readonly #total = new MetricsAccumulator();
  readonly #unsubscribe: Unsubscribe;

  constructor(events: ProducerEventEmitter, since: number) {
    this.#since = since;
    this.#unsubscribe = events.onAny((event) => this.#record(event));
  }

  /** Hands over what was recorded since the previous call (for upload) and starts a new window. */
  takeWindow(): MetricsAccumulator {
    const window = this.#window;
    this.#window = new MetricsAccumulator();
    return window;
  }

  /** Puts back a window whose upload failed, so its figures go with the next one. */
  restoreWindow(window: MetricsAccumulator): void {
    window.merge(this.#window);
    this.#window = window;
  }

  snapshot(at: number): ProducerMetricsSnapshot {
    return { since: this.#since, at, metrics: this.#total.series() };
  }

  /**
   * Counts `count` user records added to `streamName` (the KPL's `UserRecordsReceived`, counted at add). The
   * producer calls it rather than an event per record; `producer.records.received` events, emitted per call
   * sent, are not counted again.
   */
  received(streamName: string, count: number): void {
    this.#put('UserRecordsReceived', repeated(1, count), streamName);
  }

  /** Records a sample of records outstanding in a stream (the KPL samples this metric). */
  samplePending(streamName: string, count: number): void {
    this.#put('UserRecordsPending', { count: 1, sum: count, min: count, max: count }, streamName);
  }

  stop(): void {
    this.#unsubscribe();
  }

  #put(
    name: Parameters<MetricsAccumulator['put']>[0],
    stats: Stats,
    streamName?: string,
    shardId?: string,
    errorCode?: string,
  ): void {
    this.#window.put(name, stats, streamName, shardId, errorCode);
    this.#total.put(name, stats, streamName, shardId, errorCode);
  }

  #record(event: EventEnvelope<ProducerEvents>): void {
    switch (event.type) {
      case 'producer.record.put': {
        const p = event.payload;
        this.#put('UserRecordsPut', repeated(1, p.userRecords), p.streamName, p.shardId);
        this.#put('UserRecordsDataPut', p.userDataBytes, p.streamName, p.shardId);
        this.#put('KinesisRecordsPut', ONE, p.streamName, p.shardId);
        this.#put(
          'KinesisRecordsDataPut',
          { count: 1, sum: p.bytes, min: p.bytes, max: p.bytes },
          p.streamName,
          p.shardId,
        );
        this.#put('AllErrors', ZERO, p.streamName, p.shardId);
        this.#put(
          'UserRecordsPerKinesisRecord',
          { count: 1, sum: p.userRecords, min: p.userRecords, max: p.userRecords },
          p.streamName,
          p.shardId,
        );
        this.#put('RetriesPerRecord', p.retries, p.streamName, p.shardId);
        this.#put('BufferingTime', p.bufferingTimeMs, p.streamName, p.shardId);
        return;
      }
      case 'producer.record.failed': {
        const p = event.payload;
        if (p.attempt) {
          // A failed call's error is counted once, by its `producer.request` event (KPL: once per request).
          if (p.callFailed === true) return;
          this.#put('KinesisRecordsPut', ZERO, p.streamName, p.shardId);
          this.#put('ErrorsByCode', ONE, p.streamName, p.shardId, p.errorCode);
          this.#put('AllErrors', ONE, p.streamName, p.shardId);
        } else {
          this.#put('UserRecordsPut', repeated(0, p.userRecords), p.streamName, p.shardId);
          if (p.errorCode === 'Expired')
            this.#put('UserRecordExpired', repeated(1, p.userRecords), p.streamName, p.shardId);
          if (p.retries !== undefined) this.#put('RetriesPerRecord', p.retries, p.streamName, p.shardId);
          if (p.bufferingTimeMs !== undefined) this.#put('BufferingTime', p.bufferingTimeMs, p.streamName, p.shardId);
        }
        return;
      }
      case 'producer.request': {
        const p = event.payload;
        this.#put('RequestTime', { count: 1, sum: p.durationMs, min: p.durationMs, max: p.durationMs }, p.streamName);
        this.#put(
          'KinesisRecordsPerPutRecordsRequest',
          { count: 1, sum: p.kinesisRecords, min: p.kinesisRecords, max: p.kinesisRecords },
          p.streamName,
        );
        this.#put(
          'UserRecordsPerPutRecordsRequest',
          { count: 1, sum: p.userRecords, min: p.userRecords, max: p.userRecords },
          p.streamName,
        );
        if (p.errorCode !== undefined) {
          this.#put('ErrorsByCode', ONE, p.streamName, undefined, p.errorCode);
          this.#put('AllErrors', ONE, p.streamName);
        }
        return;
      }
      default:
        return;
    }
  }
}
