import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.js';
import { compareShardIds, formatShardId, shardIdNumber } from './shard-id.js';

describe('shard ids', () => {
  it.each([
    [0, 'shardId-000000000000'],
    [123, 'shardId-000000000123'],
    [999_999_999_999, 'shardId-999999999999'],
  ])('formats %i as %s and reads it back', (n, shardId) => {
    expect(formatShardId(n)).toBe(shardId);
    expect(shardIdNumber(shardId)).toBe(n);
  });

  it.each(['', 'shardId-', 'shardId-12a', 'shard-000000000001', 'shardId-99999999999999999999'])(
    'reads no number from %j',
    (shardId) => {
      expect(shardIdNumber(shardId)).toBeUndefined();
    },
  );

  it.each([-1, 1.5, Number.NaN])('refuses to format %s', (n) => {
    expect(() => formatShardId(n)).toThrow(ValidationError);
  });

  it('orders by number, not by text, and puts foreign ids last', () => {
    const ids = ['custom-b', 'shardId-10', 'shardId-000000000002', 'custom-a', 'shardId-000000000001'];
    expect([...ids].sort(compareShardIds)).toEqual([
      'shardId-000000000001',
      'shardId-000000000002',
      'shardId-10',
      'custom-a',
      'custom-b',
    ]);
  });
});
