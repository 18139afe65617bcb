import type { DescribeStreamSummaryCommandOutput } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { AbortError, TimeoutError } from './errors.js';
import { waitForStreamActive } from './wait-for-stream-active.js';

/** A client whose DescribeStreamSummary answers come from `answers`, one per call (the last one repeats). */
function describing(answers: (string | Error)[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    send: async (): Promise<DescribeStreamSummaryCommandOutput> => {
      const answer = answers[Math.min(calls++, answers.length - 1)];
      if (answer instanceof Error) throw answer;
      return { StreamDescriptionSummary: { StreamStatus: answer } } as DescribeStreamSummaryCommandOutput;
    },
  };
}

/** Moves the clock in `stepMs` steps until `promise` settles (each call also holds a timeout sleeper). */
async function driven<T>(clock: ManualClock, promise: Promise<T>, stepMs: number): Promise<T> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let step = 0; !settled && step < 1_000; step++) await clock.advance(stepMs);
  return promise;
}

function named(name: string): Error {
  return Object.assign(new Error(name), { name });
}

describe('waitForStreamActive', () => {
  it('asks every pollIntervalMs until the stream is ACTIVE', async () => {
    const clock = new ManualClock();
    const client = describing(['CREATING', 'UPDATING', 'ACTIVE']);
    await driven(clock, waitForStreamActive(client, { streamName: 's', clock, pollIntervalMs: 100 }), 10);
    expect(client.calls).toBe(3);
    expect(clock.now()).toBeGreaterThanOrEqual(200);
    expect(clock.now()).toBeLessThan(300);
  });

  it('retries a throttled call with backoff instead of failing the wait', async () => {
    const clock = new ManualClock();
    const client = describing([named('LimitExceededException'), 'ACTIVE']);
    await driven(clock, waitForStreamActive(client, { streamName: 's', clock, retry: { random: () => 0.5 } }), 10);
    expect(client.calls).toBe(2);
    // Half of the throttling backoff's 500 ms base (the jitter drawn), give or take the test's 10 ms steps.
    expect(clock.now()).toBeGreaterThanOrEqual(250);
    expect(clock.now()).toBeLessThan(300);
  });

  it('throws a ResourceNotFoundException at once: a missing stream will not appear by waiting', async () => {
    const client = describing([named('ResourceNotFoundException')]);
    await expect(waitForStreamActive(client, { streamName: 's', clock: new ManualClock() })).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    expect(client.calls).toBe(1);
  });

  it('gives up after timeoutMs with a TimeoutError naming the stream and its last status', async () => {
    const clock = new ManualClock();
    const done = waitForStreamActive(describing(['UPDATING']), {
      streamName: 'orders',
      clock,
      timeoutMs: 1_000,
      pollIntervalMs: 400,
    });
    const outcome = expect(done).rejects.toThrow(TimeoutError);
    await clock.advance(1_000);
    await outcome;
    await expect(done).rejects.toThrow('Stream orders is still UPDATING after 1000 ms');
  });

  it('stops with an AbortError when the signal aborts during a wait', async () => {
    const clock = new ManualClock();
    const stop = new AbortController();
    const done = waitForStreamActive(describing(['CREATING']), { streamName: 's', clock, signal: stop.signal });
    await clock.whenSleeping();
    stop.abort();
    await expect(done).rejects.toThrow(AbortError);
  });
});
