/**
 * `KinesisProducer`: the Kinesis Producer Library rebuilt in TypeScript.
 *
 * @packageDocumentation
 * @module @kinesis-kit/producer
 */
export * from './defaults.js';
export * from './errors.js';
export type { ProducerEvent, ProducerEventEmitter, ProducerEvents, Stats } from './events.js';
export { type CapacityOptions, KinesisProducer, type WaitOptions } from './kinesis-producer.js';
export {
  METRICS,
  type MetricDimensions,
  type MetricName,
  type MetricSeries,
  type MetricUnit,
  type ProducerMetricsSnapshot,
} from './metrics/index.js';
export type {
  MetricsGranularity,
  MetricsLevel,
  ProducerCredentials,
  ProducerOptions,
  ResolvedProducerOptions,
} from './options.js';
export type { ProducerKinesisClient } from './sender.js';
export type { UserRecordInput } from './user-record.js';
export type { Attempt, UserRecordResult } from './user-record-result.js';
export type { ProducerWritableOptions } from './writable.js';
