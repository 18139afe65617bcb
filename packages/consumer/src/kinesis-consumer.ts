import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import {
  createCloudWatchClient,
  createDynamoDBClient,
  createKinesisClient,
  type EventEnvelope,
  type EventListener,
  type EventType,
  KinesisKitError,
  retry,
  type SdkClientOptions,
  ShutdownError,
  TypedEventEmitter,
  type Unsubscribe,
} from '@kinesis-kit/core';
import type { ConsumerEvents, ShardShutdownReason } from './events.js';
import { DynamoDBLeaseStore } from './leases/dynamodb-lease-store.js';
import { LeaseCleanup } from './leases/lease-cleanup.js';
import { LeaseCoordinator } from './leases/lease-coordinator.js';
import type { LeaseHandle } from './leases/lease-handle.js';
import type { LeaseStore } from './leases/lease-store.js';
import { CloudWatchMetricsPublisher } from './metrics/cloudwatch-metrics-publisher.js';
import { type KinesisConsumerOptions, type ResolvedConsumerOptions, resolveConsumerOptions } from './options.js';
import { PollingFetcher } from './retrieval/polling-fetcher.js';
import { PrefetchingFetcher } from './retrieval/prefetching-fetcher.js';
import type { RecordsFetcherFactory } from './retrieval/records-fetcher.js';
import { ShardConsumer } from './shard-consumer.js';
import { ShardSyncer } from './shard-sync.js';

interface RunningShard {
  readonly consumer: ShardConsumer;
  readonly handle: LeaseHandle;
  readonly done: Promise<unknown>;
}

/**
 * The KCL 2.x worker (the Java `Scheduler`): shares a stream's shards with every other worker of the same
 * application through the lease table, runs one {@link RecordProcessor} per leased shard, and keeps
 * shard sync, lease renewal, lease taking and lease cleanup going in the background.
 *
 * ```ts
 * const consumer = new KinesisConsumer({ streamName, applicationName, processor: MyProcessor });
 * consumer.on('lease.acquired', ({ payload }) => console.log('now processing', payload.leaseKey));
 * await consumer.start();
 * // …
 * await consumer.shutdown(); // processors checkpoint in shutdownRequested; leases are handed back at once
 * ```
 *
 * `start()` and `shutdown()` are idempotent and return the same promise when called again.
 */
export class KinesisConsumer {
  readonly workerIdentifier: string;
  readonly options: ResolvedConsumerOptions;
  readonly #events: TypedEventEmitter<ConsumerEvents>;
  readonly #kinesis: KinesisClient;
  readonly #dynamo: DynamoDBClient | undefined;
  readonly #ownedClients: { destroy(): void }[] = [];
  readonly #store: LeaseStore;
  readonly #syncer: ShardSyncer;
  readonly #coordinator: LeaseCoordinator;
  readonly #cleanup: LeaseCleanup;
  readonly #fetcherFactory: RecordsFetcherFactory;
  readonly #metrics: CloudWatchMetricsPublisher | undefined;
  readonly #shards = new Map<string, RunningShard>();
  readonly #background = new AbortController();
  #loops: Promise<void>[] = [];
  #startPromise: Promise<void> | undefined;
  /** The start itself, without the clean-up on failure that `#startPromise` adds (which awaits shutdown). */
  #starting: Promise<void> | undefined;
  #shutdownPromise: Promise<void> | undefined;
  #signalHandler: (() => void) | undefined;

