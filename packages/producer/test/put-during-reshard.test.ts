import { type KinesisClient, MergeShardsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { hashKeyOf, type ShardInfo, ShardMap } from '@kinesis-kit/core';
import {
  createKinesisClient,
  createStreamAndWait,
  deleteStreamIfExists,
  uniqueName,
  waitForStreamActive,
} from '@kinesis-kit/local-stack';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KinesisProducer, type ProducerEvents, type UserRecordResult, WRONG_SHARD } from '../src/index.js';
import { readStream } from './support/read-stream.js';

// Scenario: while 20,000 user records flow into a 4-shard stream, one shard is split and two others are
// merged. Nothing is lost or delivered twice to a KCL-style reader; aggregates built for a shard that
// closed under them and landed on a child not owning all their records are re-sent, and no other
// aggregate straddles shards.

const RECORDS = 20_000;
const KEYS = 200;
const WAVES = 40;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('KinesisProducer on kinesis-mock: put while the stream is resharded', () => {
  let kinesis: KinesisClient;
  const streamName = uniqueName('producer-reshard');

  beforeAll(async () => {
    kinesis = createKinesisClient({ endpoint: inject('kinesisEndpoint') });
    await createStreamAndWait(kinesis, { streamName, shardCount: 4 });
  });
  afterAll(async () => {
    await deleteStreamIfExists(kinesis, streamName);
    kinesis.destroy();
  });

  it('loses nothing, duplicates nothing, and re-sends what landed on the wrong child', async () => {
    const original = [...(await ShardMap.load(kinesis, { streamName })).openShards].sort((a, b) =>
      a.startingHashKey < b.startingHashKey ? -1 : 1,
    );
    const [split, , merged1, merged2] = original as [ShardInfo, ShardInfo, ShardInfo, ShardInfo];

    const producer = new KinesisProducer({ kinesisClient: kinesis, metricsLevel: 'none', recordMaxBufferedTime: 50 });
    const loads: ProducerEvents['producer.shard-map.loaded'][] = [];
    producer.events.on('producer.shard-map.loaded', (e) => void loads.push(e.payload));
    const results = new Map<string, Promise<UserRecordResult>>();
    const feed = (async () => {
      for (let wave = 0; wave < WAVES; wave++) {
        for (let i = 0; i < RECORDS / WAVES; i++) {
          const n = wave * (RECORDS / WAVES) + i;
          const data = `key-${n % KEYS}#${n}`;
          results.set(data, producer.addUserRecord(streamName, `key-${n % KEYS}`, data));
        }
        await sleep(40);
      }
    })();

    await sleep(400);
    const middle = split.startingHashKey + (split.endingHashKey - split.startingHashKey + 1n) / 2n;
    await kinesis.send(
      new SplitShardCommand({ StreamName: streamName, ShardToSplit: split.shardId, NewStartingHashKey: `${middle}` }),
    );
    await waitForStreamActive(kinesis, { streamName });
    await sleep(200);
    await kinesis.send(
      new MergeShardsCommand({
        StreamName: streamName,
        ShardToMerge: merged1.shardId,
        AdjacentShardToMerge: merged2.shardId,
      }),
    );
    await waitForStreamActive(kinesis, { streamName });
    await feed;

    const settled = new Map<string, UserRecordResult>();
    for (const [data, promise] of results) settled.set(data, await promise);
    await producer.destroy();

    const { records, dropped } = await readStream(kinesis, streamName);
    const map = await ShardMap.load(kinesis, { streamName, include: 'all' });

    // Exactly once, each on a shard owning its hash key, where its result says.
    expect(records).toHaveLength(RECORDS);
    expect(new Set(records.map((r) => r.data)).size).toBe(RECORDS);
    for (const record of records) {
      expect(map.contains(record.shardId, hashKeyOf(record.partitionKey))).toBe(true);
      expect(settled.get(record.data)).toMatchObject({
        successful: true,
        shardId: record.shardId,
        sequenceNumber: record.sequenceNumber,
        subSequenceNumber: record.subSequenceNumber,
      });
    }

    // The producer noticed the reshard and reloaded its map.
    expect(loads.length).toBeGreaterThan(1);
    expect(loads.at(-1)?.openShards).toBe(4);

    // Every aggregate a KCL would drop is one the producer saw land on the wrong child and re-sent; all sit on
    // shards born of the reshard (built for a parent that closed under them).
    const originalIds = new Set(original.map((s) => s.shardId));
    for (const aggregate of dropped) {
      expect(originalIds.has(aggregate.shardId)).toBe(false);
      for (const data of aggregate.data) {
        expect(settled.get(data)?.attempts.some((a) => a.errorCode === WRONG_SHARD)).toBe(true);
      }
    }
  });
});
