import type { Shard } from '@aws-sdk/client-kinesis';
import type { Clock } from './clock.js';
import { ValidationError } from './errors.js';
import { MAX_HASH_KEY } from './limits.js';
import { type ListShardsClient, type ListShardsOptions, listShards } from './list-shards.js';
import { compareShardIds } from './shard-id.js';

/** An inclusive range of hash keys. */
export interface HashKeyRange {
  readonly startingHashKey: bigint;
  readonly endingHashKey: bigint;
}

/** One shard as a {@link ShardMap} knows it. */
export interface ShardInfo extends HashKeyRange {
  readonly shardId: string;
  /** `ParentShardId` then `AdjacentParentShardId`, each only if present: none, one (split) or two (merge). */
  readonly parentShardIds: readonly string[];
  readonly startingSequenceNumber: string | undefined;
  /** Set once the shard is closed (after a split or merge); a closed shard takes no more records. */
  readonly endingSequenceNumber: string | undefined;
  readonly isOpen: boolean;
}

/** Two open shards whose hash key ranges overlap, and the keys they share. */
export interface ShardOverlap {
  readonly shardIds: readonly [string, string];
  readonly range: HashKeyRange;
}

/** Options of the {@link ShardMap} constructor. */
export interface ShardMapOptions {
  /** The stream the shards belong to, kept for error messages and events. */
  readonly streamName?: string;
  /**
   * Epoch ms of the listing the map was built from; compare it with a request's start time to decide
   * whether a surprise (a record on an unexpected shard) is news to this map. @defaultValue `Date.now()`
   */
  readonly loadedAt?: number;
}

/** Options of {@link ShardMap.load}: what to list, plus the clock that stamps `loadedAt`. */
export interface LoadShardMapOptions extends ListShardsOptions {
  /** @defaultValue the system clock */
  readonly clock?: Pick<Clock, 'now'>;
}

const DECIMAL = /^[0-9]{1,40}$/;

/**
 * An immutable snapshot of a stream's shards: routing for the producer (which open shard owns a hash key)
 * and lineage for the consumer (parents and children).
 *
 * Open and closed shards are told apart by `EndingSequenceNumber`, never by how they were listed, so a map
 * built from an unfiltered listing (kinesalite ignores `ShardFilter`) routes exactly like one built from an
 * `AT_LATEST` listing. Closed shards are kept for lineage and `hashKeyRange`, never for routing.
 *
 * The open shards should cover the whole key space 0…2^128−1 exactly once. If they do not (a listing taken
 * mid-reshard, or a server bug) the map is still built: the holes are in {@link ShardMap.gaps}, the double
 * claims in {@link ShardMap.overlaps}, {@link ShardMap.isComplete} is false, and {@link ShardMap.shardFor}
 * answers `undefined` for keys it cannot place. Callers decide whether to reload (the KCL retries a listing
 * with holes) or route what they can (the KPL sends unpredicted records unaggregated).
 */
export class ShardMap {
  /** The stream the shards belong to, when known. */
  readonly streamName: string | undefined;
  /** Epoch ms of the listing this map was built from (the start of the listing for {@link ShardMap.load}). */
  readonly loadedAt: number;
  /** Key ranges no open shard covers, in key order. Empty for a healthy stream. */
  readonly gaps: readonly HashKeyRange[];
  /**
   * Open shards claiming keys an earlier open shard (by starting key) already claims, each paired with the
   * one reaching furthest, older shard first. Empty for a healthy stream.
   */
  readonly overlaps: readonly ShardOverlap[];

  readonly #byId: ReadonlyMap<string, ShardInfo>;
  readonly #all: readonly ShardInfo[];
  /** Open shards by ending hash key, the order {@link ShardMap.shardFor} searches. */
  readonly #open: readonly ShardInfo[];
  readonly #children: ReadonlyMap<string, readonly string[]>;

