import type { CheckpointState } from '../checkpointer.js';
import type { Lease } from './lease.js';

/**
 * One tenure of one lease held by this worker: everything a shard consumer may do with its lease, and the
 * only way it learns that the lease is gone. The lease coordinator makes a handle when it takes (or
 * re-acquires) a lease and revokes it when the lease is lost — a renewal or checkpoint failed its condition, or
 * the lease watchdog found it locally expired — whatever call is in flight at that moment.
 *
 * A lease lost and taken again gets a new handle (a new `token`): nothing done through the old one can write
 * through the new tenure (the KCL's concurrency token).
 */
export interface LeaseHandle {
  readonly leaseKey: string;
  /** The lease as it was when this tenure began (its checkpoint is where processing starts). */
  readonly lease: Lease;
  /** Identifies this tenure. */
  readonly token: symbol;
  /** Whether this tenure still holds the lease: false once it was lost, released or given up. */
  readonly isHeld: boolean;
  /**
   * Aborts when the lease is lost (not when it is released or given up on purpose); its `reason` is the
   * `LeaseLostReason` (`'renewal-failed'`, `'expired'`, `'checkpoint-failed'`). A shard consumer stops on it.
   */
  readonly lost: AbortSignal;
  /**
   * Writes checkpoint fields, conditional on the lease counter (and renews the lease). One attempt, bounded by
   * the lease call timeout, with no backoff: rejects with a {@link @kinesis-kit/core!ShutdownError} if the lease
   * is no longer held, or a retriable {@link CheckpointError} (throttled, timed out) for the application to retry.
   */
  checkpoint(state: CheckpointState): Promise<void>;
  /** Records the shard's children in the lease row and in memory, so later writes of the lease carry them. */
  recordChildren(childShardIds: readonly string[], signal?: AbortSignal): Promise<void>;
  /**
   * Ends this tenure and writes the lease back with no owner and a bumped counter, so any worker may take it at
   * once. Resolves whether the release was written (false if the lease had already moved on).
   */
  release(): Promise<boolean>;
}
