import { describe, expect, it } from 'vitest';
import { ARRIVALS_PER_READING, ArrivalClock } from './arrival-clock.js';
import type { ProducerClock, ProducerTime } from './producer-time.js';

/** A clock that moves 1 ms every time it is read, so each reading shows. */
function ticking(): ProducerClock & { readings: number } {
  const clock = {
    readings: 0,
    now: () => ++clock.readings as ProducerTime,
    sleep: () => Promise.resolve(),
  };
  return clock;
}

describe('ArrivalClock', () => {
  it(`shares one reading among up to ${ARRIVALS_PER_READING} arrivals of a synchronous run`, () => {
    const clock = ticking();
    const arrivals = new ArrivalClock(clock);
    const stamps = Array.from({ length: ARRIVALS_PER_READING * 2 + 1 }, () => arrivals.now());
    expect(clock.readings).toBe(3);
    expect(new Set(stamps.slice(0, ARRIVALS_PER_READING))).toEqual(new Set([1]));
    expect(stamps[ARRIVALS_PER_READING]).toBe(2);
    expect(stamps.at(-1)).toBe(3);
  });

  it('reads the clock again in the next run, however few arrivals the last one had', async () => {
    const clock = ticking();
    const arrivals = new ArrivalClock(clock);
    expect(arrivals.now()).toBe(1);
    await Promise.resolve();
    expect(arrivals.now()).toBe(2);
    expect(arrivals.now()).toBe(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(arrivals.now()).toBe(3);
  });
});