  /**
   * Builds a map from ListShards' `Shard` objects (in any order, open and closed mixed).
   * @throws {@link ValidationError} when a shard lacks an id or a valid hash key range, or an id repeats.
   */
  constructor(shards: readonly Shard[], options: ShardMapOptions = {}) {
    this.streamName = options.streamName;
    this.loadedAt = options.loadedAt ?? Date.now();

    const byId = new Map<string, ShardInfo>();
    shards.forEach((shard, index) => {
      const info = toShardInfo(shard, index);
      if (byId.has(info.shardId)) {
        throw new ValidationError(`Shard ${info.shardId} is listed twice`, {
          field: `shards[${index}].ShardId`,
          value: info.shardId,
          streamName: this.streamName,
          shardId: info.shardId,
        });
      }
      byId.set(info.shardId, info);
    });
    this.#byId = byId;
    this.#all = [...byId.values()].sort((a, b) => compareShardIds(a.shardId, b.shardId));

    const children = new Map<string, string[]>();
    for (const info of this.#all) {
      for (const parent of info.parentShardIds) {
        const list = children.get(parent);
        if (list === undefined) children.set(parent, [info.shardId]);
        else list.push(info.shardId);
      }
    }
    this.#children = children;

    const open = this.#all.filter((s) => s.isOpen);
    this.#open = [...open].sort(
      (a, b) => compareKeys(a.endingHashKey, b.endingHashKey) || compareKeys(a.startingHashKey, b.startingHashKey),
    );
    const coverage = checkCoverage(open);
    this.gaps = coverage.gaps;
    this.overlaps = coverage.overlaps;
  }

  /**
   * Lists the stream's shards ({@link listShards}: paginated, `AT_LATEST` for the default `open` scope) and
   * builds a map. Pass `include: 'all'` when parents and children matter (a consumer).
   *
   * Failures are not retried here; wrap the call to retry the whole listing:
   * ```ts
   * const map = await retry(({ signal }) => ShardMap.load(kinesis, { streamName, signal }), { deadline });
   * ```
   */
  static async load(client: ListShardsClient, options: LoadShardMapOptions): Promise<ShardMap> {
    const loadedAt = (options.clock ?? Date).now();
    const shards = await listShards(client, options);
    return new ShardMap(shards, {
      loadedAt,
      ...(options.streamName === undefined ? {} : { streamName: options.streamName }),
    });
  }

  /** Whether the open shards cover every hash key exactly once. */
  get isComplete(): boolean {
    return this.gaps.length === 0 && this.overlaps.length === 0;
  }

  /** Open shards, by ending hash key (so also by starting hash key on a healthy stream). */
  get openShards(): readonly ShardInfo[] {
    return this.#open;
  }

  /** Every known shard, open and closed, in creation order (by shard id number). */
  get shards(): readonly ShardInfo[] {
    return this.#all;
  }

  /** The known shard with this id, open or closed. */
  shard(shardId: string): ShardInfo | undefined {
    return this.#byId.get(shardId);
  }

  /**
   * Whether the shard is known and open. This is how a producer checks that a prediction made with an
   * older map still holds: a shard that is no longer open (closed, or gone from an `open`-scope listing)
   * takes no more records, so whatever was aggregated for it must be routed again.
   */
  isOpen(shardId: string): boolean {
    return this.#byId.get(shardId)?.isOpen ?? false;
  }

  /**
   * The open shard whose hash key range contains `hashKey`, found by binary search over ending keys, or
   * `undefined` if no open shard does (a gap; never on a complete map).
   */
  shardFor(hashKey: bigint): ShardInfo | undefined {
    const open = this.#open;
    let low = 0;
    let high = open.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const candidate = open[mid];
      if (candidate !== undefined && candidate.endingHashKey < hashKey) low = mid + 1;
      else high = mid;
    }
    const found = open[low];
    return found !== undefined && found.startingHashKey <= hashKey ? found : undefined;
  }

  /** The hash key range of a known shard, open or closed. */
  hashKeyRange(shardId: string): HashKeyRange | undefined {
    const info = this.#byId.get(shardId);
    return info === undefined
      ? undefined
      : { startingHashKey: info.startingHashKey, endingHashKey: info.endingHashKey };
  }

  /**
   * Whether a known shard's range contains `hashKey`. False for an unknown shard: the caller cannot tell
   * whether a record belongs there, which the KPL treats as "landed on the wrong shard".
   */
  contains(shardId: string, hashKey: bigint): boolean {
    const info = this.#byId.get(shardId);
    return info !== undefined && info.startingHashKey <= hashKey && hashKey <= info.endingHashKey;
  }

  /**
   * The parents of a known shard: one after a split, two after a merge, none for an original shard. The
   * parents themselves need not be in the map (an `open`-scope listing leaves closed shards out, and
   * Kinesis forgets shards past retention). An unknown shard has none.
   */
  parentsOf(shardId: string): readonly string[] {
    return this.#byId.get(shardId)?.parentShardIds ?? [];
  }

  /** The known shards that name `shardId` as a parent, in creation order. */
  childrenOf(shardId: string): readonly string[] {
    return this.#children.get(shardId) ?? [];
  }
}

