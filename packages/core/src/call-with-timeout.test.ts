import { describe, expect, it } from 'vitest';
import { callWithTimeout } from './call-with-timeout.js';
import { ManualClock } from './clock.js';
import { classifyError } from './error-classifier.js';
import { AbortError, KinesisKitError, TimeoutError } from './errors.js';

/** A call that never answers and ignores its signal, like a client on a half-open socket. */
const hang = (): Promise<never> => new Promise<never>(() => {});

describe('callWithTimeout', () => {
  it('returns what the call returns, and passes it a live signal', async () => {
    let seen: AbortSignal | undefined;
    const value = await callWithTimeout(
      (signal) => {
        seen = signal;
        return Promise.resolve(42);
      },
      { operation: 'GetRecords', timeoutMs: 1_000, clock: new ManualClock() },
    );
    expect(value).toBe(42);
    expect(seen?.aborted).toBe(false);
  });

  it('gives up on a call that never answers with a retriable TimeoutError, and aborts its signal', async () => {
    const clock = new ManualClock();
    let seen: AbortSignal | undefined;
    const call = callWithTimeout(
      (signal) => {
        seen = signal;
        return hang();
      },
      { operation: 'GetRecords', timeoutMs: 30_000, clock },
    );
    const outcome = call.catch((error: unknown) => error);
    await clock.advance(29_999);
    expect(seen?.aborted).toBe(false);
    await clock.advance(1);
    const error = await outcome;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ message: 'GetRecords took longer than 30000 ms' });
    expect(classifyError(error)).toBe('transient');
    expect(seen?.aborted).toBe(true);
    expect(clock.sleeperCount).toBe(0);
  });

  it('rejects with the error the caller chose for a timeout', async () => {
    const clock = new ManualClock();
    const call = callWithTimeout(hang, {
      operation: 'ListShards',
      timeoutMs: 10,
      clock,
      timeoutError: () => new KinesisKitError('LIST_SHARDS_TIMEOUT', 'too slow', { retriable: true }),
    }).catch((error: unknown) => error);
    await clock.advance(10);
    expect(await call).toMatchObject({ code: 'LIST_SHARDS_TIMEOUT' });
  });

  it("rejects with a non-retriable AbortError when the caller's signal aborts, and stops its timer", async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const call = callWithTimeout(hang, {
      operation: 'UpdateItem',
      timeoutMs: 60_000,
      clock,
      signal: controller.signal,
    });
    const outcome = call.catch((error: unknown) => error);
    controller.abort(new Error('shutting down'));
    const error = await outcome;
    expect(error).toBeInstanceOf(AbortError);
    expect(classifyError(error)).toBe('client');
    expect(clock.sleeperCount).toBe(0);
    await expect(
      callWithTimeout(() => Promise.resolve(1), { operation: 'UpdateItem', timeoutMs: 1, signal: controller.signal }),
    ).rejects.toBeInstanceOf(AbortError);
  });

  it("passes the call's own failure through, and sets no timer for an infinite limit", async () => {
    const clock = new ManualClock();
    const failure = Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' });
    await expect(
      callWithTimeout(() => Promise.reject(failure), { operation: 'GetRecords', timeoutMs: 100, clock }),
    ).rejects.toBe(failure);
    let sleepers = -1;
    await callWithTimeout(
      () => {
        sleepers = clock.sleeperCount;
        return Promise.resolve();
      },
      { operation: 'GetRecords', timeoutMs: Number.POSITIVE_INFINITY, clock },
    );
    expect(sleepers).toBe(0);
  });
});
