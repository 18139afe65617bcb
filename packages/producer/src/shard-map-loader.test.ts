import { type ErrorClass, ManualClock, type ShardMap } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { SHARD_MAP_MIN_RELOAD_INTERVAL, SHARD_MAP_RETRY_BACKOFF } from './defaults.js';
import type { ProducerEventEmitter } from './events.js';
import { type ProducerTime, producerClock } from './producer-time.js';
import type { ProducerKinesisClient } from './sender.js';
import { ShardMapLoader } from './shard-map-loader.js';

const SHARD = {
  ShardId: 'shardId-000000000000',
  HashKeyRange: { StartingHashKey: '0', EndingHashKey: '340282366920938463463374607431768211455' },
  SequenceNumberRange: { StartingSequenceNumber: '0' },
};

/** A ListShards client answering from `answers` in turn (an Error is thrown), recording when it was called. */
function fakeClient(clock: ManualClock, answers: (Error | 'ok')[]) {
  const calls: number[] = [];
  const client = {
    send: async () => {
      calls.push(clock.now());
      const answer = answers.shift() ?? 'ok';
      if (answer instanceof Error) throw answer;
      return { Shards: [SHARD], $metadata: {} };
    },
  } as unknown as ProducerKinesisClient;
  return { client, calls };
}

const named = (name: string) => Object.assign(new Error(name), { name });

function loader(
  clock: ManualClock,
  client: ProducerKinesisClient,
  random: () => number,
  signal = new AbortController().signal,
) {
  const loaded: ShardMap[] = [];
  const failed: ErrorClass[] = [];
  const events = { emit: () => {}, hasListeners: () => false } as unknown as ProducerEventEmitter;
  const time = producerClock(clock);
  const shardMaps = new ShardMapLoader({
    streamName: 's',
    client,
    clock: time,
    requestTimeout: 1_000,
    events,
    random,
    stopSignal: signal,
    onLoaded: (map) => void loaded.push(map),
    onFailed: (_, errorClass) => void failed.push(errorClass),
  });
  return { shardMaps, loaded, failed, now: () => time.now() };
}

/** Lets the loader's promise chains run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('ShardMapLoader', () => {
  it('lists once for a burst of records needing a map, and answers evidence older than its map with the map', async () => {
    const clock = new ManualClock(5_000);
    const { client, calls } = fakeClient(clock, ['ok']);
    const { shardMaps, loaded, now } = loader(clock, client, () => 0.5);
    for (let i = 0; i < 100; i++) shardMaps.need('first record');
    await settle();
    expect(calls).toHaveLength(1);
    expect(loaded).toHaveLength(1);
    expect(shardMaps.request((now() - 1) as ProducerTime, 'old evidence')).toBe(false);
    await settle();
    expect(calls).toHaveLength(1);
  });

  it('lists again at most every SHARD_MAP_MIN_RELOAD_INTERVAL, once for evidence arriving during a listing', async () => {
    const clock = new ManualClock(0);
    const { client, calls } = fakeClient(clock, []);
    const { shardMaps, now } = loader(clock, client, () => 0.5);
    shardMaps.request(now(), 'first');
    await settle();
    shardMaps.request(now(), 'stale');
    shardMaps.request(now(), 'stale again');
    await settle();
    expect(calls).toEqual([0]);
    await clock.advance(SHARD_MAP_MIN_RELOAD_INTERVAL);
    await settle();
    expect(calls).toEqual([0, SHARD_MAP_MIN_RELOAD_INTERVAL]);
  });

  it('retries a failed listing after a backoff with jitter, one retry however many records ask', async () => {
    const clock = new ManualClock(0);
    const { client, calls } = fakeClient(clock, [named('InternalFailure'), named('InternalFailure'), 'ok']);
    const { shardMaps, loaded, failed, now } = loader(clock, client, () => 0.25);
    shardMaps.request(now(), 'first');
    await settle();
    for (let i = 0; i < 50; i++) shardMaps.request(now(), 'another record');
    // Full jitter: 0.25 × 1 s, then 0.25 × 2 s.
    const first = 0.25 * SHARD_MAP_RETRY_BACKOFF.baseMs;
    const second = 0.25 * SHARD_MAP_RETRY_BACKOFF.baseMs * 2;
    await clock.advance(first);
    await settle();
    expect(calls).toEqual([0, first]);
    await clock.advance(second);
    await settle();
    expect(calls).toEqual([0, first, first + second]);
    expect(failed).toEqual(['server', 'server']);
    expect(loaded).toHaveLength(1);
    expect(shardMaps.failures).toBe(0);
  });

  it('after a client error retries only when asked again, on the same backoff loop', async () => {
    const clock = new ManualClock(0);
    const { client, calls } = fakeClient(clock, [named('AccessDeniedException'), named('AccessDeniedException')]);
    const { shardMaps, failed, now } = loader(clock, client, () => 0.5);
    shardMaps.request(now(), 'first');
    await settle();
    await clock.advance(60_000);
    await settle();
    expect(calls).toEqual([0]);
    expect(failed).toEqual(['client']);
    shardMaps.request(now(), 'a record');
    await settle();
    expect(calls).toEqual([0, 60_000]);
    // Asked again during the next backoff: one listing when it ends (0.5 × 2 s), not one per request.
    for (let i = 0; i < 10; i++) shardMaps.request(now(), 'more records');
    await clock.advance(999);
    await settle();
    expect(calls).toHaveLength(2);
    await clock.advance(1);
    await settle();
    expect(calls).toEqual([0, 60_000, 61_000]);
  });

  it('stops listing and retrying when the stop signal aborts', async () => {
    const clock = new ManualClock(0);
    const { client, calls } = fakeClient(clock, [named('InternalFailure')]);
    const stop = new AbortController();
    const { shardMaps, now } = loader(clock, client, () => 0.5, stop.signal);
    shardMaps.request(now(), 'first');
    await settle();
    stop.abort();
    await clock.advance(60_000);
    shardMaps.request(now(), 'after stop');
    await settle();
    expect(calls).toEqual([0]);
    expect(clock.sleeperCount).toBe(0);
  });
});
