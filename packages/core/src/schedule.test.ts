import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { ValidationError } from './errors.js';
import { runAtFixedRate, runWithFixedDelay, type ScheduleOptions } from './schedule.js';

/** A round that records when it started and takes `durationMs` on the clock (or fails when told). */
function recorder(clock: ManualClock, durationMs: number, failOn: number[] = []) {
  const starts: number[] = [];
  const round = async (signal: AbortSignal) => {
    starts.push(clock.now());
    if (durationMs > 0) await clock.sleep(durationMs, signal);
    if (failOn.includes(starts.length)) throw new Error(`round ${starts.length} failed`);
  };
  return { starts, round };
}

/** Moves the clock to `until` in 10 ms steps, letting the loop run between steps. */
async function runUntil(clock: ManualClock, until: number): Promise<void> {
  while (clock.now() < until) {
    await new Promise((resolve) => setImmediate(resolve));
    await clock.advance(10);
  }
}

describe.each([
  ['runAtFixedRate', runAtFixedRate, [100, 200, 300, 400]],
  ['runWithFixedDelay', runWithFixedDelay, [100, 230, 360]],
] as const)('%s', (_, schedule, expectedStarts) => {
  it('starts rounds on its schedule (each round takes 30 ms)', async () => {
    const clock = new ManualClock();
    const stop = new AbortController();
    const { starts, round } = recorder(clock, 30);
    const loop = schedule(round, { intervalMs: 100, signal: stop.signal, clock, onError: () => {} });
    await runUntil(clock, 450);
    stop.abort();
    await loop;
    expect(starts).toEqual(expectedStarts);
  });

  it('reports a failing round and keeps going', async () => {
    const clock = new ManualClock();
    const stop = new AbortController();
    const errors: string[] = [];
    const { starts, round } = recorder(clock, 0, [1]);
    const loop = schedule(round, {
      intervalMs: 100,
      signal: stop.signal,
      clock,
      onError: (error) => errors.push((error as Error).message),
    });
    await runUntil(clock, 250);
    stop.abort();
    await loop;
    expect(errors).toEqual(['round 1 failed']);
    expect(starts).toHaveLength(2);
  });

  it('keeps going when onError itself throws', async () => {
    const clock = new ManualClock();
    const stop = new AbortController();
    const { starts, round } = recorder(clock, 0, [1, 2]);
    const options: ScheduleOptions = {
      intervalMs: 100,
      signal: stop.signal,
      clock,
      onError: () => {
        throw new Error('the reporter failed');
      },
    };
    const loop = schedule(round, options);
    await runUntil(clock, 350);
    stop.abort();
    await expect(loop).resolves.toBeUndefined();
    expect(starts).toHaveLength(3);
  });

  it('ends when aborted mid-round, waits for the round, and does not report it', async () => {
    const clock = new ManualClock();
    const stop = new AbortController();
    const errors: unknown[] = [];
    const { starts, round } = recorder(clock, 1_000);
    const loop = schedule(round, {
      intervalMs: 100,
      initialDelayMs: 0,
      signal: stop.signal,
      clock,
      onError: (e) => errors.push(e),
    });
    await clock.whenSleeping();
    stop.abort();
    await loop;
    expect(starts).toEqual([0]);
    expect(errors).toEqual([]);
    expect(clock.sleeperCount).toBe(0);
  });

  it('runs the first round at once with initialDelayMs 0', async () => {
    const clock = new ManualClock();
    const stop = new AbortController();
    const { starts, round } = recorder(clock, 0);
    const loop = schedule(round, { intervalMs: 100, initialDelayMs: 0, signal: stop.signal, clock, onError: () => {} });
    await runUntil(clock, 150);
    stop.abort();
    await loop;
    expect(starts).toEqual([0, 100]);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('rejects intervalMs %s at the call', (intervalMs) => {
    const signal = new AbortController().signal;
    expect(() => schedule(() => {}, { intervalMs, signal, onError: () => {} })).toThrow(ValidationError);
  });
});

it('runAtFixedRate does not burst to catch up after a round that overran several periods', async () => {
  const clock = new ManualClock();
  const stop = new AbortController();
  const starts: number[] = [];
  const loop = runAtFixedRate(
    async (signal) => {
      starts.push(clock.now());
      if (starts.length === 1) await clock.sleep(350, signal);
    },
    { intervalMs: 100, signal: stop.signal, clock, onError: () => {} },
  );
  await runUntil(clock, 700);
  stop.abort();
  await loop;
  // The first round ran from 100 to 450: the next starts at once, then the schedule resumes 100 ms apart.
  expect(starts).toEqual([100, 450, 550, 650]);
});
