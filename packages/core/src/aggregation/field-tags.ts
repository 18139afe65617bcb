/**
 * Whole tag bytes (field number << 3 | wire type) of the `AggregatedRecord` schema's fields, as in
 * `proto/aggregated-record.proto`. The decoder matches whole tags, not field numbers: a known field
 * number with another wire type is an unknown field to a proto2 parser, which is how the KCL reads it.
 * Plain constants rather than an object: the codec's loops read them per field, and a property load is
 * measurably slower there.
 */

/** `AggregatedRecord.partition_key_table` (1, length-delimited). */
export const TAG_PARTITION_KEY_TABLE = 0x0a;
/** `AggregatedRecord.explicit_hash_key_table` (2, length-delimited). */
export const TAG_EXPLICIT_HASH_KEY_TABLE = 0x12;
/** `AggregatedRecord.records` (3, length-delimited). */
export const TAG_RECORDS = 0x1a;
/** `Record.partition_key_index` (1, varint). */
export const TAG_PARTITION_KEY_INDEX = 0x08;
/** `Record.explicit_hash_key_index` (2, varint). */
export const TAG_EXPLICIT_HASH_KEY_INDEX = 0x10;
/** `Record.data` (3, length-delimited). */
export const TAG_DATA = 0x1a;
/** `Record.tags` (4, length-delimited). */
export const TAG_TAGS = 0x22;
/** `Tag.key` (1, length-delimited). */
export const TAG_TAG_KEY = 0x0a;
/** `Tag.value` (2, length-delimited). */
export const TAG_TAG_VALUE = 0x12;
