import { CloudWatchClient, type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  type PutRecordsCommandInput,
} from '@aws-sdk/client-kinesis';
import { formatShardId, MAX_HASH_KEY, ManualClock } from '@kinesis-kit/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KinesisProducer } from '../kinesis-producer.js';
import type { ProducerOptions } from '../options.js';

let kinesis: KinesisClient;
let cloudWatch: CloudWatchClient;
let kinesisMock: ReturnType<typeof mockClient>;
let cloudWatchMock: ReturnType<typeof mockClient>;
let clock: ManualClock;
let uploads: { namespace: string | undefined; data: MetricDatum[] }[];
let throttle: boolean;
const producers: KinesisProducer[] = [];

beforeEach(() => {
  const credentials = { accessKeyId: 'a', secretAccessKey: 'b' };
  kinesis = new KinesisClient({ region: 'us-east-1', credentials });
  cloudWatch = new CloudWatchClient({ region: 'us-east-1', credentials });
  kinesisMock = mockClient(kinesis);
  cloudWatchMock = mockClient(cloudWatch);
  clock = new ManualClock(1_000_000);
  uploads = [];
  throttle = false;
  kinesisMock.on(ListShardsCommand).resolves({
    Shards: [
      {
        ShardId: formatShardId(0),
        HashKeyRange: { StartingHashKey: '0', EndingHashKey: MAX_HASH_KEY.toString() },
        SequenceNumberRange: { StartingSequenceNumber: '0' },
      },
    ],
  });
  kinesisMock.on(PutRecordsCommand).callsFake((input: PutRecordsCommandInput) => {
    const records = (input.Records ?? []).map(() =>
      throttle
        ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' }
        : { ShardId: formatShardId(0), SequenceNumber: '1' },
    );
    return Promise.resolve({ Records: records, FailedRecordCount: throttle ? records.length : 0 });
  });
  cloudWatchMock.on(PutMetricDataCommand).callsFake((input: { Namespace?: string; MetricData?: MetricDatum[] }) => {
    uploads.push({ namespace: input.Namespace, data: input.MetricData ?? [] });
    return Promise.resolve({});
  });
});

afterEach(async () => {
  for (const p of producers.splice(0)) await p.destroy({ timeoutMs: 0 });
  kinesisMock.restore();
  cloudWatchMock.restore();
});

function producer(options: ProducerOptions = {}): KinesisProducer {
  const p = new KinesisProducer({
    kinesisClient: kinesis,
    cloudWatchClient: cloudWatch,
    clock,
    random: () => 0.5,
    metricsUploadDelay: 60_000,
    ...options,
  });
  producers.push(p);
  return p;
}

