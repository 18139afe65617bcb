/**
 * `KinesisConsumer`: the Kinesis Client Library worker rebuilt in TypeScript.
 *
 * @packageDocumentation
 * @module @kinesis-kit/consumer
 */
export * from './checkpoint-error.js';
export * from './checkpointer.js';
export * from './defaults.js';
export * from './events.js';
export * from './extended-sequence-number.js';
export * from './kinesis-client-record.js';
export * from './kinesis-consumer.js';
export * from './leases/dynamodb-lease-store.js';
export * from './leases/in-memory-lease-store.js';
export * from './leases/lease.js';
export * from './leases/lease-cleanup.js';
export * from './leases/lease-coordinator.js';
export * from './leases/lease-handle.js';
export * from './leases/lease-renewer.js';
export * from './leases/lease-serializer.js';
export * from './leases/lease-store.js';
export * from './leases/lease-taker.js';
export * from './leases/steal-plan.js';
export * from './leases/worker-heartbeat.js';
export * from './logger.js';
export * from './metrics/cloudwatch-metrics-publisher.js';
export * from './metrics/kcl-metrics.js';
export * from './options.js';
export * from './record-processor.js';
export * from './retrieval/polling-fetcher.js';
export * from './retrieval/records-fetcher.js';
export * from './shard-consumer.js';
export * from './shard-sync.js';
