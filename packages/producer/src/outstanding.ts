import { AbortError } from '@kinesis-kit/core';
import type { ProducerTime } from './producer-time.js';
import { UserRecord } from './user-record.js';

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
 * Records are kept in arrival order in a list linked through the records themselves
 * ({@link UserRecord.older}/{@link UserRecord.newer}), and a record leaves it the moment it settles
 * ({@link UserRecord.settle}), in whatever order records settle. So the list references exactly the
 * unsettled records: one record stuck on a throttled shard pins itself, not the thousands settled after it
 * (issue 11). Adding, settling and finding the oldest are O(1).
 */
export class Outstanding {
  readonly maxRecords: number;
  readonly maxBytes: number;
  /** The list's two ends in one node: `#end.newer` is the oldest record, `#end.older` the newest. */
  readonly #end: UserRecord;
  #count = 0;
  #bytes = 0;
  /** Records ever added; a record's position in that sequence is its ticket for settled-waiters. */
  #added = 0;
  #capacityWaiters: CapacityWaiter[] = [];
  #settledWaiters: SettledWaiter[] = [];

  constructor(maxRecords: number, maxBytes: number) {
    this.maxRecords = maxRecords;
    this.maxBytes = maxBytes;
    const zero = 0 as ProducerTime;
    const end = new UserRecord('', new Uint8Array(0), undefined, 0n, 0, zero, zero, zero);
    end.older = end;
    end.newer = end;
    this.#end = end;
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

  /**
   * How many records the list still references: the unsettled ones, whatever order others settled in. What
   * the memory bound rests on; tests compare it with {@link count}.
   */
  get referenced(): number {
    let n = 0;
    const end = this.#end;
    for (let r = end.newer; r !== undefined && r !== end; r = r.newer) n++;
    return n;
  }

  /** Whether a record of `bytes` fits now. */
  hasRoom(bytes: number): boolean {
    return this.#count < this.maxRecords && this.#bytes + bytes <= this.maxBytes;
  }

  add(record: UserRecord): void {
    const end = this.#end;
    const newest = end.older ?? end;
    record.ticket = this.#added;
    record.older = newest;
    record.newer = end;
    newest.newer = record;
    end.older = record;
    this.#count++;
    this.#bytes += record.size;
    this.#added++;
  }

  /**
   * Accounts for `records` records of `bytes` bytes in all that the caller has just settled (each record
   * left the list as it settled): one update and one look at the waiters per aggregate rather than per record.
   */
  released(records: number, bytes: number): void {
    this.#count -= records;
    this.#bytes -= bytes;
    if (this.#capacityWaiters.length > 0) this.#wakeCapacityWaiters();
    if (this.#settledWaiters.length > 0) this.#wakeSettledWaiters();
  }

  /** The oldest unsettled record, if any. */
  oldest(): UserRecord | undefined {
    const oldest = this.#end.newer;
    return oldest === this.#end ? undefined : oldest;
  }

  /** Every unsettled record, oldest first (a copy). */
  unsettled(): UserRecord[] {
    const records: UserRecord[] = [];
    const end = this.#end;
    for (let r = end.newer; r !== undefined && r !== end; r = r.newer) records.push(r);
    return records;
  }

  /** Resolves once `records` more records and `bytes` more bytes fit. */
  whenRoom(records: number, bytes: number, signal?: AbortSignal): Promise<void> {
    if (this.#count + records <= this.maxRecords && this.#bytes + bytes <= this.maxBytes) return Promise.resolve();
    return this.#wait(this.#capacityWaiters, { records, bytes }, signal);
  }

  /** Resolves once the first `upTo` records ever added have all settled. */
  whenSettled(upTo: number, signal?: AbortSignal): Promise<void> {
    if (this.#settledUpTo() >= upTo) return Promise.resolve();
    return this.#wait(this.#settledWaiters, { upTo }, signal);
  }

  /** How many of the first records ever added have all settled: the oldest unsettled record's ticket. */
  #settledUpTo(): number {
    return this.oldest()?.ticket ?? this.#added;
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
    const settledUpTo = this.#settledUpTo();
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
