import { describe, expect, it } from 'vitest';
import { isUploaded } from './metric-definitions.js';
import { MetricsAccumulator } from './metrics-accumulator.js';

describe('MetricsAccumulator', () => {
  it('puts a shard-level value at the shard, stream and global levels', () => {
    const acc = new MetricsAccumulator();
    acc.putValue('UserRecordsPut', 1, 's', 'shard-1');
    acc.putValue('UserRecordsPut', 0, 's', 'shard-2');
    const series = acc.series().map((m) => [m.granularity, m.dimensions, m.count, m.sum]);
    expect(series).toEqual([
      ['global', {}, 2, 1],
      ['stream', { StreamName: 's' }, 2, 1],
      ['shard', { StreamName: 's', ShardId: 'shard-1' }, 1, 1],
      ['shard', { StreamName: 's', ShardId: 'shard-2' }, 1, 0],
    ]);
  });

  it('keeps ErrorCode as the outermost dimension at every level', () => {
    const acc = new MetricsAccumulator();
    acc.putValue('ErrorsByCode', 1, 's', 'shard-1', 'ProvisionedThroughputExceededException');
    expect(acc.series().map((m) => m.dimensions)).toEqual([
      { ErrorCode: 'ProvisionedThroughputExceededException' },
      { ErrorCode: 'ProvisionedThroughputExceededException', StreamName: 's' },
      { ErrorCode: 'ProvisionedThroughputExceededException', StreamName: 's', ShardId: 'shard-1' },
    ]);
  });

  it('never goes finer than a metric allows (RequestTime stops at the stream)', () => {
    const acc = new MetricsAccumulator();
    acc.putValue('RequestTime', 12, 's', 'shard-1');
    expect(acc.series().map((m) => m.granularity)).toEqual(['global', 'stream']);
  });

  it('tracks min and max and merges windows', () => {
    const a = new MetricsAccumulator();
    const b = new MetricsAccumulator();
    a.putValue('BufferingTime', 5);
    b.putValue('BufferingTime', 50);
    b.putValue('BufferingTime', 1);
    a.merge(b);
    expect(a.series()[0]).toMatchObject({ count: 3, sum: 56, min: 1, max: 50, unit: 'Milliseconds' });
  });
});

describe('isUploaded (the KPL filter)', () => {
  it.each([
    ['summary', 'shard', 'detailed', 'shard', true],
    ['detailed', 'global', 'summary', 'shard', false],
    ['summary', 'shard', 'summary', 'stream', false],
    ['summary', 'stream', 'summary', 'stream', true],
    ['summary', 'global', 'none', 'shard', false],
  ] as const)('%s metric at %s under level %s, granularity %s → %s', (level, granularity, ml, mg, expected) => {
    expect(isUploaded(level, granularity, ml, mg)).toBe(expected);
  });
});
