import { ManualClock, TypedEventEmitter } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import type { CheckpointState } from './checkpointer.js';
import { MAX_PROCESSOR_CREATION_ATTEMPTS } from './defaults.js';
import type { ConsumerEvents } from './events.js';
import { ExtendedSequenceNumber } from './extended-sequence-number.js';
import type { KinesisClientRecord } from './kinesis-client-record.js';
import { InMemoryLeaseStore } from './leases/in-memory-lease-store.js';
import { type Lease, newLease, withLease } from './leases/lease.js';
import type { LeaseHandle } from './leases/lease-handle.js';
import { silentLogger } from './logger.js';
import type { ProcessRecordsErrorPolicy } from './options.js';
import {
  type ProcessRecordsInput,
  RecordProcessor,
  type ShardEndedInput,
  type ShutdownRequestedInput,
} from './record-processor.js';
import type { RecordsBatch, RecordsFetcher } from './retrieval/records-fetcher.js';
import { ShardConsumer } from './shard-consumer.js';

const rec = (seq: string, sub = 0): KinesisClientRecord => ({
  data: new TextEncoder().encode(`${seq}.${sub}`),
  partitionKey: 'k',
  sequenceNumber: seq,
  subSequenceNumber: sub,
  approximateArrivalTimestamp: new Date(0),
  aggregated: sub > 0,
});

/** Serves the given batches, then waits (abortably) forever, like a caught-up shard. */
class ScriptedFetcher implements RecordsFetcher {
  startedAt: ExtendedSequenceNumber | undefined;
  constructor(private readonly batches: RecordsBatch[]) {}
  async start(checkpoint: ExtendedSequenceNumber): Promise<void> {
    this.startedAt = checkpoint;
  }
  next(signal?: AbortSignal): Promise<RecordsBatch> {
    const batch = this.batches.shift();
    if (batch !== undefined) return Promise.resolve(batch);
    return new Promise((_, reject) =>
      signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })), {
        once: true,
      }),
    );
  }
  stop(): void {}
}

const batch = (records: KinesisClientRecord[], end = false): RecordsBatch => ({
  records,
  millisBehindLatest: 0,
  isAtShardEnd: end,
  childShards: end ? [{ shardId: 'child', parentShardIds: ['s'], hashKeyRange: undefined }] : undefined,
});

interface Options {
  lease?: Lease;
  batches: RecordsBatch[];
  processor: RecordProcessor;
  /** Instead of always returning `processor`. */
  createProcessor?: () => RecordProcessor;
  policy?: ProcessRecordsErrorPolicy;
  store?: InMemoryLeaseStore;
}

function setup(o: Options) {
  const clock = new ManualClock(0);
  const events = new TypedEventEmitter<ConsumerEvents>({ clock });
  const seen: string[] = [];
  const ended: ConsumerEvents['shard.ended'][] = [];
  events.on('shard.ended', (e) => {
    ended.push(e.payload);
  });
  events.onAny((e) => {
    seen.push(e.type);
  });
  const writes: CheckpointState[] = [];
  let released = 0;
  const store = o.store ?? new InMemoryLeaseStore();
  const fetcher = new ScriptedFetcher(o.batches);
  const lease = o.lease ?? newLease({ leaseKey: 's', checkpoint: ExtendedSequenceNumber.TRIM_HORIZON });
  const lost = new AbortController();
  const handle: LeaseHandle = {
    leaseKey: lease.leaseKey,
    lease,
    token: Symbol(lease.leaseKey),
    isHeld: true,
    lost: lost.signal,
    async checkpoint(state) {
      writes.push(state);
    },
    async recordChildren() {},
    async release() {
      released++;
      return true;
    },
  };
  const consumer = new ShardConsumer({
    lease: handle,
    streamName: 'stream',
    createProcessor: o.createProcessor ?? (() => o.processor),
    fetcher,
    store,
    createChildLeases: async () => ({ status: 'created', childShardIds: ['child'] }),
    config: {
      parentShardPollIntervalMillis: 1_000,
      taskBackoffTimeMillis: 100,
      callProcessRecordsEvenForEmptyRecordList: false,
      processRecordsErrorPolicy: o.policy ?? 'continue',
      maxProcessRecordsAttempts: 3,
      clock,
      logger: silentLogger,
    },
    events,
  });
  return { clock, consumer, seen, events, ended, writes, fetcher, released: () => released, lost };
}

