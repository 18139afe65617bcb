import { AbortError } from '@kinesis-kit/core';
import { NO_RECORD, type UserRecord } from './user-record.js';

interface CapacityWaiter {
  readonly records: number;
  readonly bytes: number;
  readonly resolve: () => void;
}

interface SettledWaiter {
  /** Resolves once every record added up to this count has settled. */
  readonly upTo: number;
  readonly resolve: () => void;
}

/**
 * Every user record accepted and not yet settled: how many, how many bytes, which is oldest, and the
 * promise "waiters" (p-queue style) for callers waiting for room or for everything to settle.
 *
 * Records are kept in arrival order; settled ones are skipped lazily at the head, so adding, settling and
 * finding the oldest are O(1) amortized.
 */
export class Outstanding {
  readonly maxRecords: number;
  readonly maxBytes: number;
  // Records from #head to #tail, in arrival order. The array and its slots are reused from burst to burst
  // (a burst can be 100,000 records; growing a fresh array for each one is garbage the GC copies around).
  readonly #queue: UserRecord[] = [];
  #head = 0;
  #tail = 0;
  #count = 0;
  #bytes = 0;
  /** Records ever added; a record's position in that sequence is its ticket for settled-waiters. */
  #added = 0;
  #settledUpTo = 0;
  #capacityWaiters: CapacityWaiter[] = [];
  #settledWaiters: SettledWaiter[] = [];

  constructor(maxRecords: number, maxBytes: number) {
    this.maxRecords = maxRecords;
    this.maxBytes = maxBytes;
  }

  get count(): number {
    return this.#count;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** How many records have been added so far; pass it to {@link whenSettled} to wait for them. */
  get added(): number {
    return this.#added;
  }

  /** Whether a record of `bytes` fits now. */
  hasRoom(bytes: number): boolean {
    return this.#count < this.maxRecords && this.#bytes + bytes <= this.maxBytes;
  }

  add(record: UserRecord): void {
    if (this.#tail < this.#queue.length) this.#queue[this.#tail] = record;
    else this.#queue.push(record);
    this.#tail++;
    this.#count++;
    this.#bytes += record.size;
    this.#added++;
  }

  /**
   * Accounts for `records` records of `bytes` bytes in all that the caller has just settled: one update and
   * one look at the waiters per aggregate rather than per record.
   */
  released(records: number, bytes: number): void {
    this.#count -= records;
    this.#bytes -= bytes;
    this.#advanceHead();
    if (this.#capacityWaiters.length > 0) this.#wakeCapacityWaiters();
    if (this.#settledWaiters.length > 0) this.#wakeSettledWaiters();
  }

  /** The oldest unsettled record, if any. */
  oldest(): UserRecord | undefined {
    return this.#head < this.#tail ? this.#queue[this.#head] : undefined;
  }

  /** Every unsettled record, oldest first (a copy). */
  unsettled(): UserRecord[] {
    return this.#queue.slice(this.#head, this.#tail).filter((r) => !r.settled);
  }

  /** Resolves once `records` more records and `bytes` more bytes fit. */
  whenRoom(records: number, bytes: number, signal?: AbortSignal): Promise<void> {
    if (this.#count + records <= this.maxRecords && this.#bytes + bytes <= this.maxBytes) return Promise.resolve();
    return this.#wait(this.#capacityWaiters, { records, bytes }, signal);
  }

  /** Resolves once the first `upTo` records ever added have all settled. */
  whenSettled(upTo: number, signal?: AbortSignal): Promise<void> {
    if (this.#settledUpTo >= upTo) return Promise.resolve();
    return this.#wait(this.#settledWaiters, { upTo }, signal);
  }

  #wait<W extends { resolve: () => void }>(
    list: W[],
    fields: Omit<W, 'resolve'>,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (signal?.aborted) return Promise.reject(new AbortError('The wait was aborted', { cause: signal.reason }));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const index = list.indexOf(waiter);
        if (index !== -1) list.splice(index, 1);
        reject(new AbortError('The wait was aborted', { cause: signal?.reason }));
      };
      const waiter = {
        ...fields,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      } as W;
      signal?.addEventListener('abort', onAbort, { once: true });
      list.push(waiter);
    });
  }

  #advanceHead(): void {
    const queue = this.#queue;
    const tail = this.#tail;
    let head = this.#head;
    for (let record = queue[head]; head < tail && record?.settled === true; record = queue[head]) {
      // Let go of the record, keep the slot.
      queue[head] = NO_RECORD;
      head++;
    }
    this.#settledUpTo += head - this.#head;
    if (head === tail) {
      head = 0;
      this.#tail = 0;
    } else if (head > 1024 && head * 2 > tail) {
      queue.copyWithin(0, head, tail);
      queue.fill(NO_RECORD, tail - head, tail);
      this.#tail = tail - head;
      head = 0;
    }
    this.#head = head;
  }

  #wakeCapacityWaiters(): void {
    const waiting = this.#capacityWaiters;
    let i = 0;
    let records = this.#count;
    let bytes = this.#bytes;
    // In order: a waiter that does not fit yet keeps those behind it waiting, so none starves.
    for (; i < waiting.length; i++) {
      const waiter = waiting[i];
      if (waiter === undefined) break;
      if (records + waiter.records > this.maxRecords || bytes + waiter.bytes > this.maxBytes) break;
      records += waiter.records;
      bytes += waiter.bytes;
    }
    if (i === 0) return;
    const ready = waiting.splice(0, i);
    for (const waiter of ready) waiter.resolve();
  }

  #wakeSettledWaiters(): void {
    const settledUpTo = this.#settledUpTo;
    // Called on every settle while someone waits (flushSync): check before allocating anything.
    let any = false;
    for (const waiter of this.#settledWaiters) {
      if (waiter.upTo <= settledUpTo) {
        any = true;
        break;
      }
    }
    if (!any) return;
    const ready = this.#settledWaiters.filter((w) => w.upTo <= settledUpTo);
    if (ready.length === 0) return;
    this.#settledWaiters = this.#settledWaiters.filter((w) => w.upTo > settledUpTo);
    for (const waiter of ready) waiter.resolve();
  }
}
