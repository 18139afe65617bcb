import { uniqueName } from '@kinesis-kit/local-stack';
import { beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { kinesisKit } from './run-in-process.js';

beforeEach(() => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDLOCALSTACK');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local-stack-secret');
  return () => vi.unstubAllEnvs();
});

interface ShardJson {
  shardId: string;
  open: boolean;
  parentShardId?: string;
  adjacentParentShardId?: string;
  startingHashKey: string;
  endingHashKey: string;
}

describe('kinesis-kit stream', () => {
  it('creates, lists, describes, splits at the middle, merges and deletes a stream', async () => {
    const stream = uniqueName('cli-stream');
    const created = await kinesisKit(['stream', 'create', stream, '--shards', '3']);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain(`created ${stream} with 3 shards (ACTIVE)`);
    const listed = await kinesisKit(['stream', 'list', '--json']);
    expect(listed.json<{ streamNames: string[] }>()[0]?.streamNames).toContain(stream);

    const split = await kinesisKit(['stream', 'split', stream, '1', '--json']);
    expect(split.code).toBe(0);
    const [{ children = [] } = {}] = split.json<{ children: ShardJson[] }>();
    expect(children.map((child) => child.parentShardId)).toEqual(['shardId-000000000001', 'shardId-000000000001']);
    // The default split point is the middle of the parent's range: the two halves differ by at most one key.
    const [low, high] = children.map((child) => BigInt(child.endingHashKey) - BigInt(child.startingHashKey));
    expect(low !== undefined && high !== undefined && (low - high) ** 2n <= 1n).toBe(true);

    const notAdjacent = await kinesisKit(['stream', 'merge', stream, '0', '2']);
    expect(notAdjacent.code).toBe(2);
    expect(notAdjacent.stderr).toContain('are not adjacent');
    const closed = await kinesisKit(['stream', 'split', stream, 'shardId-000000000001']);
    expect(closed.code).toBe(2);
    expect(closed.stderr).toContain('is closed');

    const merged = await kinesisKit(['stream', 'merge', stream, '3', '4']);
    expect(merged.code).toBe(0);
    expect(merged.stdout).toMatch(
      /shardId-000000000005\s+open\s+shardId-000000000003,shardId-000000000004\s+33\.33% – 66\.66%/,
    );

    const described = await kinesisKit(['stream', 'describe', stream, '--json']);
    const [description] = described.json<{ status: string; openShardCount: number; shards: ShardJson[] }>();
    expect(description?.status).toBe('ACTIVE');
    expect(description?.openShardCount).toBe(3);
    expect(description?.shards.map((shard) => shard.shardId)).toHaveLength(6);

    const text = await kinesisKit(['stream', 'describe', stream]);
    expect(text.stdout).toContain('3 open shards, 6 in all');

    expect((await kinesisKit(['stream', 'delete', stream])).code).toBe(0);
  });

  it('splits at a given hash key and refuses one outside the shard', async () => {
    const stream = uniqueName('cli-split');
    await kinesisKit(['stream', 'create', stream, '--shards', '2']);
    const outside = await kinesisKit(['stream', 'split', stream, '0', '--hash-key', `2${'0'.repeat(38)}`]);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain("must lie in shardId-000000000000's range");
    const split = await kinesisKit(['stream', 'split', stream, '0', '--hash-key', '1000', '--json']);
    const [{ children = [] } = {}] = split.json<{ children: ShardJson[] }>();
    expect(children.map((child) => child.startingHashKey).sort()).toEqual(['0', '1000']);
  });

  it('scales with UpdateShardCount on kinesis-mock and says kinesalite does not support it', async () => {
    const stream = uniqueName('cli-scale');
    const endpoint = inject('kinesisEndpoint');
    expect((await kinesisKit(['stream', 'create', stream, '--shards', '2'], { endpoint })).code).toBe(0);
    const scaled = await kinesisKit(['stream', 'scale', stream, '4', '--json'], { endpoint });
    expect(scaled.code).toBe(0);
    expect(scaled.json()[0]).toMatchObject({ targetShardCount: 4, openShards: 4 });

    const onKinesalite = uniqueName('cli-scale');
    await kinesisKit(['stream', 'create', onKinesalite]);
    const unsupported = await kinesisKit(['stream', 'scale', onKinesalite, '2']);
    expect(unsupported.code).toBe(5);
    expect(unsupported.stderr).toContain('does not support the operation');
  });
});
