import {
  SHARD_READ_BYTES_PER_SECOND,
  SHARD_READ_CALLS_PER_SECOND,
  SHARD_WRITE_BYTES_PER_SECOND,
  SHARD_WRITE_RECORDS_PER_SECOND,
} from '@kinesis-kit/core';
import { TokenBucket } from './token-bucket.js';

/** Per-shard budgets; the defaults are the service's. */
export interface ShardLimitsOptions {
  /** @defaultValue 1000 */
  readonly writeRecordsPerSecond?: number;
  /** @defaultValue 1 MiB */
  readonly writeBytesPerSecond?: number;
  /** @defaultValue 5 */
  readonly readCallsPerSecond?: number;
  /** @defaultValue 2 MiB */
  readonly readBytesPerSecond?: number;
}

interface ShardBuckets {
  readonly writeRecords: TokenBucket;
  readonly writeBytes: TokenBucket;
  readonly readCalls: TokenBucket;
  readonly readBytes: TokenBucket;
}

/**
 * The per-shard write and read limits the emulators ignore, kept as one second's worth of tokens per shard
 * (the service allows no longer burst than that). Keyed by `stream/shardId` so streams never share budgets.
 */
export class ShardLimits {
  readonly #options: Required<ShardLimitsOptions>;
  readonly #shards = new Map<string, ShardBuckets>();

  constructor(options: ShardLimitsOptions = {}) {
    this.#options = {
      writeRecordsPerSecond: options.writeRecordsPerSecond ?? SHARD_WRITE_RECORDS_PER_SECOND,
      writeBytesPerSecond: options.writeBytesPerSecond ?? SHARD_WRITE_BYTES_PER_SECOND,
      readCallsPerSecond: options.readCallsPerSecond ?? SHARD_READ_CALLS_PER_SECOND,
      readBytesPerSecond: options.readBytesPerSecond ?? SHARD_READ_BYTES_PER_SECOND,
    };
  }

  /** Admits one record of `bytes` (data plus partition key) to the shard, or answers false and takes nothing. */
  admitWrite(shardKey: string, bytes: number, now: number): boolean {
    const buckets = this.#buckets(shardKey, now);
    if (buckets.writeRecords.available(now) < 1 || buckets.writeBytes.available(now) < bytes) return false;
    buckets.writeRecords.charge(1, now);
    buckets.writeBytes.charge(bytes, now);
    return true;
  }

  /** Admits one GetRecords call, unless five came in the last second or earlier reads left the shard in debt. */
  admitRead(shardKey: string, now: number): boolean {
    const buckets = this.#buckets(shardKey, now);
    if (buckets.readBytes.available(now) < 0) return false;
    return buckets.readCalls.tryTake(1, now);
  }

  /** Charges the bytes a GetRecords call returned. */
  chargeRead(shardKey: string, bytes: number, now: number): void {
    this.#buckets(shardKey, now).readBytes.charge(bytes, now);
  }

  #buckets(shardKey: string, now: number): ShardBuckets {
    let buckets = this.#shards.get(shardKey);
    if (buckets === undefined) {
      const o = this.#options;
      buckets = {
        writeRecords: new TokenBucket(o.writeRecordsPerSecond, o.writeRecordsPerSecond, now),
        writeBytes: new TokenBucket(o.writeBytesPerSecond, o.writeBytesPerSecond, now),
        readCalls: new TokenBucket(o.readCallsPerSecond, o.readCallsPerSecond, now),
        readBytes: new TokenBucket(o.readBytesPerSecond, o.readBytesPerSecond, now),
      };
      this.#shards.set(shardKey, buckets);
    }
    return buckets;
  }
}
