import { deaggregate, hashKeyOf, isAggregatedRecord } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { Aggregator } from './aggregator.js';
import type { OutgoingRecord } from './outgoing-record.js';
import type { ProducerTime } from './producer-time.js';
import { UserRecord } from './user-record.js';

function userRecord(partitionKey: string, bytes: number, deadline = 100): UserRecord {
  const data = new Uint8Array(bytes).fill(7);
  return new UserRecord(
    partitionKey,
    data,
    undefined,
    hashKeyOf(partitionKey),
    partitionKey.length + bytes,
    0 as ProducerTime,
    deadline as ProducerTime,
    30_000 as ProducerTime,
  );
}

const limits = { enabled: true, maxCount: 1000, maxSize: 1000, maxRecordSize: 1024 * 1024 };

describe('Aggregator', () => {
  it('packs records into an aggregate that the KCL-style deaggregator reads back in order', () => {
    const aggregator = new Aggregator(limits, 'shardId-000000000001');
    const emitted: OutgoingRecord[] = [];
    for (let i = 0; i < 5; i++) aggregator.add(userRecord(`k${i}`, 10, 100 + i), (o) => emitted.push(o));
    expect(emitted).toHaveLength(0);
    expect(aggregator.deadline).toBe(100);
    const out = aggregator.seal();
    expect(out).toBeDefined();
    if (out === undefined) return;
    expect(out.aggregated).toBe(true);
    expect(out.partitionKey).toBe('a');
    expect(out.explicitHashKey).toBe(hashKeyOf('k0').toString());
    expect(out.size).toBe(1 + out.data.length);
    expect(out.predictedShardId).toBe('shardId-000000000001');
    const result = deaggregate({ data: out.data, partitionKey: 'a', sequenceNumber: '1' });
    expect(result.status).toBe('delivered');
    if (result.status !== 'delivered') return;
    expect(result.records.map((r) => [r.partitionKey, r.subSequenceNumber])).toEqual([
      ['k0', 0],
      ['k1', 1],
      ['k2', 2],
      ['k3', 3],
      ['k4', 4],
    ]);
    expect(aggregator.count).toBe(0);
    expect(aggregator.deadline).toBe(Number.POSITIVE_INFINITY);
  });

  it('sends a lone record plain with its hash key set explicitly', () => {
    const aggregator = new Aggregator(limits, undefined);
    aggregator.add(userRecord('solo', 10), () => {});
    const out = aggregator.seal();
    expect(out?.aggregated).toBe(false);
    expect(out?.partitionKey).toBe('solo');
    expect(out?.explicitHashKey).toBe(hashKeyOf('solo').toString());
    expect(out && isAggregatedRecord(out.data)).toBe(false);
    expect(out?.size).toBe(14);
  });

  it('seals when the next record would exceed aggregationMaxSize, never after', () => {
    const aggregator = new Aggregator(limits, 'x');
    const emitted: OutgoingRecord[] = [];
    for (let i = 0; i < 40; i++) aggregator.add(userRecord(`key-${i}`, 90), (o) => emitted.push(o));
    const last = aggregator.seal();
    if (last !== undefined) emitted.push(last);
    expect(emitted.length).toBeGreaterThan(3);
    for (const out of emitted) expect(out.data.length).toBeLessThanOrEqual(1000);
    expect(emitted.flatMap((o) => o.records.map((r) => r.partitionKey))).toEqual(
      Array.from({ length: 40 }, (_, i) => `key-${i}`),
    );
  });

  it('respects aggregationMaxCount', () => {
    const aggregator = new Aggregator({ ...limits, maxCount: 3 }, 'x');
    const emitted: OutgoingRecord[] = [];
    for (let i = 0; i < 7; i++) aggregator.add(userRecord('k', 1), (o) => emitted.push(o));
    expect(emitted.map((o) => o.records.length)).toEqual([3, 3]);
    expect(aggregator.count).toBe(1);
  });

  it('sends a record too large to share an aggregate on its own, after what was buffered', () => {
    const aggregator = new Aggregator(limits, 'x');
    const emitted: OutgoingRecord[] = [];
    aggregator.add(userRecord('a', 10), (o) => emitted.push(o));
    aggregator.add(userRecord('b', 10), (o) => emitted.push(o));
    aggregator.add(userRecord('big', 2000), (o) => emitted.push(o));
    expect(emitted.map((o) => [o.aggregated, o.records.length])).toEqual([
      [true, 2],
      [false, 1],
    ]);
    expect(aggregator.count).toBe(0);
  });

  it('emits every record plain when aggregation is disabled', () => {
    const aggregator = new Aggregator({ ...limits, enabled: false }, 'x');
    const emitted: OutgoingRecord[] = [];
    aggregator.add(userRecord('a', 10), (o) => emitted.push(o));
    aggregator.add(userRecord('b', 10), (o) => emitted.push(o));
    expect(emitted.map((o) => o.aggregated)).toEqual([false, false]);
  });

  it('drains its records for re-routing and can be expedited by a flush', () => {
    const aggregator = new Aggregator(limits, 'x');
    aggregator.add(userRecord('a', 1, 500), () => {});
    aggregator.expedite(10 as ProducerTime);
    expect(aggregator.deadline).toBe(10);
    expect(aggregator.drain().map((r) => r.partitionKey)).toEqual(['a']);
    expect(aggregator.count).toBe(0);
  });
});
