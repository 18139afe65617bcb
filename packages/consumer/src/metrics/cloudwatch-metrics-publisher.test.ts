import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { ManualClock, TypedEventEmitter } from '@kinesis-kit/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConsumerEvents } from '../events.js';
import type { MetricsLevel } from '../options.js';
import { CloudWatchMetricsPublisher } from './cloudwatch-metrics-publisher.js';

const cloudWatch = mockClient(CloudWatchClient);
afterEach(() => cloudWatch.reset());

function setup(level: MetricsLevel) {
  const clock = new ManualClock(1_700_000_000_000);
  const events = new TypedEventEmitter<ConsumerEvents>({ clock });
  const errors: unknown[] = [];
  const publisher = new CloudWatchMetricsPublisher({
    client: new CloudWatchClient({ region: 'us-east-1' }),
    namespace: 'my-app',
    level,
    workerIdentifier: 'w-1',
    clock,
    bufferTimeMillis: 10_000,
    onError: (e) => errors.push(e),
  });
  events.onAny(publisher.listener);
  return { clock, events, publisher, errors };
}

const processed = (shardId: string, records: number) => ({
  shardId,
  records,
  bytes: records * 10,
  millisBehindLatest: 5,
  durationMs: 3,
  success: true,
});

describe('CloudWatchMetricsPublisher', () => {
  it('aggregates KCL metrics per name and dimensions into statistic sets, flushed every bufferTimeMillis', async () => {
    cloudWatch.on(PutMetricDataCommand).resolves({});
    const { clock, events, publisher } = setup('SUMMARY');
    publisher.start();
    events.emit('records.processed', processed('shardId-1', 4));
    events.emit('records.processed', processed('shardId-1', 6));
    events.emit('records.processed', processed('shardId-2', 1));
    events.emit('records.fetched', {
      shardId: 'shardId-1',
      kinesisRecords: 1,
      bytes: 1,
      millisBehindLatest: 0,
      durationMs: 1,
    });
    await clock.whenSleeping();
    await clock.advance(10_000);
    const calls = cloudWatch.commandCalls(PutMetricDataCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.Namespace).toBe('my-app');
    const recordsProcessed = input?.MetricData?.find(
      (m) => m.MetricName === 'RecordsProcessed' && m.Dimensions?.some((x) => x.Value === 'shardId-1'),
    );
    expect(recordsProcessed).toMatchObject({
      Unit: 'Count',
      Dimensions: [
        { Name: 'Operation', Value: 'ProcessTask' },
        { Name: 'ShardId', Value: 'shardId-1' },
      ],
      StatisticValues: { SampleCount: 2, Sum: 10, Minimum: 4, Maximum: 6 },
    });
    const app = input?.MetricData?.find((m) => m.Dimensions?.[0]?.Value === 'ApplicationTracker');
    expect(app).toMatchObject({ MetricName: 'MillisBehindLatest', StatisticValues: { SampleCount: 3 } });
    // DETAILED-only metrics are not published at SUMMARY.
    expect(input?.MetricData?.some((m) => m.MetricName?.startsWith('KinesisDataFetcher'))).toBe(false);
    await publisher.stop();
    expect(clock.sleeperCount).toBe(0);
  });

  it('publishes lease metrics with the WorkerIdentifier dimension, in batches of 20', async () => {
    cloudWatch.on(PutMetricDataCommand).resolves({});
    const { events, publisher } = setup('DETAILED');
    for (let i = 0; i < 5; i++) events.emit('records.processed', processed(`shardId-${i}`, 1));
    events.emit('lease.renewal', {
      workerIdentifier: 'w-1',
      currentLeases: 3,
      lostLeases: 1,
      success: true,
      durationMs: 9,
    });
    await publisher.flush();
    const sent = cloudWatch.commandCalls(PutMetricDataCommand).map((c) => c.args[0].input.MetricData ?? []);
    expect(sent.map((batch) => batch.length)).toEqual([20, 10]);
    const lost = sent.flat().find((m) => m.MetricName === 'LostLeases');
    expect(lost?.Dimensions).toEqual([
      { Name: 'Operation', Value: 'RenewAllLeases' },
      { Name: 'WorkerIdentifier', Value: 'w-1' },
    ]);
  });

  it('reports processor errors and dropped aggregates as metrics', async () => {
    cloudWatch.on(PutMetricDataCommand).resolves({});
    const { events, publisher } = setup('SUMMARY');
    events.emit('processor.error', { shardId: 's', method: 'processRecords', error: new Error('x'), attempt: 1 });
    events.emit('records.aggregateDropped', {
      shardId: 's',
      sequenceNumber: '1',
      userRecords: 3,
      reason: 'hash-key-out-of-range',
    });
    await publisher.flush();
    const names = cloudWatch
      .commandCalls(PutMetricDataCommand)
      .flatMap((c) => (c.args[0].input.MetricData ?? []).map((m) => m.MetricName));
    expect(names.sort()).toEqual(['DroppedAggregatedRecords', 'RecordProcessor.processRecords.Failure']);
  });

  it('never throws when CloudWatch fails; NONE publishes nothing', async () => {
    cloudWatch.on(PutMetricDataCommand).rejects(new Error('no network'));
    const { events, publisher, errors } = setup('SUMMARY');
    events.emit('records.processed', processed('s', 1));
    await publisher.flush();
    expect(errors).toHaveLength(1);
    const none = setup('NONE');
    none.events.emit('records.processed', processed('s', 1));
    expect(none.publisher.pending).toBe(0);
  });
});

describe('CloudWatchMetricsPublisher with a PutMetricData call that never answers', () => {
  it('reports it as failed after 5 s, so the next flush and stop() are not held up', async () => {
    cloudWatch.on(PutMetricDataCommand).callsFake(() => new Promise(() => {}));
    const { clock, events, publisher, errors } = setup('SUMMARY');
    publisher.start();
    events.emit('records.processed', processed('shardId-1', 4));
    await clock.whenSleeping();
    await clock.advance(10_000);
    expect(errors).toEqual([]);
    await clock.advance(5_000);
    expect(errors).toEqual([
      expect.objectContaining({ code: 'TIMEOUT', message: expect.stringMatching(/PutMetricData/) }),
    ]);
    events.emit('records.processed', processed('shardId-1', 1));
    const stopped = publisher.stop();
    await clock.whenSleeping();
    await clock.advance(5_000);
    await stopped;
    expect(errors).toHaveLength(2);
  });
});
