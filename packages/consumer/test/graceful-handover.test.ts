import { afterEach, expect, it } from 'vitest';
import { DEFAULT_EPSILON_MILLIS, DEFAULT_FAILOVER_TIME_MILLIS } from '../src/defaults.js';
import { DynamoDBLeaseStore } from '../src/leases/dynamodb-lease-store.js';
import { renewIntervalMillis } from '../src/leases/lease-coordinator.js';
import { type ProcessRecordsInput, RecordProcessor, type ShutdownRequestedInput } from '../src/record-processor.js';
import { putPlain, Recorder, recordingProcessor, setupStream } from './support/harness.js';

type Setup = Awaited<ReturnType<typeof setupStream>>;
let env: Setup | undefined;

afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

/** Notes, per worker and shard, when processRecords and shutdownRequested were called. */
class Timeline {
  readonly firstProcessRecords = new Map<string, number>();
  readonly shutdownRequested = new Map<string, number>();
  processor(worker: string, recorder: Recorder): () => RecordProcessor {
    const recording = recordingProcessor(recorder, worker);
    return () => {
      const inner = recording();
      let shardId = '?';
      const timeline = this;
      return new (class extends RecordProcessor {
        override async initialize(input: Parameters<RecordProcessor['initialize']>[0]): Promise<void> {
          shardId = input.shardId;
          await inner.initialize(input);
        }
        async processRecords(input: ProcessRecordsInput): Promise<void> {
          const key = `${worker}:${shardId}`;
          if (!timeline.firstProcessRecords.has(key)) timeline.firstProcessRecords.set(key, Date.now());
          await inner.processRecords(input);
        }
        override async shutdownRequested(input: ShutdownRequestedInput): Promise<void> {
          await inner.shutdownRequested(input);
          timeline.shutdownRequested.set(`${worker}:${shardId}`, Date.now());
        }
        override async leaseLost(input: Parameters<RecordProcessor['leaseLost']>[0]): Promise<void> {
          await inner.leaseLost(input);
        }
      })();
    };
  }
}

it('a graceful shutdown hands each lease to a live worker, which processes it within the renew interval + 2 s, at the default failover time', async () => {
  env = await setupStream({ shardCount: 4 });
  const { kinesis, streamName } = env;
  const recorder = new Recorder();
  const timeline = new Timeline();
  // The KCL's defaults for the lease timers, as a production fleet runs them.
  const timers = { failoverTimeMillis: DEFAULT_FAILOVER_TIME_MILLIS, callProcessRecordsEvenForEmptyRecordList: true };
  const a = env.consumer({ workerIdentifier: 'worker-a', processor: timeline.processor('a', recorder), ...timers });
  const b = env.consumer({ workerIdentifier: 'worker-b', processor: timeline.processor('b', recorder), ...timers });
  const acquiredByB: { leaseKey: string; assigned: boolean | undefined; at: number }[] = [];
  b.on('lease.acquired', ({ payload }) => {
    acquiredByB.push({ leaseKey: payload.leaseKey, assigned: payload.assigned, at: Date.now() });
  });
  await a.start();
  await expect.poll(() => a.leasedShardIds.length, { timeout: 30_000, interval: 100 }).toBe(4);
  await b.start();
  // b steals one lease a round until both hold two (a steady state: no more steals).
  await expect
    .poll(() => [a.leasedShardIds.length, b.leasedShardIds.length], { timeout: 30_000, interval: 100 })
    .toEqual([2, 2]);
  // a must have seen b live in a scan (that is how it chooses whom to hand to): wait for a's next round.
  await new Promise<void>((resolve) => {
    const off = a.on('lease.taking', ({ payload }) => {
      if (payload.numWorkers === 2) {
        off();
        resolve();
      }
    });
  });
  const records = Array.from({ length: 40 }, (_, i) => ({ partitionKey: `k${i}`, value: `r${i}` }));
  await putPlain(kinesis, streamName, records);
  await recorder.until(() => recorder.values().size === records.length);

  const handedOver = a.leasedShardIds;
  expect(handedOver.length).toBeGreaterThan(0);
  const shutdownAt = Date.now();
  await a.shutdown();
  const store = new DynamoDBLeaseStore({ client: env.dynamo, tableName: env.applicationName });
  // Assigned to b (the only live worker), not left ownerless for a taker round.
  for (const lease of await store.listLeases()) {
    if (handedOver.includes(lease.leaseKey)) expect(lease.leaseOwner).toBe('worker-b');
  }
  await expect.poll(() => b.leasedShardIds.length, { timeout: 30_000, interval: 50 }).toBe(4);
  await expect
    .poll(() => handedOver.every((s) => timeline.firstProcessRecords.has(`b:${s}`)), { timeout: 30_000, interval: 50 })
    .toBe(true);

  const bound = renewIntervalMillis(DEFAULT_FAILOVER_TIME_MILLIS, DEFAULT_EPSILON_MILLIS) + 2_000;
  const delays = handedOver.map((s) => (timeline.firstProcessRecords.get(`b:${s}`) ?? Number.NaN) - shutdownAt);
  console.info(`graceful hand-over: shutdown() → processRecords on b after ${delays.join(', ')} ms (bound ${bound})`);
  for (const delay of delays) expect(delay).toBeLessThanOrEqual(bound);
  for (const s of handedOver) {
    // Adopted through the owner index, not taken as free or expired leases.
    expect(acquiredByB.find((x) => x.leaseKey === s && x.at >= shutdownAt)?.assigned).toBe(true);
    // Never two workers at once: b's first batch comes after a's processor finished with the shard.
    expect(timeline.firstProcessRecords.get(`b:${s}`) ?? 0).toBeGreaterThanOrEqual(
      timeline.shutdownRequested.get(`a:${s}`) ?? Number.POSITIVE_INFINITY,
    );
  }

  // b starts at a's checkpoints: nothing delivered twice.
  const more = Array.from({ length: 40 }, (_, i) => ({ partitionKey: `k${i}`, value: `s${i}` }));
  await putPlain(kinesis, streamName, more);
  await recorder.until(() => recorder.values().size === records.length + more.length);
  expect(recorder.delivered).toHaveLength(records.length + more.length);
});
