import type { ErrorClass, ShardMap } from '@kinesis-kit/core';
import type { AggregatorLimits } from './aggregator.js';
import { classifyPutRecordsResult, describeError, judgeLanding } from './classify-put-records-result.js';
import { Collector } from './collector.js';
import { COLLECTION_SLACK_MAX_MS, COLLECTION_SLACK_RATIO, SHARD_FLUSH_BYTES } from './defaults.js';
import { DESTROYED, EXPIRED, WRONG_SHARD } from './errors.js';
import type { ProducerEventEmitter } from './events.js';
import type { ResolvedProducerOptions } from './options.js';
import type { OutgoingRecord } from './outgoing-record.js';
import type { Outstanding } from './outstanding.js';
import { earliest, later, NEVER, type ProducerClock, type ProducerTime } from './producer-time.js';
import type { ProducerKinesisClient, PutRecordsOutcome, Sender } from './sender.js';
import { Settlement } from './settlement.js';
import { ShardMapLoader } from './shard-map-loader.js';
import { ReadyTotals, type ShardBackoff, ShardQueue } from './shard-queue.js';
import type { UserRecord } from './user-record.js';

/** Partition keys whose route a pipeline remembers before it starts over. */
const MAX_REMEMBERED_ROUTES = 65_536;

/** Key of the queue of records sent without a prediction, while the shard map is unavailable. */
const UNPREDICTED = '';

/** What a {@link StreamPipeline} shares with the producer and the other pipelines. */
export interface PipelineContext {
  readonly options: ResolvedProducerOptions;
  /** Producer time (see {@link ProducerTime}); the options' `clock` is wall time, for events and metrics. */
  readonly clock: ProducerClock;
  readonly client: ProducerKinesisClient;
  readonly sender: Sender;
  readonly events: ProducerEventEmitter;
  readonly outstanding: Outstanding;
  /** Aborted when the producer stops for good: cancels shard listings and their backoff sleeps. */
  readonly stopSignal: AbortSignal;
}

/** An aggregate that landed on a shard a map older than the answer did not know; judged by the next map. */
interface AwaitingMap {
  readonly record: OutgoingRecord;
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly start: ProducerTime;
  readonly end: ProducerTime;
}

/**
 * One stream's path from `addUserRecord` to PutRecords: shard map → per-shard aggregation → per-shard rate
 * limit → collection → send → per-record results, retries and re-routing.
 *
 * All of it runs on the event loop without locks: `add` is synchronous, and the rest happens in `#pump`,
 * which runs when a deadline, a backoff or a rate-limit wait ends, when a call returns, or when enough is
 * ready to fill a call.
 */
export class StreamPipeline {
  readonly streamName: string;
  readonly #context: PipelineContext;
  readonly #aggregatorLimits: AggregatorLimits;
  readonly #slack: number;
  readonly #collector: Collector;
  readonly #settlement: Settlement;
  readonly #shards = new Map<string, ShardQueue>();
  readonly #loader: ShardMapLoader;
  /** ListShards is denied: records go out one by one, unaggregated and unpredicted, until a map loads. */
  #mapUnavailable = false;
  /** The queue each recently seen partition key routes to under the current map (see `#route`). */
  readonly #routes = new Map<string, ShardQueue>();
  /** Records waiting for a shard map (before the first listing, or in a gap of a listing taken mid-reshard). */
  #unrouted: UserRecord[] = [];
  #awaitingMap: AwaitingMap[] = [];
  readonly #ready = new ReadyTotals();
  readonly #backoff: ShardBackoff;
  #received = 0;
  #inFlight = 0;
  #timerAt = NEVER;
  #timer: AbortController | undefined;
  #pumpScheduled = false;
  #stopped = false;

