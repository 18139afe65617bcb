import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import {
  createKinesisClient,
  createStreamAndWait,
  deleteStreamIfExists,
  startFaultProxy,
  uniqueName,
} from '@kinesis-kit/local-stack';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { readShard, type ShardPosition, type ShardReadRetryEvent } from '../src/index.js';

// Scenario: readShard reads a shard's records in order on both Kinesis emulators, resumes from the iterator it
// handed out, and gets through throttled and hung GetRecords calls (the fault proxy) without losing a record.

const SHARD = 'shardId-000000000000';
const text = new TextDecoder();

async function put(client: KinesisClient, streamName: string, values: string[]): Promise<void> {
  const output = await client.send(
    new PutRecordsCommand({
      StreamName: streamName,
      Records: values.map((value) => ({ PartitionKey: value, Data: new TextEncoder().encode(value) })),
    }),
  );
  expect(output.FailedRecordCount ?? 0).toBe(0);
}

/** Reads until caught up; returns the data read and the iterator to resume with. */
async function readAll(
  client: KinesisClient,
  streamName: string,
  from: ShardPosition,
  onRetry?: (event: ShardReadRetryEvent) => void,
): Promise<{ values: string[]; resume: string | undefined }> {
  const values: string[] = [];
  let resume: string | undefined;
  for await (const read of readShard({
    client,
    streamName,
    shardId: SHARD,
    from,
    stopAtLatest: true,
    idleTimeBetweenReadsInMillis: 0,
    requestTimeout: 2_000,
    maxRecords: 3,
    ...(onRetry === undefined ? {} : { onRetry }),
  })) {
    for (const record of read.records) values.push(text.decode(record.Data));
    resume = read.nextShardIterator;
  }
  return { values, resume };
}

const clients: KinesisClient[] = [];
const streams: [KinesisClient, string][] = [];
afterAll(async () => {
  for (const [client, name] of streams) await deleteStreamIfExists(client, name);
  for (const client of clients) client.destroy();
});

describe.each([
  ['kinesis-mock', 'kinesisEndpoint'],
  ['kinesalite', 'kinesaliteEndpoint'],
] as const)('readShard on %s', (_, endpointName) => {
  it('reads every record in order across several GetRecords calls, and resumes from the iterator it gave', async () => {
    const client = createKinesisClient({ endpoint: inject(endpointName) });
    clients.push(client);
    const streamName = uniqueName('core-read');
    await createStreamAndWait(client, { streamName, shardCount: 1 });
    streams.push([client, streamName]);
    const first = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    await put(client, streamName, first);

    const read = await readAll(client, streamName, { type: 'TRIM_HORIZON' });
    expect(read.values).toEqual(first);
    expect(read.resume).toBeDefined();

    await put(client, streamName, ['h', 'i']);
    const resumed = await readAll(client, streamName, { type: 'ITERATOR', shardIterator: read.resume ?? '' });
    expect(resumed.values).toEqual(['h', 'i']);
  });
});

describe('readShard through the fault proxy', () => {
  it('backs off throttled reads and retries a hung one, and still reads every record once', async () => {
    const target = inject('kinesisEndpoint');
    const admin = createKinesisClient({ endpoint: target });
    clients.push(admin);
    const streamName = uniqueName('core-read-faults');
    await createStreamAndWait(admin, { streamName, shardCount: 1 });
    streams.push([admin, streamName]);
    const values = Array.from({ length: 10 }, (_, n) => `v${n}`);
    await put(admin, streamName, values);

    const proxy = await startFaultProxy({
      target,
      rules: [
        { fault: 'ProvisionedThroughputExceededException', rate: 1, maxCount: 2, operations: ['GetRecords'] },
        { fault: 'timeout', rate: 1, maxCount: 1, operations: ['GetRecords'] },
      ],
    });
    // One SDK attempt per call, so every retry is readShard's own (the SDK would otherwise retry throttling first).
    const client = createKinesisClient({ endpoint: proxy.endpoint, maxAttempts: 1 });
    clients.push(client);
    try {
      const retries: string[] = [];
      const read = await readAll(client, streamName, { type: 'TRIM_HORIZON' }, (event) =>
        retries.push(`${event.errorClass}:${(event.error as Error).name}`),
      );
      expect(read.values).toEqual(values);
      expect(retries).toEqual([
        'throttling:ProvisionedThroughputExceededException',
        'throttling:ProvisionedThroughputExceededException',
        'transient:TimeoutError',
      ]);
    } finally {
      await proxy.stop();
    }
  });
});
