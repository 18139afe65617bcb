import type { OutgoingRecord } from './outgoing-record.js';

/** Limits of a {@link Collector}. */
export interface CollectorLimits {
  readonly maxCount: number;
  readonly maxSize: number;
}

/**
 * Fills one PutRecords call: at most `collectionMaxCount` Kinesis records and `collectionMaxSize` bytes
 * counted as the service counts them (partition key + data). A record larger than the size limit on its
 * own still goes out, alone.
 */
export class Collector {
  readonly #limits: CollectorLimits;
  #records: OutgoingRecord[] = [];
  #size = 0;

  constructor(limits: CollectorLimits) {
    this.#limits = limits;
  }

  get count(): number {
    return this.#records.length;
  }

  get size(): number {
    return this.#size;
  }

  /** Whether nothing more can be added. */
  get isFull(): boolean {
    return this.#records.length >= this.#limits.maxCount || this.#size >= this.#limits.maxSize;
  }

  /** Whether `record` would fit now. */
  fits(record: OutgoingRecord): boolean {
    if (this.#records.length === 0) return true;
    return this.#records.length < this.#limits.maxCount && this.#size + record.size <= this.#limits.maxSize;
  }

  /** Adds `record` if it fits; returns whether it did. */
  tryAdd(record: OutgoingRecord): boolean {
    if (!this.fits(record)) return false;
    this.#records.push(record);
    this.#size += record.size;
    return true;
  }

  /** Hands over the collected records and starts an empty call. */
  take(): OutgoingRecord[] {
    const records = this.#records;
    this.#records = [];
    this.#size = 0;
    return records;
  }
}
