import { AbortError, backoffDelay, type Clock, KinesisKitError, ShutdownError } from '@kinesis-kit/core';
import { Checkpointer } from './checkpointer.js';
import { MAX_PROCESSOR_CREATION_ATTEMPTS } from './defaults.js';
import type { ConsumerEventEmitter, ShardShutdownReason } from './events.js';
import { ExtendedSequenceNumber } from './extended-sequence-number.js';
import type { KinesisClientRecord } from './kinesis-client-record.js';
import type { Lease } from './leases/lease.js';
import type { LeaseHandle } from './leases/lease-handle.js';
import type { LeaseStore } from './leases/lease-store.js';
import type { Logger } from './logger.js';
import type { ProcessRecordsErrorPolicy } from './options.js';
import type { RecordProcessor } from './record-processor.js';
import type { ChildShardInfo, RecordsFetcher } from './retrieval/records-fetcher.js';
import type { ChildLeasesResult } from './shard-sync.js';

/** The KCL's shard consumer states. */
export type ShardConsumerState =
  | 'WAITING_ON_PARENT_SHARDS'
  | 'INITIALIZING'
  | 'PROCESSING'
  | 'SHUTTING_DOWN'
  | 'SHUTDOWN_COMPLETE';

/** The settings a shard consumer reads. */
export interface ShardConsumerConfig {
  readonly parentShardPollIntervalMillis: number;
  readonly taskBackoffTimeMillis: number;
  readonly callProcessRecordsEvenForEmptyRecordList: boolean;
  readonly processRecordsErrorPolicy: ProcessRecordsErrorPolicy;
  readonly maxProcessRecordsAttempts: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Options of a {@link ShardConsumer}; made by the {@link KinesisConsumer}. */
export interface ShardConsumerOptions {
  /**
   * This tenure of the shard's lease: checkpoints, child ids and the release go through it, and the consumer
   * stops as soon as its `lost` signal aborts (a failed renewal or checkpoint, or the lease watchdog).
   */
  readonly lease: LeaseHandle;
  readonly streamName: string;
  /**
   * Makes this shard's processor (the application's factory). Called once the consumer starts; if it throws
   * it is called again with backoff, up to {@link MAX_PROCESSOR_CREATION_ATTEMPTS} times, then the lease is
   * released so the shard is not held unprocessed.
   */
  readonly createProcessor: () => RecordProcessor;
  /** Where records come from: polling (GetRecords) today; anything else that implements the interface. */
  readonly fetcher: RecordsFetcher;
  /** Reads the parents' leases while waiting on them. */
  readonly store: Pick<LeaseStore, 'getLease'>;
  readonly createChildLeases: (
    parent: Lease,
    reported: readonly ChildShardInfo[] | undefined,
    signal: AbortSignal,
  ) => Promise<ChildLeasesResult>;
  readonly config: ShardConsumerConfig;
  readonly events: ConsumerEventEmitter;
}

/** Longest wait between retries of a failing step (fetch, child leases, shard end). */
const MAX_STEP_BACKOFF_MILLIS = 30_000;

/**
 * Drives one leased shard through the KCL's states: waiting on parents → initializing → processing →
 * shutting down → complete. Calls the processor one method at a time; fetches the next batch only after
 * `processRecords` returned; never throws (every failure is an event and a log line).
 */
export class ShardConsumer {
  readonly shardId: string;
  readonly #o: ShardConsumerOptions;
  readonly #stop = new AbortController();
  #reason: ShardShutdownReason | undefined;
  #state: ShardConsumerState = 'WAITING_ON_PARENT_SHARDS';
  #checkpointer: Checkpointer | undefined;
  #shardEndedCalled = false;
  #processor: RecordProcessor | undefined;
  /** Whether `initialize` succeeded: only then is the processor told how its shard ends. */
  #initialized = false;
  #done: Promise<ShardShutdownReason> | undefined;
  #parentWake = new AbortController();

  readonly #onLeaseLost = (): void => this.leaseLost();

