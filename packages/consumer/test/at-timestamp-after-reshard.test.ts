import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { waitForStreamActive } from '@kinesis-kit/local-stack';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoDBLeaseStore } from '../src/leases/dynamodb-lease-store.js';
import { putPlain, Recorder, recordingProcessor, setupStream } from './support/harness.js';

type Setup = Awaited<ReturnType<typeof setupStream>>;
let env: Setup | undefined;

afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

const KEYS = Array.from({ length: 8 }, (_, i) => `key-${i}`);

const write = (setup: Setup, label: string) =>
  putPlain(
    setup.kinesis,
    setup.streamName,
    KEYS.map((k) => ({ partitionKey: k, value: `${label}:${k}` })),
  );

/** The latest ApproximateArrivalTimestamp in the stream, read back from every shard. */
async function latestArrival(setup: Setup): Promise<number> {
  const { Shards } = await setup.kinesis.send(new ListShardsCommand({ StreamName: setup.streamName }));
  let latest = 0;
  for (const shard of Shards ?? []) {
    const { ShardIterator } = await setup.kinesis.send(
      new GetShardIteratorCommand({
        StreamName: setup.streamName,
        ShardId: shard.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const { Records } = await setup.kinesis.send(new GetRecordsCommand({ ShardIterator }));
    for (const r of Records ?? []) latest = Math.max(latest, r.ApproximateArrivalTimestamp?.getTime() ?? 0);
  }
  return latest;
}

/** Resolves once the wall clock has passed `time` (arrival timestamps come from it). */
async function untilWallClockPasses(time: number): Promise<void> {
  while (Date.now() <= time) await new Promise((resolve) => setTimeout(resolve, time + 1 - Date.now()));
}

// On kinesis-mock, which honours ListShards' ShardFilter (kinesalite ignores it, and its GetShardIterator
// AT_TIMESTAMP on a shard closed before the timestamp never answers).
describe('initial position AT_TIMESTAMP after a recent reshard', () => {
  it('delivers only records at or after the timestamp, none from the children of a shard closed before it', async () => {
    env = await setupStream({ shardCount: 1 });
    await write(env, 'parent'); // into shard 0
    const { Shards } = await env.kinesis.send(new ListShardsCommand({ StreamName: env.streamName }));
    await env.kinesis.send(
      new SplitShardCommand({
        StreamName: env.streamName,
        ShardToSplit: 'shardId-000000000000',
        NewStartingHashKey: String(BigInt(Shards?.[0]?.HashKeyRange?.EndingHashKey ?? '2') / 2n),
      }),
    );
    await waitForStreamActive(env.kinesis, { streamName: env.streamName });
    await write(env, 'old'); // into the children 1 and 2, before the timestamp
    // Whole seconds apart, whatever resolution an emulator keeps arrival times in.
    const timestamp = new Date(Math.floor((await latestArrival(env)) / 1000) * 1000 + 1000);
    await untilWallClockPasses(timestamp.getTime());
    await write(env, 'new');

    const recorder = new Recorder();
    const consumer = env.consumer({
      processor: recordingProcessor(recorder, 'w'),
      initialPositionInStream: { timestamp },
    });
    await consumer.start();
    const wanted = KEYS.map((k) => `new:${k}`);
    await recorder.until(() => wanted.every((v) => recorder.values().has(v)), 30_000);
    // Per shard, an older record would have come before the newer ones: none may have.
    expect([...recorder.values()].sort()).toEqual([...wanted].sort());
    const store = new DynamoDBLeaseStore({ client: env.dynamo, tableName: env.applicationName });
    const child = await store.getLease('shardId-000000000001');
    expect(child?.parentShardIds).toEqual(['shardId-000000000000']);
    // The parent, closed before the timestamp, got no lease at all; its children did, at AT_TIMESTAMP.
    expect(await store.getLease('shardId-000000000000')).toBeUndefined();
  });
});
