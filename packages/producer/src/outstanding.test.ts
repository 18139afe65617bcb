import { describe, expect, it } from 'vitest';
import { Outstanding } from './outstanding.js';
import type { ProducerTime } from './producer-time.js';
import { UserRecord } from './user-record.js';

const record = (arrivedAt: number) => {
  const t = arrivedAt as ProducerTime;
  return new UserRecord('k', new Uint8Array(9), undefined, 0n, 10, t, t, t);
};

const PUT = { successful: true, shardId: 'shardId-0', sequenceNumber: '1', subSequenceNumber: 0, attempts: [] };

/** Settles `records` the way the pipeline does: each one, then the accounting for all of them. */
function settle(outstanding: Outstanding, records: readonly UserRecord[]): void {
  for (const r of records) r.settle(PUT);
  outstanding.released(records.length, records.length * 10);
}

describe('Outstanding', () => {
  it('tracks the oldest unsettled record through out-of-order settling and later bursts', async () => {
    const outstanding = new Outstanding(10_000, 1_000_000);
    const records = Array.from({ length: 3000 }, (_, i) => record(i));
    for (const r of records) outstanding.add(r);
    expect([outstanding.count, outstanding.bytes]).toEqual([3000, 30_000]);

    // Settled out of order: the head waits for record 0.
    settle(outstanding, records.slice(1, 2500));
    expect(outstanding.oldest()).toBe(records[0]);
    let firstDone = false;
    void outstanding.whenSettled(2500).then(() => {
      firstDone = true;
    });
    await Promise.resolve();
    expect(firstDone).toBe(false);

    // Record 0 settles: the first 2,500 have all settled.
    settle(outstanding, records.slice(0, 1));
    await Promise.resolve();
    expect(firstDone).toBe(true);
    expect(outstanding.oldest()).toBe(records[2500]);
    expect(outstanding.unsettled()).toEqual(records.slice(2500));

    settle(outstanding, records.slice(2500));
    expect(outstanding.oldest()).toBeUndefined();
    expect([outstanding.count, outstanding.bytes]).toEqual([0, 0]);

    // The next burst: arrival order still holds.
    const next = [record(5000), record(5001)];
    for (const r of next) outstanding.add(r);
    expect(outstanding.oldest()).toBe(next[0]);
    expect(outstanding.unsettled()).toEqual(next);
    await expect(outstanding.whenSettled(outstanding.added - 2)).resolves.toBeUndefined();
  });
});
