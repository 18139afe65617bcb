import { ListStreamsCommand, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createStreamAndWait, type FaultProxy, startFaultProxy, uniqueName } from '../../src/index.js';
import { readStream, singleShotKinesis } from './helpers.js';

describe('fault proxy: latency, dropped connections, timeouts', () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy({ target: inject('kinesaliteEndpoint') });
  });
  afterAll(() => proxy.stop());

  const putOne = (endpoint: string, streamName: string, key: string, signal?: AbortSignal) => {
    const client = singleShotKinesis(endpoint);
    return client
      .send(new PutRecordCommand({ StreamName: streamName, PartitionKey: key, Data: Buffer.from(key) }), {
        ...(signal === undefined ? {} : { abortSignal: signal }),
      })
      .finally(() => client.destroy());
  };

  it('drop-request closes the connection before forwarding: an error, and nothing written', async () => {
    const streamName = uniqueName('drop-req');
    const admin = singleShotKinesis(inject('kinesaliteEndpoint'));
    try {
      await createStreamAndWait(admin, { streamName, shardCount: 1 });
      proxy.configure({ rules: [{ fault: 'drop-request', rate: 1, operations: ['PutRecord'] }] });
      await expect(putOne(proxy.endpoint, streamName, 'lost')).rejects.toMatchObject({
        code: expect.stringMatching(/ECONNRESET|EPIPE/),
      });
      expect(await readStream(admin, streamName)).toHaveLength(0);
    } finally {
      admin.destroy();
    }
  });

  it('drop-response forwards first: an error, yet the record is written (the at-least-once case)', async () => {
    const streamName = uniqueName('drop-res');
    const admin = singleShotKinesis(inject('kinesaliteEndpoint'));
    try {
      await createStreamAndWait(admin, { streamName, shardCount: 1 });
      proxy.configure({ rules: [{ fault: 'drop-response', rate: 1, operations: ['PutRecord'] }] });
      await expect(putOne(proxy.endpoint, streamName, 'written')).rejects.toMatchObject({
        code: expect.stringMatching(/ECONNRESET|EPIPE/),
      });
      expect((await readStream(admin, streamName)).map((r) => r.PartitionKey)).toEqual(['written']);
    } finally {
      admin.destroy();
    }
  });

  it('timeout never answers: the caller has to give up, and stop() frees the held call', async () => {
    proxy.configure({ rules: [{ fault: 'timeout', rate: 1, operations: ['ListStreams'] }] });
    const client = singleShotKinesis(proxy.endpoint);
    try {
      const started = performance.now();
      await expect(
        client.send(new ListStreamsCommand({}), { abortSignal: AbortSignal.timeout(300) }),
      ).rejects.toMatchObject({ name: expect.stringMatching(/AbortError|TimeoutError/) });
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
      const held = await startFaultProxy({
        target: inject('kinesaliteEndpoint'),
        rules: [{ fault: 'timeout', rate: 1 }],
      });
      const heldClient = singleShotKinesis(held.endpoint);
      const heldCall = heldClient.send(new ListStreamsCommand({})).catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await held.stop();
      expect(await heldCall).toMatchObject({ code: 'ECONNRESET' });
      heldClient.destroy();
      proxy.configure({ rules: [] });
      expect(proxy.stats().injected.timeout).toBe(1);
    } finally {
      client.destroy();
    }
  });

  it('refuses an invalid configuration and keeps the one it had', async () => {
    proxy.configure({ rules: [] });
    expect(() => proxy.configure({ putRecordsFailureRate: 2 })).toThrow(
      'putRecordsFailureRate must be between 0 and 1, got 2',
    );
    expect(() => proxy.configure({ rules: [{ fault: 'latency', rate: -1 }] })).toThrow(/rules\[0\]\.rate/);
    const client = singleShotKinesis(proxy.endpoint);
    try {
      await expect(client.send(new ListStreamsCommand({}))).resolves.toHaveProperty('StreamNames');
    } finally {
      client.destroy();
    }
  });

  it('listens on 127.0.0.1 only', () => {
    expect(new URL(proxy.endpoint).hostname).toBe('127.0.0.1');
  });
});
