import { ListShardsCommand, MergeShardsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { waitForStreamActive } from '@kinesis-kit/local-stack';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoDBLeaseStore } from '../src/leases/dynamodb-lease-store.js';
import {
  byPartitionKey,
  putAggregated,
  putPlain,
  Recorder,
  recordingProcessor,
  setupStream,
} from './support/harness.js';

type Setup = Awaited<ReturnType<typeof setupStream>>;
let env: Setup | undefined;

afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

const KEYS = Array.from({ length: 16 }, (_, i) => `key-${i}`);

/** Writes `rounds` rounds of one record per key, values `<key>#<round>`, so per-key order is checkable. */
async function writeRounds(setup: Setup, from: number, to: number): Promise<void> {
  for (let round = from; round < to; round++) {
    await putPlain(
      setup.kinesis,
      setup.streamName,
      KEYS.map((k) => ({ partitionKey: k, value: `${k}#${round}` })),
    );
  }
}

async function listShards(setup: Setup) {
  const { Shards } = await setup.kinesis.send(new ListShardsCommand({ StreamName: setup.streamName }));
  return Shards ?? [];
}

async function splitInHalf(setup: Setup, shardId: string): Promise<void> {
  const shard = (await listShards(setup)).find((s) => s.ShardId === shardId);
  const start = BigInt(shard?.HashKeyRange?.StartingHashKey ?? '0');
  const end = BigInt(shard?.HashKeyRange?.EndingHashKey ?? '0');
  await setup.kinesis.send(
    new SplitShardCommand({
      StreamName: setup.streamName,
      ShardToSplit: shardId,
      NewStartingHashKey: String((start + end) / 2n),
    }),
  );
  await waitForStreamActive(setup.kinesis, { streamName: setup.streamName });
}

function expectInOrderAndComplete(recorder: Recorder, rounds: number): void {
  const perKey = byPartitionKey(recorder.delivered);
  for (const key of KEYS) {
    const values = perKey.get(key) ?? [];
    // Nothing lost, nothing twice, and in the order written, across parents and children.
    expect(values).toEqual(Array.from({ length: rounds }, (_, r) => `${key}#${r}`));
  }
}

/** Index of the first call matching, or -1. */
const indexOf = (calls: string[], suffix: string) => calls.findIndex((c) => c.endsWith(suffix));

describe('resharding while consuming', () => {
  it('split then merge on kinesis-mock (ChildShards at shard end): parents finish before children, per-key order kept, nothing lost, parents cleaned up', async () => {
    env = await setupStream({ shardCount: 2 });
    const recorder = new Recorder();
    const consumer = env.consumer({ processor: recordingProcessor(recorder, 'w') });
    await consumer.start();
    await writeRounds(env, 0, 3);
    await splitInHalf(env, 'shardId-000000000000'); // → 2, 3
    await writeRounds(env, 3, 6);
    await env.kinesis.send(
      new MergeShardsCommand({
        StreamName: env.streamName,
        ShardToMerge: 'shardId-000000000003',
        AdjacentShardToMerge: 'shardId-000000000001',
      }),
    ); // → 4
    await waitForStreamActive(env.kinesis, { streamName: env.streamName });
    await writeRounds(env, 6, 9);
    // An aggregate written to the merged shard after the reshard is delivered whole.
    await putAggregated(env.kinesis, env.streamName, [
      [
        { partitionKey: 'key-agg', value: 'agg-0' },
        { partitionKey: 'key-agg', value: 'agg-1' },
      ],
    ]);

    await recorder.until(() => recorder.values().size === KEYS.length * 9 + 2, 45_000);
    expectInOrderAndComplete(recorder, 9);

    const calls = recorder.calls;
    const ended0 = indexOf(calls, 'shardEnded:shardId-000000000000');
    const ended1 = indexOf(calls, 'shardEnded:shardId-000000000001');
    const ended3 = indexOf(calls, 'shardEnded:shardId-000000000003');
    expect(ended0).toBeGreaterThanOrEqual(0);
    expect(indexOf(calls, 'initialize:shardId-000000000002:TRIM_HORIZON')).toBeGreaterThan(ended0);
    expect(indexOf(calls, 'initialize:shardId-000000000003:TRIM_HORIZON')).toBeGreaterThan(ended0);
    const init4 = indexOf(calls, 'initialize:shardId-000000000004:TRIM_HORIZON');
    expect(init4).toBeGreaterThan(ended1);
    expect(init4).toBeGreaterThan(ended3);

    // Finished parents are deleted once their children have started; the open shards keep their leases.
    const store = new DynamoDBLeaseStore({ client: env.dynamo, tableName: env.applicationName });
    await expect
      .poll(async () => (await store.listLeases()).map((l) => l.leaseKey).sort(), { timeout: 15_000, interval: 250 })
      .toEqual(['shardId-000000000002', 'shardId-000000000004']);
  });

  it('split on kinesalite (no ChildShards): children are found by listing shards and taken at once', async () => {
    env = await setupStream({ shardCount: 1, emulator: 'kinesalite' });
    const recorder = new Recorder();
    // The KCL's default timers: the next scheduled take is 20 s away and children poll parents every 10 s.
    // The children are still read within seconds, because the worker that ends a shard takes the new child
    // leases at once and wakes children waiting on that parent.
    const consumer = env.consumer({
      processor: recordingProcessor(recorder, 'w'),
      failoverTimeMillis: 10_000,
      parentShardPollIntervalMillis: 10_000,
    });
    await consumer.start();
    await writeRounds(env, 0, 3);
    await splitInHalf(env, 'shardId-000000000000');
    await writeRounds(env, 3, 6);
    await recorder.until(() => recorder.values().size === KEYS.length * 6, 12_000);
    expectInOrderAndComplete(recorder, 6);
    const ended = indexOf(recorder.calls, 'shardEnded:shardId-000000000000');
    expect(indexOf(recorder.calls, 'initialize:shardId-000000000001:TRIM_HORIZON')).toBeGreaterThan(ended);
    expect(indexOf(recorder.calls, 'initialize:shardId-000000000002:TRIM_HORIZON')).toBeGreaterThan(ended);
    const store = new DynamoDBLeaseStore({ client: env.dynamo, tableName: env.applicationName });
    const parent = await store.getLease('shardId-000000000000');
    if (parent !== undefined) expect(parent.childShardIds).toEqual(['shardId-000000000001', 'shardId-000000000002']);
  });
});
