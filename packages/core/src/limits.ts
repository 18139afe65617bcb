/**
 * Kinesis service limits, named once. Sizes are bytes; rates are per second per shard.
 * Sources: the Kinesis Data Streams quotas page and the PutRecords / GetRecords API references.
 */

/** Largest record the service accepts by default, partition key and data together. */
export const MAX_RECORD_SIZE_BYTES = 1024 * 1024;

/** Longest partition key, in Unicode code units as the service counts them. */
export const MAX_PARTITION_KEY_LENGTH = 256;

/** Most records in one PutRecords request. */
export const MAX_RECORDS_PER_PUT_RECORDS = 500;

/** Largest PutRecords request, partition keys and data of all records together. */
export const MAX_BYTES_PER_PUT_RECORDS = 5 * 1024 * 1024;

/** Records a shard accepts per second. */
export const SHARD_WRITE_RECORDS_PER_SECOND = 1000;

/** Bytes a shard accepts per second. */
export const SHARD_WRITE_BYTES_PER_SECOND = 1024 * 1024;

/** Bytes a shard serves per second to GetRecords callers (shared by every polling consumer). */
export const SHARD_READ_BYTES_PER_SECOND = 2 * 1024 * 1024;

/** GetRecords calls a shard serves per second (shared by every polling consumer). */
export const SHARD_READ_CALLS_PER_SECOND = 5;

/** Most records one GetRecords call returns. */
export const MAX_RECORDS_PER_GET_RECORDS = 10_000;

/** Largest GetRecords response. */
export const MAX_BYTES_PER_GET_RECORDS = 10 * 1024 * 1024;

/** Largest hash key: the key space is the unsigned 128-bit integers. */
export const MAX_HASH_KEY = (1n << 128n) - 1n;

/** Most shards one ListShards call may be asked for (`MaxResults`). */
export const MAX_LIST_SHARDS_RESULTS = 10_000;
