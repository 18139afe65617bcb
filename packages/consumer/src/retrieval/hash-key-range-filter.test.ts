import { hashKeyOf } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { HashKeyRangeFilter } from './hash-key-range-filter.js';

describe('HashKeyRangeFilter', () => {
  const key = hashKeyOf('alpha');
  const range = { startingHashKey: String(key), endingHashKey: String(key + 10n) };

  it('judges partition keys by their MD5 hash key and explicit hash keys as given, bounds inclusive', () => {
    const filter = new HashKeyRangeFilter(range);
    expect(filter.countOutOfRange([{ partitionKey: 'alpha' }])).toBe(0);
    expect(filter.countOutOfRange([{ partitionKey: 'x', explicitHashKey: String(key + 10n) }])).toBe(0);
    expect(filter.countOutOfRange([{ partitionKey: 'x', explicitHashKey: String(key + 11n) }])).toBe(1);
    expect(
      filter.countOutOfRange([{ partitionKey: 'alpha' }, { partitionKey: 'beta' }, { partitionKey: 'gamma' }]),
    ).toBe(2);
  });

  it('gives the same answers once its cache was emptied', () => {
    const filter = new HashKeyRangeFilter(range, 2);
    const records = ['alpha', 'beta', 'gamma', 'alpha', 'delta'].map((partitionKey) => ({ partitionKey }));
    expect(filter.countOutOfRange(records)).toBe(3);
    expect(filter.countOutOfRange(records)).toBe(3);
  });
});