async function settle(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

async function advance(ms: number): Promise<void> {
  await settle();
  await clock.advance(ms);
  await settle();
}

function find(data: readonly MetricDatum[], name: string, dimensions: Record<string, string>): MetricDatum | undefined {
  return data.find(
    (d) =>
      d.MetricName === name &&
      (d.Dimensions ?? []).length === Object.keys(dimensions).length &&
      (d.Dimensions ?? []).every((x) => dimensions[x.Name ?? ''] === x.Value),
  );
}

describe('metrics upload to CloudWatch', () => {
  it('uploads the KPL metrics per minute at global, stream and shard level with StatisticValues', async () => {
    const p = producer({ metricsNamespace: 'MyApp' });
    // Data of 1 to 10 bytes, all in one aggregate.
    const pending = Array.from({ length: 10 }, (_, i) => p.addUserRecord('orders', `k${i}`, 'x'.repeat(i + 1)));
    await advance(100);
    await Promise.all(pending);
    expect(uploads).toHaveLength(0);
    await advance(60_000);
    expect(uploads).toHaveLength(1);
    const { namespace, data } = uploads[0] ?? { namespace: undefined, data: [] };
    expect(namespace).toBe('MyApp');
    expect(find(data, 'UserRecordsPut', {})?.StatisticValues).toEqual({
      SampleCount: 10,
      Sum: 10,
      Minimum: 1,
      Maximum: 1,
    });
    expect(find(data, 'UserRecordsPut', { StreamName: 'orders' })).toBeDefined();
    expect(find(data, 'UserRecordsPut', { StreamName: 'orders', ShardId: formatShardId(0) })?.Unit).toBe('Count');
    expect(find(data, 'UserRecordsDataPut', { StreamName: 'orders' })?.StatisticValues).toEqual({
      SampleCount: 10,
      Sum: 55,
      Minimum: 1,
      Maximum: 10,
    });
    expect(find(data, 'KinesisRecordsPut', {})?.StatisticValues).toMatchObject({ SampleCount: 1, Sum: 1 });
    expect(find(data, 'UserRecordsPerKinesisRecord', {})?.StatisticValues).toMatchObject({ Sum: 10 });
    expect(find(data, 'BufferingTime', {})?.Unit).toBe('Milliseconds');
    expect(find(data, 'UserRecordsReceived', { StreamName: 'orders' })?.StatisticValues).toMatchObject({ Sum: 10 });
    expect(find(data, 'RequestTime', { StreamName: 'orders' })).toBeDefined();
    // The next window starts empty.
    await advance(60_000);
    expect(find(uploads[1]?.data ?? [], 'UserRecordsPut', {})).toBeUndefined();
  });

  // Issue 11: UserRecordsReceived was counted when a call was sent, so records still buffered (or failed
  // before any call) were missing from it. The KPL counts at add.
  it('counts UserRecordsReceived at add, before anything is sent', async () => {
    const p = producer({ recordMaxBufferedTime: 60_000 });
    for (let i = 0; i < 7; i++) void p.addUserRecord('orders', `k${i}`, 'x').catch(() => {});
    const received = p.getMetrics().metrics.find((m) => m.name === 'UserRecordsReceived' && m.granularity === 'stream');
    expect(received?.sum).toBe(7);
  });

  it('honours metricsLevel and metricsGranularity', async () => {
    const p = producer({ metricsLevel: 'summary', metricsGranularity: 'stream' });
    await Promise.all([p.addUserRecord('s', 'k', 'x'), advance(100)]);
    await advance(60_000);
    const data = uploads[0]?.data ?? [];
    expect(data.length).toBeGreaterThan(0);
    expect(data.some((d) => d.Dimensions?.some((x) => x.Name === 'ShardId'))).toBe(false);
    expect(data.some((d) => d.MetricName === 'UserRecordsDataPut' || d.MetricName === 'RequestTime')).toBe(false);
    expect(find(data, 'UserRecordsPut', { StreamName: 's' })).toBeDefined();
  });

  it('samples UserRecordsPending every 200 ms, as the KPL does, so an upload shows how it moved', async () => {
    throttle = true;
    const p = producer({ recordTtl: 30_000 });
    const records = Array.from({ length: 5 }, (_, i) => p.addUserRecord('orders', `k${i}`, 'x').catch(() => 'failed'));
    // Pending from the start until the records expire at 30 s, then none for the rest of the minute.
    for (let t = 0; t < 60_000; t += 1_000) await advance(1_000);
    expect(await Promise.all(records)).toEqual(Array(5).fill('failed'));
    const pending = find(uploads[0]?.data ?? [], 'UserRecordsPending', { StreamName: 'orders' });
    // 60 s / 200 ms; the sample due with the upload may land in the next window.
    expect(pending?.StatisticValues?.SampleCount).toBeGreaterThanOrEqual(299);
    expect(pending?.StatisticValues?.SampleCount).toBeLessThanOrEqual(300);
    expect(pending?.StatisticValues).toMatchObject({ Minimum: 0, Maximum: 5 });
    expect(pending?.StatisticValues?.Sum).toBeGreaterThanOrEqual(5 * 145);
    expect(pending?.StatisticValues?.Sum).toBeLessThanOrEqual(5 * 155);
  });

  it('counts errors by code and expired records', async () => {
    throttle = true;
    const p = producer({ recordTtl: 1_000 });
    const record = p.addUserRecord('s', 'k', 'x').catch((error: unknown) => error);
    for (let t = 0; t < 1_200; t += 100) await advance(100);
    expect(await record).toMatchObject({ code: 'Expired' });
    const metrics = p.getMetrics().metrics;
    const errors = metrics.find((m) => m.name === 'ErrorsByCode' && m.granularity === 'global');
    expect(errors?.dimensions).toEqual({ ErrorCode: 'ProvisionedThroughputExceededException' });
    expect(errors?.sum).toBeGreaterThan(0);
    expect(metrics.find((m) => m.name === 'UserRecordExpired' && m.granularity === 'global')?.sum).toBe(1);
    expect(metrics.find((m) => m.name === 'UserRecordsPut' && m.granularity === 'global')).toMatchObject({
      count: 1,
      sum: 0,
    });
  });

  it('retries a failed upload, keeps the figures for the next one, and never touches records', async () => {
    cloudWatchMock
      .on(PutMetricDataCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const p = producer();
    const errors: string[] = [];
    p.events.on('producer.error', (e) => void errors.push(e.payload.operation));
    const first = p.addUserRecord('s', 'k', 'x');
    await advance(100);
    await expect(first).resolves.toMatchObject({ successful: true });
    await advance(60_000);
    await advance(30_000);
    expect(errors).toEqual(['PutMetricData']);
    expect(cloudWatchMock.commandCalls(PutMetricDataCommand)).toHaveLength(3);
    cloudWatchMock.on(PutMetricDataCommand).callsFake((input: { MetricData?: MetricDatum[] }) => {
      uploads.push({ namespace: undefined, data: input.MetricData ?? [] });
      return Promise.resolve({});
    });
    const second = p.addUserRecord('s', 'k', 'x');
    await advance(100);
    await second;
    await advance(60_000);
    expect(find(uploads[0]?.data ?? [], 'UserRecordsPut', {})?.StatisticValues).toMatchObject({ SampleCount: 2 });
  });

  it('gives up on a PutMetricData call that never answers after requestTimeout, and retries it', async () => {
    let hung = 0;
    cloudWatchMock.on(PutMetricDataCommand).callsFake((input: { MetricData?: MetricDatum[] }) => {
      if (hung === 0) {
        hung++;
        return new Promise(() => {});
      }
      uploads.push({ namespace: undefined, data: input.MetricData ?? [] });
      return Promise.resolve({});
    });
    const p = producer({ requestTimeout: 2_000 });
    await Promise.all([p.addUserRecord('s', 'k', 'x'), advance(100)]);
    await advance(60_000);
    expect(hung).toBe(1);
    expect(uploads).toHaveLength(0);
    for (let t = 0; t < 5_000; t += 500) await advance(500);
    expect(uploads).toHaveLength(1);
    expect(find(uploads[0]?.data ?? [], 'UserRecordsPut', {})?.StatisticValues).toMatchObject({ SampleCount: 1 });
  });

  it('makes a last upload on destroy, and none with metricsLevel none', async () => {
    const p = producer();
    await Promise.all([p.addUserRecord('s', 'k', 'x'), advance(100)]);
    await p.destroy();
    expect(uploads).toHaveLength(1);
    const quiet = producer({ metricsLevel: 'none' });
    await Promise.all([quiet.addUserRecord('s', 'k', 'x'), advance(100)]);
    await advance(60_000);
    await quiet.destroy();
    expect(uploads).toHaveLength(1);
    expect(quiet.getMetrics().metrics.find((m) => m.name === 'UserRecordsPut')?.sum).toBe(1);
  });
});
