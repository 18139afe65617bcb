import { ExtendedSequenceNumber } from '../extended-sequence-number.js';

/** A shard's hash key range as the lease table stores it: base-10 strings. */
export interface LeaseHashKeyRange {
  readonly startingHashKey: string;
  readonly endingHashKey: string;
}

/**
 * One row of the lease table, with the meaning the Java KCL 2.x gives it. Immutable: every store operation
 * returns a new `Lease`.
 */
export interface Lease {
  /** The shard id (single-stream applications). */
  readonly leaseKey: string;
  /** The worker holding the lease; `undefined` when nobody does. */
  readonly leaseOwner: string | undefined;
  /** Bumped by every renewal, take, release and checkpoint; every write is conditional on it. */
  readonly leaseCounter: number;
  readonly checkpoint: ExtendedSequenceNumber;
  readonly pendingCheckpoint: ExtendedSequenceNumber | undefined;
  readonly pendingCheckpointState: Uint8Array | undefined;
  /** How many times the owner changed since the last checkpoint. */
  readonly ownerSwitchesSinceCheckpoint: number;
  /** One parent after a split, two after a merge, none for an original shard. */
  readonly parentShardIds: readonly string[];
  /** Written when the shard ends. */
  readonly childShardIds: readonly string[];
  readonly hashKeyRange: LeaseHashKeyRange | undefined;
  /**
   * KCL 3.x graceful-handoff marker: the previous owner still checkpointing. Read so a mixed fleet's
   * handoffs are respected; never written.
   */
  readonly checkpointOwner: string | undefined;
}

/** The fields of a new lease; the rest get their initial values. */
export interface NewLeaseInit {
  readonly leaseKey: string;
  readonly checkpoint: ExtendedSequenceNumber;
  readonly parentShardIds?: readonly string[];
  readonly hashKeyRange?: LeaseHashKeyRange;
}

/** A lease as shard sync creates it: no owner, counter 0, no switches, as the KCL's `newKCLLease`. */
export function newLease(init: NewLeaseInit): Lease {
  return Object.freeze({
    leaseKey: init.leaseKey,
    leaseOwner: undefined,
    leaseCounter: 0,
    checkpoint: init.checkpoint,
    pendingCheckpoint: undefined,
    pendingCheckpointState: undefined,
    ownerSwitchesSinceCheckpoint: 0,
    parentShardIds: Object.freeze([...(init.parentShardIds ?? [])]),
    childShardIds: Object.freeze([]),
    hashKeyRange: init.hashKeyRange,
    checkpointOwner: undefined,
  });
}

/** A copy of `lease` with some fields replaced. */
export function withLease(lease: Lease, changes: Partial<Lease>): Lease {
  return Object.freeze({ ...lease, ...changes });
}

/** Whether the shard behind this lease has been fully processed. */
export function isLeaseFinished(lease: Lease): boolean {
  return lease.checkpoint.isShardEnd;
}

/** Whether a child lease has started processing (its checkpoint has moved past the initial sentinels). */
export function hasLeaseStarted(lease: Lease): boolean {
  return (
    !lease.checkpoint.equals(ExtendedSequenceNumber.TRIM_HORIZON) &&
    !lease.checkpoint.equals(ExtendedSequenceNumber.AT_TIMESTAMP)
  );
}
