import { LOCAL_CREDENTIALS } from '@kinesis-kit/local-stack';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { FAST } from './support/fast-options.js';
import { putPlain, Recorder, recordingProcessor, setupStream } from './support/harness.js';

// Scenario: a consumer given no clients builds its own. Before it used core's client factory, its Kinesis
// client spoke the SDK's default HTTP/2, which kinesalite does not speak: every call failed with
// ERR_HTTP2_ERROR and the first shard sync was retried without end. The endpoints come from the SDK's
// per-service variables, as `kinesis-kit local` exports them, so Kinesis and DynamoDB are on different ports.

type Setup = Awaited<ReturnType<typeof setupStream>>;
let env: Setup | undefined;
const saved = { ...process.env };

afterEach(async () => {
  process.env = { ...saved };
  await env?.cleanup();
  env = undefined;
});

describe('KinesisConsumer with the clients it builds itself', () => {
  it('reads kinesalite and dynalite through AWS_ENDPOINT_URL_KINESIS and AWS_ENDPOINT_URL_DYNAMODB', async () => {
    env = await setupStream({ shardCount: 2, emulator: 'kinesalite' });
    const values = Array.from({ length: 40 }, (_, i) => ({ partitionKey: `key-${i % 8}`, value: `v${i}` }));
    await putPlain(env.kinesis, env.streamName, values);

    process.env.AWS_ENDPOINT_URL_KINESIS = env.kinesisEndpoint;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = env.dynamoDBEndpoint;
    process.env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
    const recorder = new Recorder();
    const { KinesisConsumer } = await import('../src/index.js');
    const consumer = new KinesisConsumer({
      streamName: env.streamName,
      applicationName: env.applicationName,
      region: inject('region'),
      initialPositionInStream: 'TRIM_HORIZON',
      metricsLevel: 'NONE',
      processor: recordingProcessor(recorder, 'own'),
      ...FAST,
    });
    const errors: string[] = [];
    consumer.on('error', ({ payload }) => {
      errors.push(String(payload.error));
    });
    try {
      await consumer.start();
      await recorder.until(() => recorder.values().size === values.length);
    } finally {
      await consumer.shutdown();
    }
    expect([...recorder.values()].sort()).toEqual(values.map((v) => v.value).sort());
    expect(errors.filter((e) => e.includes('HTTP2'))).toEqual([]);
  });
});
