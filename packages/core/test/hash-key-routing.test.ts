import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { createKinesisClient, createStreamAndWait, deleteStreamIfExists, uniqueName } from '@kinesis-kit/local-stack';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { effectiveHashKey, MAX_HASH_KEY, ShardMap } from '../src/index.js';

// Scenario: a ShardMap loaded from a real stream predicts the shard the service picks for every record,
// whether it is routed by partition key (MD5) or by explicit hash key, up to the exact range edges.

const emulators = [
  { name: 'kinesis-mock', endpoint: inject('kinesisEndpoint') },
  { name: 'kinesalite', endpoint: inject('kinesaliteEndpoint') },
];

interface TestRecord {
  partitionKey: string;
  explicitHashKey?: bigint;
}

/** Partition keys of several shapes, plus explicit hash keys on both edges of every open shard. */
function recordsFor(map: ShardMap): TestRecord[] {
  const byPartitionKey: TestRecord[] = [
    ...Array.from({ length: 40 }, (_, i) => ({ partitionKey: `user-${i}` })),
    { partitionKey: 'ü-ñ-日本-😀' },
    { partitionKey: 'k'.repeat(256) },
  ];
  const edges = [0n, MAX_HASH_KEY, ...map.openShards.flatMap((s) => [s.startingHashKey, s.endingHashKey])];
  return [...byPartitionKey, ...edges.map((explicitHashKey) => ({ partitionKey: 'edge', explicitHashKey }))];
}

function toEntry(record: TestRecord): PutRecordsRequestEntry {
  return {
    PartitionKey: record.partitionKey,
    Data: new Uint8Array([1]),
    ...(record.explicitHashKey === undefined ? {} : { ExplicitHashKey: record.explicitHashKey.toString() }),
  };
}

describe.each(emulators)('hash key routing on $name', ({ endpoint }) => {
  let kinesis: KinesisClient;
  beforeAll(() => {
    kinesis = createKinesisClient({ endpoint });
  });
  afterAll(() => {
    kinesis.destroy();
  });

  it.each([4, 7])('ShardMap.shardFor predicts the shard a %i-shard stream puts each record on', async (shardCount) => {
    const streamName = uniqueName('core-routing');
    await createStreamAndWait(kinesis, { streamName, shardCount });
    try {
      const map = await ShardMap.load(kinesis, { streamName });
      expect(map.openShards).toHaveLength(shardCount);
      expect(map.isComplete).toBe(true);

      const records = recordsFor(map);
      const response = await kinesis.send(
        new PutRecordsCommand({ StreamName: streamName, Records: records.map(toEntry) }),
      );
      expect(response.FailedRecordCount ?? 0).toBe(0);

      const actual = (response.Records ?? []).map((r) => r.ShardId);
      const predicted = records.map((r) => map.shardFor(effectiveHashKey(r.partitionKey, r.explicitHashKey))?.shardId);
      expect(actual).toEqual(predicted);
      // The records must really spread, or the comparison above would prove little.
      expect(new Set(actual).size).toBe(shardCount);
    } finally {
      await deleteStreamIfExists(kinesis, streamName);
    }
  });
});
