import { ValidationError } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { type KinesisConsumerOptions, resolveConsumerOptions } from './options.js';
import { RecordProcessor } from './record-processor.js';

class Noop extends RecordProcessor {
  async processRecords(): Promise<void> {}
}

const base: KinesisConsumerOptions = { streamName: 'orders', applicationName: 'orders-app', processor: Noop };

describe('resolveConsumerOptions', () => {
  it('applies the KCL defaults', () => {
    const o = resolveConsumerOptions(base);
    expect(o).toMatchObject({
      tableName: 'orders-app',
      metricsNamespace: 'orders-app',
      initialPositionInStream: 'LATEST',
      failoverTimeMillis: 10_000,
      epsilonMillis: 25,
      maxLeasesForWorker: Number.POSITIVE_INFINITY,
      maxLeasesToStealAtOneTime: 1,
      leaseBalancing: 'fair-share',
      shardSyncIntervalMillis: 60_000,
      maxRecords: 10_000,
      idleTimeBetweenReadsInMillis: 1_500,
      catchUpTimeBetweenReadsInMillis: 1_500,
      kinesisRequestTimeout: 30_000,
      dynamoDbRequestTimeout: 60_000,
      callProcessRecordsEvenForEmptyRecordList: false,
      cleanupLeasesUponShardCompletion: true,
      metricsLevel: 'DETAILED',
      processRecordsErrorPolicy: 'continue',
    });
    expect(o.workerIdentifier).toMatch(/.+:[0-9a-f-]{36}$/);
    expect(resolveConsumerOptions(base).workerIdentifier).not.toBe(o.workerIdentifier);
  });

  it('accepts a class or a factory as processor', () => {
    expect(resolveConsumerOptions(base).processorFactory()).toBeInstanceOf(Noop);
    const made = resolveConsumerOptions({ ...base, processor: () => new Noop() }).processorFactory();
    expect(made).toBeInstanceOf(Noop);
    const bad = resolveConsumerOptions({ ...base, processor: (() => ({})) as unknown as () => RecordProcessor });
    expect(() => bad.processorFactory()).toThrow(ValidationError);
  });

  it('accepts small values for fast tests', () => {
    const o = resolveConsumerOptions({
      ...base,
      failoverTimeMillis: 300,
      idleTimeBetweenReadsInMillis: 0,
      shardSyncIntervalMillis: 100,
      parentShardPollIntervalMillis: 50,
      initialPositionInStream: { timestamp: new Date(1_700_000_000_000) },
    });
    expect(o.failoverTimeMillis).toBe(300);
    expect(o.initialPositionInStream).toEqual({ timestamp: new Date(1_700_000_000_000) });
  });

  it.each<[Partial<KinesisConsumerOptions>, RegExp]>([
    [{ streamName: '' }, /streamName must match/],
    [{ applicationName: 'a b' }, /applicationName must match/],
    [{ failoverTimeMillis: 50 }, /failoverTimeMillis must be a whole number ≥ 100, got 50/],
    [{ failoverTimeMillis: 1.5e3 + 0.5 }, /failoverTimeMillis must be a whole number/],
    [{ failoverTimeMillis: 150, epsilonMillis: 60 }, /epsilonMillis must be below failoverTimeMillis \/ 3/],
    [{ maxRecords: 10_001 }, /maxRecords must be a whole number from 1 to 10000, got 10001/],
    [{ kinesisRequestTimeout: 0 }, /kinesisRequestTimeout must be a whole number ≥ 1, got 0/],
    [{ dynamoDbRequestTimeout: Number.NaN }, /dynamoDbRequestTimeout must be a whole number ≥ 1, got NaN/],
    [{ maxLeasesForWorker: 0 }, /maxLeasesForWorker must be a whole number ≥ 1 or Infinity, got 0/],
    [{ idleTimeBetweenReadsInMillis: -1 }, /idleTimeBetweenReadsInMillis/],
    [{ catchUpTimeBetweenReadsInMillis: 100 }, /catchUpTimeBetweenReadsInMillis must be a whole number ≥ 200, got 100/],
    [{ initialPositionInStream: 'AT_TIMESTAMP' as 'LATEST' }, /initialPositionInStream must be/],
    [{ initialPositionInStream: { timestamp: new Date(Number.NaN) } }, /timestamp must be a valid Date/],
    [{ metricsLevel: 'ALL' as 'NONE' }, /metricsLevel must be/],
    [{ leaseBalancing: 'kcl-3x' as 'kcl-2x' }, /leaseBalancing must be 'fair-share' or 'kcl-2x', got "kcl-3x"/],
    [{ processRecordsErrorPolicy: 'skip' as 'continue' }, /processRecordsErrorPolicy must be/],
    [
      { callProcessRecordsEvenForEmptyRecordList: 'yes' as unknown as boolean },
      /callProcessRecordsEvenForEmptyRecordList must be true or false/,
    ],
    [{ processor: 'Noop' as unknown as typeof Noop }, /processor must be a class/],
    [{ workerIdentifier: '' }, /workerIdentifier must be a non-empty string/],
  ])('rejects %o naming the option', (bad, message) => {
    const attempt = () => resolveConsumerOptions({ ...base, ...bad });
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(message);
  });
});
