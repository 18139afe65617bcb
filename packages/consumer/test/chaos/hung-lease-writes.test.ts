import { createDynamoDBClient, type FaultProxy, startFaultProxy } from '@kinesis-kit/local-stack';
import { afterAll, describe, expect, it } from 'vitest';
import type { KinesisConsumer } from '../../src/kinesis-consumer.js';
import { type ProcessRecordsInput, RecordProcessor } from '../../src/record-processor.js';
import { putPlain, setupStream } from '../support/harness.js';

// Chaos, issue 12 defect 1: one worker's lease-table writes *hang* (they are held by the fault proxy for far
// longer than the failover time, then land) while its Kinesis reads go on, like a worker behind a half-open
// connection to DynamoDB. Its renewals cannot get through, so the other worker takes its lease once it expires.
// The hung worker must stop processing that shard before (or within one renew interval of) the new owner
// starting: its lease watchdog gives the lease up, whatever the hung calls are doing. Checked from the start and
// end time of every processRecords call, per shard.

const FAILOVER_TIME_MILLIS = 3_000;
/** The KCL renews every failover/3 (less a little slack): the overlap the consumer promises not to exceed. */
const RENEW_INTERVAL_MS = FAILOVER_TIME_MILLIS / 3 - 25;
/** How long the proxy holds each lease write of the hung worker before forwarding it. */
const HANG_MS = 8 * FAILOVER_TIME_MILLIS;

