import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock, systemClock } from './clock.js';
import { AbortError } from './errors.js';

describe('systemClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('tells epoch time', () => {
    const before = Date.now();
    const now = systemClock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it('sleeps, then leaves no abort listener behind', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const slept = systemClock.sleep(1_000, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(slept).resolves.toBeUndefined();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects with AbortError on abort and clears its timer', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const slept = systemClock.sleep(60_000, controller.signal);
    expect(vi.getTimerCount()).toBe(1);
    controller.abort(new Error('stop'));
    await expect(slept).rejects.toThrow(AbortError);
    await expect(slept).rejects.toMatchObject({ cause: new Error('stop') });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects at once, without a timer, when the signal already aborted', async () => {
    vi.useFakeTimers();
    await expect(systemClock.sleep(10, AbortSignal.abort())).rejects.toThrow(AbortError);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('ManualClock', () => {
  it('stands still until advanced', () => {
    const clock = new ManualClock(1_000);
    expect(clock.now()).toBe(1_000);
    expect(clock.now()).toBe(1_000);
  });

  it('wakes due sleepers in due order, each seeing its own due time', async () => {
    const clock = new ManualClock();
    const woke: string[] = [];
    const sleep = (name: string, ms: number) => clock.sleep(ms).then(() => woke.push(`${name}@${clock.now()}`));
    const all = [sleep('c', 300), sleep('a', 100), sleep('b', 200), sleep('a2', 100)];
    await clock.advance(250);
    expect(woke).toEqual(['a@100', 'a2@100', 'b@200']);
    expect(clock.now()).toBe(250);
    expect(clock.sleeperCount).toBe(1);
    await clock.advance(50);
    await Promise.all(all);
    expect(woke).toEqual(['a@100', 'a2@100', 'b@200', 'c@300']);
  });

  it('also wakes sleeps started by a woken sleeper within the same advance', async () => {
    const clock = new ManualClock();
    const times: number[] = [];
    const loop = (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(100);
        times.push(clock.now());
      }
    })();
    await clock.advance(1_000);
    await loop;
    expect(times).toEqual([100, 200, 300]);
    expect(clock.now()).toBe(1_000);
  });

  it('resolves a zero or negative sleep without time passing', async () => {
    const clock = new ManualClock();
    await clock.sleep(0);
    await clock.sleep(-5);
    expect(clock.sleeperCount).toBe(0);
  });

  it('rejects an aborted sleep with AbortError and forgets it', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const slept = clock.sleep(100, controller.signal);
    expect(clock.sleeperCount).toBe(1);
    controller.abort();
    await expect(slept).rejects.toThrow(AbortError);
    expect(clock.sleeperCount).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await expect(clock.sleep(1, controller.signal)).rejects.toThrow(AbortError);
  });

  it('removes the abort listener of a sleep that completed', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const slept = clock.sleep(100, controller.signal);
    await clock.advance(100);
    await slept;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('lets a test wait until code under test is sleeping', async () => {
    const clock = new ManualClock();
    let sleeping = false;
    const waiting = clock.whenSleeping(2).then(() => {
      sleeping = true;
    });
    void clock.sleep(10);
    await Promise.resolve();
    expect(sleeping).toBe(false);
    void clock.sleep(10);
    await waiting;
    expect(sleeping).toBe(true);
    await expect(clock.whenSleeping(1)).resolves.toBeUndefined();
  });

  it('never moves backwards', async () => {
    const clock = new ManualClock(500);
    await clock.advanceTo(100);
    await clock.advance(-10);
    expect(clock.now()).toBe(500);
  });
});
