import type { CheckpointState } from '../checkpointer.js';
import type { Lease } from './lease.js';
import { withLease } from './lease.js';
import type { LeaseMetaInfo, LeaseStore, WorkerHeartbeatStore } from './lease-store.js';
import type { WorkerHeartbeat } from './worker-heartbeat.js';

/**
 * A {@link LeaseStore} in a `Map`, with the same conditional semantics as the DynamoDB store: for unit tests
 * and for single-process use without DynamoDB. Several consumers may share one instance.
 */
export class InMemoryLeaseStore implements LeaseStore {
  readonly #leases = new Map<string, Lease>();
  readonly #heartbeats = new Map<string, WorkerHeartbeat>();

  readonly workerHeartbeats: WorkerHeartbeatStore = {
    heartbeat: async (workerIdentifier) => {
      const counter = (this.#heartbeats.get(workerIdentifier)?.heartbeatCounter ?? 0) + 1;
      this.#heartbeats.set(workerIdentifier, Object.freeze({ workerIdentifier, heartbeatCounter: counter }));
    },
    listHeartbeats: async () => [...this.#heartbeats.values()],
    removeHeartbeat: async (workerIdentifier) => {
      this.#heartbeats.delete(workerIdentifier);
    },
  };

  async initialize(): Promise<void> {}

  async listLeases(): Promise<Lease[]> {
    return [...this.#leases.values()];
  }

  /** Every lease as it is now, synchronously: for observers outside the lease protocol (tests, the simulator). */
  snapshot(): Lease[] {
    return [...this.#leases.values()];
  }

  async getLease(leaseKey: string): Promise<Lease | undefined> {
    return this.#leases.get(leaseKey);
  }

  async createLeaseIfNotExists(lease: Lease): Promise<boolean> {
    if (this.#leases.has(lease.leaseKey)) return false;
    // Parent and child ids are string sets in DynamoDB: unordered, read back sorted.
    this.#leases.set(
      lease.leaseKey,
      withLease(lease, { parentShardIds: Object.freeze([...lease.parentShardIds].sort()) }),
    );
    return true;
  }

  async renewLease(lease: Lease): Promise<Lease | undefined> {
    return this.#update(lease, (current) => ({ leaseCounter: current.leaseCounter + 1 }));
  }

  async takeLease(lease: Lease, owner: string): Promise<Lease | undefined> {
    return this.#update(lease, (current) => ({
      leaseOwner: owner,
      leaseCounter: current.leaseCounter + 1,
      ownerSwitchesSinceCheckpoint:
        current.leaseOwner !== undefined && current.leaseOwner !== owner
          ? current.ownerSwitchesSinceCheckpoint + 1
          : current.ownerSwitchesSinceCheckpoint,
    }));
  }

  async releaseLease(lease: Lease): Promise<Lease | undefined> {
    return this.#update(lease, (current) => ({ leaseOwner: undefined, leaseCounter: current.leaseCounter + 1 }));
  }

  async updateCheckpoint(lease: Lease, state: CheckpointState): Promise<Lease | undefined> {
    return this.#update(lease, (current) => ({
      leaseCounter: current.leaseCounter + 1,
      checkpoint: state.checkpoint,
      pendingCheckpoint: state.pendingCheckpoint,
      pendingCheckpointState: state.pendingCheckpoint === undefined ? undefined : state.pendingCheckpointState,
      // Only a full checkpoint resets the owner-switch count; a prepared one leaves it, as the KCL.
      ownerSwitchesSinceCheckpoint: state.pendingCheckpoint === undefined ? 0 : current.ownerSwitchesSinceCheckpoint,
    }));
  }

  async updateLeaseMetaInfo(leaseKey: string, info: LeaseMetaInfo): Promise<boolean> {
    const current = this.#leases.get(leaseKey);
    if (current === undefined) return false;
    this.#leases.set(
      leaseKey,
      withLease(current, {
        ...(info.childShardIds === undefined ? {} : { childShardIds: Object.freeze([...info.childShardIds].sort()) }),
        ...(info.hashKeyRange === undefined ? {} : { hashKeyRange: info.hashKeyRange }),
      }),
    );
    return true;
  }

  async deleteLease(leaseKey: string): Promise<void> {
    this.#leases.delete(leaseKey);
  }

  #update(expected: Lease, change: (current: Lease) => Partial<Lease>): Lease | undefined {
    const current = this.#leases.get(expected.leaseKey);
    if (current === undefined || current.leaseCounter !== expected.leaseCounter) return undefined;
    const next = withLease(current, change(current));
    this.#leases.set(next.leaseKey, next);
    return next;
  }
}
