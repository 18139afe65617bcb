import {
  createKinesisClient,
  createStreamAndWait,
  deleteStreamIfExists,
  type FaultProxy,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  startFaultProxy,
  uniqueName,
} from '@kinesis-kit/local-stack';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { KinesisProducer } from '../src/index.js';
import { readStream } from './support/read-stream.js';

describe('KinesisProducer with calls that never answer', () => {
  const endpoint = inject('kinesisEndpoint');
  const admin = createKinesisClient({ endpoint });
  const streamName = uniqueName('hung-calls');
  let proxy: FaultProxy | undefined;
  let producer: KinesisProducer | undefined;
  afterAll(async () => {
    await producer?.destroy({ timeoutMs: 0 });
    await proxy?.stop();
    await deleteStreamIfExists(admin, streamName);
    admin.destroy();
  });

  it('gives up on a hung ListShards and hung PutRecords calls after requestTimeout, and puts every record once', async () => {
    await createStreamAndWait(admin, { streamName, shardCount: 2 });
    // `timeout` holds the connection open and never answers, like a half-open socket: the first ListShards and
    // the first three PutRecords hang (rate 1, a fixed number of times). Nothing hung reaches the emulator.
    proxy = await startFaultProxy({
      target: endpoint,
      rules: [
        { fault: 'timeout', rate: 1, operations: ['ListShards'], maxCount: 1 },
        { fault: 'timeout', rate: 1, operations: ['PutRecords'], maxCount: 3 },
      ],
    });
    producer = new KinesisProducer({
      endpoint: proxy.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      requestTimeout: 1_000,
      recordMaxBufferedTime: 50,
      metricsLevel: 'none',
    });
    const errorCodes: string[] = [];
    producer.events.on('producer.record.failed', ({ payload }) => {
      if (payload.attempt) errorCodes.push(payload.errorCode);
    });
    const sent = Array.from({ length: 300 }, (_, i) => ({ key: `key-${i % 30}`, data: `record-${i}` }));
    const results = await Promise.all(sent.map((r) => producer?.addUserRecord(streamName, r.key, r.data)));

    expect(results.every((r) => r?.successful === true)).toBe(true);
    expect(proxy.stats().injected.timeout).toBe(4);
    // Each hung call failed its records' attempt with the timeout, and they were sent again.
    expect(errorCodes).toContain('TIMEOUT');
    expect(results.some((r) => (r?.attempts.length ?? 0) > 1)).toBe(true);
    // Hung calls never reached the stream, so every record is there exactly once.
    const { records } = await readStream(admin, streamName);
    expect(records.map((r) => r.data).sort()).toEqual(sent.map((r) => r.data).sort());
  }, 60_000);
});
