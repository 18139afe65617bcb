import {
  type KinesisClient,
  MergeShardsCommand,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import {
  createKinesisClient,
  createStreamAndWait,
  deleteStreamIfExists,
  uniqueName,
  waitForStreamActive,
} from '@kinesis-kit/local-stack';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { effectiveHashKey, type ShardInfo, ShardMap } from '../src/index.js';

// Scenario: after a split and a merge, the map knows who begat whom (for the consumer), routes only to
// open shards (for the producer), and does so on kinesalite too, which ignores ShardFilter.

const emulators = [
  { name: 'kinesis-mock', endpoint: inject('kinesisEndpoint') },
  { name: 'kinesalite', endpoint: inject('kinesaliteEndpoint') },
];

function byStartingKey(map: ShardMap): ShardInfo[] {
  return [...map.openShards].sort((a, b) => (a.startingHashKey < b.startingHashKey ? -1 : 1));
}

describe.each(emulators)('ShardMap after a split and a merge on $name', ({ endpoint }) => {
  let kinesis: KinesisClient;
  const streamName = uniqueName('core-reshard');
  /** The four original shards in key order: the first is split, the last two are merged. */
  let original: ShardInfo[];

  beforeAll(async () => {
    kinesis = createKinesisClient({ endpoint });
    await createStreamAndWait(kinesis, { streamName, shardCount: 4 });
    original = byStartingKey(await ShardMap.load(kinesis, { streamName }));
    const [split, , merged1, merged2] = original;
    if (split === undefined || merged1 === undefined || merged2 === undefined) throw new Error('expected 4 shards');

    const middle = split.startingHashKey + (split.endingHashKey - split.startingHashKey + 1n) / 2n;
    await kinesis.send(
      new SplitShardCommand({ StreamName: streamName, ShardToSplit: split.shardId, NewStartingHashKey: `${middle}` }),
    );
    await waitForStreamActive(kinesis, { streamName });
    await kinesis.send(
      new MergeShardsCommand({
        StreamName: streamName,
        ShardToMerge: merged1.shardId,
        AdjacentShardToMerge: merged2.shardId,
      }),
    );
    await waitForStreamActive(kinesis, { streamName });
  });
  afterAll(async () => {
    await deleteStreamIfExists(kinesis, streamName);
    kinesis.destroy();
  });

  it('links parents and children and tells closed shards from open ones', async () => {
    const map = await ShardMap.load(kinesis, { streamName, include: 'all' });
    const [split, kept, merged1, merged2] = original.map((s) => s.shardId);
    if (split === undefined || kept === undefined || merged1 === undefined || merged2 === undefined) {
      throw new Error('expected 4 shards');
    }
    expect(map.shards).toHaveLength(7);
    expect([split, merged1, merged2].map((id) => map.isOpen(id))).toEqual([false, false, false]);

    const halves = map.childrenOf(split);
    expect(halves).toHaveLength(2);
    for (const half of halves) expect(map.parentsOf(half)).toEqual([split]);
    const splitRange = map.hashKeyRange(split);
    expect(halves.map((id) => map.hashKeyRange(id))).toEqual([
      { startingHashKey: splitRange?.startingHashKey, endingHashKey: expect.any(BigInt) },
      { startingHashKey: expect.any(BigInt), endingHashKey: splitRange?.endingHashKey },
    ]);

    const [child] = map.childrenOf(merged1);
    expect(child).toBeDefined();
    expect(map.childrenOf(merged2)).toEqual([child]);
    expect(map.parentsOf(child ?? '')).toEqual([merged1, merged2]);
    expect(map.hashKeyRange(child ?? '')).toEqual({
      startingHashKey: map.hashKeyRange(merged1)?.startingHashKey,
      endingHashKey: map.hashKeyRange(merged2)?.endingHashKey,
    });

    expect(new Set(map.openShards.map((s) => s.shardId))).toEqual(new Set([...halves, kept, child]));
    expect(map.isComplete).toBe(true);
  });

  it('lists only open shards in the open scope, whether or not the server honours AT_LATEST', async () => {
    const open = await ShardMap.load(kinesis, { streamName });
    const all = await ShardMap.load(kinesis, { streamName, include: 'all' });
    expect(open.shards.map((s) => s.shardId)).toEqual(all.openShards.map((s) => s.shardId).sort());
    expect(open.openShards).toEqual(all.openShards);
    expect(open.isComplete).toBe(true);
  });

  it('predicts the shard the service picks after resharding', async () => {
    const map = await ShardMap.load(kinesis, { streamName });
    const records: PutRecordsRequestEntry[] = [
      ...Array.from({ length: 30 }, (_, i) => ({ PartitionKey: `after-reshard-${i}`, Data: new Uint8Array([1]) })),
      ...map.openShards.flatMap((s) =>
        [s.startingHashKey, s.endingHashKey].map((key) => ({
          PartitionKey: 'edge',
          ExplicitHashKey: key.toString(),
          Data: new Uint8Array([1]),
        })),
      ),
    ];
    const response = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: records }));
    expect(response.FailedRecordCount ?? 0).toBe(0);
    const predicted = records.map((r) => {
      const key = effectiveHashKey(r.PartitionKey ?? '', r.ExplicitHashKey);
      return map.shardFor(key)?.shardId;
    });
    expect((response.Records ?? []).map((r) => r.ShardId)).toEqual(predicted);
  });
});
