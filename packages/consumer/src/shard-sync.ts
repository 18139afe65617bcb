import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { type Clock, callWithTimeout, compareShardIds, type ShardInfo, ShardMap } from '@kinesis-kit/core';
import { DEFAULT_KINESIS_REQUEST_TIMEOUT } from './defaults.js';
import type { ConsumerEventEmitter } from './events.js';
import { ExtendedSequenceNumber } from './extended-sequence-number.js';
import { type Lease, type LeaseHashKeyRange, type NewLeaseInit, newLease } from './leases/lease.js';
import type { LeaseStore } from './leases/lease-store.js';
import type { InitialPositionInStream } from './options.js';
import type { ChildShardInfo } from './retrieval/records-fetcher.js';

/** The checkpoint sentinel a new lease starts from for a configured initial position. */
export function initialCheckpoint(position: InitialPositionInStream): ExtendedSequenceNumber {
  if (position === 'LATEST') return ExtendedSequenceNumber.LATEST;
  if (position === 'TRIM_HORIZON') return ExtendedSequenceNumber.TRIM_HORIZON;
  return ExtendedSequenceNumber.AT_TIMESTAMP;
}

/**
 * Which leases shard sync creates (the KCL's hierarchical shard sync, as a pure function). Only open shards
 * without a lease trigger anything, so leases of finished and cleaned-up parents are never recreated:
 * - a shard none of whose ancestors has a lease starts at the initial position: for `LATEST` the open shard
 *   itself; for `TRIM_HORIZON` / `AT_TIMESTAMP` its oldest listed ancestors, so history is read from the start;
 * - a shard that descends from a leased shard gets no lease now (it is created when its parent ends), but its
 *   parents must all be covered: a parent that descends from a leased shard gets `TRIM_HORIZON` (or
 *   `AT_TIMESTAMP`), and one that does not (the other side of a merge) is handled like a shard of its own.
 * Results are in shard creation order, parents before children, so a crash part-way leaves no orphan child.
 */
export function computeLeasesToCreate(
  shards: readonly ShardInfo[],
  leaseKeys: ReadonlySet<string>,
  position: InitialPositionInStream,
): NewLeaseInit[] {
  const byId = new Map(shards.map((s) => [s.shardId, s]));
  const initial = initialCheckpoint(position);
  const descendantCheckpoint = position === 'LATEST' ? ExtendedSequenceNumber.TRIM_HORIZON : initial;
  const planned = new Map<string, ExtendedSequenceNumber>();
  const leasedAncestorMemo = new Map<string, boolean>();

  const parentsInMap = (shard: ShardInfo): ShardInfo[] =>
    shard.parentShardIds.map((id) => byId.get(id)).filter((s): s is ShardInfo => s !== undefined);

  // Whether some ancestor (not the shard itself) has a lease: then the shard's lease comes at that ancestor's end.
  const hasLeasedAncestor = (shard: ShardInfo): boolean => {
    const memo = leasedAncestorMemo.get(shard.shardId);
    if (memo !== undefined) return memo;
    leasedAncestorMemo.set(shard.shardId, false); // guards against a cyclic listing
    const result = parentsInMap(shard).some((p) => leaseKeys.has(p.shardId) || hasLeasedAncestor(p));
    leasedAncestorMemo.set(shard.shardId, result);
    return result;
  };

  const plan = (shard: ShardInfo, checkpoint: ExtendedSequenceNumber): void => {
    if (!leaseKeys.has(shard.shardId) && !planned.has(shard.shardId)) planned.set(shard.shardId, checkpoint);
  };

  const cover = (shard: ShardInfo): void => {
    if (leaseKeys.has(shard.shardId) || planned.has(shard.shardId)) return;
    const parents = parentsInMap(shard);
    const descendant = hasLeasedAncestor(shard);
    if (parents.length === 0 || (!descendant && position === 'LATEST')) {
      plan(shard, initial);
      return;
    }
    for (const parent of parents) {
      if (leaseKeys.has(parent.shardId) || planned.has(parent.shardId)) continue;
      if (hasLeasedAncestor(parent)) plan(parent, descendantCheckpoint);
      else if (descendant && position === 'LATEST') plan(parent, initial);
      else cover(parent);
    }
  };

  for (const shard of [...shards].sort((a, b) => compareShardIds(a.shardId, b.shardId))) {
    if (shard.isOpen) cover(shard);
  }
  return [...planned]
    .sort(([a], [b]) => compareShardIds(a, b))
    .map(([shardId, checkpoint]) => {
      const shard = byId.get(shardId);
      return {
        leaseKey: shardId,
        checkpoint,
        parentShardIds: shard?.parentShardIds ?? [],
        ...(shard === undefined ? {} : { hashKeyRange: rangeOf(shard) }),
      };
    });
}

function rangeOf(shard: ShardInfo): LeaseHashKeyRange {
  return { startingHashKey: String(shard.startingHashKey), endingHashKey: String(shard.endingHashKey) };
}

/** Options of a {@link ShardSyncer}. */
export interface ShardSyncerOptions {
  readonly kinesis: Pick<KinesisClient, 'send'>;
  readonly store: LeaseStore;
  readonly streamName: string;
  readonly initialPositionInStream: InitialPositionInStream;
  readonly clock: Clock;
  readonly events: ConsumerEventEmitter;
  /** Longest one listing may take (`kinesisRequestTimeout`). @defaultValue {@link DEFAULT_KINESIS_REQUEST_TIMEOUT} */
  readonly requestTimeoutMillis?: number;
}

