/**
 * Default values of every {@link ProducerOptions} field, named after the KPL configuration keys they
 * mirror (camelCase). The KPL's own defaults are kept unless a comment says why not.
 */

/** Pack many user records into one Kinesis record (KPL `AggregationEnabled`). */
export const DEFAULT_AGGREGATION_ENABLED = true;

/** Most user records per aggregate (KPL `AggregationMaxCount`): effectively unbounded, size decides. */
export const DEFAULT_AGGREGATION_MAX_COUNT = 4_294_967_295;

/** Largest aggregate in bytes (KPL `AggregationMaxSize`, 50 KiB). */
export const DEFAULT_AGGREGATION_MAX_SIZE = 51_200;

/** Most Kinesis records per PutRecords call (KPL `CollectionMaxCount`, the service maximum). */
export const DEFAULT_COLLECTION_MAX_COUNT = 500;

/** Largest PutRecords call, partition keys and data together (KPL `CollectionMaxSize`, the service maximum). */
export const DEFAULT_COLLECTION_MAX_SIZE = 5 * 1024 * 1024;

/** How long a user record may wait for company before it is sent, in ms (KPL `RecordMaxBufferedTime`). */
export const DEFAULT_RECORD_MAX_BUFFERED_TIME = 100;

/** How long a user record may take to be put before it fails with `Expired`, in ms (KPL `RecordTtl`). */
export const DEFAULT_RECORD_TTL = 30_000;

/** Per-shard rate limit as a percentage of the shard's write limits (KPL `RateLimit`). */
export const DEFAULT_RATE_LIMIT = 150;

/** Most PutRecords calls in flight (KPL `MaxConnections`). */
export const DEFAULT_MAX_CONNECTIONS = 24;

/** Time allowed for one PutRecords call, in ms (KPL `RequestTimeout`). */
export const DEFAULT_REQUEST_TIMEOUT = 6_000;

/** Retry throttled records instead of failing them (KPL `FailIfThrottled`). */
export const DEFAULT_FAIL_IF_THROTTLED = false;

/** Which metrics are uploaded (KPL `MetricsLevel`). */
export const DEFAULT_METRICS_LEVEL = 'detailed';

/** The finest dimension metrics are uploaded at (KPL `MetricsGranularity`). */
export const DEFAULT_METRICS_GRANULARITY = 'shard';

/** CloudWatch namespace of uploaded metrics (KPL `MetricsNamespace`). */
export const DEFAULT_METRICS_NAMESPACE = 'KinesisProducerLibrary';

/** Time between metric uploads, in ms (KPL `MetricsUploadDelay`). */
export const DEFAULT_METRICS_UPLOAD_DELAY = 60_000;

/**
 * Largest user record, partition key and data together, in bytes (KPL `MaxUserRecordSize`). The KPL
 * counts data only; the service counts the key too, so we do, and a record we accept is one it accepts.
 */
export const DEFAULT_MAX_USER_RECORD_SIZE = 1024 * 1024;

/**
 * Most user records accepted and not yet settled. The KPL has no bound, and unbounded buffers are its
 * most reported failure; this one is large enough for ~30 s of a busy producer at the default TTL.
 */
export const DEFAULT_MAX_OUTSTANDING_RECORDS = 100_000;

/** Most bytes (partition keys and data) of user records accepted and not yet settled. */
export const DEFAULT_MAX_OUTSTANDING_BYTES = 64 * 1024 * 1024;

/** Copy the caller's bytes at `addUserRecord`, as the KPL does, so reusing a buffer cannot change what is sent. */
export const DEFAULT_COPY_DATA = true;

/** Backoff after a retriable failure other than throttling (the AWS SDK's base, capped low because records have a TTL). */
export const DEFAULT_RETRY_BACKOFF = Object.freeze({ baseMs: 100, maxMs: 5_000 });

/** Backoff after throttling: longer, because retrying quickly is what the shard asked us not to do. */
export const DEFAULT_THROTTLING_BACKOFF = Object.freeze({ baseMs: 250, maxMs: 5_000 });

/** Extra time the collector waits for more shards' records once a deadline fires (KPL: min(50 ms, 0.2 × RMBT)). */
export const COLLECTION_SLACK_RATIO = 0.2;
export const COLLECTION_SLACK_MAX_MS = 50;

/** A shard with this many bytes waiting is sent without waiting for a deadline, so its traffic is not bursty (KPL). */
export const SHARD_FLUSH_BYTES = 256 * 1024;

/** Shard map reload backoff after a failed listing (KPL: 1 s × 1.5 up to 30 s). */
export const SHARD_MAP_RETRY_BACKOFF = Object.freeze({ baseMs: 1_000, maxMs: 30_000 });

/** Least time between two shard listings of one stream, in ms. */
export const SHARD_MAP_MIN_RELOAD_INTERVAL = 200;

/** How often gauges (`UserRecordsPending`) are sampled between uploads, in ms: the KPL samples every 200 ms. */
export const METRICS_SAMPLE_INTERVAL = 200;
