import {
  type KinesisClient,
  ListShardsCommand,
  type ListShardsCommandOutput,
  PutRecordsCommand,
  ResourceNotFoundException,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { createKinesisClient, waitForStreamActive } from '@kinesis-kit/local-stack';
import { afterEach, describe, expect, it } from 'vitest';
import { ExtendedSequenceNumber } from '../src/extended-sequence-number.js';
import { DynamoDBLeaseStore } from '../src/leases/dynamodb-lease-store.js';
import { newLease } from '../src/leases/lease.js';
import { putPlain, Recorder, recordingProcessor, setupStream } from './support/harness.js';

type Setup = Awaited<ReturnType<typeof setupStream>>;
let env: Setup | undefined;
let client: KinesisClient | undefined;

afterEach(async () => {
  await env?.cleanup();
  client?.destroy();
  env = undefined;
  client = undefined;
});

const PARENT = 'shardId-000000000000';
const KEYS = Array.from({ length: 8 }, (_, i) => `key-${i}`);

/**
 * A client that sees the stream as it looks once `shardId` is past retention: ListShards no longer lists it
 * (its children still name it as their parent) and GetShardIterator answers ResourceNotFoundException. Kinesis
 * keeps a closed shard for at least 24 hours, so no emulator can be made to forget one in a test.
 */
function pastRetentionClient(endpoint: string, shardId: string): KinesisClient {
  const kinesis = createKinesisClient({ endpoint });
  kinesis.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { ShardId?: string };
      if (context.commandName === 'GetShardIteratorCommand' && input.ShardId === shardId) {
        throw new ResourceNotFoundException({ message: `Shard ${shardId} does not exist`, $metadata: {} });
      }
      const result = await next(args);
      if (context.commandName === 'ListShardsCommand') {
        const output = result.output as ListShardsCommandOutput;
        output.Shards = (output.Shards ?? []).filter((s) => s.ShardId !== shardId);
      }
      return result;
    },
    { step: 'initialize', name: 'pastRetention' },
  );
  return kinesis;
}

describe('a parent shard past retention (the application was down longer than the retention period)', () => {
  it('reaches SHARD_END at ResourceNotFound, its children start and are read, and its lease is cleaned up', async () => {
    env = await setupStream({ shardCount: 1 });
    // Before the outage: a record in the parent, checkpointed there by the application.
    const put = await env.kinesis.send(
      new PutRecordsCommand({
        StreamName: env.streamName,
        Records: [{ PartitionKey: 'key-0', Data: new TextEncoder().encode('parent') }],
      }),
    );
    const checkpointed = put.Records?.[0]?.SequenceNumber ?? '';
    const store = new DynamoDBLeaseStore({ client: env.dynamo, tableName: env.applicationName });
    await store.initialize();
    await store.createLeaseIfNotExists(
      newLease({ leaseKey: PARENT, checkpoint: new ExtendedSequenceNumber(checkpointed) }),
    );
    // During the outage: the stream was resharded and the children took records.
    const { Shards } = await env.kinesis.send(new ListShardsCommand({ StreamName: env.streamName }));
    await env.kinesis.send(
      new SplitShardCommand({
        StreamName: env.streamName,
        ShardToSplit: PARENT,
        NewStartingHashKey: String(BigInt(Shards?.[0]?.HashKeyRange?.EndingHashKey ?? '2') / 2n),
      }),
    );
    await waitForStreamActive(env.kinesis, { streamName: env.streamName });
    await putPlain(
      env.kinesis,
      env.streamName,
      KEYS.map((k) => ({ partitionKey: k, value: `child:${k}` })),
    );

    // Back after retention has dropped the parent.
    client = pastRetentionClient(env.kinesisEndpoint, PARENT);
    const recorder = new Recorder();
    const consumer = env.consumer({
      processor: recordingProcessor(recorder, 'w'),
      kinesisClient: client,
      // LATEST: children leased by the shard sync at the initial position would skip what they took meanwhile.
      initialPositionInStream: 'LATEST',
    });
    await consumer.start();
    const wanted = KEYS.map((k) => `child:${k}`);
    await recorder.until(() => wanted.every((v) => recorder.values().has(v)), 30_000);

    const calls = recorder.calls;
    const parentEnded = calls.indexOf(`w:shardEnded:${PARENT}`);
    expect(parentEnded).toBeGreaterThanOrEqual(0);
    // The children waited for the parent's end, then started where their lease from that end says.
    for (const child of ['shardId-000000000001', 'shardId-000000000002']) {
      expect(calls.indexOf(`w:initialize:${child}:TRIM_HORIZON`)).toBeGreaterThan(parentEnded);
    }
    // The parent's lease goes once the children are under way, so it no longer counts in balancing.
    await expect
      .poll(async () => (await store.listLeases()).map((l) => l.leaseKey).sort(), { timeout: 15_000, interval: 250 })
      .toEqual(['shardId-000000000001', 'shardId-000000000002']);
  });
});