/** What {@link ShardSyncer.createChildLeases} found. */
export type ChildLeasesResult =
  | { readonly status: 'created'; readonly childShardIds: readonly string[] }
  /** The children are not known yet (a listing that lags), or a merge's other parent has no lease yet. */
  | { readonly status: 'deferred'; readonly reason: string };

/**
 * Creates leases for shards that lack one: all at once from a shard listing (at start and every
 * `shardSyncIntervalMillis`), and for the children of a shard that ended. Creation is put-if-absent, so
 * several workers syncing at once is harmless (the KCL's leader election is only an optimization).
 */
export class ShardSyncer {
  readonly #o: ShardSyncerOptions;
  #shardMap: ShardMap | undefined;

  constructor(options: ShardSyncerOptions) {
    this.#o = options;
  }

  /** The latest listing, for hash ranges of leases that lack them. */
  get shardMap(): ShardMap | undefined {
    return this.#shardMap;
  }

  /** Lists every shard and creates missing leases. Resolves with the number created. */
  async syncShards(signal?: AbortSignal): Promise<number> {
    const { clock, events, store, initialPositionInStream } = this.#o;
    const started = clock.now();
    let created = 0;
    let shards = 0;
    let success = false;
    try {
      const map = await this.#listShards(signal);
      shards = map.shards.length;
      const leases = await store.listLeases(signal);
      const keys = new Set(leases.map((l) => l.leaseKey));
      for (const init of computeLeasesToCreate(map.shards, keys, initialPositionInStream)) {
        if (await this.#create(init, signal)) created++;
      }
      // Leases written by KCL versions before 2.3 have no hash range; fill it in, as the KCL's auditor does.
      for (const lease of leases) {
        const shard = lease.hashKeyRange === undefined ? map.shard(lease.leaseKey) : undefined;
        if (shard !== undefined)
          await store.updateLeaseMetaInfo(lease.leaseKey, { hashKeyRange: rangeOf(shard) }, signal);
      }
      success = true;
      return created;
    } finally {
      events.emit('shardSync.completed', {
        shards,
        leasesCreated: created,
        success,
        durationMs: clock.now() - started,
      });
    }
  }

  /**
   * Creates the leases of a finished shard's children (at `TRIM_HORIZON`, as the KCL does, so nothing is
   * skipped), from the children the server reported at shard end or, for servers that report none
   * (kinesalite), from a fresh shard listing. A merge child is created only if both parents have leases or
   * neither has (the KCL's guard against a child overtaking the other half of its history).
   */
  async createChildLeases(
    parent: Lease,
    reported: readonly ChildShardInfo[] | undefined,
    signal?: AbortSignal,
  ): Promise<ChildLeasesResult> {
    let children = reported;
    if (children === undefined || children.length === 0) {
      const map = await this.#listShards(signal);
      children = map.childrenOf(parent.leaseKey).flatMap((id) => {
        const shard = map.shard(id);
        return shard === undefined
          ? []
          : [{ shardId: id, parentShardIds: shard.parentShardIds, hashKeyRange: rangeOf(shard) }];
      });
    }
    if (children.length === 0)
      return { status: 'deferred', reason: `no child shards of ${parent.leaseKey} are listed yet` };
    for (const child of children) {
      const otherParents = child.parentShardIds.filter((id) => id !== parent.leaseKey);
      for (const other of otherParents) {
        if ((await this.#o.store.getLease(other, signal)) === undefined) {
          // Both parents or neither: with one lease missing the other half of the history may never be read.
          const childLease = await this.#o.store.getLease(child.shardId, signal);
          if (childLease === undefined) {
            return { status: 'deferred', reason: `merge parent ${other} of ${child.shardId} has no lease` };
          }
        }
      }
    }
    for (const child of children) {
      await this.#create(
        {
          leaseKey: child.shardId,
          checkpoint: ExtendedSequenceNumber.TRIM_HORIZON,
          parentShardIds: child.parentShardIds,
          ...(child.hashKeyRange === undefined ? {} : { hashKeyRange: child.hashKeyRange }),
        },
        signal,
      );
    }
    return { status: 'created', childShardIds: children.map((c) => c.shardId).sort(compareShardIds) };
  }

  async #listShards(signal: AbortSignal | undefined): Promise<ShardMap> {
    const { kinesis, streamName, clock } = this.#o;
    // One limit for the whole listing, pages included: what matters is that a sync cannot hang.
    const map = await callWithTimeout(
      (abortSignal) => ShardMap.load(kinesis, { streamName, include: 'all', clock, signal: abortSignal }),
      {
        operation: 'ListShards',
        timeoutMs: this.#o.requestTimeoutMillis ?? DEFAULT_KINESIS_REQUEST_TIMEOUT,
        clock,
        signal,
      },
    );
    this.#shardMap = map;
    return map;
  }

  async #create(init: NewLeaseInit, signal: AbortSignal | undefined): Promise<boolean> {
    const created = await this.#o.store.createLeaseIfNotExists(newLease(init), signal);
    if (created) {
      this.#o.events.emit('lease.created', {
        leaseKey: init.leaseKey,
        checkpoint: init.checkpoint.sequenceNumber,
        parentShardIds: init.parentShardIds ?? [],
      });
    }
    return created;
  }
}
