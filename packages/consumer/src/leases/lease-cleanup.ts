import type { ConsumerEventEmitter } from '../events.js';
import { hasLeaseStarted, type Lease } from './lease.js';
import type { LeaseStore } from './lease-store.js';

/** Why a lease is deleted: its shard was read to the end, or the shard no longer exists. */
export type LeaseCleanupReason = 'completed' | 'garbage';

/** What {@link decideLeaseCleanup} looks at for one held lease, read from the table and the stream. */
export interface LeaseCleanupFacts {
  /** The lease as the table holds it now. */
  readonly lease: Lease;
  /** The shard's children: from the lease, or from a shard listing when the lease does not name them yet. */
  readonly childShardIds: readonly string[];
  /** The children's leases, `undefined` for a child without one. */
  readonly childLeases: ReadonlyMap<string, Lease | undefined>;
  /** Whether a lease of one of this shard's own parents is still in the table. */
  readonly parentLeaseExists: boolean;
  /**
   * Whether the shard still exists in the stream: `false` once Kinesis answered ResourceNotFound for it (past
   * retention, or the stream was re-created), `undefined` when not checked.
   */
  readonly shardExists: boolean | undefined;
  /** `cleanupLeasesUponShardCompletion`. */
  readonly cleanupLeasesUponShardCompletion: boolean;
}

/**
 * Whether to delete a held lease whose shard consumer has stopped, by the KCL's `LeaseCleanupManager` rules:
 * - **completed** (only with `cleanupLeasesUponShardCompletion`): the lease reads `SHARD_END`, it has
 *   children, every child has a lease that has started (checkpoint past `TRIM_HORIZON`/`AT_TIMESTAMP`), and
 *   none of its own parents still has a lease (so lineage is deleted oldest first);
 * - **garbage**: the shard no longer exists and every child it had (possibly none) has a started lease.
 *   The KCL deletes such a lease at once; waiting for the children keeps the lineage until they are under
 *   way, so a sync never mistakes them for shards without a leased ancestor. Garbage leases would otherwise
 *   stay forever and count in every worker's balancing as if they were work.
 * Returns `undefined` to keep the lease.
 */
export function decideLeaseCleanup(facts: LeaseCleanupFacts): LeaseCleanupReason | undefined {
  const { lease, childShardIds, childLeases } = facts;
  const childrenStarted = childShardIds.every((id) => {
    const child = childLeases.get(id);
    return child !== undefined && hasLeaseStarted(child);
  });
  if (facts.shardExists === false && childrenStarted) return 'garbage';
  if (
    facts.cleanupLeasesUponShardCompletion &&
    lease.checkpoint.isShardEnd &&
    childShardIds.length > 0 &&
    childrenStarted &&
    !facts.parentLeaseExists
  ) {
    return 'completed';
  }
  return undefined;
}

/** Options of a {@link LeaseCleanup}. */
export interface LeaseCleanupOptions {
  readonly store: Pick<LeaseStore, 'getLease' | 'deleteLease'>;
  /** The leases this worker holds now. */
  readonly heldLeases: () => readonly Lease[];
  /** Whether a shard consumer still runs for the lease: such a lease is never deleted under it. */
  readonly isProcessing: (leaseKey: string) => boolean;
  /** Stops renewing the lease, just before it is deleted. */
  readonly forget: (leaseKey: string) => void;
  /**
   * What the latest full shard listing knows: `undefined` if there is none yet, else whether it lists the
   * shard and which shards name it as a parent.
   */
  readonly listing: () => { has(shardId: string): boolean; childrenOf(shardId: string): readonly string[] } | undefined;
  /** Asks Kinesis whether the shard exists (ResourceNotFound means no); only for shards the listing lacks. */
  readonly shardExists: (shardId: string, signal: AbortSignal) => Promise<boolean>;
  readonly cleanupLeasesUponShardCompletion: boolean;
  readonly events: ConsumerEventEmitter;
}

/**
 * Deletes held leases that are done with (every `leaseCleanupIntervalMillis`): finished shards once their
 * children have started, and leases of shards that no longer exist ({@link decideLeaseCleanup}). Only leases
 * this worker holds and no longer processes are looked at, as in the KCL, where the cleanup queue is fed at
 * shard end; a lease nobody holds is taken by some worker, ends there (a gone shard ends at once), and is
 * cleaned up by that worker.
 */
export class LeaseCleanup {
  readonly #o: LeaseCleanupOptions;

  constructor(options: LeaseCleanupOptions) {
    this.#o = options;
  }

  /** One pass over the held leases. Resolves with the keys deleted. */
  async run(signal: AbortSignal): Promise<string[]> {
    const deleted: string[] = [];
    for (const held of this.#o.heldLeases()) {
      if (signal.aborted) break;
      if (this.#o.isProcessing(held.leaseKey)) continue;
      const reason = await this.#decide(held, signal);
      if (reason === undefined) continue;
      this.#o.forget(held.leaseKey);
      await this.#o.store.deleteLease(held.leaseKey, signal);
      this.#o.events.emit('lease.deleted', { leaseKey: held.leaseKey, reason });
      deleted.push(held.leaseKey);
    }
    return deleted;
  }

  async #decide(held: Lease, signal: AbortSignal): Promise<LeaseCleanupReason | undefined> {
    const { store } = this.#o;
    const listing = this.#o.listing();
    const unlisted = listing !== undefined && !listing.has(held.leaseKey);
    // Nothing to read for a lease that is neither finished nor possibly gone: most held leases, every pass.
    if (!held.checkpoint.isShardEnd && !unlisted) return undefined;
    const lease = await store.getLease(held.leaseKey, signal);
    if (lease === undefined) return undefined;
    // A listing can lag behind a lease created from ChildShards, so absence only prompts the question.
    const shardExists = unlisted ? await this.#o.shardExists(lease.leaseKey, signal) : undefined;
    if (!lease.checkpoint.isShardEnd && shardExists !== false) return undefined;
    const named = lease.childShardIds.length > 0 ? lease.childShardIds : held.childShardIds;
    const childShardIds = named.length > 0 ? named : (listing?.childrenOf(lease.leaseKey) ?? []);
    const childLeases = new Map<string, Lease | undefined>();
    for (const child of childShardIds) childLeases.set(child, await store.getLease(child, signal));
    let parentLeaseExists = false;
    for (const parent of lease.parentShardIds) {
      if ((await store.getLease(parent, signal)) !== undefined) parentLeaseExists = true;
    }
    return decideLeaseCleanup({
      lease,
      childShardIds,
      childLeases,
      parentLeaseExists,
      shardExists,
      cleanupLeasesUponShardCompletion: this.#o.cleanupLeasesUponShardCompletion,
    });
  }
}
