import { ValidationError } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { resolveProducerOptions } from './options.js';

describe('resolveProducerOptions', () => {
  it('applies the KPL defaults', () => {
    const options = resolveProducerOptions();
    expect(options).toMatchObject({
      aggregationEnabled: true,
      aggregationMaxCount: 4_294_967_295,
      aggregationMaxSize: 51_200,
      collectionMaxCount: 500,
      collectionMaxSize: 5 * 1024 * 1024,
      recordMaxBufferedTime: 100,
      recordTtl: 30_000,
      rateLimit: 150,
      maxConnections: 24,
      requestTimeout: 6_000,
      failIfThrottled: false,
      metricsLevel: 'detailed',
      metricsGranularity: 'shard',
      metricsNamespace: 'KinesisProducerLibrary',
      metricsUploadDelay: 60_000,
      maxUserRecordSize: 1024 * 1024,
    });
    expect(Object.isFrozen(options)).toBe(true);
  });

  it.each([
    [{ recordTtl: 5 }, 'recordTtl must be a whole number from 100'],
    [{ collectionMaxCount: 501 }, 'collectionMaxCount must be a whole number from 1 to 500, got 501'],
    [{ collectionMaxSize: 6 * 1024 * 1024 }, 'collectionMaxSize'],
    [{ aggregationMaxSize: 63 }, 'aggregationMaxSize'],
    [{ maxConnections: 0 }, 'maxConnections'],
    [{ requestTimeout: 1.5 }, 'requestTimeout'],
    [{ rateLimit: 0 }, 'rateLimit'],
    [{ recordMaxBufferedTime: -1 }, 'recordMaxBufferedTime'],
    [{ metricsUploadDelay: 60_001 }, 'metricsUploadDelay'],
    [{ metricsLevel: 'verbose' }, "metricsLevel must be one of 'none', 'summary', 'detailed', got verbose"],
    [{ metricsGranularity: 'partition' }, 'metricsGranularity'],
    [{ metricsNamespace: 'AWS/Kinesis' }, 'metricsNamespace'],
    [{ metricsNamespace: '' }, 'metricsNamespace'],
    [{ failIfThrottled: 'yes' }, 'failIfThrottled must be true or false'],
    [{ maxOutstandingRecords: 0 }, 'maxOutstandingRecords'],
    [{ maxOutstandingBytes: 1000 }, 'maxOutstandingBytes must be ≥ maxUserRecordSize'],
    [{ retryBackoff: { baseMs: 10, maxMs: 5 } }, 'retryBackoff.maxMs'],
    [{ region: '' }, 'region must be a non-empty string'],
  ])('rejects %j naming the option and the rule', (bad, message) => {
    expect(() => resolveProducerOptions(bad as never)).toThrow(ValidationError);
    expect(() => resolveProducerOptions(bad as never)).toThrow(message);
  });

  it('names the field on the error', () => {
    try {
      resolveProducerOptions({ recordTtl: 5 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe('recordTtl');
      expect((error as ValidationError).value).toBe(5);
    }
  });
});
