import type { Writable } from 'node:stream';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import {
  AbortError,
  createCloudWatchClient,
  createKinesisClient,
  HashKeyCache,
  KinesisKitError,
  ShutdownError,
  TimeoutError,
  TypedEventEmitter,
  ValidationError,
} from '@kinesis-kit/core';
import { ArrivalClock } from './arrival-clock.js';
import { BufferFullError } from './errors.js';
import type { ProducerEventEmitter } from './events.js';
import { CloudWatchPublisher } from './metrics/cloudwatch-publisher.js';
import { MetricsRecorder, type ProducerMetricsSnapshot } from './metrics/metrics-recorder.js';
import { type ProducerOptions, type ResolvedProducerOptions, resolveProducerOptions } from './options.js';
import { Outstanding } from './outstanding.js';
import { type ProducerClock, producerClock, wallNow } from './producer-time.js';
import { type ProducerKinesisClient, Sender } from './sender.js';
import { type PipelineContext, StreamPipeline } from './stream-pipeline.js';
import {
  createUserRecord,
  promiseFor,
  type UserRecord,
  type UserRecordInput,
  type UserRecordSettings,
} from './user-record.js';
import type { UserRecordResult } from './user-record-result.js';
import { createProducerWritable, type ProducerWritableOptions } from './writable.js';

/** Options of {@link KinesisProducer.flushSync} and {@link KinesisProducer.destroy}. */
export interface WaitOptions {
  /** Give up after this many ms. @defaultValue no limit (records still end by their `recordTtl`) */
  timeoutMs?: number;
  /** Give up when aborted. */
  signal?: AbortSignal;
}

/** Options of {@link KinesisProducer.waitForCapacity}. */
export interface CapacityOptions {
  /** Room needed, in records. @defaultValue 1 */
  records?: number;
  /**
   * Room needed, in bytes (partition keys and data). The default makes room for any record the producer
   * accepts, so `await waitForCapacity(); addUserRecord(...)` never meets a `BufferFullError`; pass the size
   * of the record about to be added to use the byte bound to its last byte.
   * @defaultValue `maxUserRecordSize`
   */
  bytes?: number;
  signal?: AbortSignal;
}

/**
 * The Kinesis Producer Library for Node: every user record gets a promise; records are aggregated per
 * shard, collected into PutRecords calls, kept under each shard's limits, retried with backoff until
 * `recordTtl`, and bounded in memory.
 *
 * @example
 * ```ts
 * const producer = new KinesisProducer({ region: 'eu-west-1' });
 * const result = await producer.addUserRecord('orders', order.customerId, JSON.stringify(order));
 * await producer.destroy();
 * ```
 */
export class KinesisProducer {
  /** The producer's events (`producer.request`, `producer.record.put`, `producer.error`, …). */
  readonly events: ProducerEventEmitter;
  readonly #options: ResolvedProducerOptions;
  readonly #client: ProducerKinesisClient;
  readonly #ownedClient: KinesisClient | undefined;
  readonly #sender: Sender;
  readonly #outstanding: Outstanding;
  readonly #hashKeys = new HashKeyCache();
  readonly #streams = new Map<string, StreamEntry>();
  readonly #stop = new AbortController();
  readonly #context: PipelineContext;
  readonly #recordSettings: UserRecordSettings;
  /** Producer time: ms since construction (see {@link producerClock}). */
  readonly #time: ProducerClock;
  /** {@link #time} for stamping arriving records (see {@link ArrivalClock}). */
  readonly #arrivals: ArrivalClock;
  readonly #recorder: MetricsRecorder;
  #publisher: CloudWatchPublisher | undefined;
  #ownedCloudWatch: CloudWatchClient | undefined;
  #destroying: Promise<void> | undefined;

