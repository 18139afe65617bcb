import type { ListShardsCommand, ListShardsCommandOutput, ListShardsInput, Shard } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { classifyError } from './error-classifier.js';
import { AbortError, KinesisKitError, ValidationError } from './errors.js';
import { type ListShardsClient, listShards } from './list-shards.js';
import { formatShardId } from './shard-id.js';
import { ShardMap } from './shard-map.js';

function shard(n: number, start: bigint, end: bigint, closed = false): Shard {
  return {
    ShardId: formatShardId(n),
    HashKeyRange: { StartingHashKey: start.toString(), EndingHashKey: end.toString() },
    SequenceNumberRange: { StartingSequenceNumber: '1', ...(closed ? { EndingSequenceNumber: '2' } : {}) },
  };
}

/** A ListShards server in a few lines: answers from `pages`, the first for no token, the rest by token. */
class FakeKinesis implements ListShardsClient {
  readonly inputs: ListShardsInput[] = [];
  readonly signals: (AbortSignal | undefined)[] = [];

  constructor(
    private readonly pages: ListShardsCommandOutput[] | ((input: ListShardsInput) => Promise<ListShardsCommandOutput>),
  ) {}

  async send(command: ListShardsCommand, options?: { abortSignal?: AbortSignal }): Promise<ListShardsCommandOutput> {
    this.inputs.push(command.input);
    this.signals.push(options?.abortSignal);
    if (typeof this.pages === 'function') return this.pages(command.input);
    const index = command.input.NextToken === undefined ? 0 : Number(command.input.NextToken.replace('token-', ''));
    const page = this.pages[index];
    if (page === undefined) throw new Error(`no page ${index}`);
    return page;
  }
}

function page(shards: Shard[], nextToken?: string): ListShardsCommandOutput {
  return { Shards: shards, ...(nextToken === undefined ? {} : { NextToken: nextToken }), $metadata: {} };
}

const HALF = 1n << 127n;
const MAX = (1n << 128n) - 1n;

