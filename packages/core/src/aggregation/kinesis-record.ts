import { ValidationError } from '../errors.js';

/**
 * A record as Kinesis returns it (GetRecords, SubscribeToShard), possibly a KPL aggregate. Field
 * names are the SDK's in camelCase; {@link fromSdkRecord} converts an SDK record.
 */
export interface KinesisRecord {
  data: Uint8Array;
  partitionKey: string;
  sequenceNumber: string;
  approximateArrivalTimestamp?: Date;
  /** Kinesis does not return explicit hash keys; set it only if you know it from elsewhere. */
  explicitHashKey?: string;
}

/**
 * The fields of an AWS SDK v3 Kinesis `_Record` (from GetRecords or SubscribeToShard) that
 * {@link fromSdkRecord} reads. Structural, so any SDK version's record type fits.
 */
export interface SdkRecordLike {
  Data?: Uint8Array | undefined;
  PartitionKey?: string | undefined;
  SequenceNumber?: string | undefined;
  ApproximateArrivalTimestamp?: Date | undefined;
}

function required<T>(value: T | undefined, field: string): T {
  if (value === undefined) {
    throw new ValidationError(`A Kinesis record must have ${field}`, { field, value });
  }
  return value;
}

/**
 * Converts an AWS SDK v3 Kinesis record into a {@link KinesisRecord}. The data is not copied.
 * @throws {@link ValidationError} when `Data`, `PartitionKey` or `SequenceNumber` is missing (the
 * SDK types them as optional, though Kinesis always sets them).
 */
export function fromSdkRecord(record: SdkRecordLike): KinesisRecord {
  const result: KinesisRecord = {
    data: required(record.Data, 'Data'),
    partitionKey: required(record.PartitionKey, 'PartitionKey'),
    sequenceNumber: required(record.SequenceNumber, 'SequenceNumber'),
  };
  if (record.ApproximateArrivalTimestamp !== undefined) {
    result.approximateArrivalTimestamp = record.ApproximateArrivalTimestamp;
  }
  return result;
}