  /** @throws {@link @kinesis-kit/core!ValidationError} when an option is invalid, naming it and the rule. */
  constructor(options: ProducerOptions = {}) {
    const resolved = resolveProducerOptions(options);
    this.#options = resolved;
    this.events = new TypedEventEmitter({ clock: resolved.clock });
    if (resolved.kinesisClient === undefined) {
      // core's factory: HTTP/1.1 keep-alive with one socket per allowed call, like the KPL's connection pool (the
      // SDK's default HTTP/2 handler costs a handshake per call and is not spoken by kinesalite); an endpoint left
      // unset is found by the SDK in AWS_ENDPOINT_URL_KINESIS. Retries are per record, here: an SDK retry of a
      // whole call would resend records that succeeded.
      this.#ownedClient = createKinesisClient({
        ...(resolved.region === undefined ? {} : { region: resolved.region }),
        ...(resolved.endpoint === undefined ? {} : { kinesisEndpoint: resolved.endpoint }),
        ...(resolved.credentials === undefined ? {} : { credentials: resolved.credentials }),
        maxAttempts: 1,
        maxSockets: resolved.maxConnections,
      });
      this.#client = this.#ownedClient;
    } else {
      this.#client = resolved.kinesisClient;
    }
    this.#time = producerClock(resolved.clock);
    this.#arrivals = new ArrivalClock(this.#time);
    this.#sender = new Sender(this.#client, this.#time, resolved.maxConnections, resolved.requestTimeout);
    this.#outstanding = new Outstanding(resolved.maxOutstandingRecords, resolved.maxOutstandingBytes);
    this.#context = {
      options: resolved,
      clock: this.#time,
      client: this.#client,
      sender: this.#sender,
      events: this.events,
      outstanding: this.#outstanding,
      stopSignal: this.#stop.signal,
    };
    this.#recorder = new MetricsRecorder(this.events, wallNow(resolved.clock));
    this.#recordSettings = {
      hashKeys: this.#hashKeys,
      maxUserRecordSize: resolved.maxUserRecordSize,
      recordMaxBufferedTime: resolved.recordMaxBufferedTime,
      recordTtl: resolved.recordTtl,
      copyData: resolved.copyData,
    };
  }

  /**
   * The KPL's metrics (names, units, dimensions) since the producer was created, at every granularity:
   * the figures the CloudWatch uploads are made of.
   */
  getMetrics(): ProducerMetricsSnapshot {
    this.#countReceived();
    return this.#recorder.snapshot(wallNow(this.#options.clock));
  }

  /** Starts uploading metrics with the first record, so a producer that never sends keeps no timer. */
  #startMetrics(): void {
    const options = this.#options;
    if (options.metricsLevel === 'none') return;
    let client = options.cloudWatchClient;
    if (client === undefined) {
      this.#ownedCloudWatch = createCloudWatchClient({
        ...(options.region === undefined ? {} : { region: options.region }),
        ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
        maxAttempts: 1,
      });
      client = this.#ownedCloudWatch;
    }
    this.#publisher = new CloudWatchPublisher({
      client,
      recorder: this.#recorder,
      events: this.events,
      clock: options.clock,
      namespace: options.metricsNamespace,
      level: options.metricsLevel,
      granularity: options.metricsGranularity,
      uploadDelay: options.metricsUploadDelay,
      requestTimeout: options.requestTimeout,
      // The KPL's UserRecordsPending: a gauge sampled every 200 ms, so an upload reports its min, max and mean.
      sample: () => {
        this.#countReceived();
        for (const { pipeline } of this.#streams.values())
          this.#recorder.samplePending(pipeline.streamName, pipeline.pending);
      },
    });
    this.#publisher.start();
  }

  /** The options in effect, defaults applied. */
  get options(): ResolvedProducerOptions {
    return this.#options;
  }

  /**
   * Adds a user record. The promise resolves with where it landed once it is put, or rejects with a
   * `UserRecordFailedError` (its `result` holds every attempt), a `ValidationError` (at once, for a bad
   * record), a `BufferFullError` (the memory bound is reached: await {@link waitForCapacity}) or a
   * `ShutdownError` (after {@link destroy} began).
   */
  addUserRecord(
    streamName: string,
    partitionKey: string,
    data: Uint8Array | string,
    explicitHashKey?: string | bigint | null,
  ): Promise<UserRecordResult>;
  addUserRecord(record: UserRecordInput): Promise<UserRecordResult>;
  addUserRecord(
    streamOrRecord: string | UserRecordInput,
    partitionKey?: string,
    data?: Uint8Array | string,
    explicitHashKey?: string | bigint | null,
  ): Promise<UserRecordResult> {
    if (typeof streamOrRecord === 'object' && streamOrRecord !== null) {
      return this.#add(
        streamOrRecord.streamName,
        streamOrRecord.partitionKey,
        streamOrRecord.data,
        streamOrRecord.explicitHashKey,
      );
    }
    return this.#add(streamOrRecord, partitionKey, data, explicitHashKey);
  }

  // Arguments are `unknown` on purpose: JavaScript callers can pass anything, and validation says what is wrong.
  #add(streamName: string, partitionKey: unknown, data: unknown, explicitHashKey: unknown): Promise<UserRecordResult> {
    if (this.#destroying !== undefined) {
      return Promise.reject(new ShutdownError('The producer is being destroyed; no more records are accepted'));
    }
    let stream = this.#streams.get(streamName);
    let record: UserRecord;
    try {
      record = createUserRecord(
        streamName,
        stream !== undefined,
        partitionKey,
        data,
        explicitHashKey,
        this.#recordSettings,
        this.#arrivals.now(),
      );
    } catch (error) {
      return Promise.reject(error);
    }
    const outstanding = this.#outstanding;
    if (!outstanding.hasRoom(record.size)) {
      return Promise.reject(
        new BufferFullError(
          outstanding.count,
          outstanding.bytes,
          { records: outstanding.maxRecords, bytes: outstanding.maxBytes },
          { streamName },
        ),
      );
    }
    const promise = promiseFor(record);
    outstanding.add(record);
    if (stream === undefined) stream = this.#addStream(streamName);
    // Counted here, at add (the KPL's UserRecordsReceived), and handed to the metrics in batches.
    stream.received++;
    stream.pipeline.add(record);
    // The caller may reuse its buffer from now on: a record that joined an aggregate has been copied into it,
    // any other (sent alone, waiting for a shard map) gets a copy of its own here.
    if (record.borrowed) record.ownData();
    return promise;
  }

  #addStream(streamName: string): StreamEntry {
    if (this.#streams.size === 0) this.#startMetrics();
    const stream = { pipeline: new StreamPipeline(streamName, this.#context), received: 0 };
    this.#streams.set(streamName, stream);
    return stream;
  }

  /** Hands the records added since the last call to the metrics (every sample, before every read). */
  #countReceived(): void {
    for (const stream of this.#streams.values()) {
      if (stream.received === 0) continue;
      this.#recorder.received(stream.pipeline.streamName, stream.received);
      stream.received = 0;
    }
  }

  /**
   * Sends what is buffered (of one stream, or all) without waiting for `recordMaxBufferedTime`. Rate
   * limits still apply. Returns at once; use {@link flushSync} to wait.
   */
  flush(streamName?: string): void {
    if (streamName === undefined) {
      for (const { pipeline } of this.#streams.values()) pipeline.flush();
    } else {
      this.#streams.get(streamName)?.pipeline.flush();
    }
  }

  /**
   * Flushes, then resolves once every record added before the call has settled (put, or failed for good).
   * Unlike the KPL's, it takes a timeout and a signal, and it does not poll.
   * @throws {@link @kinesis-kit/core!TimeoutError} after `timeoutMs`; {@link @kinesis-kit/core!AbortError} when `signal` aborts. Records keep going.
   */
  async flushSync(options: WaitOptions = {}): Promise<void> {
    const upTo = this.#outstanding.added;
    this.flush();
    await this.#withTimeout(options, (signal) => this.#outstanding.whenSettled(upTo, signal), 'flushSync');
  }

  /** User records accepted and not yet settled. */
  getOutstandingRecordsCount(): number {
    return this.#outstanding.count;
  }

  /** Bytes (partition keys and data) of user records accepted and not yet settled. */
  getOutstandingBytes(): number {
    return this.#outstanding.bytes;
  }

  /** Age in ms of the oldest user record not yet settled; 0 when none is. */
  getOldestRecordTimeInMillis(): number {
    const oldest = this.#outstanding.oldest();
    return oldest === undefined ? 0 : this.#time.now() - oldest.arrivedAt;
  }

  /**
   * Resolves once the memory bounds leave room for `records` more records of `bytes` more bytes in total:
   * the way to add records in a loop without ever getting a `BufferFullError`. With no `bytes`, it waits
   * for room for `records` records of up to `maxUserRecordSize` bytes together, so the loop is right
   * whichever bound binds (issue 11: it used to check the count only, and once the byte bound bound the
   * documented loop lost records to `BufferFullError`). Room is not reserved: add right after it resolves,
   * without awaiting anything else in between.
   */
  waitForCapacity(options: CapacityOptions = {}): Promise<void> {
    const records = options.records ?? 1;
    const bytes = options.bytes ?? this.#options.maxUserRecordSize;
    if (this.#destroying !== undefined) {
      return Promise.reject(new ShutdownError('The producer is being destroyed'));
    }
    if (records > this.#outstanding.maxRecords || bytes > this.#outstanding.maxBytes) {
      return Promise.reject(
        new ValidationError(
          `waitForCapacity asks for ${records} records and ${bytes} bytes, more than the bounds (${this.#outstanding.maxRecords} records, ${this.#outstanding.maxBytes} bytes) allow`,
          { field: 'records', value: { records, bytes } },
        ),
      );
    }
    return this.#outstanding.whenRoom(records, bytes, options.signal);
  }

  /**
   * A Node `Writable` (object mode) that adds each chunk as a user record and applies backpressure: it
   * takes a chunk only when the producer has room, and its end waits until every record has settled. A
   * failed record destroys the stream with its error unless `onError` is given.
   *
   * @example
   * ```ts
   * await pipeline(orders, producer.writable({ streamName: 'orders', partitionKey: (o: Order) => o.customerId }));
   * ```
   */
  writable<T>(options: ProducerWritableOptions<T>): Writable {
    return createProducerWritable(this, options);
  }

  /**
   * Stops the producer: refuses new records (`ShutdownError`), waits for the outstanding ones like
   * {@link flushSync}, then stops timers and closes the client it created. Records still outstanding when
   * `timeoutMs` passes or `signal` aborts are failed with code `Destroyed`; no promise is left unsettled.
   * Calling it again returns the same promise.
   */
  destroy(options: WaitOptions = {}): Promise<void> {
    this.#destroying ??= this.#destroy(options);
    return this.#destroying;
  }

  async #destroy(options: WaitOptions): Promise<void> {
    const upTo = this.#outstanding.added;
    this.flush();
    try {
      await this.#withTimeout(options, (signal) => this.#outstanding.whenSettled(upTo, signal), 'destroy');
    } catch {
      // Timed out or aborted: what is left is failed below.
    }
    const error = new ShutdownError('The producer was destroyed before the record was put');
    for (const { pipeline } of this.#streams.values()) {
      try {
        pipeline.stop(error);
      } catch (stopError) {
        this.#report(stopError, 'destroy');
      }
    }
    this.#stop.abort(error);
    this.#sender.stop();
    // Records in flight when the sender stopped come back as failures; wait for them to settle.
    await this.#outstanding.whenSettled(this.#outstanding.added);
    await this.#stopMetrics();
    this.#recorder.stop();
    this.#ownedClient?.destroy();
    this.#ownedCloudWatch?.destroy();
  }

  /** Stops the uploads after a last one, given at most `requestTimeout` so destroy never hangs on CloudWatch. */
  async #stopMetrics(): Promise<void> {
    const publisher = this.#publisher;
    if (publisher === undefined) return;
    this.#countReceived();
    const timer = new AbortController();
    try {
      await Promise.race([
        publisher.stop().catch((error: unknown) => this.#report(error, 'PutMetricData')),
        this.#options.clock.sleep(this.#options.requestTimeout, timer.signal).catch(() => {}),
      ]);
    } finally {
      timer.abort();
    }
  }

  async #withTimeout(
    options: WaitOptions,
    wait: (signal: AbortSignal) => Promise<void>,
    operation: string,
  ): Promise<void> {
    const { timeoutMs, signal } = options;
    if (timeoutMs !== undefined && (!Number.isFinite(timeoutMs) || timeoutMs < 0)) {
      throw new ValidationError(`timeoutMs must be a finite number ≥ 0, got ${timeoutMs}`, {
        field: 'timeoutMs',
        value: timeoutMs,
      });
    }
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(new AbortError(`${operation} was aborted`, { cause: signal?.reason }));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = new AbortController();
    if (timeoutMs !== undefined) {
      this.#options.clock.sleep(timeoutMs, timer.signal).then(
        () =>
          controller.abort(
            new TimeoutError(
              `${operation} gave up after ${timeoutMs} ms with ${this.#outstanding.count} records outstanding`,
            ),
          ),
        () => {},
      );
    }
    try {
      await wait(controller.signal);
    } catch (error) {
      const reason: unknown = controller.signal.reason;
      throw reason instanceof Error ? reason : error;
    } finally {
      timer.abort();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  #report(error: unknown, operation: string): void {
    const failure = error instanceof Error ? error : new KinesisKitError('INTERNAL', String(error));
    this.events.emit('producer.error', { error: failure, operation });
  }
}

/** A stream's pipeline and the records added to it since they were last counted into the metrics. */
interface StreamEntry {
  readonly pipeline: StreamPipeline;
  received: number;
}
