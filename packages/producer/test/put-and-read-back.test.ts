import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { hashKeyOf, ShardMap } from '@kinesis-kit/core';
import { createKinesisClient, createStreamAndWait, deleteStreamIfExists, uniqueName } from '@kinesis-kit/local-stack';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KinesisProducer, type UserRecordResult } from '../src/index.js';
import { readStream } from './support/read-stream.js';

// Scenario: 20,000 user records over 200 partition keys into a 4-shard stream on kinesis-mock. Read back
// shard by shard as a KCL consumer would (raw GetRecords + range-checked deaggregation), every record is
// there exactly once, on the shard owning its hash key, in order per key, where its result said it was.

const RECORDS = 20_000;
const KEYS = 200;

describe('KinesisProducer on kinesis-mock: put 20,000 records and read them back', () => {
  let kinesis: KinesisClient;
  const streamName = uniqueName('producer-read-back');

  beforeAll(async () => {
    kinesis = createKinesisClient({ endpoint: inject('kinesisEndpoint') });
    await createStreamAndWait(kinesis, { streamName, shardCount: 4 });
  });
  afterAll(async () => {
    await deleteStreamIfExists(kinesis, streamName);
    kinesis.destroy();
  });

  it('delivers every record exactly once, on the right shard, in order per key, matching its result', async () => {
    const producer = new KinesisProducer({ kinesisClient: kinesis, metricsLevel: 'none' });
    const results = new Map<string, Promise<UserRecordResult>>();
    const counters = new Array<number>(KEYS).fill(0);
    // In waves, so each shard gets several calls and order across calls is exercised too.
    for (let wave = 0; wave < 20; wave++) {
      for (let i = 0; i < RECORDS / 20; i++) {
        const key = (wave * 7919 + i * 31) % KEYS;
        const n = counters[key] ?? 0;
        counters[key] = n + 1;
        const data = `key-${key}#${n}`;
        results.set(data, producer.addUserRecord(streamName, `key-${key}`, data));
      }
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    const settled = new Map<string, UserRecordResult>();
    for (const [data, promise] of results) settled.set(data, await promise);
    await producer.destroy();

    const { records, dropped, kinesisRecords } = await readStream(kinesis, streamName);
    expect(dropped).toEqual([]);
    expect(records).toHaveLength(RECORDS);
    expect(new Set(records.map((r) => r.data)).size).toBe(RECORDS);
    // Aggregation keeps the Kinesis record count low: 20,000 user records in a few dozen Kinesis records.
    expect(kinesisRecords).toBeLessThan(200);

    const map = await ShardMap.load(kinesis, { streamName });
    const lastSeen = new Map<string, number>();
    for (const record of records) {
      const owner = map.shardFor(hashKeyOf(record.partitionKey));
      expect(owner?.shardId).toBe(record.shardId);
      const n = Number(record.data.split('#')[1]);
      expect(n).toBe((lastSeen.get(record.partitionKey) ?? -1) + 1);
      lastSeen.set(record.partitionKey, n);
      const result = settled.get(record.data);
      expect(result).toMatchObject({
        successful: true,
        shardId: record.shardId,
        sequenceNumber: record.sequenceNumber,
        subSequenceNumber: record.subSequenceNumber,
      });
    }
  });
});
