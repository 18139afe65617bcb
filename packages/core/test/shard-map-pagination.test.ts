import {
  DescribeStreamSummaryCommand,
  type KinesisClient,
  type ListShardsCommand,
  type ListShardsInput,
} from '@aws-sdk/client-kinesis';
import { createKinesisClient, createStreamAndWait, deleteStreamIfExists, uniqueName } from '@kinesis-kit/local-stack';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { formatShardId, type ListShardsClient, ShardMap } from '../src/index.js';

// Scenario: a stream with more shards than one ListShards page holds is listed completely, page by page,
// without ever sending the stream name next to a NextToken (kinesis-mock rejects that, as AWS does).

const SHARD_COUNT = 10;
const PAGE_SIZE = 3;

/** Passes ListShards calls through to the emulator and remembers what was asked. */
function recording(kinesis: KinesisClient): { client: ListShardsClient; inputs: ListShardsInput[] } {
  const inputs: ListShardsInput[] = [];
  const client: ListShardsClient = {
    send(command: ListShardsCommand, options?: { abortSignal?: AbortSignal }) {
      inputs.push(command.input);
      return kinesis.send(command, options);
    },
  };
  return { client, inputs };
}

const allShardIds = Array.from({ length: SHARD_COUNT }, (_, n) => formatShardId(n));

describe('ShardMap pagination on kinesis-mock', () => {
  let kinesis: KinesisClient;
  const streamName = uniqueName('core-pages');

  beforeAll(async () => {
    kinesis = createKinesisClient({ endpoint: inject('kinesisEndpoint') });
    await createStreamAndWait(kinesis, { streamName, shardCount: SHARD_COUNT });
  });
  afterAll(async () => {
    await deleteStreamIfExists(kinesis, streamName);
    kinesis.destroy();
  });

  it('follows every page, naming the stream on the first call only', async () => {
    const { client, inputs } = recording(kinesis);
    const map = await ShardMap.load(client, { streamName, pageSize: PAGE_SIZE });

    expect(map.shards.map((s) => s.shardId)).toEqual(allShardIds);
    expect(map.isComplete).toBe(true);
    expect(inputs.length).toBeGreaterThanOrEqual(Math.ceil(SHARD_COUNT / PAGE_SIZE));
    expect(inputs[0]).toEqual({ StreamName: streamName, MaxResults: PAGE_SIZE, ShardFilter: { Type: 'AT_LATEST' } });
    for (const input of inputs.slice(1)) {
      expect(Object.keys(input).sort()).toEqual(['MaxResults', 'NextToken']);
    }
  });

  it('lists by stream ARN just the same', async () => {
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    const streamARN = summary.StreamDescriptionSummary?.StreamARN;
    expect(streamARN).toBeDefined();
    const { client, inputs } = recording(kinesis);
    const map = await ShardMap.load(client, { ...(streamARN === undefined ? {} : { streamARN }), pageSize: PAGE_SIZE });
    expect(map.shards.map((s) => s.shardId)).toEqual(allShardIds);
    expect(inputs[0]?.StreamARN).toBe(streamARN);
    expect(inputs.length).toBeGreaterThan(1);
  });
});

describe('ShardMap pagination on kinesalite', () => {
  it('lists every shard although kinesalite ignores MaxResults', async () => {
    const kinesis = createKinesisClient({ endpoint: inject('kinesaliteEndpoint') });
    const streamName = uniqueName('core-pages');
    try {
      await createStreamAndWait(kinesis, { streamName, shardCount: SHARD_COUNT });
      const map = await ShardMap.load(kinesis, { streamName, pageSize: PAGE_SIZE });
      expect(map.shards.map((s) => s.shardId)).toEqual(allShardIds);
      expect(map.isComplete).toBe(true);
    } finally {
      await deleteStreamIfExists(kinesis, streamName);
      kinesis.destroy();
    }
  });
});
