import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { callWithTimeout } from './call-with-timeout.js';
import { type Clock, systemClock } from './clock.js';
import { TimeoutError } from './errors.js';
import { type RetryPolicy, retry } from './retry.js';

/** How long {@link waitForStreamActive} waits for ACTIVE when not told: stream creation on AWS takes ~10–30 s. */
export const DEFAULT_STREAM_ACTIVE_TIMEOUT_MS = 120_000;

/**
 * How often {@link waitForStreamActive} asks when not told. DescribeStreamSummary allows 20 calls/s per account,
 * shared with every other application: twice a second leaves them room. Emulators answer in milliseconds and
 * their callers pass a shorter interval.
 */
export const DEFAULT_STREAM_ACTIVE_POLL_MS = 500;

/** Longest one DescribeStreamSummary may take before it is retried. */
const DESCRIBE_TIMEOUT_MS = 10_000;

/** Options of {@link waitForStreamActive}. */
export interface WaitForStreamActiveOptions {
  readonly streamName: string;
  /** Longest to wait for ACTIVE, in ms. @defaultValue 120000 ({@link DEFAULT_STREAM_ACTIVE_TIMEOUT_MS}) */
  readonly timeoutMs?: number;
  /** Time between two DescribeStreamSummary calls, in ms. @defaultValue 500 ({@link DEFAULT_STREAM_ACTIVE_POLL_MS}) */
  readonly pollIntervalMs?: number;
  /** Stops the wait with an `AbortError`. */
  readonly signal?: AbortSignal;
  /** How a failed DescribeStreamSummary (throttled, timed out) is retried within the wait. @defaultValue core's {@link retry} defaults */
  readonly retry?: RetryPolicy;
  /** @defaultValue {@link systemClock} */
  readonly clock?: Clock;
}

/**
 * Resolves once the stream is ACTIVE: after CreateStream, a split, a merge or UpdateShardCount, when writes to
 * the new shards and further reshards are allowed again. Each DescribeStreamSummary is bounded by a timeout and
 * throttling is retried with backoff; a `ResourceNotFoundException` (no such stream) is thrown at once.
 *
 * @throws {@link TimeoutError} (with `streamName`) when the stream is not ACTIVE after `timeoutMs`, naming its
 * last status.
 * @throws `AbortError` when `signal` aborts.
 */
export async function waitForStreamActive(
  client: Pick<KinesisClient, 'send'>,
  options: WaitForStreamActiveOptions,
): Promise<void> {
  const { streamName, signal } = options;
  const clock = options.clock ?? options.retry?.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? DEFAULT_STREAM_ACTIVE_TIMEOUT_MS;
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_STREAM_ACTIVE_POLL_MS;
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    const output = await retry(
      ({ signal: attemptSignal }) =>
        callWithTimeout(
          (abortSignal) => client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }), { abortSignal }),
          { operation: 'DescribeStreamSummary', timeoutMs: DESCRIBE_TIMEOUT_MS, clock, signal: attemptSignal },
        ),
      { ...options.retry, clock, deadline, signal },
    );
    const status = output.StreamDescriptionSummary?.StreamStatus;
    if (status === 'ACTIVE') return;
    if (clock.now() + pollIntervalMs > deadline) {
      throw new TimeoutError(`Stream ${streamName} is still ${status ?? 'without a status'} after ${timeoutMs} ms`, {
        streamName,
        retriable: true,
      });
    }
    await clock.sleep(pollIntervalMs, signal);
  }
}
