import { PutRecordsCommand, type PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createStreamAndWait, type FaultProxy, startFaultProxy, uniqueName } from '../../src/index.js';
import { readStream, singleShotKinesis } from './helpers.js';

const entries = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => ({ PartitionKey: `${prefix}-${i}`, Data: Buffer.from(`${prefix}-${i}`) }));

const failurePattern = (out: PutRecordsCommandOutput): string =>
  (out.Records ?? []).map((r) => (r.ErrorCode === undefined ? '.' : 'x')).join('');

describe('fault proxy: PutRecords partial failures', () => {
  let proxy: FaultProxy;
  const direct = () => singleShotKinesis(inject('kinesaliteEndpoint'));
  beforeAll(async () => {
    proxy = await startFaultProxy({ target: inject('kinesaliteEndpoint'), seed: 11, putRecordsFailureRate: 0.3 });
  });
  afterAll(() => proxy.stop());

  // kinesis-mock too: its PutRecords answers carry other fields, and the splice must keep them in place.
  it.each(['kinesaliteEndpoint', 'kinesisEndpoint'] as const)(
    'fails a share of entries in place, and the emulator stores exactly the others (%s)',
    async (emulator) => {
      const streamName = uniqueName('partial');
      const target = inject(emulator);
      const admin = singleShotKinesis(target);
      const emulatorProxy =
        emulator === 'kinesaliteEndpoint'
          ? proxy
          : await startFaultProxy({ target, seed: 11, putRecordsFailureRate: 0.3 });
      const client = singleShotKinesis(emulatorProxy.endpoint);
      try {
        await createStreamAndWait(admin, { streamName, shardCount: 2 });
        emulatorProxy.resetStats();
        const records = entries('a', 300);
        const out = await client.send(new PutRecordsCommand({ StreamName: streamName, Records: records }));
        const results = out.Records ?? [];
        expect(results).toHaveLength(300);
        const failed = results.flatMap((r, i) => (r.ErrorCode === undefined ? [] : [i]));
        expect(out.FailedRecordCount).toBe(failed.length);
        expect(failed.length).toBeGreaterThan(60);
        expect(failed.length).toBeLessThan(120);
        expect(emulatorProxy.stats().failedEntries).toBe(failed.length);
        for (const i of failed) {
          expect(results[i]).toMatchObject({
            ErrorCode: 'ProvisionedThroughputExceededException',
            ErrorMessage: expect.stringContaining('Rate exceeded'),
          });
          expect(results[i]?.SequenceNumber).toBeUndefined();
        }
        const stored = await readStream(admin, streamName);
        const storedKeys = new Set(stored.map((r) => r.PartitionKey));
        const succeeded = records.filter((_r, i) => results[i]?.ErrorCode === undefined).map((r) => r.PartitionKey);
        expect(stored).toHaveLength(succeeded.length);
        expect([...storedKeys].sort()).toEqual([...succeeded].sort());
        // Each success carries the sequence number the emulator gave that very record.
        const bySequence = new Map(stored.map((r) => [r.SequenceNumber, r.PartitionKey]));
        results.forEach((r, i) => {
          if (r.SequenceNumber !== undefined) expect(bySequence.get(r.SequenceNumber)).toBe(`a-${i}`);
        });
      } finally {
        admin.destroy();
        client.destroy();
        if (emulatorProxy !== proxy) await emulatorProxy.stop();
      }
    },
  );

  it('answers an all-failed call without reaching the emulator, with the codes it was given', async () => {
    const streamName = uniqueName('partial-all');
    const admin = direct();
    const client = singleShotKinesis(proxy.endpoint);
    try {
      await createStreamAndWait(admin, { streamName, shardCount: 1 });
      proxy.configure({ putRecordsFailureRate: 1, putRecordsFailureCodes: ['InternalFailure'] });
      const out = await client.send(new PutRecordsCommand({ StreamName: streamName, Records: entries('b', 5) }));
      expect(out.FailedRecordCount).toBe(5);
      expect(new Set(out.Records?.map((r) => r.ErrorCode))).toEqual(new Set(['InternalFailure']));
      expect(await readStream(admin, streamName)).toHaveLength(0);
    } finally {
      proxy.configure({
        putRecordsFailureRate: 0.3,
        putRecordsFailureCodes: ['ProvisionedThroughputExceededException'],
      });
      admin.destroy();
      client.destroy();
    }
  });

  it('replays the same failures for the same seed', async () => {
    const streamName = uniqueName('partial-seed');
    const admin = direct();
    const patterns: string[] = [];
    try {
      await createStreamAndWait(admin, { streamName, shardCount: 1 });
      for (const seed of [5, 5, 6]) {
        const seeded = await startFaultProxy({
          target: inject('kinesaliteEndpoint'),
          seed,
          putRecordsFailureRate: 0.5,
        });
        const client = singleShotKinesis(seeded.endpoint);
        try {
          patterns.push(
            failurePattern(
              await client.send(new PutRecordsCommand({ StreamName: streamName, Records: entries('c', 40) })),
            ),
          );
        } finally {
          client.destroy();
          await seeded.stop();
        }
      }
      expect(patterns[0]).toBe(patterns[1]);
      expect(patterns[0]).not.toBe(patterns[2]);
    } finally {
      admin.destroy();
    }
  });

  it('passes the emulator own refusal of the whole call through unchanged', async () => {
    const client = singleShotKinesis(proxy.endpoint);
    try {
      await expect(
        client.send(new PutRecordsCommand({ StreamName: uniqueName('missing'), Records: entries('d', 50) })),
      ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    } finally {
      client.destroy();
    }
  });
});
