import { effectiveHashKey, type ListShardsClient, ShardMap } from '@kinesis-kit/core';

/** Where a stream is named in a request: by name or by ARN (the service accepts either). */
export interface StreamRef {
  readonly streamName?: string;
  readonly streamARN?: string;
}

/** Most shard iterators remembered; older ones are forgotten first (iterators live 5 minutes anyway). */
const MAX_ITERATORS = 20_000;

interface CachedMap {
  readonly map: Promise<ShardMap | undefined>;
  readonly loadedAt: number;
}

/**
 * Tells the proxy which shard a request touches: a written entry's shard from its hash key and the stream's
 * {@link ShardMap} (listed through the emulator, cached for `refreshMs`, reloaded at once after a reshard went
 * through the proxy), and a GetRecords call's shard from the iterator, remembered when GetShardIterator or an
 * earlier GetRecords handed it out (iterators are opaque, and each emulator encodes them its own way).
 */
export class ShardRouter {
  readonly #client: ListShardsClient;
  readonly #refreshMs: number;
  readonly #maps = new Map<string, CachedMap>();
  readonly #iterators = new Map<string, string>();

  constructor(client: ListShardsClient, refreshMs: number) {
    this.#client = client;
    this.#refreshMs = refreshMs;
  }

  /**
   * The shard of each entry as `stream/shardId`, or `undefined` where the map cannot place it (the stream is
   * unknown, or the listing was taken mid-reshard); the proxy lets such entries through unlimited.
   */
  async shardsOf(
    stream: StreamRef,
    entries: readonly { readonly PartitionKey: string; readonly ExplicitHashKey?: string }[],
    now: number,
  ): Promise<(string | undefined)[]> {
    const key = streamKey(stream);
    if (key === undefined) return entries.map(() => undefined);
    const map = await this.#mapOf(key, stream, now);
    return entries.map((entry) => {
      if (map === undefined) return undefined;
      let hashKey: bigint;
      try {
        hashKey = effectiveHashKey(entry.PartitionKey, entry.ExplicitHashKey);
      } catch {
        // A bad explicit hash key: the emulator rejects the call itself, as the service would.
        return undefined;
      }
      const shard = map.shardFor(hashKey);
      return shard === undefined ? undefined : `${key}/${shard.shardId}`;
    });
  }

  /** Forgets a stream's map, so the next write lists its shards again. */
  invalidate(stream: StreamRef): void {
    const key = streamKey(stream);
    if (key !== undefined) this.#maps.delete(key);
  }

  /** Remembers that `iterator` reads `stream/shardId`. */
  rememberIterator(iterator: string, shardKey: string): void {
    if (this.#iterators.size >= MAX_ITERATORS) {
      const oldest = this.#iterators.keys().next();
      if (oldest.done !== true) this.#iterators.delete(oldest.value);
    }
    this.#iterators.set(iterator, shardKey);
  }

  /** The shard an iterator reads, if the proxy saw it handed out. */
  shardOfIterator(iterator: string): string | undefined {
    return this.#iterators.get(iterator);
  }

  #mapOf(key: string, stream: StreamRef, now: number): Promise<ShardMap | undefined> {
    const cached = this.#maps.get(key);
    if (cached !== undefined && now - cached.loadedAt < this.#refreshMs) return cached.map;
    const map = ShardMap.load(this.#client, {
      ...(stream.streamName === undefined ? {} : { streamName: stream.streamName }),
      ...(stream.streamARN === undefined ? {} : { streamARN: stream.streamARN }),
      include: 'open',
      signal: AbortSignal.timeout(10_000),
    }).then(
      (loaded) => (loaded.isComplete ? loaded : undefined),
      // An unknown stream or a listing that failed: write unlimited, and try again next refresh.
      () => undefined,
    );
    this.#maps.set(key, { map, loadedAt: now });
    return map;
  }
}

function streamKey(stream: StreamRef): string | undefined {
  if (stream.streamName !== undefined) return stream.streamName;
  if (stream.streamARN !== undefined) return stream.streamARN.slice(stream.streamARN.lastIndexOf('/') + 1);
  return undefined;
}
