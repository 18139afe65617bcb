import type { PutRecordsResultEntry } from '@aws-sdk/client-kinesis';
import {
  backoffDelay,
  type Clock,
  callWithTimeout,
  classifyError,
  type ErrorClass,
  KinesisKitError,
  ShardMap,
} from '@kinesis-kit/core';
import type { AggregatorLimits } from './aggregator.js';
import { Collector } from './collector.js';
import {
  COLLECTION_SLACK_MAX_MS,
  COLLECTION_SLACK_RATIO,
  SHARD_FLUSH_BYTES,
  SHARD_MAP_MIN_RELOAD_INTERVAL,
  SHARD_MAP_RETRY_BACKOFF,
} from './defaults.js';
import { DESTROYED, EXPIRED, WRONG_SHARD } from './errors.js';
import type { ProducerEventEmitter } from './events.js';
import type { ResolvedProducerOptions } from './options.js';
import type { OutgoingRecord } from './outgoing-record.js';
import type { Outstanding } from './outstanding.js';
import type { ProducerKinesisClient, PutRecordsOutcome, Sender } from './sender.js';
import { Settlement } from './settlement.js';
import { ReadyTotals, type ShardBackoff, ShardQueue } from './shard-queue.js';
import type { UserRecord } from './user-record.js';

/** Partition keys whose route a pipeline remembers before it starts over. */
const MAX_REMEMBERED_ROUTES = 65_536;

/** What a {@link StreamPipeline} shares with the producer and the other pipelines. */
export interface PipelineContext {
  readonly options: ResolvedProducerOptions;
  readonly clock: Clock;
  readonly client: ProducerKinesisClient;
  readonly sender: Sender;
  readonly events: ProducerEventEmitter;
  readonly outstanding: Outstanding;
  /** Aborted when the producer stops for good: cancels shard listings and their backoff sleeps. */
  readonly stopSignal: AbortSignal;
}

