import { type AggregatableRecord, AggregatedRecordBuilder } from './aggregated-record-builder.js';

/**
 * Encodes user records as one KPL aggregated record: magic, protobuf `AggregatedRecord`, MD5.
 * Partition keys and explicit hash keys appear once each in the key tables; explicit hash keys are
 * written as normalized decimal strings. No size limit is applied: to stay within the service's
 * record size, use an {@link AggregatedRecordBuilder} with limits.
 *
 * @throws {@link ValidationError} when a record is invalid (see {@link AggregatedRecordBuilder.add}).
 */
export function encodeAggregatedRecord(records: readonly AggregatableRecord[]): Uint8Array {
  const builder = new AggregatedRecordBuilder({ maxRecordBytes: Number.POSITIVE_INFINITY });
  for (const record of records) {
    builder.add(record);
  }
  return builder.build();
}
