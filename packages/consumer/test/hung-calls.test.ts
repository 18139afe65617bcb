import { createDynamoDBClient, createKinesisClient, type FaultProxy, startFaultProxy } from '@kinesis-kit/local-stack';
import { afterEach, describe, expect, it } from 'vitest';
import { putPlain, Recorder, recordingProcessor, setupStream } from './support/harness.js';

type Setup = Awaited<ReturnType<typeof setupStream>>;
let env: Setup | undefined;
const proxies: FaultProxy[] = [];
const clients: { destroy(): void }[] = [];

afterEach(async () => {
  await env?.cleanup();
  env = undefined;
  for (const client of clients.splice(0)) client.destroy();
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
});

describe('KinesisConsumer with calls that never answer', () => {
  it('abandons hung Kinesis and DynamoDB calls after kinesisRequestTimeout / dynamoDbRequestTimeout and reads on', async () => {
    env = await setupStream({ shardCount: 2 });
    const values = Array.from({ length: 60 }, (_, i) => ({ partitionKey: `key-${i % 6}`, value: `v${i}` }));
    await putPlain(env.kinesis, env.streamName, values);

    // `timeout` holds the connection open and never answers, like a half-open socket. The first calls of each
    // kind hang, deterministically (rate 1, a few times each); the SDK itself would wait for them forever.
    const kinesisProxy = await startFaultProxy({
      target: env.kinesisEndpoint,
      rules: [
        { fault: 'timeout', rate: 1, operations: ['ListShards'], maxCount: 1 },
        { fault: 'timeout', rate: 1, operations: ['GetShardIterator'], maxCount: 1 },
        { fault: 'timeout', rate: 1, operations: ['GetRecords'], maxCount: 3 },
      ],
    });
    proxies.push(kinesisProxy);
    const dynamoProxy = await startFaultProxy({
      target: env.dynamoDBEndpoint,
      rules: [{ fault: 'timeout', rate: 1, operations: ['Scan', 'UpdateItem', 'PutItem'], maxCount: 3 }],
    });
    proxies.push(dynamoProxy);
    const kinesisClient = createKinesisClient({ endpoint: kinesisProxy.endpoint });
    const dynamoDBClient = createDynamoDBClient({ endpoint: dynamoProxy.endpoint });
    clients.push(kinesisClient, dynamoDBClient);

    const recorder = new Recorder();
    const errors: string[] = [];
    const consumer = env.consumer({
      processor: recordingProcessor(recorder, 'w1'),
      kinesisClient,
      dynamoDBClient,
      kinesisRequestTimeout: 1_000,
      dynamoDbRequestTimeout: 1_000,
      // Long enough that the hung lease-table calls (1 s each) cannot cost the worker its leases.
      failoverTimeMillis: 3_000,
    });
    consumer.on('error', ({ payload }) => {
      errors.push(payload.operation);
    });
    await consumer.start();
    await recorder.until(() => recorder.values().size === values.length, 30_000);
    await consumer.shutdown();

    expect([...recorder.values()].sort()).toEqual(values.map((v) => v.value).sort());
    // Every planned hang happened, and each was given up on rather than waited out.
    expect(kinesisProxy.stats().injected.timeout).toBe(5);
    expect(dynamoProxy.stats().injected.timeout).toBe(3);
    expect(errors).toContain('GetRecords');
  }, 60_000);
});