/** Advances the clock whenever the code under test sleeps (jittered backoff included) until `work` settles. */
async function drive<T>(clock: ManualClock, work: Promise<T>): Promise<T> {
  let settled = false;
  const done = work.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (;;) {
    await Promise.race([done, clock.whenSleeping()]);
    if (settled) return work;
    await clock.advance(30_000);
  }
}

class Log extends RecordProcessor {
  readonly calls: string[] = [];
  constructor(private readonly behaviour: { failBatches?: number; checkpointAtEnd?: boolean } = {}) {
    super();
  }
  override async initialize(input: { extendedSequenceNumber: ExtendedSequenceNumber }): Promise<void> {
    this.calls.push(`initialize@${input.extendedSequenceNumber}`);
  }
  async processRecords(input: ProcessRecordsInput): Promise<void> {
    this.calls.push(`process:${input.records.map((r) => `${r.sequenceNumber}.${r.subSequenceNumber}`).join(',')}`);
    if ((this.behaviour.failBatches ?? 0) > 0) {
      this.behaviour.failBatches = (this.behaviour.failBatches ?? 0) - 1;
      throw new Error('boom');
    }
    await input.checkpointer.checkpoint();
  }
  override async leaseLost(): Promise<void> {
    this.calls.push('leaseLost');
  }
  override async shardEnded(input: ShardEndedInput): Promise<void> {
    this.calls.push('shardEnded');
    if (this.behaviour.checkpointAtEnd !== false) await input.checkpointer.checkpoint();
  }
  override async shutdownRequested(input: ShutdownRequestedInput): Promise<void> {
    this.calls.push('shutdownRequested');
    await input.checkpointer.checkpoint();
  }
}