  constructor(options: ShardConsumerOptions) {
    this.#o = options;
    this.shardId = options.lease.leaseKey;
    if (options.lease.lost.aborted) this.leaseLost();
    else options.lease.lost.addEventListener('abort', this.#onLeaseLost, { once: true });
  }

  /** The lease as it was when this tenure began. */
  get #lease(): Lease {
    return this.#o.lease.lease;
  }

  get state(): ShardConsumerState {
    return this.#state;
  }

  /** Starts the consumer (once); resolves with why it stopped. */
  start(): Promise<ShardShutdownReason> {
    this.#done ??= this.#run();
    return this.#done;
  }

  /**
   * The lease is gone: stop at once (after the processor call in flight) and tell the processor. Called through
   * the handle's `lost` signal; public for whoever else learns it first.
   */
  leaseLost(): void {
    this.#reason = 'LEASE_LOST';
    this.#halt();
  }

  /**
   * A parent shard finished in this process: re-check the parents now instead of at the next poll, so a
   * child does not sit out `parentShardPollIntervalMillis` after every reshard.
   */
  parentFinished(parentShardId: string): void {
    if (this.#state === 'WAITING_ON_PARENT_SHARDS' && this.#lease.parentShardIds.includes(parentShardId)) {
      this.#parentWake.abort();
    }
  }

  /** Graceful shutdown: stop fetching, let the processor checkpoint, release the lease. */
  requestShutdown(): Promise<ShardShutdownReason> {
    this.#reason ??= 'REQUESTED';
    this.#halt();
    return this.start();
  }

  /** No batch is delivered after a stop, so reading ahead stops at once, even under a processor that hangs. */
  #halt(): void {
    this.#stop.abort();
    this.#o.fetcher.stop();
  }

  async #run(): Promise<ShardShutdownReason> {
    const { events, config } = this.#o;
    const lease = this.#lease;
    let ended = false;
    try {
      if (lease.checkpoint.isShardEnd) {
        // Finished earlier (maybe by another worker that crashed before creating the children): only make
        // sure the children have leases.
        this.#state = 'SHUTTING_DOWN';
        const childShardIds = await this.#ensureChildLeases(undefined);
        events.emit('shard.ended', { shardId: this.shardId, childShardIds, alreadyEnded: true });
      } else {
        await this.#createProcessor();
        await this.#waitForParents();
        await this.#initialize();
        const last = await this.#processUntilShardEnd();
        await this.#shardEnd(last.childShards);
      }
      ended = true;
    } catch (error) {
      if (!(error instanceof AbortError) || this.#reason === undefined) {
        // Not a stop we asked for: report it and give the lease back so this shard is tried again.
        events.emit('error', { operation: 'ShardConsumer', error, shardId: this.shardId });
        config.logger.error(`Shard consumer for ${this.shardId} failed; releasing its lease`, { error });
        this.#reason ??= 'REQUESTED';
      }
    }
    const reason: ShardShutdownReason = ended ? 'SHARD_END' : (this.#reason ?? 'REQUESTED');
    this.#state = 'SHUTTING_DOWN';
    await this.#finish(reason);
    this.#o.fetcher.stop();
    this.#o.lease.lost.removeEventListener('abort', this.#onLeaseLost);
    this.#state = 'SHUTDOWN_COMPLETE';
    events.emit('shard.shutdown', { shardId: this.shardId, reason });
    return reason;
  }