function toShardInfo(shard: Shard, index: number): ShardInfo {
  const shardId = shard.ShardId;
  if (typeof shardId !== 'string' || shardId === '') {
    throw new ValidationError(`shards[${index}] has no ShardId`, { field: `shards[${index}].ShardId`, value: shardId });
  }
  const startingHashKey = parseHashKey(shard.HashKeyRange?.StartingHashKey, shardId, index, 'StartingHashKey');
  const endingHashKey = parseHashKey(shard.HashKeyRange?.EndingHashKey, shardId, index, 'EndingHashKey');
  if (startingHashKey > endingHashKey) {
    throw new ValidationError(
      `Shard ${shardId} has StartingHashKey ${startingHashKey} above EndingHashKey ${endingHashKey}`,
      { field: `shards[${index}].HashKeyRange`, value: shard.HashKeyRange, shardId },
    );
  }
  const parentShardIds = [shard.ParentShardId, shard.AdjacentParentShardId].filter(
    (id): id is string => typeof id === 'string' && id !== '',
  );
  const endingSequenceNumber = shard.SequenceNumberRange?.EndingSequenceNumber;
  return Object.freeze({
    shardId,
    startingHashKey,
    endingHashKey,
    parentShardIds: Object.freeze(parentShardIds),
    startingSequenceNumber: shard.SequenceNumberRange?.StartingSequenceNumber,
    endingSequenceNumber,
    isOpen: endingSequenceNumber === undefined,
  });
}

function parseHashKey(value: string | undefined, shardId: string, index: number, name: string): bigint {
  if (typeof value === 'string' && DECIMAL.test(value)) {
    const key = BigInt(value);
    if (key <= MAX_HASH_KEY) return key;
  }
  throw new ValidationError(
    `Shard ${shardId} has ${name} ${JSON.stringify(value)}; it must be a decimal integer from 0 to 2^128-1`,
    { field: `shards[${index}].HashKeyRange.${name}`, value, shardId },
  );
}

function compareKeys(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Walks the open shards by starting key, noting every hole and every double claim. */
function checkCoverage(open: readonly ShardInfo[]): {
  gaps: readonly HashKeyRange[];
  overlaps: readonly ShardOverlap[];
} {
  const byStart = [...open].sort(
    (a, b) => compareKeys(a.startingHashKey, b.startingHashKey) || compareKeys(a.endingHashKey, b.endingHashKey),
  );
  const gaps: HashKeyRange[] = [];
  const overlaps: ShardOverlap[] = [];
  let nextKey = 0n;
  // The open shard reaching furthest so far, the one a newcomer overlaps if it starts before nextKey.
  let furthest: ShardInfo | undefined;
  for (const shard of byStart) {
    if (shard.startingHashKey > nextKey) {
      gaps.push({ startingHashKey: nextKey, endingHashKey: shard.startingHashKey - 1n });
    } else if (furthest !== undefined && shard.startingHashKey < nextKey) {
      const end =
        compareKeys(shard.endingHashKey, furthest.endingHashKey) < 0 ? shard.endingHashKey : furthest.endingHashKey;
      overlaps.push({
        shardIds:
          compareShardIds(furthest.shardId, shard.shardId) < 0
            ? [furthest.shardId, shard.shardId]
            : [shard.shardId, furthest.shardId],
        range: { startingHashKey: shard.startingHashKey, endingHashKey: end },
      });
    }
    if (furthest === undefined || shard.endingHashKey >= furthest.endingHashKey) furthest = shard;
    if (shard.endingHashKey + 1n > nextKey) nextKey = shard.endingHashKey + 1n;
  }
  if (nextKey <= MAX_HASH_KEY) gaps.push({ startingHashKey: nextKey, endingHashKey: MAX_HASH_KEY });
  return { gaps: Object.freeze(gaps), overlaps: Object.freeze(overlaps) };
}
