import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SplitShardCommand } from '@aws-sdk/client-kinesis';
import { ValidationError } from '@kinesis-kit/core';
import { waitForStreamActive } from '@kinesis-kit/local-stack';
import { afterEach, describe, expect, it } from 'vitest';
import { KinesisConsumer, type KinesisConsumerOptions } from '../../src/index.js';
import { type ProcessRecordsInput, RecordProcessor } from '../../src/record-processor.js';
import { putPlain, setupStream } from '../support/harness.js';

// The consumer's rows of the bad-input catalogue: what a user gets wrong, and what they see. docs/bad-input.md
// mirrors the option rows (checked by the last test) and describes the scenario rows below them.

class Noop extends RecordProcessor {
  async processRecords(): Promise<void> {}
}

const OPTION_ROWS: readonly { input: string; options: Partial<KinesisConsumerOptions>; message: string }[] = [
  {
    input: 'consumer option failoverTimeMillis of 10',
    options: { failoverTimeMillis: 10 },
    message: 'failoverTimeMillis must be a whole number ≥ 100, got 10',
  },
  {
    input: 'consumer option maxRecords of 20000',
    options: { maxRecords: 20_000 },
    message: 'maxRecords must be a whole number from 1 to 10000, got 20000',
  },
  {
    input: 'consumer processor that is not a RecordProcessor',
    options: { processor: 42 as never },
    message: 'processor must be a class extending RecordProcessor or a function returning one, got number',
  },
  {
    input: 'consumer initialPositionInStream of "AT_TIMESTAMP" without a timestamp',
    options: { initialPositionInStream: 'AT_TIMESTAMP' as never },
    message: `initialPositionInStream must be 'LATEST', 'TRIM_HORIZON' or { timestamp: Date }, got "AT_TIMESTAMP"`,
  },
  {
    input: 'consumer applicationName of 2 characters',
    options: { applicationName: 'ab' },
    message: 'applicationName must match /^[a-zA-Z0-9_.-]{3,255}$/, got "ab"',
  },
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('bad input, catalogued: the consumer', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  it.each(OPTION_ROWS)('$input → ValidationError VALIDATION', ({ options, message }) => {
    const create = () => new KinesisConsumer({ streamName: 's', applicationName: 'app', processor: Noop, ...options });
    expect(create).toThrow(ValidationError);
    expect(create).toThrow(message);
  });

  it('processor that throws: a processor.error event, the batch skipped, the next delivered; a checkpoint past the last record: ValidationError', async () => {
    const s = await setupStream({ shardCount: 1, emulator: 'kinesalite' });
    cleanup = s.cleanup;
    const batches: string[][] = [];
    let checkpointError: unknown;
    const consumer = s.consumer({
      processor: () =>
        new (class extends RecordProcessor {
          async processRecords(input: ProcessRecordsInput): Promise<void> {
            batches.push(input.records.map((r) => new TextDecoder().decode(r.data)));
            if (batches.length === 1) throw new Error('bad record');
            checkpointError = await input.checkpointer.checkpoint('9'.repeat(60)).catch((e: unknown) => e);
            await input.checkpointer.checkpoint();
          }
        })(),
    });
    const errors: { method: string; error: unknown }[] = [];
    consumer.on('processor.error', ({ payload }) => void errors.push(payload));
    await putPlain(s.kinesis, s.streamName, [{ partitionKey: 'a', value: 'first' }]);
    await consumer.start();
    for (let i = 0; i < 200 && errors.length === 0; i += 1) await sleep(100);
    await putPlain(s.kinesis, s.streamName, [{ partitionKey: 'a', value: 'second' }]);
    for (let i = 0; i < 200 && batches.length < 2; i += 1) await sleep(100);
    expect(errors[0]).toMatchObject({
      method: 'processRecords',
      error: expect.objectContaining({ message: 'bad record' }),
    });
    expect(batches).toEqual([['first'], ['second']]);
    expect(checkpointError).toBeInstanceOf(ValidationError);
  });

  it('processor that never checkpoints at shard end: shard.endNotCheckpointed, and the children stay blocked', async () => {
    const s = await setupStream({ shardCount: 1, emulator: 'kinesalite' });
    cleanup = s.cleanup;
    const initialized: string[] = [];
    const consumer = s.consumer({
      processor: () =>
        new (class extends RecordProcessor {
          override async initialize(input: { shardId: string }): Promise<void> {
            initialized.push(input.shardId);
          }
          async processRecords(input: ProcessRecordsInput): Promise<void> {
            await input.checkpointer.checkpoint();
          }
          override async shardEnded(): Promise<void> {}
        })(),
    });
    const notCheckpointed: { shardId: string; attempt: number }[] = [];
    consumer.on('shard.endNotCheckpointed', ({ payload }) => void notCheckpointed.push(payload));
    await putPlain(s.kinesis, s.streamName, [{ partitionKey: 'a', value: 'x' }]);
    await consumer.start();
    for (let i = 0; i < 100 && initialized.length === 0; i += 1) await sleep(100);
    await s.kinesis.send(
      new SplitShardCommand({
        StreamName: s.streamName,
        ShardToSplit: 'shardId-000000000000',
        NewStartingHashKey: (1n << 127n).toString(),
      }),
    );
    await waitForStreamActive(s.kinesis, { streamName: s.streamName });
    for (let i = 0; i < 300 && notCheckpointed.length < 2; i += 1) await sleep(100);
    expect(notCheckpointed[0]).toMatchObject({ shardId: 'shardId-000000000000', attempt: 1 });
    expect(notCheckpointed.length).toBeGreaterThanOrEqual(2);
    expect(initialized).toEqual(['shardId-000000000000']);
  });

  it('processor factory that throws: CreateProcessor error events, the lease released after 5 attempts, then processed once it works', async () => {
    const s = await setupStream({ shardCount: 1, emulator: 'kinesalite' });
    cleanup = s.cleanup;
    let broken = true;
    const values: string[] = [];
    const consumer = s.consumer({
      processor: () => {
        if (broken) throw new Error('connection pool not ready');
        return new (class extends RecordProcessor {
          async processRecords(input: ProcessRecordsInput): Promise<void> {
            values.push(...input.records.map((r) => new TextDecoder().decode(r.data)));
            await input.checkpointer.checkpoint();
          }
        })();
      },
    });
    const failures: string[] = [];
    // Each release with the number of factory failures seen by then.
    const released: [string, number][] = [];
    consumer.on('error', ({ payload }) => {
      if (payload.operation === 'CreateProcessor') failures.push(payload.operation);
    });
    consumer.on('lease.released', ({ payload }) => void released.push([payload.leaseKey, failures.length]));
    await putPlain(s.kinesis, s.streamName, [{ partitionKey: 'a', value: 'waited' }]);
    await consumer.start();
    for (let i = 0; i < 300 && released.length === 0; i += 1) await sleep(100);
    // Not held unprocessed: released for another worker after MAX_PROCESSOR_CREATION_ATTEMPTS calls.
    expect(released[0]).toEqual(['shardId-000000000000', 5]);
    broken = false;
    for (let i = 0; i < 300 && values.length === 0; i += 1) await sleep(100);
    expect(values).toEqual(['waited']);
  });

  it('lease table with foreign items: skipped and left alone, the shards still processed', async () => {
    const s = await setupStream({ shardCount: 1, emulator: 'kinesalite' });
    cleanup = s.cleanup;
    const values: string[] = [];
    const consumer = s.consumer({
      processor: () =>
        new (class extends RecordProcessor {
          async processRecords(input: ProcessRecordsInput): Promise<void> {
            values.push(...input.records.map((r) => new TextDecoder().decode(r.data)));
            await input.checkpointer.checkpoint();
          }
        })(),
    });
    await consumer.start();
    const foreign = {
      leaseKey: { S: 'worker-metrics:host-1' },
      entityType: { S: 'WORKER_METRICS' },
      cpu: { N: '42' },
    };
    await s.dynamo.send(new PutItemCommand({ TableName: s.applicationName, Item: foreign }));
    await putPlain(s.kinesis, s.streamName, [{ partitionKey: 'a', value: 'after' }]);
    for (let i = 0; i < 200 && values.length === 0; i += 1) await sleep(100);
    await sleep(2_000);
    expect(values).toEqual(['after']);
    const { Item } = await s.dynamo.send(
      new GetItemCommand({ TableName: s.applicationName, Key: { leaseKey: foreign.leaseKey } }),
    );
    expect(Item).toEqual(foreign);
  });

  it('is mirrored row by row in docs/bad-input.md', () => {
    const page = readFileSync(fileURLToPath(new URL('../../../../docs/bad-input.md', import.meta.url)), 'utf8');
    for (const row of OPTION_ROWS) {
      const line = page.split('\n').find((l) => l.startsWith(`| ${row.input} |`));
      expect(line, row.input).toBeDefined();
      expect(line).toContain('`ValidationError`');
      expect(line).toContain(row.message.replaceAll('|', '\\|'));
    }
    for (const scenario of [
      'processor that throws',
      'processor factory that throws',
      'never checkpoints at shard end',
      'foreign items',
    ]) {
      expect(page).toContain(scenario);
    }
  });
});
