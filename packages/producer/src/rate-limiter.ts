import { SHARD_WRITE_BYTES_PER_SECOND, SHARD_WRITE_RECORDS_PER_SECOND } from '@kinesis-kit/core';
import { later, type ProducerTime } from './producer-time.js';

/**
 * A shard's write allowance as two token buckets, Kinesis records and bytes, both refilled continuously
 * at `rateLimit` percent of the shard's limits and holding at most one second of it. An aggregate costs
 * one record token however many user records it carries; that is why aggregation multiplies throughput.
 *
 * A record costlier than a full bucket (a 1 MiB record at a 50 % rate limit) is let through when the bucket
 * is full, so it is slowed down but never stuck.
 */
export class RateLimiter {
  readonly #recordsPerMs: number;
  readonly #bytesPerMs: number;
  readonly #recordCapacity: number;
  readonly #byteCapacity: number;
  #records: number;
  #bytes: number;
  #updatedAt: ProducerTime;

  /** @param rateLimit - percent of the shard limits; @param now - the clock's time, the buckets start full. */
  constructor(rateLimit: number, now: ProducerTime) {
    const scale = rateLimit / 100;
    this.#recordCapacity = Math.max(1, SHARD_WRITE_RECORDS_PER_SECOND * scale);
    this.#byteCapacity = SHARD_WRITE_BYTES_PER_SECOND * scale;
    this.#recordsPerMs = this.#recordCapacity / 1000;
    this.#bytesPerMs = this.#byteCapacity / 1000;
    this.#records = this.#recordCapacity;
    this.#bytes = this.#byteCapacity;
    this.#updatedAt = now;
  }

  /** Takes one record of `bytes` if the shard allows it now; returns whether it did. */
  tryTake(bytes: number, now: ProducerTime): boolean {
    this.#refill(now);
    if (this.#records < 1 || this.#bytes < Math.min(bytes, this.#byteCapacity)) return false;
    this.#records -= 1;
    this.#bytes -= bytes;
    return true;
  }

  /** Gives back a record taken with {@link tryTake} that was not sent after all. */
  giveBack(bytes: number): void {
    this.#records = Math.min(this.#recordCapacity, this.#records + 1);
    this.#bytes = Math.min(this.#byteCapacity, this.#bytes + bytes);
  }

  /** The earliest time a record of `bytes` can be taken (`now` if it can be now). */
  availableAt(bytes: number, now: ProducerTime): ProducerTime {
    this.#refill(now);
    const recordWait = this.#records >= 1 ? 0 : (1 - this.#records) / this.#recordsPerMs;
    const needed = Math.min(bytes, this.#byteCapacity);
    const byteWait = this.#bytes >= needed ? 0 : (needed - this.#bytes) / this.#bytesPerMs;
    return later(now, Math.ceil(Math.max(recordWait, byteWait)));
  }

  #refill(now: ProducerTime): void {
    const elapsed = now - this.#updatedAt;
    if (elapsed <= 0) return;
    this.#updatedAt = now;
    this.#records = Math.min(this.#recordCapacity, this.#records + elapsed * this.#recordsPerMs);
    this.#bytes = Math.min(this.#byteCapacity, this.#bytes + elapsed * this.#bytesPerMs);
  }
}
