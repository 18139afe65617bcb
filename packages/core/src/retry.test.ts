import { describe, expect, it, vi } from 'vitest';
import { ManualClock } from './clock.js';
import { AbortError, ValidationError } from './errors.js';
import { type AttemptContext, type RetryEvent, type RetryOptions, retry } from './retry.js';

const throttled = (): Error =>
  Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' });
const reset = (): Error => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
const notFound = (): Error => Object.assign(new Error('no stream'), { name: 'ResourceNotFoundException' });

/** A function that fails with the given errors, in order, then returns `'ok'`. */
function failing(...errors: Error[]) {
  const calls: AttemptContext[] = [];
  const fn = async (context: AttemptContext): Promise<string> => {
    calls.push(context);
    const error = errors[calls.length - 1];
    if (error !== undefined) throw error;
    return 'ok';
  };
  return { fn, calls };
}

/** Runs `retry` on a ManualClock, advancing time whenever it sleeps, and records every onRetry. */
async function run(fn: (context: AttemptContext) => Promise<string>, options: RetryOptions = {}) {
  const clock = new ManualClock(0);
  const events: RetryEvent[] = [];
  const result = retry(fn, { clock, random: () => 0.5, onRetry: (e) => events.push(e), ...options });
  const settled = result.then(
    () => undefined,
    () => undefined,
  );
  let finished = false;
  void settled.then(() => {
    finished = true;
  });
  while (!finished) {
    await Promise.race([clock.whenSleeping(), settled]);
    await clock.advance(60_000);
  }
  return { result, events, clock };
}

