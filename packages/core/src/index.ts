/**
 * Partition-key hashing, shard maps, the KPL aggregated-record codec, limits, errors, retry, clock and events.
 *
 * @packageDocumentation
 * @module @kinesis-kit/core
 */
export * from './aggregation/index.js';
export * from './backoff.js';
export * from './call-with-timeout.js';
export * from './clock.js';
export * from './error-classifier.js';
export * from './errors.js';
export * from './events.js';
export * from './hash-key.js';
export * from './hash-key-cache.js';
export * from './limits.js';
export * from './list-shards.js';
export * from './read-shard.js';
export * from './retry.js';
export * from './schedule.js';
export * from './sdk-clients.js';
export * from './serial-queue.js';
export * from './shard-id.js';
export * from './shard-map.js';
export * from './validate-options.js';
export * from './wait-for-stream-active.js';
