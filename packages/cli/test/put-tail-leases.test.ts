import { KinesisConsumer, type ProcessRecordsInput, RecordProcessor } from '@kinesis-kit/consumer';
import { createDynamoDBClient, createKinesisClient, uniqueName } from '@kinesis-kit/local-stack';
import { beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { kinesisKit } from './run-in-process.js';

beforeEach(() => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDLOCALSTACK');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local-stack-secret');
  return () => vi.unstubAllEnvs();
});

interface PutJson {
  line: number;
  shardId: string;
  sequenceNumber: string;
  subSequenceNumber: number;
}

interface TailJson {
  shardId: string;
  sequenceNumber: string;
  subSequenceNumber: number;
  partitionKey: string;
  aggregated: boolean;
  data: string;
  dataEncoding: string;
}

describe('kinesis-kit put and tail', () => {
  it('puts records as one KPL aggregate and tails them back as user records', async () => {
    const stream = uniqueName('cli-put');
    await kinesisKit(['stream', 'create', stream, '--shards', '2']);
    const put = await kinesisKit(['put', stream, 'alpha', 'beta', 'gamma', '--partition-key', 'k', '--json']);
    expect(put.code).toBe(0);
    const results = put.json<PutJson>();
    expect(results.map((r) => r.subSequenceNumber)).toEqual([0, 1, 2]);
    expect(new Set(results.map((r) => r.sequenceNumber)).size).toBe(1);
    expect(put.stderr).toContain('put 3 of 3 records in 1 Kinesis record');

    const tail = await kinesisKit(['tail', stream, '--json']);
    expect(tail.code).toBe(0);
    const records = tail.json<TailJson>();
    expect(records.map((r) => r.data)).toEqual(['alpha', 'beta', 'gamma']);
    expect(records.every((r) => r.aggregated && r.partitionKey === 'k' && r.shardId === results[0]?.shardId)).toBe(
      true,
    );

    const data = await kinesisKit(['tail', stream, '--format', 'data', '--limit', '2']);
    expect(data.stdout).toBe('alpha\nbeta\n');
  });

  it('reads lines from stdin, and tails from a sequence number on its shard', async () => {
    const stream = uniqueName('cli-stdin');
    await kinesisKit(['stream', 'create', stream]);
    const first = await kinesisKit(['put', stream, 'one', '--no-aggregation', '--json']);
    const [{ sequenceNumber = '' } = {}] = first.json<PutJson>();
    const put = await kinesisKit(['put', stream, '--no-aggregation'], { stdin: 'two\r\nthree\n' });
    expect(put.code).toBe(0);
    expect(put.stdout).toMatch(/^line {2}partition key/);

    const from = await kinesisKit(['tail', stream, '--from', sequenceNumber, '--format', 'data']);
    expect(from.stdout).toBe('one\ntwo\nthree\n');
    const text = await kinesisKit(['tail', stream, '--from', 'trim-horizon', '--shard', '0', '--limit', '1']);
    expect(text.stdout).toMatch(new RegExp(`^shardId-000000000000 ${sequenceNumber}/0 \\S+ {2}one\\n$`));
  });

  it('follows new records until stopped', async () => {
    const stream = uniqueName('cli-follow');
    await kinesisKit(['stream', 'create', stream]);
    const stop = new AbortController();
    const seen: string[] = [];
    // The tail says on stderr when every shard has its LATEST iterator; a record put before that could be missed.
    let isFollowing = (): void => {};
    const ready = new Promise<void>((resolve) => {
      isFollowing = resolve;
    });
    const following = kinesisKit(['tail', stream, '--from', 'latest', '--follow', '--format', 'data'], {
      signal: stop.signal,
      onOut: (line) => {
        seen.push(line);
        if (seen.length === 2) stop.abort();
      },
      onErr: (line) => {
        if (line.startsWith(`# following ${stream}`)) isFollowing();
      },
    });
    await ready;
    await kinesisKit(['put', stream, 'later-1', 'later-2', '--partition-key', 'p']);
    const run = await following;
    expect(run.code).toBe(0);
    expect(seen).toEqual(['later-1', 'later-2']);
  });

  it('exits 2 for records the producer refuses (a malformed explicit hash key)', async () => {
    const stream = uniqueName('cli-bad-key');
    await kinesisKit(['stream', 'create', stream]);
    const run = await kinesisKit(['put', stream, 'x', '--explicit-hash-key', 'not-a-number']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/explicit ?hash ?key/i);
  });

  it('rejects a malformed --from', async () => {
    const run = await kinesisKit(['tail', 'any', '--from', 'yesterday']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--from must be trim-horizon, latest');
  });
});

class Checkpointing extends RecordProcessor {
  async processRecords({ checkpointer }: ProcessRecordsInput): Promise<void> {
    await checkpointer.checkpoint();
  }
}

describe('kinesis-kit leases', () => {
  it('shows the lease table a consumer wrote: shards, counters, checkpoints and lag', async () => {
    const stream = uniqueName('cli-leases');
    const application = uniqueName('cli-app');
    await kinesisKit(['stream', 'create', stream, '--shards', '2']);
    await kinesisKit(['put', stream, 'a', 'b', 'c', 'd', 'e', 'f']);

    const kinesisClient = createKinesisClient({ endpoint: inject('kinesaliteEndpoint') });
    const dynamoDBClient = createDynamoDBClient({ endpoint: inject('dynamoDBEndpoint') });
    const consumer = new KinesisConsumer({
      streamName: stream,
      applicationName: application,
      workerIdentifier: 'worker-1',
      processor: Checkpointing,
      initialPositionInStream: 'TRIM_HORIZON',
      kinesisClient,
      dynamoDBClient,
      idleTimeBetweenReadsInMillis: 100,
      metricsLevel: 'NONE',
    });
    const checkpointed = new Set<string>();
    consumer.on('checkpoint.written', ({ payload }) => {
      checkpointed.add(payload.shardId);
    });
    try {
      await consumer.start();
      await vi.waitFor(() => expect(consumer.leasedShardIds).toHaveLength(2), { timeout: 10_000 });
      await vi.waitFor(() => expect(checkpointed.size).toBeGreaterThan(0), { timeout: 10_000 });
      const held = await kinesisKit(['leases', application, '--stream', stream, '--json']);
      expect(held.code).toBe(0);
      const rows = held.json<{
        shardId: string;
        leaseOwner?: string;
        leaseCounter: number;
        checkpoint: string;
        lagMillis?: number;
      }>();
      expect(rows.map((row) => row.shardId)).toEqual(['shardId-000000000000', 'shardId-000000000001']);
      expect(rows.every((row) => row.leaseOwner === 'worker-1' && row.leaseCounter >= 1)).toBe(true);
      expect(rows.some((row) => /^\d{20,}$/.test(row.checkpoint))).toBe(true);
      // kinesalite reports MillisBehindLatest as 0: computable, and caught up.
      expect(rows.every((row) => row.lagMillis === 0)).toBe(true);

      const text = await kinesisKit(['leases', application, '--stream', stream]);
      expect(text.stdout).toMatch(/^shard\s+owner\s+counter\s+checkpoint\s+parents\s+lag\n/);
      expect(text.stdout).toMatch(/shardId-000000000000\s+worker-1\s+\d+/);
    } finally {
      await consumer.shutdown();
      kinesisClient.destroy();
      dynamoDBClient.destroy();
    }
    const released = await kinesisKit(['leases', application, '--json']);
    expect(released.json<{ leaseOwner?: string }>().every((row) => row.leaseOwner === undefined)).toBe(true);
  });
});
