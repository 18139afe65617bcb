import { GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import {
  type Clock,
  callWithTimeout,
  compareShardIds,
  type HashKeyRange,
  KinesisKitError,
  MAX_HASH_KEY,
  type ShardInfo,
  ShardMap,
  type ShardScope,
} from '@kinesis-kit/core';
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
 *   itself; for `TRIM_HORIZON` / `AT_TIMESTAMP` its oldest listed ancestors, so history is read from the start
 *   (a first sync `AT_TIMESTAMP` uses {@link computeLeasesAtTimestamp} instead);
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
  // A leased parent counts even when the listing no longer has it (past retention): it ends at once, and its
  // children get their leases then, at TRIM_HORIZON. (The KCL only counts listed parents, so after an outage
  // longer than retention it would lease those children at LATEST and skip what they took in meanwhile.)
  const hasLeasedAncestor = (shard: ShardInfo): boolean => {
    const memo = leasedAncestorMemo.get(shard.shardId);
    if (memo !== undefined) return memo;
    leasedAncestorMemo.set(shard.shardId, false); // guards against a cyclic listing
    const result =
      shard.parentShardIds.some((id) => leaseKeys.has(id)) || parentsInMap(shard).some((p) => hasLeasedAncestor(p));
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
    if (!descendant && (parents.length === 0 || position === 'LATEST')) {
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

/**
 * The leases of a first sync `AT_TIMESTAMP` (the KCL's empty-lease-table sync): one per shard of a listing
 * filtered with `ShardFilter: AT_TIMESTAMP`, open or closed, each at `AT_TIMESTAMP`. Those are the shards
 * open at the timestamp, so nothing older is read: leasing the oldest ancestors instead would start their
 * children (leased at `TRIM_HORIZON` when a parent ends) before the timestamp after a recent reshard.
 * A server that ignores the filter (kinesalite) lists every shard; each then gets a lease at `AT_TIMESTAMP`
 * too, which reads the same records (a shard closed before the timestamp just ends at once).
 * Parents before children, so a crash part-way leaves no orphan child.
 */
export function computeLeasesAtTimestamp(shards: readonly ShardInfo[]): NewLeaseInit[] {
  return [...shards]
    .sort((a, b) => compareShardIds(a.shardId, b.shardId))
    .map((shard) => ({
      leaseKey: shard.shardId,
      checkpoint: ExtendedSequenceNumber.AT_TIMESTAMP,
      parentShardIds: shard.parentShardIds,
      hashKeyRange: rangeOf(shard),
    }));
}

/**
 * Hash keys no listed shard covers (open or closed), in key order. The KCL checks a filtered listing for
 * these before creating leases from it: a hole means part of the stream would never be read.
 */
export function hashRangeGaps(shards: readonly HashKeyRange[]): HashKeyRange[] {
  const byStart = [...shards].sort((a, b) =>
    a.startingHashKey < b.startingHashKey ? -1 : a.startingHashKey > b.startingHashKey ? 1 : 0,
  );
  const gaps: HashKeyRange[] = [];
  let next = 0n;
  for (const shard of byStart) {
    if (shard.startingHashKey > next) gaps.push({ startingHashKey: next, endingHashKey: shard.startingHashKey - 1n });
    if (shard.endingHashKey + 1n > next) next = shard.endingHashKey + 1n;
  }
  if (next <= MAX_HASH_KEY) gaps.push({ startingHashKey: next, endingHashKey: MAX_HASH_KEY });
  return gaps;
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

  /** The latest full listing (never a filtered one), for hash ranges of leases that lack them and lease cleanup. */
  get shardMap(): ShardMap | undefined {
    return this.#shardMap;
  }

  /**
   * Lists shards and creates missing leases. Resolves with the number created. With an `AT_TIMESTAMP` initial
   * position and an empty lease table (or one whose leases all still read `AT_TIMESTAMP`: another worker's
   * first sync part-way) the listing is filtered to the shards open at the timestamp, as the KCL does
   * ({@link computeLeasesAtTimestamp}); otherwise every shard is listed ({@link computeLeasesToCreate}).
   * @throws a retriable `KinesisKitError` `SHARD_LISTING_INCOMPLETE` when a filtered listing leaves hash keys
   * uncovered (the next sync tries again).
   */
  async syncShards(signal?: AbortSignal): Promise<number> {
    const { clock, events, store, initialPositionInStream: position } = this.#o;
    const started = clock.now();
    let created = 0;
    let shards = 0;
    let success = false;
    try {
      const leases = await store.listLeases(signal);
      let plan: NewLeaseInit[] | undefined;
      // Not only an empty table: another worker's first sync may be part-way through (workers of a new
      // application start together). While no lease has moved past AT_TIMESTAMP, finishing that same plan is
      // right; the full-listing plan would lease the oldest ancestors and bring back what this one avoids.
      const untouched = leases.every((l) => l.checkpoint.equals(ExtendedSequenceNumber.AT_TIMESTAMP));
      if (untouched && typeof position === 'object') {
        const atTimestamp = await this.#listShards(signal, { atTimestamp: position.timestamp });
        shards = atTimestamp.shards.length;
        // None open then: every shard the stream still has began after the timestamp, so the full-listing plan
        // below (oldest shards at AT_TIMESTAMP, children at TRIM_HORIZON) reads nothing older.
        if (shards > 0) {
          const gaps = hashRangeGaps(atTimestamp.shards);
          // With leases already there (say a parent open at the timestamp but gone past retention since, while
          // idle), the full-listing plan below is the way on; only a first sync must not start from a hole.
          if (gaps.length > 0 && leases.length === 0) {
            throw new KinesisKitError(
              'SHARD_LISTING_INCOMPLETE',
              `The shards open at ${position.timestamp.toISOString()} leave ${gaps.length} hash key range(s) uncovered; syncing again later`,
              { retriable: true, streamName: this.#o.streamName },
            );
          }
          if (gaps.length === 0) plan = computeLeasesAtTimestamp(atTimestamp.shards);
        }
      }
      const map = plan === undefined ? await this.#listShards(signal, 'all') : undefined;
      if (map !== undefined) {
        shards = map.shards.length;
        plan = computeLeasesToCreate(map.shards, new Set(leases.map((l) => l.leaseKey)), position);
      }
      for (const init of plan ?? []) {
        if (await this.#create(init, signal)) created++;
      }
      // Leases written by KCL versions before 2.3 have no hash range; fill it in, as the KCL's auditor does.
      for (const lease of leases) {
        const shard = lease.hashKeyRange === undefined ? map?.shard(lease.leaseKey) : undefined;
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
      const map = await this.#listShards(signal, 'all');
      children = map.childrenOf(parent.leaseKey).flatMap((id) => {
        const shard = map.shard(id);
        return shard === undefined
          ? []
          : [{ shardId: id, parentShardIds: shard.parentShardIds, hashKeyRange: rangeOf(shard) }];
      });
      // Gone from the stream (past retention, or a re-created stream) and named by no listed shard: there is
      // nothing to follow, and waiting would hold the lease forever. (A listing that lags still lists the
      // parent itself, which existed before any child.)
      if (children.length === 0 && map.shard(parent.leaseKey) === undefined)
        return { status: 'created', childShardIds: [] };
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

  /**
   * Whether the shard still exists: false when GetShardIterator answers ResourceNotFound (past retention, or
   * the stream was deleted), as the KCL's lease cleanup asks. Other failures reject.
   */
  async shardExists(shardId: string, signal?: AbortSignal): Promise<boolean> {
    const { kinesis, streamName, clock } = this.#o;
    try {
      await callWithTimeout(
        (abortSignal) =>
          kinesis.send(
            new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'LATEST' }),
            { abortSignal },
          ),
        {
          operation: 'GetShardIterator',
          timeoutMs: this.#o.requestTimeoutMillis ?? DEFAULT_KINESIS_REQUEST_TIMEOUT,
          clock,
          signal,
        },
      );
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === 'ResourceNotFoundException') return false;
      throw error;
    }
  }

  async #listShards(signal: AbortSignal | undefined, include: ShardScope): Promise<ShardMap> {
    const { kinesis, streamName, clock } = this.#o;
    // One limit for the whole listing, pages included: what matters is that a sync cannot hang.
    const map = await callWithTimeout(
      (abortSignal) => ShardMap.load(kinesis, { streamName, include, clock, signal: abortSignal }),
      {
        operation: 'ListShards',
        timeoutMs: this.#o.requestTimeoutMillis ?? DEFAULT_KINESIS_REQUEST_TIMEOUT,
        clock,
        signal,
      },
    );
    if (include === 'all') this.#shardMap = map;
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