interface Batch {
  readonly worker: string;
  readonly shardId: string;
  readonly start: number;
  /** `undefined` while processRecords is still running: the worker is processing the shard until it returns. */
  end: number | undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Per shard, each change of worker: how long the previous worker's run went on after the next one started
 * (a batch still in processRecords counts as running until `now`).
 */
function handOvers(all: readonly Batch[], from: number, now: number) {
  const out: { shardId: string; from: string; to: string; overlapMs: number }[] = [];
  const byShard = new Map<string, { worker: string; start: number; end: number }[]>();
  for (const x of all) {
    const b = { worker: x.worker, start: x.start, end: x.end ?? now };
    if (b.end >= from) byShard.set(x.shardId, [...(byShard.get(x.shardId) ?? []), b]);
  }
  for (const [shardId, list] of byShard) {
    list.sort((x, y) => x.start - y.start);
    let run: { worker: string; end: number } | undefined;
    for (const b of list) {
      if (run !== undefined && b.worker !== run.worker) {
        out.push({ shardId, from: run.worker, to: b.worker, overlapMs: run.end - b.start });
      }
      if (run === undefined || b.worker !== run.worker) run = { worker: b.worker, end: b.end };
      else run.end = Math.max(run.end, b.end);
    }
  }
  return out;
}

describe('chaos: one worker’s lease writes hang', () => {
  let setup: Awaited<ReturnType<typeof setupStream>> | undefined;
  const proxies: FaultProxy[] = [];
  const clients: { destroy(): void }[] = [];
  afterAll(async () => {
    await setup?.cleanup();
    for (const client of clients) client.destroy();
    await Promise.all(proxies.map((p) => p.stop()));
  });

  it('the hung worker stops processing before the other worker takes over its shard (≤ one renew interval)', async () => {
    setup = await setupStream({ shardCount: 2, emulator: 'kinesalite' });
    const s = setup;
    const batches: Batch[] = [];
    const leaseLost: { worker: string; shardId: string; at: number }[] = [];
    const leaseEvents: { at: number; event: string }[] = [];

    const startWorker = async (worker: string): Promise<{ consumer: KinesisConsumer; proxy: FaultProxy }> => {
      const proxy = await startFaultProxy({ target: s.dynamoDBEndpoint });
      proxies.push(proxy);
      const dynamoDBClient = createDynamoDBClient({ endpoint: proxy.endpoint });
      clients.push(dynamoDBClient);
      const consumer = s.consumer({
        dynamoDBClient,
        failoverTimeMillis: FAILOVER_TIME_MILLIS,
        processor: () =>
          new (class extends RecordProcessor {
            #shardId = '?';
            override async initialize(input: { shardId: string }): Promise<void> {
              this.#shardId = input.shardId;
            }
            async processRecords(input: ProcessRecordsInput): Promise<void> {
              const batch: Batch = { worker, shardId: this.#shardId, start: Date.now(), end: undefined };
              batches.push(batch);
              // Most applications checkpoint after each batch; a failed checkpoint is retried with the next one.
              await input.checkpointer.checkpoint().catch(() => undefined);
              batch.end = Date.now();
            }
            override async leaseLost(): Promise<void> {
              leaseLost.push({ worker, shardId: this.#shardId, at: Date.now() });
            }
          })(),
      });
      consumer.on('lease.acquired', ({ payload }) => {
        leaseEvents.push({ at: Date.now(), event: `${worker} took ${payload.leaseKey} from ${payload.previousOwner}` });
      });
      consumer.on('lease.lost', ({ payload }) => {
        leaseEvents.push({ at: Date.now(), event: `${worker} lost ${payload.leaseKey}: ${payload.reason}` });
      });
      await consumer.start();
      return { consumer, proxy };
    };

    // Records keep arriving on both shards throughout, so every owner of a shard is busy processing it.
    let producing = true;
    let next = 0;
    const producer = (async () => {
      while (producing) {
        const values = Array.from({ length: 10 }, () => ({ partitionKey: `pk-${next}`, value: `${next++}` }));
        await putPlain(s.kinesis, s.streamName, values);
        await sleep(100);
      }
    })();
    const until = async (what: string, predicate: () => boolean, timeoutMs = 30_000) => {
      const end = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > end) throw new Error(`Timed out waiting until ${what}`);
        await sleep(50);
      }
    };
    const processing = (worker: string, since: number) =>
      new Set(batches.filter((b) => b.worker === worker && b.start >= since).map((b) => b.shardId));

    try {
      // a takes both shards; b joins and steals one (a balanced pair, each busy with one shard).
      const a = await startWorker('a');
      await until('a processes both shards', () => processing('a', 0).size === 2);
      await startWorker('b');
      await until('b processes a shard', () => processing('b', 0).size === 1);
      await sleep(2 * RENEW_INTERVAL_MS);
      const aShard = [...processing('a', Date.now() - RENEW_INTERVAL_MS)][0];
      expect(aShard).toBeDefined();

      // Every lease-table write of a (renewals, checkpoints, takes, releases) now hangs far beyond failover.
      const hungAt = Date.now();
      a.proxy.configure({
        rules: [{ fault: 'latency', latencyMs: HANG_MS, rate: 1, service: 'dynamodb', operations: ['UpdateItem'] }],
      });
      // b takes a's lease once it has expired (failover, seen across b's taker rounds of 2 × failover).
      await until('b processes both shards', () => processing('b', hungAt).size === 2, 6 * FAILOVER_TIME_MILLIS);
      // Keep going a while, so a worker that did not stop would show up as processing beside b.
      await sleep(2 * FAILOVER_TIME_MILLIS);

      const now = Date.now();
      const after = handOvers(batches, hungAt, now);
      const takeover = after.filter((h) => h.shardId === aShard && h.from === 'a' && h.to === 'b');
      const overlapMs = Math.max(...after.map((h) => h.overlapMs));
      const bStart = Math.min(
        ...batches.filter((x) => x.worker === 'b' && x.shardId === aShard && x.start >= hungAt).map((x) => x.start),
      );
      const report = {
        failoverTimeMillis: FAILOVER_TIME_MILLIS,
        renewIntervalMs: RENEW_INTERVAL_MS,
        handOversAfterHang: after,
        // Positive: both processed the shard at once for that long; negative: the shard idled that long.
        maxOverlapMs: overlapMs,
        handOversBeforeHang: handOvers(
          batches.filter((x) => x.start < hungAt),
          0,
          hungAt,
        ),
        aLeaseLost: leaseLost.filter((l) => l.worker === 'a').map((l) => ({ ...l, at: l.at - hungAt })),
        // Batches a was still processing on its old shard once b had started there: 0 is the promise.
        batchesOfAAfterTakeover: batches.filter(
          (x) => x.worker === 'a' && x.shardId === aShard && (x.end ?? now) > bStart,
        ).length,
        lastBatchOfA: Math.max(...batches.filter((x) => x.worker === 'a').map((x) => x.end ?? now)) - hungAt,
        hungCalls: a.proxy.stats().injected.latency ?? 0,
        leaseEvents: leaseEvents.map((e) => `${e.at - hungAt}: ${e.event}`),
      };
      console.info(`chaos hung lease writes: ${JSON.stringify(report)}`);

      expect(takeover).toHaveLength(1);
      expect(overlapMs).toBeLessThanOrEqual(RENEW_INTERVAL_MS);
      expect(leaseLost).toContainEqual(expect.objectContaining({ worker: 'a', shardId: aShard }));
      expect(report.hungCalls).toBeGreaterThan(0);
    } finally {
      producing = false;
      await producer;
    }
  }, 120_000);
});