/** An aggregate that landed on a shard the map did not know; judged once the map is reloaded. */
interface PendingVerdict {
  readonly record: OutgoingRecord;
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly start: number;
  readonly end: number;
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
  #map: ShardMap | undefined;
  #loading = false;
  /** A reload was asked for while one was running, with evidence newer than that listing. */
  #reloadRequested = false;
  #loadStartedAt = 0;
  #loadFailures = 0;
  #lastLoadAt = Number.NEGATIVE_INFINITY;
  /** The queue each recently seen partition key routes to under the current map (see `#route`). */
  readonly #routes = new Map<string, ShardQueue>();
  /** Records waiting for a shard map (before the first listing, or in a gap of a listing taken mid-reshard). */
  #unrouted: UserRecord[] = [];
  #pendingVerdicts: PendingVerdict[] = [];
  readonly #ready = new ReadyTotals();
  readonly #backoff: ShardBackoff;
  #received = 0;
  #inFlight = 0;
  #timerAt = Number.POSITIVE_INFINITY;
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
  }

  /** The shard map in use, once loaded. */
  get shardMap(): ShardMap | undefined {
    return this.#map;
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
    if (this.#map === undefined) {
      this.#unrouted.push(record);
      if (!this.#loading) void this.#load('first record');
      this.#wakeAt(record.expiresAt);
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
    // These were written; only the shard check was pending. Report them as put rather than lose them.
    for (const v of this.#pendingVerdicts.splice(0))
      this.#settlement.succeed(v.record, v.shardId, v.sequenceNumber, v.start, v.end);
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
    const byKey = record.explicitHashKey === undefined;
    let queue = byKey ? this.#routes.get(record.partitionKey) : undefined;
    if (queue === undefined) {
      const shard = this.#map?.shardFor(record.hashKey);
      if (shard === undefined) {
        // A gap in a listing taken mid-reshard: wait for the next listing rather than guess a shard.
        this.#unrouted.push(record);
        this.#requestReload(this.#context.clock.now(), 'hash key not covered by an open shard');
        this.#wakeAt(record.expiresAt);
        return;
      }
      queue = this.#shards.get(shard.shardId) ?? this.#addQueue(shard.shardId);
      if (byKey) {
        if (this.#routes.size >= MAX_REMEMBERED_ROUTES) this.#routes.clear();
        this.#routes.set(record.partitionKey, queue);
      }
    }
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

  #schedulePump(): void {
    if (this.#pumpScheduled || this.#stopped) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  /** Makes sure `#pump` runs no later than `at`. */
  #wakeAt(at: number): void {
    if (at >= this.#timerAt || this.#stopped || at === Number.POSITIVE_INFINITY) return;
    this.#timer?.abort();
    const timer = new AbortController();
    this.#timer = timer;
    this.#timerAt = at;
    const clock = this.#context.clock;
    clock.sleep(Math.max(0, at - clock.now()), timer.signal).then(
      () => {
        if (this.#timer !== timer) return;
        this.#timer = undefined;
        this.#timerAt = Number.POSITIVE_INFINITY;
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
    const sendBy = now + this.#slack;
    let nextWake = Number.POSITIVE_INFINITY;

    if (this.#unrouted.length > 0) nextWake = Math.min(nextWake, this.#expireUnrouted(now));

    const full = this.#ready.count >= options.collectionMaxCount || this.#ready.bytes >= options.collectionMaxSize;
    const collector = this.#collector;
    for (const queue of this.#shards.values()) {
      const aggregator = queue.aggregator;
      if (aggregator.count > 0) {
        if (aggregator.deadline <= sendBy) {
          const out = aggregator.seal();
          if (out !== undefined) queue.emit(out);
        } else {
          nextWake = Math.min(nextWake, aggregator.deadline);
        }
      }
      if (queue.readyCount === 0 || queue.inFlight) continue;
      this.#expireReady(queue, now);
      const head = queue.peek();
      if (head === undefined) continue;
      if (queue.pausedUntil > now) {
        nextWake = Math.min(nextWake, queue.pausedUntil, head.expiresAt);
        continue;
      }
      if (!(head.deadline <= sendBy || full || queue.readyBytes >= SHARD_FLUSH_BYTES)) {
        nextWake = Math.min(nextWake, head.deadline);
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
          nextWake = Math.min(nextWake, queue.limiter.availableAt(out.size, now), out.expiresAt);
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

  #expireReady(queue: ShardQueue, now: number): void {
    for (let head = queue.peek(); head !== undefined && head.expiresAt <= now; head = queue.peek()) {
      queue.shift();
      this.#expire(head, now);
    }
  }

  /** Fails the expired user records of `out`; routes the others again. */
  #expire(out: OutgoingRecord, now: number): void {
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
  #expireUnrouted(now: number): number {
    let next = Number.POSITIVE_INFINITY;
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
    if (this.#stopped) {
      // The producer gave up waiting: settle what came back instead of queueing it again.
      for (const out of records) {
        if (outcome.ok) {
          const result = outcome.output.Records?.[records.indexOf(out)];
          if (result?.SequenceNumber !== undefined && result.ShardId !== undefined) {
            this.#settlement.succeed(out, result.ShardId, result.SequenceNumber, outcome.start, outcome.end);
            continue;
          }
        }
        this.#settlement.failAll(
          out,
          DESTROYED,
          'The producer was destroyed before the record was put',
          outcome.start,
          outcome.end,
        );
      }
      return;
    }
    for (const out of records) {
      const queue = out.predictedShardId === undefined ? undefined : this.#shards.get(out.predictedShardId);
      queue?.answered();
    }
    const { start, end } = outcome;
    let userRecords = 0;
    let bytes = 0;
    for (const out of records) {
      userRecords += out.records.length;
      bytes += out.size;
    }
    if (!outcome.ok) {
      const { code, message } = describeError(outcome.error);
      this.#context.events.emit('producer.request', {
        streamName: this.streamName,
        kinesisRecords: records.length,
        userRecords,
        bytes,
        durationMs: end - start,
        failedRecordCount: 0,
        errorCode: code,
        errorMessage: message,
      });
      const errorClass = classifyError(outcome.error);
      // Backwards so records put back at the front of their shard keep their order.
      for (let i = records.length - 1; i >= 0; i--) {
        const out = records[i];
        if (out !== undefined) this.#onFailedRecord(out, code, message, errorClass, start, end);
      }
    } else {
      const results = outcome.output.Records ?? [];
      let failed = outcome.output.FailedRecordCount ?? 0;
      if (results.length !== records.length) {
        failed = records.length;
        for (const out of records) {
          this.#settlement.failAll(
            out,
            'RecordCountMismatch',
            `PutRecords answered ${results.length} entries for ${records.length}`,
            start,
            end,
          );
        }
      } else {
        for (let i = records.length - 1; i >= 0; i--) {
          const out = records[i];
          const result = results[i];
          if (out === undefined || result === undefined) continue;
          this.#onResultEntry(out, result, start, end);
        }
      }
      this.#context.events.emit('producer.request', {
        streamName: this.streamName,
        kinesisRecords: records.length,
        userRecords,
        bytes,
        durationMs: end - start,
        failedRecordCount: failed,
      });
    }
    for (const out of records) {
      const queue = out.predictedShardId === undefined ? undefined : this.#shards.get(out.predictedShardId);
      queue?.endOfAnswer();
    }
    this.#schedulePump();
  }

  #onResultEntry(out: OutgoingRecord, result: PutRecordsResultEntry, start: number, end: number): void {
    const { SequenceNumber: sequenceNumber, ShardId: shardId } = result;
    if (sequenceNumber !== undefined && sequenceNumber !== '' && shardId !== undefined && shardId !== '') {
      this.#onLanded(out, shardId, sequenceNumber, start, end);
      return;
    }
    const code = result.ErrorCode ?? 'UnknownError';
    const errorClass = classifyError({ name: code });
    this.#onFailedRecord(out, code, result.ErrorMessage, errorClass, start, end);
  }

  /** A Kinesis record was written to `shardId`: succeed its user records unless the shard is wrong for them. */
  #onLanded(out: OutgoingRecord, shardId: string, sequenceNumber: string, start: number, end: number): void {
    if (out.predictedShardId !== undefined && shardId !== out.predictedShardId) {
      // The map is stale (a reshard). A lone record always lands where its hash key belongs; an aggregate
      // lands where its first record belongs and is only good if the shard owns every record in it.
      this.#requestReload(start, `a record landed on ${shardId}, not ${out.predictedShardId}`);
      if (out.aggregated) {
        const map = this.#map;
        if (map === undefined || map.shard(shardId) === undefined || this.#loading) {
          this.#pendingVerdicts.push({ record: out, shardId, sequenceNumber, start, end });
          return;
        }
        if (!out.records.every((r) => map.contains(shardId, r.hashKey))) {
          this.#onWrongShard(out, shardId, start, end);
          return;
        }
      }
    }
    this.#settlement.succeed(out, shardId, sequenceNumber, start, end);
  }

  #onWrongShard(out: OutgoingRecord, shardId: string, start: number, end: number): void {
    const message = `The aggregate landed on ${shardId}, which does not own all its records; sending them again`;
    this.#settlement.attemptFailed(out, WRONG_SHARD, message, false, shardId);
    for (const record of out.records) {
      record.addFailedAttempt(start, end, WRONG_SHARD, message);
      this.#unrouted.push(record);
    }
    this.#requestReload(start, message);
  }

  #onFailedRecord(
    out: OutgoingRecord,
    code: string,
    message: string | undefined,
    errorClass: ErrorClass,
    start: number,
    end: number,
  ): void {
    const { options } = this.#context;
    const final = errorClass === 'client' || (errorClass === 'throttling' && options.failIfThrottled);
    this.#settlement.attemptFailed(out, code, message, final, out.predictedShardId);
    if (final) {
      this.#settlement.failAll(out, code, message, start, end);
      return;
    }
    for (const record of out.records) record.addFailedAttempt(start, end, code, message);
    const queue = out.predictedShardId === undefined ? undefined : this.#shards.get(out.predictedShardId);
    if (queue === undefined) {
      // Its shard was retired by a reshard meanwhile: route the records again with the new map.
      for (const record of out.records) this.#route(record);
      return;
    }
    queue.retry(out, errorClass === 'throttling', out.records[0]?.failedAttempts?.length ?? 1, end);
  }

  #requestReload(evidenceAt: number, reason: string): void {
    if (this.#loading) {
      if (evidenceAt >= this.#loadStartedAt) this.#reloadRequested = true;
      return;
    }
    const map = this.#map;
    if (map !== undefined && evidenceAt < map.loadedAt) {
      // The map was listed after the evidence was gathered; it already knows. Route what waits on it.
      this.#applyMap(map);
      return;
    }
    void this.#load(reason);
  }

  async #load(reason: string): Promise<void> {
    if (this.#loading || this.#stopped) return;
    this.#loading = true;
    this.#reloadRequested = false;
    const { clock, stopSignal, events } = this.#context;
    let map: ShardMap;
    try {
      // Mid-reshard a listing can have gaps that send records straight back here; don't hammer ListShards.
      const wait = this.#lastLoadAt + SHARD_MAP_MIN_RELOAD_INTERVAL - clock.now();
      if (this.#map !== undefined && wait > 0) await clock.sleep(wait, stopSignal);
      this.#loadStartedAt = clock.now();
      this.#lastLoadAt = this.#loadStartedAt;
      map = await this.#listWithTimeout();
    } catch (error) {
      this.#loading = false;
      if (this.#stopped) return;
      const failure = error instanceof Error ? error : new KinesisKitError('LIST_SHARDS_FAILED', String(error));
      events.emit('producer.error', { error: failure, streamName: this.streamName, operation: 'ListShards' });
      if (classifyError(error) === 'client') {
        // The stream does not exist or we may not list it: records for it can never be put, so fail them
        // now rather than at their TTL. The next record tries again.
        const { code, message } = describeError(error);
        const now = clock.now();
        const waiting = this.#unrouted;
        this.#unrouted = [];
        for (const record of waiting) this.#settlement.fail(record, undefined, code, message, now, now);
        for (const verdict of this.#pendingVerdicts.splice(0)) {
          this.#settlement.succeed(verdict.record, verdict.shardId, verdict.sequenceNumber, verdict.start, verdict.end);
        }
        return;
      }
      const delay = backoffDelay(this.#loadFailures, SHARD_MAP_RETRY_BACKOFF, () => 1);
      this.#loadFailures++;
      clock.sleep(delay, stopSignal).then(
        () => void this.#load(`retry after ${reason}`),
        () => {},
      );
      return;
    }
    this.#loading = false;
    this.#loadFailures = 0;
    if (this.#stopped) return;
    events.emit('producer.shard-map.loaded', {
      streamName: this.streamName,
      openShards: map.openShards.length,
      reason,
    });
    this.#applyMap(map);
    if (this.#reloadRequested) void this.#load('newer evidence of a reshard');
  }

  /** Lists the shards, giving up after `requestTimeout` (or when the producer stops) so a hung call cannot wedge the stream. */
  #listWithTimeout(): Promise<ShardMap> {
    const { client, clock, stopSignal, options } = this.#context;
    return callWithTimeout((signal) => ShardMap.load(client, { streamName: this.streamName, clock, signal }), {
      operation: 'ListShards',
      timeoutMs: options.requestTimeout,
      clock,
      signal: stopSignal,
      // Retriable, so the map is listed again after a backoff.
      timeoutError: () =>
        new KinesisKitError(
          'LIST_SHARDS_TIMEOUT',
          `ListShards took longer than requestTimeout (${options.requestTimeout} ms)`,
          { retriable: true, streamName: this.streamName },
        ),
    });
  }

  /** Installs a new map: retires queues of closed shards, judges pending landings, routes what waited. */
  #applyMap(map: ShardMap): void {
    this.#map = map;
    this.#routes.clear();
    const moved: UserRecord[] = [];
    for (const [shardId, queue] of this.#shards) {
      if (map.isOpen(shardId)) continue;
      for (const out of queue.takeAll()) moved.push(...out.records);
      moved.push(...queue.aggregator.drain());
      this.#shards.delete(shardId);
    }
    const verdicts = this.#pendingVerdicts;
    this.#pendingVerdicts = [];
    for (const verdict of verdicts) {
      const { record: out, shardId } = verdict;
      if (map.shard(shardId) !== undefined && out.records.every((r) => map.contains(shardId, r.hashKey))) {
        this.#settlement.succeed(out, shardId, verdict.sequenceNumber, verdict.start, verdict.end);
      } else if (map.shard(shardId) === undefined && this.#loadFailures === 0 && !this.#reloadRequested) {
        // Still unknown (an eventually consistent listing): look again.
        this.#pendingVerdicts.push(verdict);
        this.#reloadRequested = true;
      } else {
        this.#onWrongShard(out, shardId, verdict.start, verdict.end);
      }
    }
    const waiting = this.#unrouted;
    this.#unrouted = [];
    for (const record of moved) this.#route(record);
    for (const record of waiting) this.#route(record);
    this.#schedulePump();
  }
}

function describeError(error: unknown): { code: string; message: string | undefined } {
  if (error instanceof KinesisKitError) return { code: error.code, message: error.message };
  if (error instanceof Error) return { code: error.name, message: error.message };
  return { code: 'UnknownError', message: String(error) };
}
