import type { CheckpointState } from '../checkpointer.js';
import type { Lease, LeaseHashKeyRange } from './lease.js';
import type { WorkerHeartbeat } from './worker-heartbeat.js';

/** Metadata written without a counter check (the KCL's `updateLeaseWithMetaInfo`). */
export interface LeaseMetaInfo {
  readonly childShardIds?: readonly string[];
  readonly hashKeyRange?: LeaseHashKeyRange;
}

/**
 * Where leases live: a DynamoDB table shared with Java KCL 2.x workers, or memory for tests. Every write
 * that changes ownership or progress is conditional on the `leaseCounter` of the lease passed in and bumps
 * it; a failed condition is not an error but `undefined` (someone else moved the lease first).
 * Other failures (throttling, network) reject with the underlying error so callers can classify it.
 */
export interface LeaseStore {
  /** Creates the table if it does not exist and waits until it can be used. */
  initialize(signal?: AbortSignal): Promise<void>;
  /** Every lease, in no particular order; items that are not leases or cannot be read are skipped. */
  listLeases(signal?: AbortSignal): Promise<Lease[]>;
  getLease(leaseKey: string, signal?: AbortSignal): Promise<Lease | undefined>;
  /** Creates `lease` unless a lease with its key exists. Resolves whether it was created. */
  createLeaseIfNotExists(lease: Lease, signal?: AbortSignal): Promise<boolean>;
  /** Bumps the counter (a heartbeat). */
  renewLease(lease: Lease, signal?: AbortSignal): Promise<Lease | undefined>;
  /** Sets the owner to `owner` and bumps the counter (and the owner-switch count if the owner changes). */
  takeLease(lease: Lease, owner: string, signal?: AbortSignal): Promise<Lease | undefined>;
  /** Removes the owner and bumps the counter, leaving the lease free for any worker at once. */
  releaseLease(lease: Lease, signal?: AbortSignal): Promise<Lease | undefined>;
  /**
   * Writes checkpoint fields and bumps the counter; a full checkpoint (no `pendingCheckpoint`) also resets the
   * owner-switch count, a prepared one leaves it (the KCL's `prepareCheckpoint`).
   */
  updateCheckpoint(lease: Lease, state: CheckpointState, signal?: AbortSignal): Promise<Lease | undefined>;
  /** Writes child shard ids or hash range if the lease exists; no counter check, no bump. */
  updateLeaseMetaInfo(leaseKey: string, info: LeaseMetaInfo, signal?: AbortSignal): Promise<boolean>;
  /** Deletes a lease (a finished shard's, once its children have started). */
  deleteLease(leaseKey: string, signal?: AbortSignal): Promise<void>;
  /**
   * Optional worker heartbeats, so balancing counts workers before they hold a lease. Kept out of the lease
   * table (a Java KCL 2.x worker would read a heartbeat item as a lease). A store without them balances by
   * lease holders only, as the KCL 2.x does.
   */
  readonly workerHeartbeats?: WorkerHeartbeatStore;
}

/** Where worker heartbeats live (see {@link WorkerHeartbeat}). */
export interface WorkerHeartbeatStore {
  /** Creates this worker's row or bumps its counter. */
  heartbeat(workerIdentifier: string, signal?: AbortSignal): Promise<void>;
  listHeartbeats(signal?: AbortSignal): Promise<WorkerHeartbeat[]>;
  /** Deletes this worker's row (graceful shutdown), so peers stop counting it at once. */
  removeHeartbeat(workerIdentifier: string, signal?: AbortSignal): Promise<void>;
}
