import type { KinesisClient } from '@aws-sdk/client-kinesis';
import {
  createKinesisClient,
  createStreamAndWait,
  deleteStreamIfExists,
  LOCAL_CREDENTIALS,
  uniqueName,
} from '@kinesis-kit/local-stack';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KinesisProducer } from '../src/index.js';
import { readStream } from './support/read-stream.js';

// Scenario: a producer given only an endpoint, a region and credentials creates its own client (core's
// factory: HTTP/1.1 keep-alive), puts records through it, and closes it on destroy.

describe('KinesisProducer with a client it creates itself', () => {
  let kinesis: KinesisClient;
  const streamName = uniqueName('producer-own-client');

  beforeAll(async () => {
    kinesis = createKinesisClient({ endpoint: inject('kinesisEndpoint') });
    await createStreamAndWait(kinesis, { streamName, shardCount: 2 });
  });
  afterAll(async () => {
    await deleteStreamIfExists(kinesis, streamName);
    kinesis.destroy();
  });

  it('puts records with the options alone', async () => {
    const producer = new KinesisProducer({
      endpoint: inject('kinesisEndpoint'),
      region: inject('region'),
      credentials: LOCAL_CREDENTIALS,
      metricsLevel: 'none',
    });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => producer.addUserRecord(streamName, `key-${i % 10}`, `record-${i}`)),
    );
    await producer.destroy();
    expect(results.every((r) => r.successful)).toBe(true);
    const { records } = await readStream(kinesis, streamName);
    expect(records.map((r) => r.data).sort()).toEqual(Array.from({ length: 100 }, (_, i) => `record-${i}`).sort());
  });
});
