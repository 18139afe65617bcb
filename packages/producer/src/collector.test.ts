import { describe, expect, it } from 'vitest';
import { Collector } from './collector.js';
import type { OutgoingRecord } from './outgoing-record.js';
import type { ProducerTime } from './producer-time.js';

const record = (size: number): OutgoingRecord => ({
  records: [],
  data: new Uint8Array(size - 1),
  partitionKey: 'a',
  explicitHashKey: '0',
  aggregated: true,
  size,
  userDataBytes: 0,
  userDataMinBytes: 0,
  userDataMaxBytes: 0,
  predictedShardId: undefined,
  deadline: 0 as ProducerTime,
  expiresAt: 0 as ProducerTime,
});

describe('Collector', () => {
  it('stops at collectionMaxCount', () => {
    const collector = new Collector({ maxCount: 3, maxSize: 1000 });
    expect([1, 2, 3, 4].map(() => collector.tryAdd(record(10)))).toEqual([true, true, true, false]);
    expect(collector.isFull).toBe(true);
    expect(collector.take()).toHaveLength(3);
    expect(collector.count).toBe(0);
    expect(collector.size).toBe(0);
  });

  it('counts partition key and data bytes against collectionMaxSize', () => {
    const collector = new Collector({ maxCount: 500, maxSize: 100 });
    expect(collector.tryAdd(record(60))).toBe(true);
    expect(collector.tryAdd(record(41))).toBe(false);
    expect(collector.tryAdd(record(40))).toBe(true);
    expect(collector.size).toBe(100);
    expect(collector.isFull).toBe(true);
  });

  it('sends a record larger than the limit alone', () => {
    const collector = new Collector({ maxCount: 500, maxSize: 100 });
    expect(collector.tryAdd(record(150))).toBe(true);
    expect(collector.tryAdd(record(1))).toBe(false);
  });
});
