/**
 * Defaults of {@link KinesisConsumerOptions}, named after the Java KCL 2.x settings they mirror, with the
 * KCL's values unless a comment says why not. Mixed fleets (Java and TypeScript workers on one lease table)
 * must agree on `failoverTimeMillis` and `epsilonMillis`: both decide when a lease counts as expired.
 */

/** A lease whose counter has not moved for this long is expired and may be taken. (KCL `failoverTimeMillis`) */
export const DEFAULT_FAILOVER_TIME_MILLIS = 10_000;

/** Slack subtracted from the renew interval so a renewal lands before peers judge the lease expired. */
export const DEFAULT_EPSILON_MILLIS = 25;

/** No limit: a worker may hold every lease. (KCL: `Integer.MAX_VALUE`) */
export const DEFAULT_MAX_LEASES_FOR_WORKER = Number.POSITIVE_INFINITY;

/** Leases stolen from the most loaded worker in one taker round. */
export const DEFAULT_MAX_LEASES_TO_STEAL_AT_ONE_TIME = 1;

/** Take leases that nobody has renewed for 3 × failover first, ignoring the balance target. */
export const DEFAULT_ENABLE_PRIORITY_LEASE_ASSIGNMENT = true;

/**
 * The taker's scan-and-take round runs every failover / this (2.5 s at the default failover time), not the KCL's
 * (failover + epsilon) × 2 (20 s): an expired lease is seen within failover + 2 rounds instead of up to 4 ×
 * failover, at 8 × the KCL's scan reads. Not a KCL setting; `leaseScanIntervalMillis` trades it back.
 */
export const LEASE_SCAN_INTERVAL_DIVISOR = 4;

/**
 * How often a worker queries the owner index for leases a leaving worker assigned to it (KCL 3.x's
 * `LeaseDiscoverer` runs every ~10 s; 1 s keeps a graceful hand-over under 3 s). One small query: 0.5 read units.
 */
export const DEFAULT_LEASE_DISCOVERY_INTERVAL_MILLIS = 1_000;

/** How often shards are listed and leases created for new ones. */
export const DEFAULT_SHARD_SYNC_INTERVAL_MILLIS = 60_000;

/** Records asked for in one GetRecords call (the service maximum). */
export const DEFAULT_MAX_RECORDS = 10_000;

/**
 * Longest one Kinesis call (GetRecords, GetShardIterator, ListShards) may take before it is abandoned and
 * retried. The SDK sets no timeout, so without one a half-open connection stalls a shard for good.
 * (KCL `kinesisRequestTimeout`)
 */
export const DEFAULT_KINESIS_REQUEST_TIMEOUT = 30_000;

/** Longest one lease-table call may take before it is abandoned and retried. (KCL `dynamoDbRequestTimeout`) */
export const DEFAULT_DYNAMO_DB_REQUEST_TIMEOUT = 60_000;

/** Wait between GetRecords calls of one shard when caught up. */
export const DEFAULT_IDLE_TIME_BETWEEN_READS_IN_MILLIS = 1_500;

/** Skip `processRecords` for empty batches, as the KCL does. */
export const DEFAULT_CALL_PROCESS_RECORDS_EVEN_FOR_EMPTY_RECORD_LIST = false;

/** Delete the leases of finished shards once their children have started. */
export const DEFAULT_CLEANUP_LEASES_UPON_SHARD_COMPLETION = true;

/**
 * Where a shard with no checkpoint starts. The KCL's effective default is `LATEST` (RetrievalConfig).
 */
export const DEFAULT_INITIAL_POSITION_IN_STREAM = 'LATEST';

/** How often a child shard checks whether its parents have finished. (KCL `parentShardPollIntervalMillis`) */
export const DEFAULT_PARENT_SHARD_POLL_INTERVAL_MILLIS = 10_000;

/** Backoff after a failed `initialize` or shard-end task before it is tried again. (KCL `taskBackoffTimeMillis`) */
export const DEFAULT_TASK_BACKOFF_TIME_MILLIS = 500;

/** How often finished leases are checked for deletion. (KCL `leaseCleanupIntervalMillis`) */
export const DEFAULT_LEASE_CLEANUP_INTERVAL_MILLIS = 60_000;

/** KCL-style metrics detail. */
export const DEFAULT_METRICS_LEVEL = 'DETAILED';

/** How long metrics are aggregated before they are sent to CloudWatch. (KCL `metricsBufferTimeMillis`) */
export const DEFAULT_METRICS_BUFFER_TIME_MILLIS = 10_000;

/** What happens to a batch whose `processRecords` threw: the KCL moves on to the next batch. */
export const DEFAULT_PROCESS_RECORDS_ERROR_POLICY = 'continue';

/** Most `processRecords` attempts of one batch under the `'retry'` policy before moving on. */
export const DEFAULT_MAX_PROCESS_RECORDS_ATTEMPTS = 3;