describe('listShards pagination', () => {
  const threePages = (): FakeKinesis =>
    new FakeKinesis([
      page([shard(0, 0n, HALF - 1n, true), shard(1, HALF, MAX)], 'token-1'),
      page([shard(2, 0n, HALF / 2n - 1n)], 'token-2'),
      page([shard(3, HALF / 2n, HALF - 1n)]),
    ]);

  it('names the stream and asks for AT_LATEST on the first page only; later pages send just the token', async () => {
    const kinesis = threePages();
    await listShards(kinesis, { streamName: 'orders' });
    expect(kinesis.inputs).toEqual([
      { StreamName: 'orders', MaxResults: 1000, ShardFilter: { Type: 'AT_LATEST' } },
      { NextToken: 'token-1', MaxResults: 1000 },
      { NextToken: 'token-2', MaxResults: 1000 },
    ]);
  });

  it('addresses the stream by ARN when given one', async () => {
    const kinesis = threePages();
    await listShards(kinesis, { streamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/orders', pageSize: 3 });
    expect(kinesis.inputs[0]).toEqual({
      StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/orders',
      MaxResults: 3,
      ShardFilter: { Type: 'AT_LATEST' },
    });
    expect(kinesis.inputs[1]).toEqual({ NextToken: 'token-1', MaxResults: 3 });
  });

  it('drops closed shards in the open scope even when the server ignored the filter', async () => {
    const shards = await listShards(threePages(), { streamName: 'orders' });
    expect(shards.map((s) => s.ShardId)).toEqual([1, 2, 3].map(formatShardId));
  });

  it('sends no filter and keeps closed shards in the all scope', async () => {
    const kinesis = threePages();
    const shards = await listShards(kinesis, { streamName: 'orders', include: 'all' });
    expect(kinesis.inputs[0]).toEqual({ StreamName: 'orders', MaxResults: 1000 });
    expect(shards.map((s) => s.ShardId)).toEqual([0, 1, 2, 3].map(formatShardId));
  });

  it('asks for AT_TIMESTAMP on the first page and keeps whatever the server returns (closed shards too)', async () => {
    const kinesis = threePages();
    const at = new Date(1_700_000_000_000);
    const shards = await listShards(kinesis, { streamName: 'orders', include: { atTimestamp: at } });
    expect(kinesis.inputs[0]).toEqual({
      StreamName: 'orders',
      MaxResults: 1000,
      ShardFilter: { Type: 'AT_TIMESTAMP', Timestamp: at },
    });
    expect(kinesis.inputs[1]).toEqual({ NextToken: 'token-1', MaxResults: 1000 });
    expect(shards.map((s) => s.ShardId)).toEqual([0, 1, 2, 3].map(formatShardId));
  });

  it('stops at a page without a token, and at an empty token', async () => {
    const kinesis = new FakeKinesis([page([shard(0, 0n, MAX)], '')]);
    expect(await listShards(kinesis, { streamName: 'orders' })).toHaveLength(1);
    expect(kinesis.inputs).toHaveLength(1);
  });

  it('fails instead of looping when the server repeats a token', async () => {
    const kinesis = new FakeKinesis(async () => page([], 'token-same'));
    const error = await listShards(kinesis, { streamName: 'orders' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KinesisKitError);
    expect(error).toMatchObject({ code: 'LIST_SHARDS_NO_PROGRESS', retriable: true, streamName: 'orders' });
    expect(kinesis.inputs).toHaveLength(2);
  });
});

describe('listShards errors and cancellation', () => {
  it('rethrows SDK errors unchanged', async () => {
    const denied = Object.assign(new Error('no'), { name: 'AccessDeniedException' });
    const kinesis = new FakeKinesis(async () => {
      throw denied;
    });
    await expect(listShards(kinesis, { streamName: 'orders' })).rejects.toBe(denied);
  });

  it('turns an expired page token into a retriable error, since listing again fixes it', async () => {
    const kinesis = new FakeKinesis(async (input) => {
      if (input.NextToken === undefined) return page([shard(0, 0n, HALF - 1n)], 'token-1');
      throw Object.assign(new Error('expired'), { name: 'ExpiredNextTokenException' });
    });
    const error = await listShards(kinesis, { streamName: 'orders' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'LIST_SHARDS_TOKEN_EXPIRED', retriable: true });
    expect(classifyError(error)).toBe('transient');
  });

  it('does not call the server when already aborted', async () => {
    const kinesis = new FakeKinesis([page([])]);
    await expect(listShards(kinesis, { streamName: 'orders', signal: AbortSignal.abort() })).rejects.toThrow(
      AbortError,
    );
    expect(kinesis.inputs).toHaveLength(0);
  });

  it('passes the signal to every request and reports an abort mid-listing as AbortError', async () => {
    const controller = new AbortController();
    const kinesis = new FakeKinesis(async (input) => {
      if (input.NextToken === undefined) return page([shard(0, 0n, HALF - 1n)], 'token-1');
      controller.abort();
      throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    });
    await expect(listShards(kinesis, { streamName: 'orders', signal: controller.signal })).rejects.toThrow(AbortError);
    expect(kinesis.signals).toEqual([controller.signal, controller.signal]);
  });

  it.each([
    [{}, /streamName or a streamARN/],
    [{ streamName: 's', pageSize: 0 }, /pageSize/],
    [{ streamName: 's', pageSize: 10_001 }, /pageSize/],
    [{ streamName: 's', pageSize: 1.5 }, /pageSize/],
    [{ streamName: 's', include: { atTimestamp: new Date(Number.NaN) } }, /include.atTimestamp must be a valid Date/],
  ])('rejects options %j', async (options, message) => {
    const kinesis = new FakeKinesis([page([])]);
    await expect(listShards(kinesis, options)).rejects.toThrow(ValidationError);
    await expect(listShards(kinesis, options)).rejects.toThrow(message);
    expect(kinesis.inputs).toHaveLength(0);
  });
});

describe('ShardMap.load', () => {
  it('builds the map from every page and stamps it with the time the listing started', async () => {
    const clock = new ManualClock(5_000);
    const kinesis = new FakeKinesis(async (input) => {
      await clock.advance(100); // the listing takes time; loadedAt must not move with it
      return input.NextToken === undefined
        ? page([shard(0, 0n, HALF - 1n, true), shard(1, HALF, MAX)], 'token-1')
        : page([shard(2, 0n, HALF - 1n)]);
    });
    const map = await ShardMap.load(kinesis, { streamName: 'orders', include: 'all', clock });
    expect(map.loadedAt).toBe(5_000);
    expect(map.streamName).toBe('orders');
    expect(map.shards).toHaveLength(3);
    expect(map.openShards.map((s) => s.shardId)).toEqual([2, 1].map(formatShardId));
    expect(map.isComplete).toBe(true);
  });
});
