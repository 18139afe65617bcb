import {
  ExpiredIteratorException,
  KinesisServiceException,
  LimitExceededException,
  ListStreamsCommand,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../../src/index.js';
import { singleShotKinesis } from './helpers.js';

describe('fault proxy: whole-call Kinesis errors', () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy({ target: inject('kinesaliteEndpoint') });
  });
  afterAll(() => proxy.stop());

  it.each([
    ['ProvisionedThroughputExceededException', ProvisionedThroughputExceededException, 400],
    ['LimitExceededException', LimitExceededException, 400],
    ['ExpiredIteratorException', ExpiredIteratorException, 400],
    ['ThrottlingException', KinesisServiceException, 400],
    ['InternalFailure', KinesisServiceException, 500],
  ] as const)('answers %s as the service does, so the SDK raises its own class', async (code, errorClass, status) => {
    const client = singleShotKinesis(proxy.endpoint);
    try {
      proxy.configure({ rules: [{ fault: code, rate: 1, service: 'kinesis', operations: ['ListStreams'] }] });
      const error = await client.send(new ListStreamsCommand({})).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(errorClass);
      expect(error).toMatchObject({ name: code, $fault: status === 500 ? 'server' : 'client' });
      expect((error as KinesisServiceException).$metadata.httpStatusCode).toBe(status);
      expect((error as KinesisServiceException).message).not.toBe('');
    } finally {
      client.destroy();
    }
  });

  it('leaves other operations and a rate of 0 alone, and counts what it injected', async () => {
    const client = singleShotKinesis(proxy.endpoint);
    try {
      proxy.resetStats();
      proxy.configure({ rules: [{ fault: 'InternalFailure', rate: 1, operations: ['PutRecords'] }] });
      await expect(client.send(new ListStreamsCommand({}))).resolves.toHaveProperty('StreamNames');
      proxy.configure({ rules: [{ fault: 'InternalFailure', rate: 0 }] });
      await expect(client.send(new ListStreamsCommand({}))).resolves.toHaveProperty('StreamNames');
      proxy.configure({ rules: [{ fault: 'InternalFailure', rate: 1, maxCount: 1 }] });
      await expect(client.send(new ListStreamsCommand({}))).rejects.toThrow(KinesisServiceException);
      await expect(client.send(new ListStreamsCommand({}))).resolves.toHaveProperty('StreamNames');
      const stats = proxy.stats();
      expect(stats.requests.ListStreams).toBe(4);
      expect(stats.forwarded).toBe(3);
      expect(stats.injected).toEqual({ InternalFailure: 1 });
    } finally {
      client.destroy();
    }
  });

  it('is retried by the SDK like the real error (InternalFailure is transient)', async () => {
    const { createKinesisClient } = await import('../../src/index.js');
    const client = createKinesisClient({ endpoint: proxy.endpoint });
    try {
      proxy.resetStats();
      proxy.configure({ rules: [{ fault: 'InternalFailure', rate: 1, maxCount: 2 }] });
      await expect(client.send(new ListStreamsCommand({}))).resolves.toHaveProperty('StreamNames');
      expect(proxy.stats().requests.ListStreams).toBe(3);
    } finally {
      client.destroy();
    }
  });
});