describe('retry', () => {
  it('returns the first success without waiting', async () => {
    const { fn, calls } = failing();
    const { result, events } = await run(fn);
    await expect(result).resolves.toBe('ok');
    expect(calls.map((c) => c.attempt)).toEqual([1]);
    expect(events).toEqual([]);
  });

  it('retries transient and server errors with the regular backoff', async () => {
    const error1 = reset();
    const error2 = Object.assign(new Error('oops'), { $fault: 'server', $metadata: { httpStatusCode: 500 } });
    const { fn, calls } = failing(error1, error2);
    const { result, events, clock } = await run(fn, { backoff: { baseMs: 100, maxMs: 10_000 } });
    await expect(result).resolves.toBe('ok');
    expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
    // random() = 0.5: half of min(max, base·2^(attempt-1)).
    expect(events).toEqual([
      { attempt: 1, error: error1, errorClass: 'transient', delayMs: 50 },
      { attempt: 2, error: error2, errorClass: 'server', delayMs: 100 },
    ]);
    expect(clock.now()).toBeGreaterThanOrEqual(150);
  });

  it('waits with the throttling backoff after throttling', async () => {
    const { fn } = failing(throttled(), throttled());
    const { result, events } = await run(fn, {
      backoff: { baseMs: 100, maxMs: 10_000 },
      throttlingBackoff: { baseMs: 1_000, maxMs: 10_000 },
    });
    await expect(result).resolves.toBe('ok');
    expect(events.map((e) => [e.errorClass, e.delayMs])).toEqual([
      ['throttling', 500],
      ['throttling', 1_000],
    ]);
  });

  it('rethrows a client error at once, unwrapped', async () => {
    const error = notFound();
    const { fn, calls } = failing(error);
    const { result, events } = await run(fn);
    await expect(result).rejects.toBe(error);
    expect(calls).toHaveLength(1);
    expect(events).toEqual([]);
  });

  it('gives up after maxAttempts with the last error, unwrapped', async () => {
    const last = reset();
    const { fn, calls } = failing(reset(), reset(), last, reset());
    const { result, events } = await run(fn, { maxAttempts: 3 });
    await expect(result).rejects.toBe(last);
    expect(calls).toHaveLength(3);
    expect(events).toHaveLength(2);
  });

  it('makes 3 attempts by default', async () => {
    const { fn, calls } = failing(reset(), reset(), reset(), reset());
    await expect((await run(fn)).result).rejects.toThrow('socket hang up');
    expect(calls).toHaveLength(3);
  });

  it('stops before a wait that would reach the deadline, without sleeping', async () => {
    const errors = Array.from({ length: 10 }, reset);
    const { fn, calls } = failing(...errors);
    // Delays with random 0.5 and base 100: 50, 100, 200, 400 … ; cumulative 50, 150, 350, 750.
    const { result, events } = await run(fn, {
      maxAttempts: Number.POSITIVE_INFINITY,
      deadline: 400,
      backoff: { baseMs: 100, maxMs: 10_000 },
    });
    await expect(result).rejects.toBe(errors[3]);
    expect(calls).toHaveLength(4);
    expect(events.map((e) => e.delayMs)).toEqual([50, 100, 200]);
  });

  it('runs the first attempt even when the deadline has passed', async () => {
    const { fn, calls } = failing(reset());
    const { result } = await run(fn, { deadline: -1 });
    await expect(result).rejects.toThrow('socket hang up');
    expect(calls).toHaveLength(1);
  });

  it('passes the signal to every attempt', async () => {
    const controller = new AbortController();
    const { fn, calls } = failing(reset());
    await (await run(fn, { signal: controller.signal })).result;
    expect(calls.map((c) => c.signal)).toEqual([controller.signal, controller.signal]);
  });

  it('does not call fn when already aborted', async () => {
    const { fn, calls } = failing();
    await expect(retry(fn, { signal: AbortSignal.abort() })).rejects.toThrow(AbortError);
    expect(calls).toHaveLength(0);
  });

  it('ends a wait on abort with an AbortError caused by the last failure', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const error = reset();
    const { fn, calls } = failing(error);
    // A fixed jitter: a random one can be 0 ms, and then no wait happens to abort.
    const result = retry(fn, { clock, random: () => 0.5, signal: controller.signal });
    await clock.whenSleeping();
    controller.abort();
    await expect(result).rejects.toThrow(AbortError);
    await expect(result).rejects.toMatchObject({ cause: error });
    expect(calls).toHaveLength(1);
    expect(clock.sleeperCount).toBe(0);
  });

  it('reports an attempt that failed because of the abort as AbortError, not as a retriable error', async () => {
    const controller = new AbortController();
    const fn = vi.fn(async () => {
      controller.abort();
      throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    });
    await expect(retry(fn, { signal: controller.signal, clock: new ManualClock() })).rejects.toThrow(AbortError);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('lets the caller classify errors', async () => {
    const inUse = Object.assign(new Error('updating'), { name: 'ResourceInUseException' });
    const { fn, calls } = failing(inUse);
    const { result } = await run(fn, {
      classify: (e) => (e instanceof Error && e.name === 'ResourceInUseException' ? 'transient' : 'client'),
    });
    await expect(result).resolves.toBe('ok');
    expect(calls).toHaveLength(2);
  });

  it('ends with the hook’s error when onRetry throws', async () => {
    const { fn } = failing(reset());
    const hookError = new Error('hook');
    const result = retry(fn, {
      clock: new ManualClock(),
      onRetry: () => {
        throw hookError;
      },
    });
    await expect(result).rejects.toBe(hookError);
  });

  it.each<[string, RetryOptions, RegExp]>([
    ['maxAttempts 0', { maxAttempts: 0 }, /maxAttempts/],
    ['maxAttempts 1.5', { maxAttempts: 1.5 }, /maxAttempts/],
    ['Infinity without a deadline', { maxAttempts: Number.POSITIVE_INFINITY }, /never retry forever/],
    ['a NaN deadline', { deadline: Number.NaN }, /deadline/],
    ['a negative backoff', { backoff: { baseMs: -1, maxMs: 10 } }, /backoff.baseMs/],
    ['a throttling cap below its base', { throttlingBackoff: { baseMs: 10, maxMs: 1 } }, /throttlingBackoff.maxMs/],
  ])('rejects %s before calling fn', async (_label, options, message) => {
    const { fn, calls } = failing();
    await expect(retry(fn, options)).rejects.toThrow(ValidationError);
    await expect(retry(fn, options)).rejects.toThrow(message);
    expect(calls).toHaveLength(0);
  });
});
