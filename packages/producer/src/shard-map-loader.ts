import {
  backoffDelay,
  callWithTimeout,
  classifyError,
  type ErrorClass,
  KinesisKitError,
  ShardMap,
} from '@kinesis-kit/core';
import { SHARD_MAP_MIN_RELOAD_INTERVAL, SHARD_MAP_RETRY_BACKOFF } from './defaults.js';
import type { ProducerEventEmitter } from './events.js';
import type { ProducerClock, ProducerTime } from './producer-time.js';
import type { ProducerKinesisClient } from './sender.js';

/** What a {@link ShardMapLoader} needs. */
export interface ShardMapLoaderOptions {
  readonly streamName: string;
  readonly client: ProducerKinesisClient;
  /** The producer's clock: maps are stamped with it (`loadedAt`), so compare them with its times only. */
  readonly clock: ProducerClock;
  /** A listing taking longer than this is abandoned, and retried like a failed one. */
  readonly requestTimeout: number;
  readonly events: ProducerEventEmitter;
  /** Jitter of the retry backoff. */
  readonly random: () => number;
  /** Ends the loop for good: cancels a listing in flight and any wait. */
  readonly stopSignal: AbortSignal;
  /** A new map was listed. */
  readonly onLoaded: (map: ShardMap) => void;
  /** A listing failed (already reported as a `producer.error` event); the loop retries it after a backoff. */
  readonly onFailed: (error: unknown, errorClass: ErrorClass) => void;
}

/**
 * Keeps one stream's shard map: one listing at a time, never two within {@link SHARD_MAP_MIN_RELOAD_INTERVAL},
 * and after a failed listing one retry after a backoff with jitter ({@link SHARD_MAP_RETRY_BACKOFF}, core's
 * `backoffDelay`), however many records ask for a map meanwhile.
 *
 * Callers ask with {@link request} and the evidence's time; a listing already newer than the evidence
 * answers it, so a burst of evidence costs one listing. After a failure that will not go away by itself (a
 * client error: no such stream, no permission to list) the loop only retries once something asks again.
 */
export class ShardMapLoader {
  readonly #options: ShardMapLoaderOptions;
  #map: ShardMap | undefined;
  #loading = false;
  /** Waiting out a retry backoff (a listing failed). */
  #retrying = false;
  /** Something asked for a listing newer than the one running (or than the failure being backed off). */
  #wanted = false;
  #loadStartedAt = Number.NEGATIVE_INFINITY;
  #failures = 0;

  constructor(options: ShardMapLoaderOptions) {
    this.#options = options;
  }

  /** The latest map listed, if any. */
  get map(): ShardMap | undefined {
    return this.#map;
  }

  /** Listings that failed in a row (0 after a success). */
  get failures(): number {
    return this.#failures;
  }

  /**
   * Asks for a map, any map: lists unless one exists or a listing is under way (after a failed listing, the
   * retry the backoff loop makes when it ends). What records without a map call, however many they are.
   */
  need(reason: string): void {
    if (this.#map !== undefined || this.#loading || this.#options.stopSignal.aborted) return;
    if (this.#retrying) {
      this.#wanted = true;
      return;
    }
    void this.#load(reason);
  }

  /**
   * Asks for a map listed after `evidenceAt` (the time the caller learnt the map it has is not enough).
   * Returns false when the current map is that new already; the caller uses it.
   */
  request(evidenceAt: ProducerTime, reason: string): boolean {
    if (this.#options.stopSignal.aborted) return true;
    const map = this.#map;
    if (!this.#loading && map !== undefined && evidenceAt < map.loadedAt) return false;
    if (this.#loading || this.#retrying) {
      if (evidenceAt >= this.#loadStartedAt) this.#wanted = true;
      return true;
    }
    void this.#load(reason);
    return true;
  }

  async #load(reason: string): Promise<void> {
    const { clock, stopSignal, events, streamName } = this.#options;
    this.#loading = true;
    this.#wanted = false;
    let map: ShardMap;
    try {
      // Mid-reshard a listing can have gaps that send records straight back here; don't hammer ListShards.
      const wait = this.#loadStartedAt + SHARD_MAP_MIN_RELOAD_INTERVAL - clock.now();
      if (wait > 0) await clock.sleep(wait, stopSignal);
      this.#loadStartedAt = clock.now();
      map = await this.#list();
    } catch (error) {
      this.#loading = false;
      if (stopSignal.aborted) return;
      this.#failed(error, reason);
      return;
    }
    this.#loading = false;
    this.#failures = 0;
    if (stopSignal.aborted) return;
    this.#map = map;
    events.emit('producer.shard-map.loaded', { streamName, openShards: map.openShards.length, reason });
    this.#options.onLoaded(map);
    if (this.#wanted && !this.#loading) void this.#load('newer evidence of a reshard');
  }

  #failed(error: unknown, reason: string): void {
    const { clock, stopSignal, events, streamName, random } = this.#options;
    const failure = error instanceof Error ? error : new KinesisKitError('LIST_SHARDS_FAILED', String(error));
    events.emit('producer.error', { error: failure, streamName, operation: 'ListShards' });
    const errorClass = classifyError(error);
    const delay = backoffDelay(this.#failures, SHARD_MAP_RETRY_BACKOFF, random);
    this.#failures++;
    this.#retrying = true;
    // A client error repeats until something changes (a policy, the stream): retry only if asked again.
    this.#wanted = errorClass !== 'client';
    this.#options.onFailed(error, errorClass);
    clock.sleep(delay, stopSignal).then(
      () => {
        this.#retrying = false;
        if (this.#wanted && !this.#loading) void this.#load(`retry after ${reason}`);
      },
      () => {},
    );
  }

  /** Lists the shards, giving up after `requestTimeout` (or when stopped) so a hung call cannot wedge the stream. */
  #list(): Promise<ShardMap> {
    const { client, clock, stopSignal, requestTimeout, streamName } = this.#options;
    return callWithTimeout((signal) => ShardMap.load(client, { streamName, clock, signal }), {
      operation: 'ListShards',
      timeoutMs: requestTimeout,
      clock,
      signal: stopSignal,
      // Retriable, so the map is listed again after a backoff.
      timeoutError: () =>
        new KinesisKitError(
          'LIST_SHARDS_TIMEOUT',
          `ListShards took longer than requestTimeout (${requestTimeout} ms)`,
          {
            retriable: true,
            streamName,
          },
        ),
    });
  }
}
