import { hashKeyOf } from './hash-key.js';

/** What routing and size accounting need to know about a partition key, computed once per distinct key. */
export interface PartitionKeyInfo {
  /** MD5 of the key as an unsigned 128-bit integer: where Kinesis routes it. */
  readonly hashKey: bigint;
  /** UTF-8 length of the key: what it adds to a record's size as the service counts it. */
  readonly byteLength: number;
}

/** Distinct partition keys a {@link HashKeyCache} remembers unless told otherwise. */
export const DEFAULT_HASH_KEY_CACHE_SIZE = 65_536;

/**
 * Remembers the hash key and byte length of recently used partition keys. Hashing a short key costs a
 * native call of a few µs, which alone would cap a producer below 400k records/s and is most of the cost of
 * checking aggregates against a shard's range on the consumer; real workloads repeat keys (customer ids,
 * device ids), so a bounded map pays for itself. When full it starts over rather than tracking recency: an
 * O(1) miss path matters more than a perfect hit rate.
 */
export class HashKeyCache {
  readonly #capacity: number;
  #entries = new Map<string, PartitionKeyInfo>();

  /** @param capacity - distinct keys remembered before the cache starts over. @defaultValue 65536 */
  constructor(capacity = DEFAULT_HASH_KEY_CACHE_SIZE) {
    this.#capacity = capacity;
  }

  /** {@link hashKeyOf} through the cache; bound, so it can be passed as `deaggregate`'s `hashKeyOf`. */
  readonly hashKeyOf = (partitionKey: string): bigint => this.get(partitionKey).hashKey;

  get size(): number {
    return this.#entries.size;
  }

  get(partitionKey: string): PartitionKeyInfo {
    let info = this.#entries.get(partitionKey);
    if (info === undefined) {
      info = { hashKey: hashKeyOf(partitionKey), byteLength: Buffer.byteLength(partitionKey, 'utf8') };
      if (this.#entries.size >= this.#capacity) this.#entries = new Map();
      this.#entries.set(partitionKey, info);
    }
    return info;
  }
}
