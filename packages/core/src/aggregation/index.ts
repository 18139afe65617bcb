export {
  AGGREGATED_RECORD_PARTITION_KEY,
  type AggregatableRecord,
  AggregatedRecordBuilder,
  type AggregationLimits,
} from './aggregated-record-builder.js';
export type {
  AggregatedRecordEntry,
  AggregatedRecordMessage,
  AggregatedRecordTag,
} from './aggregated-record-message.js';
export {
  type DeaggregateOptions,
  type DeaggregationResult,
  type DeliveredRecords,
  type DroppedAggregate,
  deaggregate,
  type OutOfRangeReport,
} from './deaggregate.js';
export { encodeAggregatedRecord } from './encode-aggregated-record.js';
export {
  AGGREGATED_RECORD_DIGEST_BYTES,
  AGGREGATED_RECORD_MAGIC,
  AGGREGATED_RECORD_OVERHEAD_BYTES,
  frameAggregatedRecordMessage,
  hasAggregatedRecordMagic,
} from './framing.js';
export { isAggregatedRecord } from './is-aggregated-record.js';
export { fromSdkRecord, type KinesisRecord, type SdkRecordLike } from './kinesis-record.js';
export { MalformedAggregatedRecordError } from './malformed-aggregated-record-error.js';
export { decodeAggregatedRecordMessage } from './message-decoder.js';
export { encodeAggregatedRecordMessage } from './message-encoder.js';
export type { AggregateRejection, AggregateRejectionReason } from './unpack-aggregated-record.js';
export type { UserRecord } from './user-record.js';