/**
 * Kinesis serves 5 GetRecords calls per second per shard, shared by every polling application; one
 * consumer never calls more often than this, whatever `idleTimeBetweenReadsInMillis` says.
 */
export const MIN_TIME_BETWEEN_GET_RECORDS_MILLIS = 200;

/**
 * Calls of the processor factory for one lease before the lease is released: the KCL retries a throwing
 * factory forever while holding the lease; five attempts with backoff from `taskBackoffTimeMillis` (about
 * 0.5 + 1 + 2 + 4 s at most, with jitter, at the default 500 ms) ride out a passing failure (a connection
 * pool not ready yet) and then hand the shard to a worker that may be able to process it.
 */
export const MAX_PROCESSOR_CREATION_ATTEMPTS = 5;

/** Lowest accepted `failoverTimeMillis`: the renew interval (failover/3 − epsilon) must stay positive. */
export const MIN_FAILOVER_TIME_MILLIS = 100;

/** How many times a throttled lease renewal is retried within one renew round. (KCL `RENEWAL_RETRIES`) */
export const RENEWAL_RETRIES = 2;

/**
 * How often the lease watchdog checks the held leases for local expiry (the KCL scheduler's
 * `shardConsumerDispatchPollIntervalMillis`); at most a tenth of the failover time when that is short.
 * It is also the margin: a lease is given up once its last renewal is older than failover − this interval.
 */
export const LEASE_WATCHDOG_INTERVAL_MILLIS = 1_000;

/**
 * Attempts at a fair-share round's scan when the table throttles it. The KCL tries once (`SCAN_RETRIES`) and
 * waits for the next round; but a fleet started together scans together, round after round, and only jittered
 * retries spread it out (cold start of 10,000 leases x 500 workers in the simulator, a new on-demand table:
 * every lease owned after 430 s with one attempt, 117 s with four, 69 s with six, the jittered backoff then
 * spreading retries over ≈ 15 s; with unlimited capacity, 12 s).
 */
export const SCAN_ATTEMPTS = 6;

/** Attempts at one take when the table throttles it. (KCL `TAKE_RETRIES`) */
export const TAKE_RETRIES = 3;

/** A lease unchanged for this many failover periods is "very old" and taken first. */
export const VERY_OLD_LEASE_MULTIPLIER = 3;

/**
 * How leases are balanced: `fair-share` (ours: take only up to the fair share, steal from every worker above
 * it at once, count workers by their heartbeats) or `kcl-2x` (the Java KCL 2.x taker, exactly). Both keep the
 * lease table compatible; the fleet simulation (packages/consumer/test/fleet-sim) measures the difference.
 */
export const DEFAULT_LEASE_BALANCING = 'fair-share';

/**
 * Lease writes one fair-share taker round keeps in flight: a round of thousands of sequential writes would
 * last minutes, during which the worker neither rebalances nor notices expiry. The KCL 2.x mode takes one at
 * a time, as the KCL does.
 */
export const DEFAULT_TAKE_CONCURRENCY = 10;

/**
 * Fair-share steals take this share of their planned line per pass (rounded up). Thieves plan from scans
 * taken at different moments, so two can count the same surplus; in the fleet simulation undamped plans pushed
 * victims below their share (scale-out 10 → 20 workers, seeds 1–5: 10–33 times and 611–628 steals for 500
 * needed), damped ones 0–2 times and 500–511 steals.
 */
export const STEAL_DAMPING = 0.5;

/**
 * A fair-share round that stole and is still short of its target scans and decides again after
 * failover / 3, up to this many passes: damping halves the gap per pass, so a few short passes converge in
 * seconds where waiting for the next round ((failover + ε) × 2) would take minutes.
 */
export const MAX_STEAL_PASSES = 6;

/**
 * A worker heartbeat whose counter has not moved for this many heartbeat periods (one per taker round, every
 * `leaseScanIntervalMillis`), and at least for the failover time, is ignored: room for two rounds plus a slow
 * one. At the KCL's round ((failover + ε) × 2) that is about 6 × failover, as before the faster scans; at ours
 * (failover / 4) the failover time, so a crashed worker stops counting as a live successor or balancing peer
 * when its leases expire, not a minute later.
 */
export const WORKER_HEARTBEAT_EXPIRY_ROUNDS = 3;

/** Longest wait for processors in a graceful shutdown (the KCL's final graceful-shutdown wait). */
export const DEFAULT_SHUTDOWN_TIMEOUT_MILLIS = 60_000;

/**
 * Batches fetched ahead while the processor works (KCL `maxPendingProcessRecordsInput`). One, not the KCL's
 * 3–4: a GetRecords response can be 10 MiB, and one batch ahead already hides the fetch time.
 */
export const DEFAULT_MAX_PENDING_PROCESS_RECORDS_INPUT = 1;