  async #finish(reason: ShardShutdownReason): Promise<void> {
    const checkpointer = this.#checkpointer;
    const processor = this.#processor;
    const canTell =
      checkpointer !== undefined && processor !== undefined && this.#initialized && !this.#shardEndedCalled;
    if (reason === 'REQUESTED') {
      if (canTell) await this.#call('shutdownRequested', () => processor.shutdownRequested({ checkpointer }));
      if (this.#reason !== 'LEASE_LOST')
        await this.#o.lease.release().catch((error: unknown) => {
          this.#o.events.emit('error', { operation: 'ReleaseLease', error, shardId: this.shardId });
        });
    }
    if ((reason === 'REQUESTED' || reason === 'LEASE_LOST') && canTell) {
      await this.#call('leaseLost', () => processor.leaseLost({}));
    }
  }

  /**
   * Calls the application's factory. The KCL's scheduler retries a failed construction at every loop while
   * the lease stays held; here the retries are bounded, each one an `error` event, and after the last one the
   * run fails, which releases the lease: a shard must not stay held by a worker that cannot process it.
   */
  async #createProcessor(): Promise<void> {
    const { events, config } = this.#o;
    const backoff = { baseMs: Math.max(config.taskBackoffTimeMillis, 1), maxMs: MAX_STEP_BACKOFF_MILLIS };
    for (let attempt = 1; ; attempt++) {
      this.#throwIfStopped();
      try {
        this.#processor = this.#o.createProcessor();
        return;
      } catch (error) {
        events.emit('error', { operation: 'CreateProcessor', error, shardId: this.shardId });
        config.logger.error(`The processor factory threw for ${this.shardId}`, {
          error,
          attempt,
          maxAttempts: MAX_PROCESSOR_CREATION_ATTEMPTS,
        });
        if (attempt >= MAX_PROCESSOR_CREATION_ATTEMPTS) {
          throw new KinesisKitError(
            'PROCESSOR_FACTORY_FAILED',
            `The processor factory threw ${attempt} times for ${this.shardId}; releasing the lease`,
            { cause: error, shardId: this.shardId },
          );
        }
      }
      await this.#sleep(backoffDelay(attempt - 1, backoff));
    }
  }

  async #waitForParents(): Promise<void> {
    const { store, events, config } = this.#o;
    const lease = this.#lease;
    if (lease.parentShardIds.length === 0) return;
    let reported = false;
    let failures = 0;
    for (;;) {
      this.#throwIfStopped();
      try {
        const blocking: string[] = [];
        for (const parent of lease.parentShardIds) {
          const parentLease = await store.getLease(parent, this.#stop.signal);
          // A missing parent lease was cleaned up (finished) or trimmed: not blocking, as in the KCL.
          if (parentLease !== undefined && !parentLease.checkpoint.isShardEnd) blocking.push(parent);
        }
        if (blocking.length === 0) return;
        if (!reported) events.emit('shard.blocked', { shardId: this.shardId, parentShardIds: blocking });
        reported = true;
        await this.#sleepUntilParentsMayHaveFinished(config.parentShardPollIntervalMillis);
      } catch (error) {
        if (error instanceof AbortError) throw error;
        events.emit('error', { operation: 'BlockOnParentShard', error, shardId: this.shardId });
        await this.#sleep(this.#backoff(++failures));
      }
    }
  }

  async #initialize(): Promise<void> {
    const { events, config, fetcher, streamName } = this.#o;
    const lease = this.#lease;
    const processor = this.#requireProcessor();
    this.#state = 'INITIALIZING';
    this.#checkpointer = new Checkpointer({
      shardId: this.shardId,
      streamName,
      checkpoint: lease.checkpoint,
      ...(lease.pendingCheckpoint === undefined ? {} : { pendingCheckpoint: lease.pendingCheckpoint }),
      writer: { write: (state) => this.#o.lease.checkpoint(state) },
    });
    for (let attempt = 1; ; attempt++) {
      this.#throwIfStopped();
      const started = config.clock.now();
      try {
        await fetcher.start(lease.checkpoint, this.#stop.signal);
      } catch (error) {
        if (this.#stop.signal.aborted) throw new AbortError('Stopped', { cause: error, shardId: this.shardId });
        events.emit('error', { operation: 'InitializeTask', error, shardId: this.shardId });
        await this.#sleep(this.#backoff(attempt));
        continue;
      }
      const ok = await this.#call(
        'initialize',
        () =>
          processor.initialize({
            streamName,
            shardId: this.shardId,
            extendedSequenceNumber: lease.checkpoint,
            ...(lease.pendingCheckpoint === undefined ? {} : { pendingCheckpoint: lease.pendingCheckpoint }),
            ...(lease.pendingCheckpointState === undefined
              ? {}
              : { pendingCheckpointState: lease.pendingCheckpointState }),
          }),
        attempt,
      );
      if (ok) {
        this.#initialized = true;
        events.emit('shard.initialized', {
          shardId: this.shardId,
          checkpoint: lease.checkpoint.toString(),
          durationMs: config.clock.now() - started,
        });
        this.#state = 'PROCESSING';
        return;
      }
      await this.#sleep(config.taskBackoffTimeMillis);
    }
  }

  /** Fetches and delivers batches until the shard ends; returns the last batch's child shards. */
  async #processUntilShardEnd(): Promise<{ childShards: readonly ChildShardInfo[] | undefined }> {
    const { fetcher, events, config } = this.#o;
    const checkpointer = this.#requireCheckpointer();
    let failures = 0;
    for (;;) {
      this.#throwIfStopped();
      let batch: Awaited<ReturnType<RecordsFetcher['next']>>;
      try {
        batch = await fetcher.next(this.#stop.signal);
        failures = 0;
      } catch (error) {
        if (this.#stop.signal.aborted) throw new AbortError('Stopped', { cause: error, shardId: this.shardId });
        events.emit('error', { operation: 'GetRecords', error, shardId: this.shardId });
        config.logger.warn(`Reading ${this.shardId} failed; retrying`, { error });
        await this.#sleep(this.#backoff(++failures));
        continue;
      }
      // Records at or before what was already delivered (the checkpoint at start: AT_SEQUENCE_NUMBER re-reads
      // a partly checkpointed aggregate) are skipped, so every user record is delivered once per tenure.
      const records = recordsAfter(batch.records, checkpointer.largestPermittedCheckpointValue);
      const last = records.at(-1);
      if (last !== undefined) checkpointer.advanceLargestPermitted(positionOf(last));
      if (records.length > 0 || config.callProcessRecordsEvenForEmptyRecordList) {
        await this.#deliver(records, batch.millisBehindLatest, checkpointer);
      }
      if (batch.isAtShardEnd) return { childShards: batch.childShards };
    }
  }

  async #deliver(
    records: readonly KinesisClientRecord[],
    millisBehindLatest: number | undefined,
    checkpointer: Checkpointer,
  ): Promise<void> {
    const { events, config } = this.#o;
    const processor = this.#requireProcessor();
    const bytes = records.reduce((sum, r) => sum + r.data.byteLength, 0);
    for (let attempt = 1; ; attempt++) {
      const started = config.clock.now();
      const ok = await this.#call(
        'processRecords',
        () => processor.processRecords({ records, checkpointer, millisBehindLatest }),
        attempt,
      );
      events.emit('records.processed', {
        shardId: this.shardId,
        records: records.length,
        bytes,
        millisBehindLatest,
        durationMs: config.clock.now() - started,
        success: ok,
      });
      if (ok || this.#reason !== undefined) return;
      if (config.processRecordsErrorPolicy === 'continue' || attempt >= config.maxProcessRecordsAttempts) {
        config.logger.error(
          `Skipping a batch of ${records.length} records on ${this.shardId} after processRecords failed`,
          {
            firstSequenceNumber: records[0]?.sequenceNumber,
            attempts: attempt,
          },
        );
        return;
      }
      try {
        await this.#sleep(this.#backoff(attempt));
      } catch {
        return;
      }
    }
  }

  async #shardEnd(reported: readonly ChildShardInfo[] | undefined): Promise<void> {
    const { events, config } = this.#o;
    const processor = this.#requireProcessor();
    const checkpointer = this.#requireCheckpointer();
    this.#state = 'SHUTTING_DOWN';
    const childShardIds = await this.#ensureChildLeases(reported);
    checkpointer.markShardEnd();
    for (let attempt = 1; ; attempt++) {
      this.#throwIfStopped();
      this.#shardEndedCalled = true;
      await this.#call('shardEnded', () => processor.shardEnded({ checkpointer }), attempt);
      if (checkpointer.lastCheckpointValue.isShardEnd) {
        events.emit('shard.ended', { shardId: this.shardId, childShardIds, alreadyEnded: false });
        return;
      }
      this.#throwIfStopped();
      // Loud on purpose: the children of this shard stay blocked until it reads SHARD_END.
      events.emit('shard.endNotCheckpointed', {
        shardId: this.shardId,
        checkpoint: checkpointer.lastCheckpointValue.toString(),
        attempt,
      });
      config.logger.error(
        `The processor did not checkpoint at the end of ${this.shardId} (checkpoint is ${checkpointer.lastCheckpointValue}); its child shards stay blocked. Call checkpointer.checkpoint() in shardEnded.`,
        { attempt },
      );
      await this.#sleep(this.#backoff(attempt));
    }
  }

  async #ensureChildLeases(reported: readonly ChildShardInfo[] | undefined): Promise<readonly string[]> {
    const { events } = this.#o;
    for (let attempt = 1; ; attempt++) {
      this.#throwIfStopped();
      try {
        const result = await this.#o.createChildLeases(this.#lease, reported, this.#stop.signal);
        if (result.status === 'created') {
          if (result.childShardIds.length > 0) {
            await this.#o.lease.recordChildren(result.childShardIds, this.#stop.signal);
          }
          return result.childShardIds;
        }
        events.emit('error', {
          operation: 'CreateChildLeases',
          error: new Error(`Child leases deferred: ${result.reason}`),
          shardId: this.shardId,
        });
      } catch (error) {
        if (this.#stop.signal.aborted) throw new AbortError('Stopped', { cause: error, shardId: this.shardId });
        events.emit('error', { operation: 'CreateChildLeases', error, shardId: this.shardId });
      }
      await this.#sleep(this.#backoff(attempt));
    }
  }

  /** Calls a processor method; an exception becomes an event and a log line. Resolves whether it succeeded. */
  async #call(
    method: 'initialize' | 'processRecords' | 'shardEnded' | 'shutdownRequested' | 'leaseLost',
    fn: () => Promise<void>,
    attempt = 1,
  ): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (error) {
      this.#o.events.emit('processor.error', { shardId: this.shardId, method, error, attempt });
      if (error instanceof ShutdownError) {
        this.#o.config.logger.warn(`${method} on ${this.shardId} stopped: the lease is no longer held`, { error });
      } else {
        this.#o.config.logger.error(`${method} threw on ${this.shardId}`, { error, attempt });
      }
      return false;
    }
  }

  #requireProcessor(): RecordProcessor {
    const processor = this.#processor;
    if (processor === undefined) throw new Error('The processor was not created');
    return processor;
  }

  #requireCheckpointer(): Checkpointer {
    const checkpointer = this.#checkpointer;
    if (checkpointer === undefined) throw new Error('The shard consumer was not initialized');
    return checkpointer;
  }

  #backoff(attempt: number): number {
    const base = Math.max(this.#o.config.taskBackoffTimeMillis, 1);
    return Math.min(base * 2 ** Math.min(attempt - 1, 16), Math.max(MAX_STEP_BACKOFF_MILLIS, base));
  }

  #throwIfStopped(): void {
    if (this.#stop.signal.aborted) throw new AbortError('Stopped', { shardId: this.shardId });
  }

  async #sleepUntilParentsMayHaveFinished(ms: number): Promise<void> {
    const wake = this.#parentWake.signal;
    try {
      await this.#o.config.clock.sleep(ms, AbortSignal.any([this.#stop.signal, wake]));
    } catch (error) {
      if (this.#stop.signal.aborted || !wake.aborted) throw error;
      this.#parentWake = new AbortController();
    }
  }

  #sleep(ms: number): Promise<void> {
    return this.#o.config.clock.sleep(ms, this.#stop.signal);
  }
}

/**
 * The records after `floor`. A batch is in shard order, so only its head can be at or before the floor:
 * the scan stops at the first record after it (one comparison per batch in the common case).
 */
function recordsAfter(
  records: readonly KinesisClientRecord[],
  floor: ExtendedSequenceNumber,
): readonly KinesisClientRecord[] {
  let skip = 0;
  while (skip < records.length) {
    const record = records[skip];
    if (record === undefined || positionOf(record).compareTo(floor) > 0) break;
    skip++;
  }
  return skip === 0 ? records : records.slice(skip);
}

function positionOf(record: KinesisClientRecord): ExtendedSequenceNumber {
  return new ExtendedSequenceNumber(record.sequenceNumber, record.subSequenceNumber);
}
