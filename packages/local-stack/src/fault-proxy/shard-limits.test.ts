import { describe, expect, it } from 'vitest';
import { ShardLimits } from './shard-limits.js';

describe('ShardLimits', () => {
  it('admits 1,000 records per shard per second, then refills with time', () => {
    const limits = new ShardLimits();
    let admitted = 0;
    for (let i = 0; i < 1500; i += 1) if (limits.admitWrite('s/a', 10, 0)) admitted += 1;
    expect(admitted).toBe(1000);
    expect(limits.admitWrite('s/b', 10, 0)).toBe(true);
    expect(limits.admitWrite('s/a', 10, 100)).toBe(true);
  });

  it('admits 1 MiB per shard per second', () => {
    const limits = new ShardLimits();
    expect(limits.admitWrite('s/a', 600 * 1024, 0)).toBe(true);
    expect(limits.admitWrite('s/a', 600 * 1024, 0)).toBe(false);
    expect(limits.admitWrite('s/a', 400 * 1024, 0)).toBe(true);
  });

  it('admits 5 reads per second, and none while a large read is being paid off', () => {
    const limits = new ShardLimits();
    const calls = Array.from({ length: 6 }, () => limits.admitRead('s/a', 0));
    expect(calls).toEqual([true, true, true, true, true, false]);
    limits.chargeRead('s/b', 10 * 1024 * 1024, 0);
    expect(limits.admitRead('s/b', 1000)).toBe(false);
    // 2 MiB/s pays off the 8 MiB debt left after the first second's budget in four more seconds.
    expect(limits.admitRead('s/b', 4_100)).toBe(true);
  });
});