describe('ShardConsumer', () => {
  it('skips records at or before the checkpoint (inside an aggregate too), processes the rest, ends with SHARD_END', async () => {
    const processor = new Log();
    const lease = withLease(newLease({ leaseKey: 's', checkpoint: new ExtendedSequenceNumber('10', 1) }), {});
    const { consumer, writes, seen, ended, fetcher } = setup({
      lease,
      processor,
      batches: [batch([rec('10', 0), rec('10', 1), rec('10', 2), rec('11')]), batch([rec('12')], true)],
    });
    expect(await consumer.start()).toBe('SHARD_END');
    expect(String(fetcher.startedAt)).toBe('10.1');
    expect(processor.calls).toEqual(['initialize@10.1', 'process:10.2,11.0', 'process:12.0', 'shardEnded']);
    expect(writes.map((w) => String(w.checkpoint))).toEqual(['11', '12', 'SHARD_END']);
    expect(seen).toContain('shard.ended');
    expect(ended).toEqual([expect.objectContaining({ shardId: 's', alreadyEnded: false })]);
    expect(consumer.state).toBe('SHUTDOWN_COMPLETE');
  });

  it('passes millisBehindLatest through as the fetcher reported it: unknown stays undefined, not 0', async () => {
    const lags: (number | undefined)[] = [];
    const processor = new (class extends Log {
      override async processRecords(input: ProcessRecordsInput): Promise<void> {
        lags.push(input.millisBehindLatest);
        await super.processRecords(input);
      }
    })();
    const { consumer } = setup({
      processor,
      batches: [
        { ...batch([rec('1')]), millisBehindLatest: undefined },
        { ...batch([rec('2')], true), millisBehindLatest: 7 },
      ],
    });
    await consumer.start();
    expect(lags).toEqual([undefined, 7]);
  });

  it("reports loudly and retries when shardEnded doesn't checkpoint", async () => {
    const processor = new Log({ checkpointAtEnd: false });
    const { consumer, seen, clock } = setup({ processor, batches: [batch([rec('1')], true)] });
    const done = consumer.start();
    await clock.whenSleeping();
    expect(seen.filter((t) => t === 'shard.endNotCheckpointed')).toHaveLength(1);
    await clock.advance(100);
    await clock.whenSleeping();
    expect(seen.filter((t) => t === 'shard.endNotCheckpointed')).toHaveLength(2);
    expect(processor.calls.filter((c) => c === 'shardEnded')).toHaveLength(2);
    consumer.leaseLost();
    expect(await done).toBe('LEASE_LOST');
  });

  it('a processRecords exception is reported and the batch skipped (KCL default)', async () => {
    const processor = new Log({ failBatches: 1 });
    const { consumer, seen } = setup({ processor, batches: [batch([rec('1')]), batch([rec('2')], true)] });
    await consumer.start();
    expect(processor.calls).toEqual(['initialize@TRIM_HORIZON', 'process:1.0', 'process:2.0', 'shardEnded']);
    expect(seen).toContain('processor.error');
  });

  it("with the 'retry' policy the batch is retried with backoff", async () => {
    const processor = new Log({ failBatches: 2 });
    const { consumer, clock } = setup({ processor, policy: 'retry', batches: [batch([rec('1')], true)] });
    const done = consumer.start();
    await clock.whenSleeping();
    await clock.advance(100);
    await clock.whenSleeping();
    await clock.advance(200);
    await done;
    expect(processor.calls).toEqual([
      'initialize@TRIM_HORIZON',
      'process:1.0',
      'process:1.0',
      'process:1.0',
      'shardEnded',
    ]);
  });

  it('stops as soon as its lease handle is revoked, even while the processor is busy, and does not release', async () => {
    let finishBatch: (() => void) | undefined;
    const processor = new (class extends Log {
      override async processRecords(input: ProcessRecordsInput): Promise<void> {
        this.calls.push('process (slow)');
        await new Promise<void>((resolve) => {
          finishBatch = resolve;
        });
        await input.checkpointer.checkpoint().catch(() => this.calls.push('checkpoint refused'));
      }
    })();
    const { consumer, lost, released, fetcher } = setup({ processor, batches: [batch([rec('5')]), batch([rec('6')])] });
    const done = consumer.start();
    for (let i = 0; i < 5 && finishBatch === undefined; i++) await new Promise((r) => setImmediate(r));
    lost.abort('expired');
    finishBatch?.();
    expect(await done).toBe('LEASE_LOST');
    // The batch in flight finishes; no further batch is delivered; the processor hears leaseLost.
    expect(processor.calls).toEqual(['initialize@TRIM_HORIZON', 'process (slow)', 'leaseLost']);
    expect(released()).toBe(0);
    expect(fetcher.startedAt).toBeDefined();
  });

  it('graceful shutdown: shutdownRequested (which checkpoints), release, then leaseLost', async () => {
    const processor = new Log();
    const { consumer, writes, released } = setup({ processor, batches: [batch([rec('5')])] });
    const done = consumer.start();
    await new Promise((r) => setImmediate(r));
    expect(await consumer.requestShutdown()).toBe('REQUESTED');
    await done;
    expect(processor.calls).toEqual(['initialize@TRIM_HORIZON', 'process:5.0', 'shutdownRequested', 'leaseLost']);
    expect(released()).toBe(1);
    expect(writes.map((w) => String(w.checkpoint))).toEqual(['5']);
  });

  it('waits for parents until they read SHARD_END; a missing parent does not block', async () => {
    const store = new InMemoryLeaseStore();
    await store.createLeaseIfNotExists(newLease({ leaseKey: 'p1', checkpoint: new ExtendedSequenceNumber('3') }));
    const lease = newLease({
      leaseKey: 's',
      checkpoint: ExtendedSequenceNumber.TRIM_HORIZON,
      parentShardIds: ['p1', 'gone'],
    });
    const processor = new Log();
    const { consumer, clock, seen } = setup({ store, lease, processor, batches: [batch([rec('1')], true)] });
    const done = consumer.start();
    await clock.whenSleeping();
    expect(consumer.state).toBe('WAITING_ON_PARENT_SHARDS');
    expect(seen).toContain('shard.blocked');
    expect(processor.calls).toEqual([]);
    const parent = (await store.getLease('p1')) as Lease;
    await store.updateCheckpoint(parent, {
      checkpoint: ExtendedSequenceNumber.SHARD_END,
      pendingCheckpoint: undefined,
      pendingCheckpointState: undefined,
    });
    await clock.advance(1_000);
    expect(await done).toBe('SHARD_END');
    expect(processor.calls[0]).toBe('initialize@TRIM_HORIZON');
  });

  it('a parent finishing in this process wakes its waiting child at once', async () => {
    const store = new InMemoryLeaseStore();
    await store.createLeaseIfNotExists(newLease({ leaseKey: 'p1', checkpoint: new ExtendedSequenceNumber('3') }));
    const lease = newLease({ leaseKey: 's', checkpoint: ExtendedSequenceNumber.TRIM_HORIZON, parentShardIds: ['p1'] });
    const processor = new Log();
    const { consumer, clock } = setup({ store, lease, processor, batches: [batch([rec('1')], true)] });
    const done = consumer.start();
    await clock.whenSleeping();
    consumer.parentFinished('some-other-shard');
    await new Promise((r) => setImmediate(r));
    expect(consumer.state).toBe('WAITING_ON_PARENT_SHARDS');
    const parent = (await store.getLease('p1')) as Lease;
    await store.updateCheckpoint(parent, {
      checkpoint: ExtendedSequenceNumber.SHARD_END,
      pendingCheckpoint: undefined,
      pendingCheckpointState: undefined,
    });
    consumer.parentFinished('p1');
    expect(await done).toBe('SHARD_END');
    expect(clock.now()).toBe(0);
  });

  it('a lease lost while processing: leaseLost after the call in flight, nothing else', async () => {
    const processor = new Log();
    const { consumer, released } = setup({ processor, batches: [batch([rec('1')])] });
    const done = consumer.start();
    await new Promise((r) => setImmediate(r));
    consumer.leaseLost();
    expect(await done).toBe('LEASE_LOST');
    expect(processor.calls).toEqual(['initialize@TRIM_HORIZON', 'process:1.0', 'leaseLost']);
    expect(released()).toBe(0);
  });

  it('retries a failing initialize with backoff, and a processor never initialized is not told of the loss', async () => {
    class FailingInit extends Log {
      override async initialize(): Promise<void> {
        this.calls.push('initialize');
        throw new Error('not ready');
      }
    }
    const processor = new FailingInit();
    const { consumer, clock, seen } = setup({ processor, batches: [batch([rec('1')])] });
    const done = consumer.start();
    await clock.whenSleeping();
    await clock.advance(100);
    await clock.whenSleeping();
    expect(processor.calls).toEqual(['initialize', 'initialize']);
    expect(seen.filter((t) => t === 'processor.error')).toHaveLength(2);
    consumer.leaseLost();
    expect(await done).toBe('LEASE_LOST');
    expect(processor.calls).toEqual(['initialize', 'initialize']);
  });

  it('retries a processor factory that throws, with backoff and an error event each time, then processes', async () => {
    const processor = new Log();
    let calls = 0;
    const { consumer, clock, events, released } = setup({
      processor,
      createProcessor: () => {
        if (++calls <= 2) throw new Error('pool not ready');
        return processor;
      },
      batches: [batch([rec('1')], true)],
    });
    const errors: string[] = [];
    events.on('error', (e) => {
      errors.push(e.payload.operation);
    });
    expect(await drive(clock, consumer.start())).toBe('SHARD_END');
    expect(errors).toEqual(['CreateProcessor', 'CreateProcessor']);
    expect(processor.calls).toEqual(['initialize@TRIM_HORIZON', 'process:1.0', 'shardEnded']);
    expect(released()).toBe(0);
  });

  it('releases the lease after MAX_PROCESSOR_CREATION_ATTEMPTS failed factory calls (the shard is not held unprocessed)', async () => {
    let calls = 0;
    const { consumer, clock, events, released, fetcher } = setup({
      processor: new Log(),
      createProcessor: () => {
        calls++;
        throw new Error('bad config');
      },
      batches: [batch([rec('1')], true)],
    });
    const errors: unknown[] = [];
    events.on('error', (e) => {
      errors.push(e.payload.operation === 'ShardConsumer' ? e.payload.error : e.payload.operation);
    });
    expect(await drive(clock, consumer.start())).toBe('REQUESTED');
    expect(calls).toBe(MAX_PROCESSOR_CREATION_ATTEMPTS);
    expect(errors.slice(0, -1)).toEqual(Array(MAX_PROCESSOR_CREATION_ATTEMPTS).fill('CreateProcessor'));
    expect(errors.at(-1)).toMatchObject({ code: 'PROCESSOR_FACTORY_FAILED', shardId: 's' });
    expect(released()).toBe(1);
    expect(fetcher.startedAt).toBeUndefined();
  });

  it('a lease lost while the factory is being retried stops the retries', async () => {
    let calls = 0;
    const { consumer, clock, released } = setup({
      processor: new Log(),
      createProcessor: () => {
        calls++;
        throw new Error('bad config');
      },
      batches: [],
    });
    const done = consumer.start();
    await clock.whenSleeping();
    consumer.leaseLost();
    expect(await done).toBe('LEASE_LOST');
    expect(calls).toBe(1);
    expect(released()).toBe(0);
  });

  it('an already finished shard only makes sure its children have leases', async () => {
    const processor = new Log();
    const lease = newLease({ leaseKey: 's', checkpoint: ExtendedSequenceNumber.SHARD_END });
    const { consumer, ended } = setup({ lease, processor, batches: [] });
    expect(await consumer.start()).toBe('SHARD_END');
    expect(processor.calls).toEqual([]);
    // Reported, so children are taken at once, but marked: this shard's end was counted where it happened.
    expect(ended).toEqual([expect.objectContaining({ shardId: 's', alreadyEnded: true })]);
  });
});
