import { afterEach, describe, expect, it } from 'vitest';
import type { ConsumerEvents } from '../src/events.js';
import { ExtendedSequenceNumber } from '../src/extended-sequence-number.js';
import { DynamoDBLeaseStore } from '../src/leases/dynamodb-lease-store.js';
import { newLease } from '../src/leases/lease.js';
import { putPlain, Recorder, recordingProcessor, setupStream } from './support/harness.js';

type Setup = Awaited<ReturnType<typeof setupStream>>;
let env: Setup | undefined;

afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

describe('garbage lease cleanup', () => {
  it.each(['kinesis-mock', 'kinesalite'] as const)(
    'on %s: a lease of a shard the stream does not have ends at once and is deleted; the real shard is read',
    async (emulator) => {
      env = await setupStream({ shardCount: 1, emulator });
      // Left behind by an earlier stream of the same name (the table outlived it), checkpointed mid-shard.
      const GHOST = 'shardId-000000000099';
      const store = new DynamoDBLeaseStore({ client: env.dynamo, tableName: env.applicationName });
      await store.initialize();
      await store.createLeaseIfNotExists(newLease({ leaseKey: GHOST, checkpoint: new ExtendedSequenceNumber('42') }));

      const recorder = new Recorder();
      const consumer = env.consumer({ processor: recordingProcessor(recorder, 'w') });
      const deleted: ConsumerEvents['lease.deleted'][] = [];
      consumer.on('lease.deleted', ({ payload }) => {
        deleted.push(payload);
      });
      await consumer.start();
      await putPlain(env.kinesis, env.streamName, [{ partitionKey: 'k', value: 'real' }]);
      await recorder.until(() => recorder.values().has('real'));
      await expect
        .poll(async () => (await store.listLeases()).map((l) => l.leaseKey), { timeout: 15_000, interval: 250 })
        .toEqual(['shardId-000000000000']);
      expect(deleted).toEqual([{ leaseKey: GHOST, reason: 'garbage' }]);
      // It was ended like any shard (the processor could checkpoint SHARD_END), not left held and unprocessed.
      expect(recorder.calls).toContain(`w:shardEnded:${GHOST}`);
    },
  );
});
