import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ProvisionedThroughputExceededException,
  PutRecordCommand,
  PutRecordsCommand,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createStreamAndWait,
  type FaultProxy,
  startFaultProxy,
  uniqueName,
  waitForStreamActive,
} from '../../src/index.js';
import { readStream, singleShotKinesis } from './helpers.js';

const entries = (prefix: string, count: number, size = 8) =>
  Array.from({ length: count }, (_, i) => ({ PartitionKey: `${prefix}-${i}`, Data: Buffer.alloc(size, i % 256) }));

describe('fault proxy: per-shard limits', () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy({ target: inject('kinesaliteEndpoint'), shardLimits: true });
  });
  afterAll(() => proxy.stop());

  it('refuses writes past 1,000 records per shard per second, and stores only what it admitted', async () => {
    const streamName = uniqueName('limits-records');
    const admin = singleShotKinesis(inject('kinesaliteEndpoint'));
    const client = singleShotKinesis(proxy.endpoint);
    try {
      await createStreamAndWait(admin, { streamName, shardCount: 1 });
      proxy.resetStats();
      // Sent together, so all three are admitted within a few milliseconds of each other.
      const outs = await Promise.all(
        [0, 1, 2].map((call) =>
          client.send(new PutRecordsCommand({ StreamName: streamName, Records: entries(`r${call}`, 500) })),
        ),
      );
      const failed = outs.reduce((sum, out) => sum + (out.FailedRecordCount ?? 0), 0);
      // A second's budget, plus the little that refilled while the three were admitted.
      expect(1500 - failed).toBeGreaterThanOrEqual(1000);
      expect(1500 - failed).toBeLessThan(1100);
      expect(outs.flatMap((out) => out.Records ?? []).find((r) => r.ErrorCode !== undefined)?.ErrorMessage).toMatch(
        /Rate exceeded for shard shardId-000000000000/,
      );
      expect(proxy.stats().writeThrottled).toBe(failed);
      expect(await readStream(admin, streamName)).toHaveLength(1500 - failed);
    } finally {
      admin.destroy();
      client.destroy();
    }
  });

  it('answers a PutRecord over the budget with ProvisionedThroughputExceededException', async () => {
    const streamName = uniqueName('limits-single');
    const admin = singleShotKinesis(inject('kinesaliteEndpoint'));
    const client = singleShotKinesis(proxy.endpoint);
    // A budget of one record a second, so the second call is over it however slow the machine is.
    proxy.configure({ shardLimits: { writeRecordsPerSecond: 1 } });
    try {
      await createStreamAndWait(admin, { streamName, shardCount: 1 });
      const put = (key: string) =>
        client.send(new PutRecordCommand({ StreamName: streamName, PartitionKey: key, Data: Buffer.from(key) }));
      await expect(put('first')).resolves.toHaveProperty('SequenceNumber');
      await expect(put('second')).rejects.toThrow(ProvisionedThroughputExceededException);
      expect((await readStream(admin, streamName)).map((r) => r.PartitionKey)).toEqual(['first']);
    } finally {
      proxy.configure({ shardLimits: true });
      admin.destroy();
      client.destroy();
    }
  });

  it('refuses writes past 1 MiB per shard per second, and counts each shard alone', async () => {
    const streamName = uniqueName('limits-bytes');
    const admin = singleShotKinesis(inject('kinesaliteEndpoint'));
    const client = singleShotKinesis(proxy.endpoint);
    try {
      await createStreamAndWait(admin, { streamName, shardCount: 2 });
      // 40 records of 100 KiB: about 20 a shard, twice what 1 MiB a second admits.
      const out = await client.send(
        new PutRecordsCommand({ StreamName: streamName, Records: entries('big', 40, 100 * 1024) }),
      );
      const byShard = new Map<string, number>();
      for (const r of out.Records ?? [])
        if (r.ShardId !== undefined) byShard.set(r.ShardId, (byShard.get(r.ShardId) ?? 0) + 1);
      expect(byShard.size).toBe(2);
      for (const admitted of byShard.values()) expect(admitted).toBe(10);
    } finally {
      admin.destroy();
      client.destroy();
    }
  });

  it('refuses a sixth GetRecords call on a shard within a second, following iterators it handed out', async () => {
    const streamName = uniqueName('limits-reads');
    const admin = singleShotKinesis(inject('kinesaliteEndpoint'));
    const client = singleShotKinesis(proxy.endpoint);
    try {
      await createStreamAndWait(admin, { streamName, shardCount: 1 });
      let { ShardIterator: iterator } = await client.send(
        new GetShardIteratorCommand({
          StreamName: streamName,
          ShardId: 'shardId-000000000000',
          ShardIteratorType: 'LATEST',
        }),
      );
      for (let call = 0; call < 5; call += 1) {
        iterator = (await client.send(new GetRecordsCommand({ ShardIterator: iterator }))).NextShardIterator;
      }
      const error = await client.send(new GetRecordsCommand({ ShardIterator: iterator })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProvisionedThroughputExceededException);
      expect(proxy.stats().readThrottled).toBeGreaterThanOrEqual(1);
    } finally {
      admin.destroy();
      client.destroy();
    }
  });

  it('routes by the new shard map after a split that went through it', async () => {
    const streamName = uniqueName('limits-split');
    const admin = singleShotKinesis(inject('kinesaliteEndpoint'));
    const client = singleShotKinesis(proxy.endpoint);
    try {
      await createStreamAndWait(admin, { streamName, shardCount: 1 });
      await client.send(new PutRecordsCommand({ StreamName: streamName, Records: entries('pre', 500) }));
      await client.send(
        new SplitShardCommand({
          StreamName: streamName,
          ShardToSplit: 'shardId-000000000000',
          NewStartingHashKey: (1n << 127n).toString(),
        }),
      );
      await waitForStreamActive(admin, { streamName });
      // The children have budgets of their own: 1,000 records split over two fresh shards all pass.
      const out = await client.send(new PutRecordsCommand({ StreamName: streamName, Records: entries('post', 500) }));
      expect(out.FailedRecordCount).toBe(0);
      expect(new Set(out.Records?.map((r) => r.ShardId))).toEqual(
        new Set(['shardId-000000000001', 'shardId-000000000002']),
      );
    } finally {
      admin.destroy();
      client.destroy();
    }
  });
});
