import { describe, expect, it } from 'vitest';
import { seededRandom } from './seeded-random.js';

describe('seededRandom', () => {
  it('replays the same sequence for the same seed and a different one for another seed', () => {
    const take = (seed: number): number[] => {
      const random = seededRandom(seed);
      return Array.from({ length: 5 }, () => random());
    };
    expect(take(42)).toEqual(take(42));
    expect(take(42)).not.toEqual(take(43));
  });

  it('stays in [0, 1) and spreads evenly enough for fault rates', () => {
    const random = seededRandom(7);
    const draws = Array.from({ length: 10_000 }, () => random());
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    const below = draws.filter((x) => x < 0.2).length;
    expect(below).toBeGreaterThan(1800);
    expect(below).toBeLessThan(2200);
  });

  it('refuses a seed that is not an integer', () => {
    expect(() => seededRandom(1.5)).toThrow(RangeError);
  });
});