  constructor(streamName: string, context: PipelineContext) {
    this.streamName = streamName;
    this.#context = context;
    const { options } = context;
    this.#aggregatorLimits = {
      enabled: options.aggregationEnabled,
      maxCount: options.aggregationMaxCount,
      maxSize: options.aggregationMaxSize,
      maxRecordSize: options.maxUserRecordSize,
    };
    this.#slack = Math.min(COLLECTION_SLACK_MAX_MS, COLLECTION_SLACK_RATIO * options.recordMaxBufferedTime);
    this.#backoff = {
      retry: options.retryBackoff,
      throttling: options.throttlingBackoff,
      random: options.random,
    };
    this.#settlement = new Settlement(streamName, context.events, context.outstanding);
    this.#collector = new Collector({ maxCount: options.collectionMaxCount, maxSize: options.collectionMaxSize });
    this.#loader = new ShardMapLoader({
      streamName,
      client: context.client,
      clock: context.clock,
      requestTimeout: options.requestTimeout,
      events: context.events,
      random: options.random,
      stopSignal: context.stopSignal,
      onLoaded: (map) => this.#applyMap(map),
      onFailed: (error, errorClass) => this.#onMapFailed(error, errorClass),
    });
  }

  /** The shard map in use, once loaded. */
  get shardMap(): ShardMap | undefined {
    return this.#loader.map;
  }

  /** User records of this stream not yet settled. */
  get pending(): number {
    return this.#settlement.pending;
  }

  /** PutRecords calls of this stream in flight. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Takes a validated user record; its promise settles through the context's `outstanding`. */
  add(record: UserRecord): void {
    this.#received++;
    this.#settlement.accepted();
    if (this.#loader.map === undefined) {
      this.#loader.need('first record');
      this.#hold(record);
      return;
    }
    this.#route(record);
  }

  /** Makes every record buffered now due at once (KPL `flush`): sends what the rate limits allow. */
  flush(): void {
    const now = this.#context.clock.now();
    for (const record of this.#unrouted) if (record.deadline > now) record.deadline = now;
    for (const queue of this.#shards.values()) {
      queue.aggregator.expedite(now);
      for (const record of queue.readyRecords()) if (record.deadline > now) record.deadline = now;
    }
    this.#schedulePump();
  }

  /** Stops timers and fails every record still held here (the producer's last resort on destroy). */
  stop(error: Error): void {
    this.#stopped = true;
    this.#timer?.abort();
    this.#timer = undefined;
    const now = this.#context.clock.now();
    const unrouted = this.#unrouted;
    this.#unrouted = [];
    // Written, but maybe where a consumer drops them: never reported as put without a verdict.
    for (const v of this.#awaitingMap.splice(0)) this.#settlement.failAll(v.record, DESTROYED, error.message, now, now);
    for (const record of unrouted) this.#settlement.fail(record, undefined, DESTROYED, error.message, now, now);
    for (const queue of this.#shards.values()) {
      const held = queue.takeAll().flatMap((out) => out.records);
      held.push(...queue.aggregator.drain());
      for (const record of held) this.#settlement.fail(record, queue.shardId, DESTROYED, error.message, now, now);
    }
  }

  #route(record: UserRecord): void {
    // Keys repeat (customer ids, device ids), so the queue a key routes to is remembered until the map
    // changes: a string lookup instead of a search over 128-bit hash keys and a second lookup by shard id.
    // For speed: ~10 % of the pipeline bench (50,000 × 100 B, 1,000 keys; bench/pipeline-ab.ts with the cache
    // off, 2026-12-04: 0.91 of the rate, median of 4 × 40 pairs, noise ±4 %).
    const byKey = record.explicitHashKey === undefined;
    let queue = byKey ? this.#routes.get(record.partitionKey) : undefined;
    if (queue === undefined) {
      const map = this.#loader.map;
      const shard = map?.shardFor(record.hashKey);
      if (shard === undefined) {
        // No map, or a gap in a listing taken mid-reshard: wait for the next listing rather than guess a shard.
        this.#hold(record);
        if (map === undefined) this.#loader.need('no shard map');
        else this.#requestMap(this.#context.clock.now(), 'hash key not covered by an open shard');
        return;
      }
      queue = this.#shards.get(shard.shardId) ?? this.#addQueue(shard.shardId);
      if (byKey) {
        if (this.#routes.size >= MAX_REMEMBERED_ROUTES) this.#routes.clear();
        this.#routes.set(record.partitionKey, queue);
      }
    }
    this.#addToQueue(queue, record);
  }

  #addToQueue(queue: ShardQueue, record: UserRecord): void {
    const ready = this.#ready;
    const readyBefore = ready.count;
    queue.aggregator.add(record, queue.emit);
    if (record.deadline < this.#timerAt) this.#wakeAt(record.deadline);
    if (
      ready.count !== readyBefore &&
      (queue.readyBytes >= SHARD_FLUSH_BYTES ||
        ready.count >= this.#context.options.collectionMaxCount ||
        ready.bytes >= this.#context.options.collectionMaxSize)
    ) {
      this.#schedulePump();
    }
  }

  #addQueue(shardId: string): ShardQueue {
    const { options, clock } = this.#context;
    const queue = new ShardQueue(
      shardId,
      this.#aggregatorLimits,
      options.rateLimit,
      clock.now(),
      this.#ready,
      this.#backoff,
    );
    this.#shards.set(shardId, queue);
    return queue;
  }

  /**
   * The queue of records sent while the shard map is unavailable: one Kinesis record per user record, with
   * no predicted shard (so wherever it lands is right) and no rate limit of ours (the shards it lands on
   * answer for themselves, with throttling). The next map retires it and routes what it holds.
   */
  #unpredictedQueue(): ShardQueue {
    let queue = this.#shards.get(UNPREDICTED);
    if (queue === undefined) {
      const { clock } = this.#context;
      queue = new ShardQueue(
        undefined,
        { ...this.#aggregatorLimits, enabled: false },
        Number.POSITIVE_INFINITY,
        clock.now(),
        this.#ready,
        this.#backoff,
      );
      this.#shards.set(UNPREDICTED, queue);
    }
    return queue;
  }

  #schedulePump(): void {
    if (this.#pumpScheduled || this.#stopped) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  /** Makes sure `#pump` runs no later than `at`. */
  #wakeAt(at: ProducerTime): void {
    if (at >= this.#timerAt || this.#stopped || at === NEVER) return;
    this.#timer?.abort();
    const timer = new AbortController();
    this.#timer = timer;
    this.#timerAt = at;
    const clock = this.#context.clock;
    clock.sleep(Math.max(0, at - clock.now()), timer.signal).then(
      () => {
        if (this.#timer !== timer) return;
        this.#timer = undefined;
        this.#timerAt = NEVER;
        this.#pump();
      },
      () => {},
    );
  }

  /** Seals due aggregates, expires what is past its TTL, and sends every shard that is due and allowed. */
  #pump(): void {
    if (this.#stopped) return;
    const { clock, options } = this.#context;
    const now = clock.now();
    const sendBy = later(now, this.#slack);
    let nextWake = NEVER;

    if (this.#unrouted.length > 0) nextWake = earliest(nextWake, this.#expireUnrouted(now));

    const full = this.#ready.count >= options.collectionMaxCount || this.#ready.bytes >= options.collectionMaxSize;
    const collector = this.#collector;
    for (const queue of this.#shards.values()) {
      const aggregator = queue.aggregator;
      if (aggregator.count > 0) {
        if (aggregator.deadline <= sendBy) {
          const out = aggregator.seal();
          if (out !== undefined) queue.emit(out);
        } else {
          nextWake = earliest(nextWake, aggregator.deadline);
        }
      }
      if (queue.readyCount === 0 || queue.inFlight) continue;
      this.#expireReady(queue, now);
      const head = queue.peek();
      if (head === undefined) continue;
      if (queue.pausedUntil > now) {
        nextWake = earliest(nextWake, earliest(queue.pausedUntil, head.expiresAt));
        continue;
      }
      if (!(head.deadline <= sendBy || full || queue.readyBytes >= SHARD_FLUSH_BYTES)) {
        nextWake = earliest(nextWake, head.deadline);
        continue;
      }
      let took = 0;
      for (;;) {
        const out = queue.peek();
        if (out === undefined) break;
        if (out.expiresAt <= now) {
          queue.shift();
          this.#expire(out, now);
          continue;
        }
        if (!collector.fits(out)) {
          if (took > 0) break;
          this.#send(collector.take());
        }
        if (!queue.limiter.tryTake(out.size, now)) {
          nextWake = earliest(nextWake, earliest(queue.limiter.availableAt(out.size, now), out.expiresAt));
          break;
        }
        queue.shift();
        collector.tryAdd(out);
        took++;
        if (collector.isFull) break;
      }
      if (took > 0) {
        queue.sent();
        if (collector.isFull) this.#send(collector.take());
      }
    }
    if (collector.count > 0) this.#send(collector.take());
    this.#wakeAt(nextWake);
  }

  #expireReady(queue: ShardQueue, now: ProducerTime): void {
    for (let head = queue.peek(); head !== undefined && head.expiresAt <= now; head = queue.peek()) {
      queue.shift();
      this.#expire(head, now);
    }
  }

  /** Fails the expired user records of `out`; routes the others again. */
  #expire(out: OutgoingRecord, now: ProducerTime): void {
    const survivors: UserRecord[] = [];
    for (const record of out.records) {
      if (record.expiresAt <= now)
        this.#settlement.fail(
          record,
          out.predictedShardId,
          EXPIRED,
          'The record was not put within recordTtl',
          now,
          now,
        );
      else survivors.push(record);
    }
    for (const record of survivors) this.#route(record);
  }

  /** Fails unrouted records past their TTL; returns when the next one expires. */
  #expireUnrouted(now: ProducerTime): ProducerTime {
    let next = NEVER;
    const kept: UserRecord[] = [];
    for (const record of this.#unrouted) {
      if (record.expiresAt <= now) {
        this.#settlement.fail(
          record,
          undefined,
          EXPIRED,
          'The record was not put within recordTtl: no shard map',
          now,
          now,
        );
      } else {
        kept.push(record);
        if (record.expiresAt < next) next = record.expiresAt;
      }
    }
    this.#unrouted = kept;
    return next;
  }

  #send(records: OutgoingRecord[]): void {
    this.#inFlight++;
    const events = this.#context.events;
    if (this.#received > 0 && events.hasListeners('producer.records.received')) {
      events.emit('producer.records.received', { streamName: this.streamName, count: this.#received });
    }
    this.#received = 0;
    this.#context.sender.putRecords(this.streamName, records).then(
      (outcome) => this.#onOutcome(records, outcome),
      (error: unknown) =>
        // p-queue rejects only if the queue was cleared under the call (the producer stopping).
        this.#onOutcome(records, {
          ok: false,
          error,
          start: this.#context.clock.now(),
          end: this.#context.clock.now(),
        }),
    );
  }

  #onOutcome(records: readonly OutgoingRecord[], outcome: PutRecordsOutcome): void {
    this.#inFlight--;
    const { verdicts, failedRecordCount, callError, staleMap } = classifyPutRecordsResult(
      outcome,
      records,
      this.#loader.map,
    );
    const { start, end } = outcome;
    if (this.#stopped) {
      // The producer gave up waiting: settle what came back instead of queueing it again. Only a record
      // certainly written where a consumer reads it counts as put.
      for (let i = 0; i < records.length; i++) {
        const out = records[i] as OutgoingRecord;
        const verdict = verdicts[i];
        if (verdict?.kind === 'put') this.#settlement.succeed(out, verdict.shardId, verdict.sequenceNumber, start, end);
        else
          this.#settlement.failAll(out, DESTROYED, 'The producer was destroyed before the record was put', start, end);
      }
      return;
    }
    for (const out of records) this.#queueOf(out)?.answered();
    let userRecords = 0;
    let bytes = 0;
    for (const out of records) {
      userRecords += out.records.length;
      bytes += out.size;
    }
    this.#context.events.emit('producer.request', {
      streamName: this.streamName,
      kinesisRecords: records.length,
      userRecords,
      bytes,
      durationMs: end - start,
      failedRecordCount: callError === undefined ? failedRecordCount : 0,
      ...(callError === undefined ? {} : { errorCode: callError.code, errorMessage: callError.message }),
    });
    if (staleMap !== undefined) this.#requestMap(end, staleMap);
    // Backwards so records put back at the front of their shard keep their order.
    for (let i = records.length - 1; i >= 0; i--) {
      const out = records[i] as OutgoingRecord;
      const verdict = verdicts[i];
      if (verdict === undefined) continue;
      switch (verdict.kind) {
        case 'put':
          this.#settlement.succeed(out, verdict.shardId, verdict.sequenceNumber, start, end);
          break;
        case 'wrong-shard':
          this.#onWrongShard(out, verdict.shardId, start, end);
          break;
        case 'needs-newer-map':
          this.#awaitingMap.push({
            record: out,
            shardId: verdict.shardId,
            sequenceNumber: verdict.sequenceNumber,
            start,
            end,
          });
          break;
        case 'failed':
          this.#onFailedRecord(
            out,
            verdict.code,
            verdict.message,
            verdict.errorClass,
            start,
            end,
            callError === undefined,
          );
          break;
      }
    }
    for (const out of records) this.#queueOf(out)?.endOfAnswer();
    this.#schedulePump();
  }

  /** The queue a Kinesis record was taken from, if it still exists. */
  #queueOf(out: OutgoingRecord): ShardQueue | undefined {
    return this.#shards.get(out.predictedShardId ?? UNPREDICTED);
  }

  #onWrongShard(out: OutgoingRecord, shardId: string, start: ProducerTime, end: ProducerTime): void {
    const message = `The aggregate landed on ${shardId}, which does not own all its records; sending them again`;
    this.#settlement.attemptFailed(out, WRONG_SHARD, message, false, shardId);
    for (const record of out.records) {
      if (record.settled) continue;
      record.addFailedAttempt(start, end, WRONG_SHARD, message);
      this.#hold(record);
    }
    this.#requestMap(end, message);
  }

  /**
   * An attempt of `out` failed with `code`. `perEntry`: the entry failed on its own, rather than with the
   * whole call (whose error the metrics count once, by its `producer.request` event).
   */
  #onFailedRecord(
    out: OutgoingRecord,
    code: string,
    message: string | undefined,
    errorClass: ErrorClass,
    start: ProducerTime,
    end: ProducerTime,
    perEntry: boolean,
  ): void {
    const { options } = this.#context;
    const final = errorClass === 'client' || (errorClass === 'throttling' && options.failIfThrottled);
    this.#settlement.attemptFailed(out, code, message, final, out.predictedShardId, !perEntry);
    if (final) {
      this.#settlement.failAll(out, code, message, start, end);
      return;
    }
    for (const record of out.records) record.addFailedAttempt(start, end, code, message);
    const queue = this.#queueOf(out);
    if (queue === undefined) {
      // Its shard was retired by a reshard meanwhile: route the records again with the new map.
      for (const record of out.records) this.#route(record);
      return;
    }
    queue.retry(out, errorClass === 'throttling', out.records[0]?.failedAttempts?.length ?? 1, end);
  }

  /**
   * Asks for a shard map listed after `evidenceAt`; if the current one is that new already, uses it for
   * what waits on a map.
   */
  #requestMap(evidenceAt: ProducerTime, reason: string): void {
    if (!this.#loader.request(evidenceAt, reason)) {
      const map = this.#loader.map;
      if (map !== undefined) this.#applyMap(map);
    }
  }

  /** Keeps a record until a shard map can route it (sent alone, unpredicted, while the map is unavailable). */
  #hold(record: UserRecord): void {
    if (this.#mapUnavailable) {
      this.#addToQueue(this.#unpredictedQueue(), record);
      return;
    }
    this.#unrouted.push(record);
    this.#wakeAt(record.expiresAt);
  }

  #onMapFailed(error: unknown, errorClass: ErrorClass): void {
    if (this.#stopped) return;
    // Landings waiting for this listing are judged without it: as wrong-shard landings (the KPL's rule).
    for (const v of this.#awaitingMap.splice(0)) this.#onWrongShard(v.record, v.shardId, v.start, v.end);
    if (errorClass !== 'client') return;
    const { code, message } = describeError(error);
    if (isAccessDenied(code)) {
      // A PutRecords-only policy: send each record on its own, unaggregated, so Kinesis routes it by its
      // hash key, while the loader keeps retrying the map (the KPL's fallback).
      this.#mapUnavailable = true;
      for (const record of this.#unrouted.splice(0)) this.#addToQueue(this.#unpredictedQueue(), record);
      this.#schedulePump();
      return;
    }
    // The stream does not exist: records waiting for its map can never be put, so fail them now rather than
    // at their TTL. The loader lists again when the next record asks.
    const now = this.#context.clock.now();
    for (const record of this.#unrouted.splice(0)) this.#settlement.fail(record, undefined, code, message, now, now);
  }

  /** Installs a new map: retires queues of closed shards, judges landings that waited for it, routes what waited. */
  #applyMap(map: ShardMap): void {
    if (this.#stopped) return;
    this.#mapUnavailable = false;
    this.#routes.clear();
    const moved: UserRecord[] = [];
    for (const [shardId, queue] of this.#shards) {
      if (map.isOpen(shardId)) continue;
      for (const out of queue.takeAll()) moved.push(...out.records);
      moved.push(...queue.aggregator.drain());
      this.#shards.delete(shardId);
    }
    const awaiting = this.#awaitingMap;
    this.#awaitingMap = [];
    for (const v of awaiting) {
      const verdict = judgeLanding(v.record, v.shardId, v.sequenceNumber, v.end, map);
      if (verdict.kind === 'put') this.#settlement.succeed(v.record, v.shardId, v.sequenceNumber, v.start, v.end);
      else if (verdict.kind === 'wrong-shard') this.#onWrongShard(v.record, v.shardId, v.start, v.end);
      else {
        // A listing that started before the answer: the loader lists again (asked when the answer came).
        this.#awaitingMap.push(v);
        this.#loader.request(v.end, 'a record landed on a shard the map does not know');
      }
    }
    const waiting = this.#unrouted;
    this.#unrouted = [];
    for (const record of moved) this.#route(record);
    for (const record of waiting) this.#route(record);
    this.#schedulePump();
  }
}

/** Whether a ListShards error code says the caller may not list the stream (a PutRecords-only policy). */
function isAccessDenied(code: string): boolean {
  return code === 'AccessDeniedException' || code === 'AccessDenied';
}
