import type { TypedEventEmitter } from '@kinesis-kit/core';
import type { LeaseCleanupReason } from './leases/lease-cleanup.js';

/** Why a lease stopped being held. */
export type LeaseLostReason =
  /** A renewal failed its condition: another worker took (stole) the lease. */
  | 'renewal-failed'
  /** Renewals did not get through for `failoverTimeMillis` (network, throttling, a stalled event loop). */
  | 'expired'
  /** A checkpoint write failed its condition. */
  | 'checkpoint-failed';

/** Why a shard consumer stopped. */
export type ShardShutdownReason = 'SHARD_END' | 'LEASE_LOST' | 'REQUESTED';

// A type alias, not an interface: only an alias is assignable to the emitter's `Record<string, unknown>`
// bound without an index signature, and the index signature would stop `switch (event.type)` from narrowing.
/**
 * Every event a {@link KinesisConsumer} emits, by type. Each arrives in core's envelope
 * `{ id, type, timestamp, payload }`; `consumer.onAny` sees them all (the metrics publisher is one such listener).
 */
export type ConsumerEvents = {
  'consumer.started': {
    readonly workerIdentifier: string;
    readonly streamName: string;
    readonly applicationName: string;
  };
  'consumer.shutdown.started': { readonly workerIdentifier: string; readonly leases: number };
  'consumer.shutdown.completed': { readonly workerIdentifier: string; readonly durationMs: number };
  /** This worker now holds the lease (taken free, expired or stolen, or adopted after a hand-over). */
  'lease.acquired': {
    readonly leaseKey: string;
    readonly workerIdentifier: string;
    readonly previousOwner: string | undefined;
    readonly stolen: boolean;
    /** True if a leaving worker assigned it to this one (found by the owner-index query). */
    readonly assigned?: boolean;
  };
  /** This worker no longer holds the lease; its processor gets `leaseLost`. */
  'lease.lost': { readonly leaseKey: string; readonly workerIdentifier: string; readonly reason: LeaseLostReason };
  /**
   * The lease was handed back (graceful shutdown): assigned to the live worker `assignedTo`, or free for any
   * worker if none was live or the table has no owner index.
   */
  'lease.released': { readonly leaseKey: string; readonly workerIdentifier: string; readonly assignedTo?: string };
  /** One renewal round (the KCL's `RenewAllLeases`). */
  'lease.renewal': {
    readonly workerIdentifier: string;
    readonly currentLeases: number;
    readonly lostLeases: number;
    readonly success: boolean;
    readonly durationMs: number;
  };
  /** One taker round (the KCL's `TakeLeases`). */
  'lease.taking': {
    readonly workerIdentifier: string;
    readonly totalLeases: number;
    readonly numWorkers: number;
    readonly target: number;
    readonly expiredLeases: number;
    readonly veryOldLeases: number;
    readonly takenLeases: number;
    readonly untakenLeases: number;
    readonly leaseSpillover: number;
    readonly success: boolean;
    readonly durationMs: number;
  };
  'lease.created': {
    readonly leaseKey: string;
    readonly checkpoint: string;
    readonly parentShardIds: readonly string[];
  };
  /** A lease was deleted: its shard was `completed` (children started) or is `garbage` (gone from the stream). */
  'lease.deleted': { readonly leaseKey: string; readonly reason: LeaseCleanupReason };
  'shardSync.completed': {
    readonly shards: number;
    readonly leasesCreated: number;
    readonly success: boolean;
    readonly durationMs: number;
  };
  /** A child shard waits for its parents to reach SHARD_END. */
  'shard.blocked': { readonly shardId: string; readonly parentShardIds: readonly string[] };
  'shard.initialized': { readonly shardId: string; readonly checkpoint: string; readonly durationMs: number };
  /**
   * Every record of a closed shard was delivered and the processor checkpointed SHARD_END. Also emitted when
   * this worker takes a lease whose shard had already ended (under another worker that then stopped before
   * finishing up): it only makes sure the children have leases, the processor is not called, and
   * `alreadyEnded` is true. Count shard ends with `alreadyEnded === false`.
   */
  'shard.ended': {
    readonly shardId: string;
    readonly childShardIds: readonly string[];
    readonly alreadyEnded: boolean;
  };
  /**
   * `shardEnded` returned without checkpointing: the children stay blocked. Loud on purpose (KCL issue #211):
   * a processor must call `checkpointer.checkpoint()` in `shardEnded`.
   */
  'shard.endNotCheckpointed': { readonly shardId: string; readonly checkpoint: string; readonly attempt: number };
  'shard.shutdown': { readonly shardId: string; readonly reason: ShardShutdownReason };
  'records.fetched': {
    readonly shardId: string;
    readonly kinesisRecords: number;
    readonly bytes: number;
    readonly millisBehindLatest: number | undefined;
    readonly durationMs: number;
  };
  'records.processed': {
    readonly shardId: string;
    readonly records: number;
    readonly bytes: number;
    /** `undefined` when the service did not report it. */
    readonly millisBehindLatest: number | undefined;
    readonly durationMs: number;
    readonly success: boolean;
  };
  /** A KPL aggregate was dropped whole: a user record's hash key lay outside this shard (a reshard re-send). */
  'records.aggregateDropped': {
    readonly shardId: string;
    readonly sequenceNumber: string;
    readonly userRecords: number;
    readonly reason: string;
  };
  'records.iteratorExpired': { readonly shardId: string };
  'records.throttled': { readonly shardId: string; readonly consecutive: number; readonly delayMs: number };
  /** A processor method threw; `method` says which. */
  'processor.error': {
    readonly shardId: string;
    readonly method: 'initialize' | 'processRecords' | 'shardEnded' | 'shutdownRequested' | 'leaseLost';
    readonly error: unknown;
    readonly attempt: number;
  };
  'checkpoint.written': {
    readonly shardId: string;
    readonly sequenceNumber: string;
    readonly subSequenceNumber: number;
    readonly pending: boolean;
    readonly durationMs: number;
  };
  /** A background step failed (it is retried on its schedule); `operation` names it. */
  error: { readonly operation: string; readonly error: unknown; readonly shardId?: string };
};

/** The emitter every part of the consumer reports to. */
export type ConsumerEventEmitter = TypedEventEmitter<ConsumerEvents>;
