import { describe, expect, it } from 'vitest';
import { toKclMetrics } from './kcl-metrics.js';

const envelope = (millisBehindLatest: number | undefined) => ({
  id: 1,
  type: 'records.processed' as const,
  timestamp: 0,
  payload: { shardId: 'shardId-1', records: 1, bytes: 1, millisBehindLatest, durationMs: 1, success: true },
});

describe('toKclMetrics', () => {
  it.each([
    [120, 2],
    [0, 2],
    // Unknown lag is not "caught up": no datum rather than a 0 that hides a lagging shard.
    [undefined, 0],
  ])('records.processed with millisBehindLatest %s gives %i MillisBehindLatest data', (lag, count) => {
    const data = toKclMetrics(envelope(lag), 'w-1');
    expect(data.filter((d) => d.name === 'MillisBehindLatest')).toHaveLength(count);
    expect(data.some((d) => d.name === 'RecordsProcessed')).toBe(true);
  });
});