  /** @throws {@link @kinesis-kit/core!ValidationError} naming the first invalid option. */
  constructor(options: KinesisConsumerOptions) {
    const resolved = resolveConsumerOptions(options);
    this.options = resolved;
    this.workerIdentifier = resolved.workerIdentifier;
    const { clock } = resolved;
    this.#events = new TypedEventEmitter<ConsumerEvents>({ clock });

    // core's factories: HTTP/1.1 keep-alive (the SDK's default HTTP/2 handler fails against kinesalite), and an
    // endpoint left unset is found by the SDK in AWS_ENDPOINT_URL_KINESIS / _DYNAMODB / _CLOUDWATCH.
    const clientOptions: SdkClientOptions = {
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.endpoint === undefined
        ? {}
        : {
            kinesisEndpoint: options.endpoint,
            dynamoDbEndpoint: options.endpoint,
            cloudWatchEndpoint: options.endpoint,
          }),
    };
    if (options.kinesisClient === undefined) {
      this.#kinesis = createKinesisClient(clientOptions);
      this.#ownedClients.push(this.#kinesis);
    } else {
      this.#kinesis = options.kinesisClient;
    }
    if (options.leaseStore !== undefined) {
      this.#store = options.leaseStore;
    } else {
      if (options.dynamoDBClient === undefined) {
        this.#dynamo = createDynamoDBClient(clientOptions);
        this.#ownedClients.push(this.#dynamo);
      } else {
        this.#dynamo = options.dynamoDBClient;
      }
      this.#store = new DynamoDBLeaseStore({
        client: this.#dynamo,
        tableName: resolved.tableName,
        consistentReads: resolved.consistentReads,
        requestTimeoutMillis: resolved.dynamoDbRequestTimeout,
        clock,
        onSkippedItem: (leaseKey, reason) => {
          if (reason === 'unreadable') resolved.logger.warn('Skipping an unreadable lease table item', { leaseKey });
        },
      });
    }
    this.#syncer = new ShardSyncer({
      kinesis: this.#kinesis,
      store: this.#store,
      streamName: resolved.streamName,
      initialPositionInStream: resolved.initialPositionInStream,
      clock,
      events: this.#events,
      requestTimeoutMillis: resolved.kinesisRequestTimeout,
    });
    this.#coordinator = new LeaseCoordinator({
      store: this.#store,
      workerIdentifier: resolved.workerIdentifier,
      failoverTimeMillis: resolved.failoverTimeMillis,
      epsilonMillis: resolved.epsilonMillis,
      maxLeasesForWorker: resolved.maxLeasesForWorker,
      maxLeasesToStealAtOneTime: resolved.maxLeasesToStealAtOneTime,
      enablePriorityLeaseAssignment: resolved.enablePriorityLeaseAssignment,
      balancing: resolved.leaseBalancing,
      clock,
      events: this.#events,
      onLeaseAcquired: (handle) => this.#onLeaseAcquired(handle),
    });
    this.#cleanup = new LeaseCleanup({
      store: this.#store,
      heldLeases: () => this.#coordinator.heldLeases(),
      isProcessing: (leaseKey) => this.#shards.has(leaseKey),
      forget: (leaseKey) => this.#coordinator.forget(leaseKey),
      listing: () => {
        const map = this.#syncer.shardMap;
        return map === undefined
          ? undefined
          : { has: (id) => map.shard(id) !== undefined, childrenOf: (id) => map.childrenOf(id) };
      },
      shardExists: (shardId, signal) => this.#syncer.shardExists(shardId, signal),
      cleanupLeasesUponShardCompletion: resolved.cleanupLeasesUponShardCompletion,
      events: this.#events,
    });
    // Events are the primary report; these go to the log too, so nobody misses them without listening.
    this.#events.on('error', ({ payload }) => {
      resolved.logger.warn(`${payload.operation} failed; it will be retried`, {
        error: payload.error,
        ...(payload.shardId === undefined ? {} : { shardId: payload.shardId }),
      });
    });
    this.#events.on('lease.taking', ({ payload }) => {
      if (payload.leaseSpillover > 0) {
        resolved.logger.warn(
          `maxLeasesForWorker (${resolved.maxLeasesForWorker}) is below the balance target (${payload.target + payload.leaseSpillover}): some shards may not be processed`,
          { totalLeases: payload.totalLeases, numWorkers: payload.numWorkers },
        );
      }
    });
    if (resolved.metricsLevel !== 'NONE') {
      let cloudWatch = options.cloudWatchClient;
      if (cloudWatch === undefined) {
        cloudWatch = createCloudWatchClient(clientOptions);
        this.#ownedClients.push(cloudWatch);
      }
      this.#metrics = new CloudWatchMetricsPublisher({
        client: cloudWatch,
        namespace: resolved.metricsNamespace,
        level: resolved.metricsLevel,
        workerIdentifier: resolved.workerIdentifier,
        clock,
        bufferTimeMillis: resolved.metricsBufferTimeMillis,
        onError: (error) => resolved.logger.warn('Publishing metrics to CloudWatch failed', { error }),
      });
      this.#events.onAny(this.#metrics.listener);
    }
    const initialTimestamp =
      typeof resolved.initialPositionInStream === 'object' ? resolved.initialPositionInStream.timestamp : undefined;
    this.#fetcherFactory = (target) => {
      const polling = new PollingFetcher({
        ...target,
        client: this.#kinesis,
        maxRecords: resolved.maxRecords,
        idleTimeBetweenReadsInMillis: resolved.idleTimeBetweenReadsInMillis,
        catchUpTimeBetweenReadsInMillis: resolved.catchUpTimeBetweenReadsInMillis,
        requestTimeoutMillis: resolved.kinesisRequestTimeout,
        initialTimestamp,
        clock,
        events: this.#events,
      });
      const ahead = resolved.maxPendingProcessRecordsInput;
      return ahead > 0 ? new PrefetchingFetcher(polling, ahead) : polling;
    };
  }

  /** Listens to one event type. Returns a function that stops listening. */
  on<K extends EventType<ConsumerEvents>>(
    type: K,
    listener: EventListener<EventEnvelope<ConsumerEvents, K>>,
  ): Unsubscribe {
    return this.#events.on(type, listener);
  }

  /** Listens to the next event of one type only. */
  once<K extends EventType<ConsumerEvents>>(
    type: K,
    listener: EventListener<EventEnvelope<ConsumerEvents, K>>,
  ): Unsubscribe {
    return this.#events.once(type, listener);
  }

  /** Stops a listener added with {@link KinesisConsumer.on}. */
  off<K extends EventType<ConsumerEvents>>(type: K, listener: EventListener<EventEnvelope<ConsumerEvents, K>>): void {
    this.#events.off(type, listener);
  }

  /** Listens to every event (a metrics sink). */
  onAny(listener: EventListener<EventEnvelope<ConsumerEvents>>): Unsubscribe {
    return this.#events.onAny(listener);
  }

  /** The shards this worker is processing right now. */
  get leasedShardIds(): string[] {
    return this.#coordinator
      .heldLeases()
      .map((l) => l.leaseKey)
      .sort();
  }

  /**
   * Creates the lease table if needed, syncs shards to leases, re-acquires this worker's own leases, and
   * starts renewing, taking, syncing and cleaning up. Resolves once the worker is running.
   */
  start(): Promise<void> {
    if (this.#startPromise === undefined && this.#shutdownPromise !== undefined) {
      return Promise.reject(new ShutdownError('This consumer has been shut down; create a new one to start again'));
    }
    if (this.#startPromise === undefined) {
      const starting = this.#start();
      this.#starting = starting;
      this.#startPromise = starting.catch(async (error: unknown) => {
        // A failed start leaves nothing running: no timer may keep the process alive behind a rejection.
        await this.shutdown();
        throw error;
      });
    }
    return this.#startPromise;
  }

  /**
   * Graceful shutdown: stops taking leases and fetching, calls `shutdownRequested` on every processor (so
   * it can checkpoint), hands each lease back (owner removed, counter bumped: other workers take it at
   * their next take instead of waiting for expiry), then `leaseLost`, then stops every timer. Idempotent.
   */
  shutdown(): Promise<void> {
    this.#shutdownPromise ??= this.#shutdown();
    return this.#shutdownPromise;
  }

  async #start(): Promise<void> {
    const { logger, clock, shardSyncIntervalMillis, leaseCleanupIntervalMillis, handleSignals } = this.options;
    const signal = this.#background.signal;
    this.#metrics?.start();
    await retry(({ signal: s }) => this.#store.initialize(s), { maxAttempts: 5, clock, signal });
    try {
      await retry(({ signal: s }) => this.#syncer.syncShards(s), { maxAttempts: 3, clock, signal });
    } catch (error) {
      if (error instanceof Error && error.name === 'ResourceNotFoundException') {
        // Nothing to consume, ever: a wrong name or region should fail start, not idle with warnings.
        throw new KinesisKitError('STREAM_NOT_FOUND', `Stream ${this.options.streamName} does not exist`, {
          cause: error,
          streamName: this.options.streamName,
        });
      }
      // Leases may already exist; the periodic sync tries again.
      this.#events.emit('error', { operation: 'ShardSyncTask', error });
      logger.warn('The first shard sync failed; it will be retried', { error });
    }
    if (this.#shutdownPromise !== undefined) return;
    await this.#coordinator.start();
    this.#loops.push(
      this.#every(shardSyncIntervalMillis, 'ShardSyncTask', async (s) => {
        await this.#syncer.syncShards(s);
      }),
      this.#every(leaseCleanupIntervalMillis, 'LeaseCleanup', async (s) => {
        await this.#cleanup.run(s);
      }),
    );
    if (handleSignals) {
      this.#signalHandler = () => {
        this.shutdown().catch((error: unknown) => logger.error('Shutdown on signal failed', { error }));
      };
      process.once('SIGTERM', this.#signalHandler);
      process.once('SIGINT', this.#signalHandler);
    }
    this.#events.emit('consumer.started', {
      workerIdentifier: this.workerIdentifier,
      streamName: this.options.streamName,
      applicationName: this.options.applicationName,
    });
    logger.info(
      `Worker ${this.workerIdentifier} started: renewing leases every ${this.#coordinator.renewIntervalMillis} ms, taking every ${this.#coordinator.takeIntervalMillis} ms`,
    );
  }

  async #shutdown(): Promise<void> {
    const { clock, logger } = this.options;
    const started = clock.now();
    this.#events.emit('consumer.shutdown.started', {
      workerIdentifier: this.workerIdentifier,
      leases: this.#coordinator.heldLeases().length,
    });
    // Cancel a start in progress and let it settle, so nothing starts behind our back.
    this.#background.abort();
    await this.#starting?.catch(() => undefined);
    this.#coordinator.stopTaking();
    const running = [...this.#shards.values()];
    const finished = await this.#within(
      this.options.shutdownTimeoutMillis,
      Promise.allSettled(running.map((s) => s.consumer.requestShutdown())),
    );
    if (!finished) {
      // A processor that never returns must not hold the process forever. Its lease is not released (it
      // may still be working) but no longer renewed, so it expires and moves on as after a crash.
      const stuck = running.filter((s) => s.consumer.state !== 'SHUTDOWN_COMPLETE').map((s) => s.consumer.shardId);
      for (const shardId of stuck) this.#coordinator.forget(shardId);
      logger.error(`Graceful shutdown timed out after ${this.options.shutdownTimeoutMillis} ms`, { stuck });
      this.#events.emit('error', {
        operation: 'Shutdown',
        error: new Error(`Processors of ${stuck.join(', ')} did not finish within shutdownTimeoutMillis`),
      });
    }
    // Leases whose shard already ended (kept until cleanup) have no running consumer: release them too.
    await Promise.allSettled(this.#coordinator.heldLeases().map((lease) => this.#coordinator.release(lease.leaseKey)));
    await Promise.allSettled([this.#coordinator.stop(), ...this.#loops]);
    await this.#metrics?.stop();
    if (this.#signalHandler !== undefined) {
      process.off('SIGTERM', this.#signalHandler);
      process.off('SIGINT', this.#signalHandler);
    }
    for (const client of this.#ownedClients) {
      try {
        client.destroy();
      } catch (error) {
        logger.warn('Destroying an SDK client failed', { error });
      }
    }
    this.#events.emit('consumer.shutdown.completed', {
      workerIdentifier: this.workerIdentifier,
      durationMs: clock.now() - started,
    });
  }

  #onLeaseAcquired(handle: LeaseHandle): void {
    const { lease } = handle;
    if (this.#shutdownPromise !== undefined) {
      void handle.release().catch(() => undefined);
      return;
    }
    const running = this.#shards.get(lease.leaseKey);
    if (running !== undefined) running.consumer.leaseLost();
    const o = this.options;
    const hashKeyRange = lease.hashKeyRange ?? this.#rangeFromShardMap(lease.leaseKey);
    const consumer = new ShardConsumer({
      lease: handle,
      streamName: o.streamName,
      createProcessor: () => o.processorFactory(),
      fetcher: this.#fetcherFactory({ streamName: o.streamName, shardId: lease.leaseKey, hashKeyRange }),
      store: this.#store,
      createChildLeases: (parent, reported, signal) => this.#syncer.createChildLeases(parent, reported, signal),
      config: o,
      events: this.#events,
    });
    const done = consumer
      .start()
      .then((reason) => this.#onShardStopped(lease.leaseKey, reason))
      .catch((error: unknown) => {
        this.#events.emit('error', { operation: 'ShardConsumer', error, shardId: lease.leaseKey });
      })
      .finally(() => {
        if (this.#shards.get(lease.leaseKey)?.consumer === consumer) this.#shards.delete(lease.leaseKey);
      });
    this.#shards.set(lease.leaseKey, { consumer, handle, done });
  }

  /**
   * A finished shard's children have just been given leases: wake children already held here, and take the
   * others now rather than at the next scheduled round (up to (failover + epsilon) × 2 later). The extra round
   * queues behind any round in progress, never beside it.
   */
  #onShardStopped(shardId: string, reason: ShardShutdownReason): void {
    if (reason !== 'SHARD_END') return;
    for (const running of this.#shards.values()) running.consumer.parentFinished(shardId);
    if (this.#shutdownPromise === undefined) void this.#coordinator.takeNow();
  }

  #rangeFromShardMap(shardId: string): { startingHashKey: string; endingHashKey: string } | undefined {
    const range = this.#syncer.shardMap?.hashKeyRange(shardId);
    return range === undefined
      ? undefined
      : { startingHashKey: String(range.startingHashKey), endingHashKey: String(range.endingHashKey) };
  }

  /** Whether `work` settled within `ms`; the timer is cleared either way. */
  async #within(ms: number, work: Promise<unknown>): Promise<boolean> {
    if (ms === Number.POSITIVE_INFINITY) {
      await work;
      return true;
    }
    const timer = new AbortController();
    const timeout = this.options.clock.sleep(ms, timer.signal).then(
      () => false,
      () => true,
    );
    const result = await Promise.race([work.then(() => true), timeout]);
    timer.abort();
    return result;
  }

  async #every(interval: number, operation: string, task: (signal: AbortSignal) => Promise<void>): Promise<void> {
    const signal = this.#background.signal;
    const { clock } = this.options;
    while (!signal.aborted) {
      try {
        await clock.sleep(interval, signal);
      } catch {
        return;
      }
      try {
        await task(signal);
      } catch (error) {
        if (!signal.aborted) this.#events.emit('error', { operation, error });
      }
    }
  }
}
