import { hashKeyOf } from '@kinesis-kit/core';

/** What the producer needs to know about a partition key, computed once per distinct key. */
export interface PartitionKeyInfo {
  /** MD5 of the key as an unsigned 128-bit integer: where Kinesis routes it. */
  readonly hashKey: bigint;
  /** UTF-8 length of the key: what it adds to a record's size as the service counts it. */
  readonly byteLength: number;
}

/**
 * Remembers the hash key and byte length of recently used partition keys. Hashing a short key costs a
 * native call of a few µs, which alone would cap the producer below 400k records/s; real workloads
 * repeat keys (customer ids, device ids), so a bounded map pays for itself. When full it starts over
 * rather than tracking recency: an O(1) miss path matters more than a perfect hit rate.
 */
export class HashKeyCache {
  readonly #capacity: number;
  #entries = new Map<string, PartitionKeyInfo>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

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
