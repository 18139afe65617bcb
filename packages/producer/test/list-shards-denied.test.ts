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

// Scenario: the producer's IAM policy allows PutRecords but not ListShards (the fault proxy answers every
// ListShards with AccessDeniedException). As the KPL does, the producer sends each record on its own,
// unaggregated, so Kinesis routes it by its partition key, and retries the map on one backoff loop rather
// than once per record.

describe('KinesisProducer on kinesalite: ListShards denied', () => {
  const endpoint = inject('kinesaliteEndpoint');
  const admin = createKinesisClient({ endpoint });
  const streamName = uniqueName('producer-denied');
  let proxy: FaultProxy | undefined;
  let producer: KinesisProducer | undefined;

  afterAll(async () => {
    await producer?.destroy({ timeoutMs: 0 });
    await proxy?.stop();
    await deleteStreamIfExists(admin, streamName);
    admin.destroy();
  });

  it('puts every record unaggregated, where its key belongs, with a handful of listings', async () => {
    await createStreamAndWait(admin, { streamName, shardCount: 2 });
    proxy = await startFaultProxy({
      target: endpoint,
      rules: [{ fault: 'AccessDeniedException', rate: 1, operations: ['ListShards'] }],
    });
    producer = new KinesisProducer({
      endpoint: proxy.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      recordMaxBufferedTime: 20,
      metricsLevel: 'none',
    });
    const listingErrors: string[] = [];
    producer.events.on('producer.error', ({ payload }) => void listingErrors.push(payload.error.name));
    const sent = Array.from({ length: 400 }, (_, i) => ({ key: `key-${i % 40}`, data: `record-${i}` }));
    const results = [];
    // In waves, so records keep arriving while the map is unavailable.
    for (let wave = 0; wave < 4; wave++) {
      const batch = sent.slice(wave * 100, (wave + 1) * 100);
      results.push(...(await Promise.all(batch.map((r) => producer?.addUserRecord(streamName, r.key, r.data)))));
    }

    expect(results.every((r) => r?.successful === true)).toBe(true);
    expect(new Set(listingErrors)).toEqual(new Set(['AccessDeniedException']));
    // A few retries on the backoff loop, not one listing per record or per wave.
    const listings = proxy.stats().requests.ListShards ?? 0;
    expect(listings).toBeGreaterThanOrEqual(1);
    expect(listings).toBeLessThan(10);
    const { records, kinesisRecords, dropped } = await readStream(admin, streamName);
    expect(dropped).toHaveLength(0);
    // One Kinesis record per user record: nothing was aggregated without a map.
    expect(kinesisRecords).toBe(sent.length);
    expect(records.map((r) => r.data).sort()).toEqual(sent.map((r) => r.data).sort());
    for (const r of results) expect(r?.subSequenceNumber).toBe(0);
  }, 60_000);
});
