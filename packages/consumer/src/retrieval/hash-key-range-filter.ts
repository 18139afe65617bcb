import { hashKeyOf, type UserRecord } from '@kinesis-kit/core';
import type { LeaseHashKeyRange } from '../leases/lease.js';

/** Distinct partition keys whose hash keys are remembered; beyond it the memory starts over. */
const DEFAULT_CACHE_SIZE = 10_000;

/**
 * The KCL's check that a KPL aggregate belongs to the shard it was read from: every user record's hash key
 * (its explicit hash key, else the MD5 of its partition key) must lie in the shard's range, or the whole
 * aggregate is dropped (after a reshard the KPL re-sends it to the shard that owns it).
 *
 * Same rule as core's `deaggregate({ hashKeyRange })`, but partition keys are hashed once per consumer
 * rather than once per aggregate: streams reuse their keys, and the MD5 is most of the cost of consuming.
 */
export class HashKeyRangeFilter {
  readonly #start: bigint;
  readonly #end: bigint;
  readonly #cacheSize: number;
  #hashes = new Map<string, bigint>();

  constructor(range: LeaseHashKeyRange, cacheSize = DEFAULT_CACHE_SIZE) {
    this.#start = BigInt(range.startingHashKey);
    this.#end = BigInt(range.endingHashKey);
    this.#cacheSize = cacheSize;
  }

  /** How many user records lie outside the range (0: deliver the aggregate). */
  countOutOfRange(records: readonly Pick<UserRecord, 'partitionKey' | 'explicitHashKey'>[]): number {
    let outside = 0;
    for (const record of records) {
      const key =
        record.explicitHashKey === undefined ? this.#hashOf(record.partitionKey) : BigInt(record.explicitHashKey);
      if (key < this.#start || key > this.#end) outside++;
    }
    return outside;
  }

  #hashOf(partitionKey: string): bigint {
    let hash = this.#hashes.get(partitionKey);
    if (hash === undefined) {
      // A plain map, emptied when full: cheaper than an LRU, and a stream's working set of keys refills it.
      if (this.#hashes.size >= this.#cacheSize) this.#hashes = new Map();
      hash = hashKeyOf(partitionKey);
      this.#hashes.set(partitionKey, hash);
    }
    return hash;
  }
}
