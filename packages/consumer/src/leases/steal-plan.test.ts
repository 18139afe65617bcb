import { describe, expect, it } from 'vitest';
import { planSteals } from './steal-plan.js';

describe('planSteals', () => {
  const plan = (counts: Record<string, number>, total: number, target: number) =>
    Object.fromEntries(
      [...planSteals(new Map(Object.entries(counts)), total, target)].map(([thief, line]) => [
        thief,
        Object.fromEntries(line),
      ]),
    );
  it.each<[string, Record<string, number>, number, number, Record<string, Record<string, number>>]>([
    ['balanced: no moves', { a: 3, b: 3, c: 2 }, 8, 3, {}],
    ['one newcomer takes from everyone above the target', { a: 4, b: 4, c: 0 }, 8, 3, { c: { a: 1, b: 1 } }],
    ['surplus shared round-robin between thieves', { a: 6, b: 0, c: 0 }, 6, 2, { b: { a: 2 }, c: { a: 2 } }],
    [
      'victims give in proportion to their surplus',
      { a: 9, b: 5, c: 0, d: 0 },
      16,
      4,
      { c: { a: 3 }, d: { b: 1, a: 2 } },
    ],
    ['a worker at ceil gives one only to a worker below floor', { a: 3, b: 3, c: 1 }, 7, 3, { c: { a: 1 } }],
    ['never takes a thief above the target', { a: 10, b: 3 }, 13, 7, { b: { a: 3 } }],
  ])('%s', (_name, counts, total, target, expected) => {
    expect(plan(counts, total, target)).toEqual(expected);
  });
});
