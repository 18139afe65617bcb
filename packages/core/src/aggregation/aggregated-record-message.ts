/**
 * The protobuf message inside an aggregated record, as plain data. Field names follow
 * `proto/aggregated-record.proto` in camelCase. This is the schema level: indexes are not checked
 * against the tables here (that is {@link deaggregate}'s job).
 */

/** The `AggregatedRecord` message: key tables and the user records that point into them. */
export interface AggregatedRecordMessage {
  /** Partition keys; each entry's `partitionKeyIndex` points into this table. */
  partitionKeyTable: string[];
  /** Explicit hash keys as decimal strings; `explicitHashKeyIndex` points into this table. */
  explicitHashKeyTable: string[];
  /** The user records, in order; a record's position is its subsequence number. */
  records: AggregatedRecordEntry[];
}

/** One user record inside an aggregate (the proto's `Record` message). */
export interface AggregatedRecordEntry {
  /** Index into {@link AggregatedRecordMessage.partitionKeyTable}. Always written, even when 0. */
  partitionKeyIndex: number;
  /** Index into {@link AggregatedRecordMessage.explicitHashKeyTable}; absent when the record had none. */
  explicitHashKeyIndex?: number;
  /** The user record's payload. Always written, even when empty. */
  data: Uint8Array;
  /** Tags are in the format but neither the KPL nor the KCL uses them; absent when there are none. */
  tags?: AggregatedRecordTag[];
}

/** The proto's `Tag` message. */
export interface AggregatedRecordTag {
  key: string;
  value?: string;
}
