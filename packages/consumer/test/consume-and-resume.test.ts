import { afterEach, describe, expect, it } from 'vitest';
import { ExtendedSequenceNumber } from '../src/extended-sequence-number.js';
import { DynamoDBLeaseStore } from '../src/leases/dynamodb-lease-store.js';
import type { ProcessRecordsInput } from '../src/record-processor.js';
import { RecordProcessor } from '../src/record-processor.js';
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

describe('KinesisConsumer on kinesis-mock + dynalite', () => {
  it('reads every record of 4 shards from TRIM_HORIZON in per-key order, checkpoints, and a restart resumes after the checkpoint', async () => {
    env = await setupStream({ shardCount: 4 });
    const { kinesis, streamName } = env;
    const first = Array.from({ length: 120 }, (_, i) => ({ partitionKey: `key-${i % 12}`, value: `v${i}` }));
    await putPlain(kinesis, streamName, first);

    const recorder = new Recorder();
    const consumer = env.consumer({ processor: recordingProcessor(recorder, 'w1') });
    const acquired: string[] = [];
    consumer.on('lease.acquired', ({ payload }) => {
      acquired.push(payload.leaseKey);
    });
    await consumer.start();
    await consumer.start(); // idempotent
    await recorder.until(() => recorder.values().size === first.length);
    expect(acquired.sort()).toHaveLength(4);
    expect(recorder.delivered).toHaveLength(first.length);
    for (const [key, values] of byPartitionKey(recorder.delivered)) {
      const expected = first.filter((r) => r.partitionKey === key).map((r) => r.value);
      expect(values).toEqual(expected);
    }
    await consumer.shutdown();
    await consumer.shutdown(); // idempotent

    // Every shard's checkpoint is the last record delivered from it; every lease is free.
    const store = new DynamoDBLeaseStore({ client: env.dynamo, tableName: env.applicationName });
    const leases = await store.listLeases();
    expect(leases).toHaveLength(4);
    for (const lease of leases) {
      const last = recorder.delivered.filter((d) => d.shardId === lease.leaseKey).at(-1);
      if (last !== undefined) expect(lease.checkpoint.sequenceNumber).toBe(last.sequenceNumber);
      expect(lease.leaseOwner).toBeUndefined();
    }

    const second = Array.from({ length: 40 }, (_, i) => ({ partitionKey: `key-${i % 12}`, value: `w${i}` }));
    await putPlain(kinesis, streamName, second);
    const recorder2 = new Recorder();
    const restarted = env.consumer({ processor: recordingProcessor(recorder2, 'w2') });
    await restarted.start();
    await recorder2.until(() => recorder2.values().size === second.length);
    // Nothing before the checkpoints is delivered again.
    expect(recorder2.delivered.map((d) => d.value).sort()).toEqual(second.map((r) => r.value).sort());
    await restarted.shutdown();
  });

  it('resumes inside a KPL aggregate at the next sub-sequence number', async () => {
    env = await setupStream({ shardCount: 1 });
    const { kinesis, streamName } = env;
    const group = Array.from({ length: 6 }, (_, i) => ({ partitionKey: `pk-${i}`, value: `agg-${i}` }));
    await putAggregated(kinesis, streamName, [group]);
    await putPlain(kinesis, streamName, [{ partitionKey: 'pk-x', value: 'after' }]);

    // The first worker checkpoints at sub-record 2 and then stops without checkpointing further.
    const seen: string[] = [];
    let checkpointed = false;
    class StopAtTwo extends RecordProcessor {
      async processRecords(input: ProcessRecordsInput): Promise<void> {
        for (const record of input.records) {
          seen.push(`${new TextDecoder().decode(record.data)}@${record.subSequenceNumber}:${record.aggregated}`);
          if (record.subSequenceNumber === 2 && record.aggregated) {
            await input.checkpointer.checkpoint(record);
            checkpointed = true;
          }
        }
      }
    }
    const first = env.consumer({ processor: StopAtTwo });
    await first.start();
    await expect.poll(() => checkpointed && seen.length >= 7, { timeout: 20_000 }).toBe(true);
    expect(seen.slice(0, 6)).toEqual(group.map((g, i) => `${g.value}@${i}:true`));
    await first.shutdown();

    const store = new DynamoDBLeaseStore({ client: env.dynamo, tableName: env.applicationName });
    const [lease] = await store.listLeases();
    expect(lease?.checkpoint.subSequenceNumber).toBe(2);
    expect(lease?.checkpoint.isSentinel).toBe(false);

    const recorder = new Recorder();
    const second = env.consumer({ processor: recordingProcessor(recorder, 'w2') });
    await second.start();
    await recorder.until(() => recorder.values().has('after'));
    expect(recorder.delivered.map((d) => `${d.value}@${d.subSequenceNumber}`)).toEqual([
      'agg-3@3',
      'agg-4@4',
      'agg-5@5',
      'after@0',
    ]);
    await second.shutdown();
    const [after] = await store.listLeases();
    expect(after?.checkpoint.compareTo(ExtendedSequenceNumber.LATEST)).toBeGreaterThan(0);
  });
});
