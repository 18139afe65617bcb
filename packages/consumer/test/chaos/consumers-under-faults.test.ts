import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { MergeShardsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { type FaultProxy, startFaultProxy, waitForStreamActive } from '@kinesis-kit/local-stack';
import { afterAll, describe, expect, it } from 'vitest';
import { putAggregated, setupStream } from '../support/harness.js';

// Chaos: three worker processes share an 8-shard kinesalite stream through a lease table behind the fault
// proxy (10 % of DynamoDB calls throttled); every few seconds one random worker is SIGKILLed and a new one
// started; one shard is split and two merged mid-run. Checked from the workers' logs and from the lease table
// polled throughout: every record processed, duplicates only where a crash lost a checkpoint, checkpoints
// never go back, no two workers on one shard at once (beyond one renew interval), every lease owned.
// KK_SOAK=1 runs longer with more records.

const SOAK = process.env.KK_SOAK === '1';
const RECORDS = SOAK ? 400_000 : 100_000;
const PER_AGGREGATE = 100;
const WORKERS = 3;
const KILL_EVERY_MS = 3_000;
const CHAOS_MS = SOAK ? 180_000 : 30_000;
const FAILOVER_TIME_MILLIS = 1_500;
/** The KCL renews every failover/3 (less a little slack): the longest a lost lease can go unnoticed. */
const RENEW_INTERVAL_MS = FAILOVER_TIME_MILLIS / 3;
const DRAIN_TIMEOUT_MS = 90_000;

type Setup = Awaited<ReturnType<typeof setupStream>>;

interface Batch {
  readonly worker: string;
  readonly shardId: string;
  readonly start: number;
  readonly end: number;
  readonly values: readonly string[];
}

interface Worker {
  readonly id: string;
  readonly process: ChildProcess;
  readonly exited: Promise<void>;
  killedAt?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** TRIM_HORIZON < LATEST < any sequence number < SHARD_END; then the subsequence number. */
function checkpointRank(sequence: string, sub: number): [bigint, number] {
  if (sequence === 'TRIM_HORIZON' || sequence === 'LATEST' || sequence === 'AT_TIMESTAMP') return [-1n, 0];
  if (sequence === 'SHARD_END') return [1n << 200n, 0];
  return [BigInt(sequence), sub];
}

describe('chaos: consumers under faults', () => {
  let setup: Setup | undefined;
  let proxy: FaultProxy | undefined;
  const workers: Worker[] = [];
  afterAll(async () => {
    for (const w of workers) w.process.kill('SIGKILL');
    await proxy?.stop();
    await setup?.cleanup();
  });

  it(
    `processes all ${RECORDS} records at least once while workers die, DynamoDB throttles and shards change`,
    async () => {
      setup = await setupStream({ shardCount: 8, emulator: 'kinesalite' });
      const s = setup;
      proxy = await startFaultProxy({
        target: s.dynamoDBEndpoint,
        seed: 8,
        rules: [
          { fault: 'ProvisionedThroughputExceededException', rate: 0.05, service: 'dynamodb' },
          { fault: 'ThrottlingException', rate: 0.05, service: 'dynamodb' },
        ],
      });
      const p = proxy;

      const batches: Batch[] = [];
      const acquisitions: { worker: string; leaseKey: string; at: number }[] = [];
      // Why leases were lost and why processors failed, by reason: what explains the hand-overs.
      const leasesLost: Record<string, number> = {};
      const processorErrors: Record<string, number> = {};
      const tally = (counts: Record<string, number>, key: string) => {
        counts[key] = (counts[key] ?? 0) + 1;
      };
      let incarnation = 0;
      const spawnWorker = (): Worker => {
        const id = `w${incarnation++}`;
        const script = fileURLToPath(new URL('./chaos-worker.ts', import.meta.url));
        const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script], {
          env: {
            ...process.env,
            WORKER_ID: id,
            STREAM_NAME: s.streamName,
            APPLICATION_NAME: s.applicationName,
            KINESIS_ENDPOINT: s.kinesisEndpoint,
            DYNAMODB_ENDPOINT: p.endpoint,
            FAILOVER_TIME_MILLIS: String(FAILOVER_TIME_MILLIS),
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
        if (proc.stdout === null) throw new Error('no stdout');
        createInterface({ input: proc.stdout }).on('line', (line) => {
          let m: Partial<Batch> & { type?: string; leaseKey?: string; at?: number; reason?: string; code?: string };
          try {
            m = JSON.parse(line);
          } catch {
            return;
          }
          if (m.type === 'batch' && m.shardId !== undefined && m.start !== undefined && m.end !== undefined) {
            batches.push({ worker: id, shardId: m.shardId, start: m.start, end: m.end, values: m.values ?? [] });
          }
          if (m.type === 'lost') tally(leasesLost, m.reason ?? '?');
          if (m.type === 'processorError') tally(processorErrors, m.code ?? '?');
          if (m.type === 'acquired' && m.leaseKey !== undefined) {
            acquisitions.push({ worker: id, leaseKey: m.leaseKey, at: m.at ?? Date.now() });
          }
        });
        const worker: Worker = { id, process: proc, exited };
        workers.push(worker);
        return worker;
      };

      // Watch the lease table directly (not through the proxy) for checkpoints going back.
      const lastCheckpoint = new Map<string, [bigint, number]>();
      const regressions: string[] = [];
      let watching = true;
      const watch = (async () => {
        for (let round = 0; watching && round < 2_000; round += 1) {
          try {
            const { Items = [] } = await s.dynamo.send(new ScanCommand({ TableName: s.applicationName }));
            for (const item of Items) {
              const key = item.leaseKey?.S;
              const sequence = item.checkpoint?.S;
              if (key === undefined || sequence === undefined) continue;
              const rank = checkpointRank(sequence, Number(item.checkpointSubSequenceNumber?.N ?? '0'));
              const before = lastCheckpoint.get(key);
              if (before !== undefined && (rank[0] < before[0] || (rank[0] === before[0] && rank[1] < before[1]))) {
                regressions.push(`${key}: ${before.join('/')} → ${rank.join('/')}`);
              }
              lastCheckpoint.set(key, rank);
            }
          } catch {
            // The table does not exist yet: the first worker creates it.
          }
          await sleep(250);
        }
      })();

      // A fifth of the records before the workers start, the rest in slices as the chaos runs (so kills land
      // while workers are busy), aggregated in groups of one partition key.
      const groups = (from: number, to: number) => {
        const out: { partitionKey: string; value: string }[][] = [];
        for (let g = from; g < to; g += PER_AGGREGATE) {
          const key = `pk-${g / PER_AGGREGATE}`;
          out.push(
            Array.from({ length: Math.min(PER_AGGREGATE, to - g) }, (_, i) => ({
              partitionKey: key,
              value: `${g + i}`,
            })),
          );
        }
        return out;
      };
      const slices = Math.floor(CHAOS_MS / KILL_EVERY_MS);
      const sliceSize = Math.ceil((RECORDS * 0.8) / slices / PER_AGGREGATE) * PER_AGGREGATE;
      let put = Math.floor(RECORDS * 0.2);
      await putAggregated(s.kinesis, s.streamName, groups(0, put));

      const live: Worker[] = [];
      for (let i = 0; i < WORKERS; i += 1) live.push(spawnWorker());

      // Kill and restart one random worker every few seconds; reshard a third and two thirds of the way in.
      const chaosEnd = Date.now() + CHAOS_MS;
      let kills = 0;
      let resharded = 0;
      const random = (() => {
        let state = 12345;
        return () => {
          state = (state * 1103515245 + 12345) % 2 ** 31;
          return state / 2 ** 31;
        };
      })();
      for (let round = 0; Date.now() < chaosEnd && round < 1_000; round += 1) {
        await sleep(KILL_EVERY_MS);
        const next = Math.min(RECORDS, put + sliceSize);
        await putAggregated(s.kinesis, s.streamName, groups(put, next));
        put = next;
        const index = Math.floor(random() * live.length);
        const victim = live[index];
        if (victim !== undefined) {
          victim.killedAt = Date.now();
          victim.process.kill('SIGKILL');
          kills += 1;
          await victim.exited;
          live[index] = spawnWorker();
        }
        const elapsed = CHAOS_MS - (chaosEnd - Date.now());
        if (resharded === 0 && elapsed > CHAOS_MS / 3) {
          await s.kinesis.send(
            new SplitShardCommand({
              StreamName: s.streamName,
              ShardToSplit: 'shardId-000000000000',
              NewStartingHashKey: ((1n << 128n) / 16n).toString(),
            }),
          );
          await waitForStreamActive(s.kinesis, { streamName: s.streamName });
          resharded += 1;
        } else if (resharded === 1 && elapsed > (2 * CHAOS_MS) / 3) {
          await s.kinesis.send(
            new MergeShardsCommand({
              StreamName: s.streamName,
              ShardToMerge: 'shardId-000000000006',
              AdjacentShardToMerge: 'shardId-000000000007',
            }),
          );
          await waitForStreamActive(s.kinesis, { streamName: s.streamName });
          resharded += 1;
        }
      }
      await putAggregated(s.kinesis, s.streamName, groups(put, RECORDS));
      if (resharded < 2) throw new Error(`only ${resharded} reshards happened in ${CHAOS_MS} ms`);

      // Let the survivors drain, then stop them gracefully.
      const seen = new Map<string, number>();
      const count = () => {
        seen.clear();
        for (const b of batches) for (const v of b.values) seen.set(v, (seen.get(v) ?? 0) + 1);
        return seen.size;
      };
      const drainEnd = Date.now() + DRAIN_TIMEOUT_MS;
      while (count() < RECORDS && Date.now() < drainEnd) await sleep(500);
      // Leases of the last worker killed are free once they expire (failover time) and a taker runs (every
      // 2 × failover time): wait, boundedly, until a live worker owns every unfinished lease.
      const liveIds = new Set(live.map((w) => w.id));
      const unownedNow = async () => {
        const { Items = [] } = await s.dynamo.send(new ScanCommand({ TableName: s.applicationName }));
        return Items.filter((item) => item.checkpoint?.S !== 'SHARD_END')
          .filter((item) => !liveIds.has(item.leaseOwner?.S ?? ''))
          .map((item) => `${item.leaseKey?.S} owned by ${item.leaseOwner?.S ?? 'nobody'}`);
      };
      let unowned = await unownedNow();
      const ownedEnd = Date.now() + 6 * FAILOVER_TIME_MILLIS;
      while (unowned.length > 0 && Date.now() < ownedEnd) {
        await sleep(250);
        unowned = await unownedNow();
      }
      watching = false;
      await watch;
      for (const w of live) w.process.kill('SIGTERM');
      await Promise.race([Promise.all(live.map((w) => w.exited)), sleep(15_000)]);

      // Duplicates: explained if the shard changed hands (a new owner started from the last checkpoint)
      // between the first and the repeated delivery.
      count();
      const firstSeen = new Map<string, { worker: string; shardId: string; at: number }>();
      let duplicates = 0;
      const unexplained: string[] = [];
      for (const b of [...batches].sort((x, y) => x.start - y.start)) {
        for (const v of b.values) {
          const first = firstSeen.get(v);
          if (first === undefined) {
            firstSeen.set(v, { worker: b.worker, shardId: b.shardId, at: b.start });
            continue;
          }
          duplicates += 1;
          const handedOver = acquisitions.some(
            (a) => a.leaseKey === b.shardId && a.at >= first.at - RENEW_INTERVAL_MS && a.at <= b.start,
          );
          if (!handedOver) unexplained.push(`${v} on ${b.shardId} by ${first.worker} then ${b.worker}`);
        }
      }

      // Overlap: per shard, runs of consecutive batches by one worker must not start before the previous
      // run by another worker ended, by more than one renew interval.
      const overlaps: string[] = [];
      const byShard = new Map<string, Batch[]>();
      for (const b of batches) byShard.set(b.shardId, [...(byShard.get(b.shardId) ?? []), b]);
      for (const [shardId, list] of byShard) {
        list.sort((x, y) => x.start - y.start);
        let run: { worker: string; end: number } | undefined;
        for (const b of list) {
          if (run !== undefined && b.worker !== run.worker && b.start < run.end - RENEW_INTERVAL_MS) {
            overlaps.push(`${shardId}: ${b.worker} at ${b.start} while ${run.worker} until ${run.end}`);
          }
          if (run === undefined || b.worker !== run.worker) run = { worker: b.worker, end: b.end };
          else run.end = Math.max(run.end, b.end);
        }
      }

      const missing = RECORDS - seen.size;
      const report = {
        records: RECORDS,
        processed: seen.size,
        missing,
        duplicates,
        unexplainedDuplicates: unexplained.length,
        kills,
        workersStarted: incarnation,
        reshards: resharded,
        checkpointRegressions: regressions.length,
        overlaps: overlaps.length,
        leasesLost,
        processorErrors,
        unownedLeases: unowned,
        dynamoDB: p.stats(),
      };
      console.info(`chaos consumers: ${JSON.stringify(report)}`);

      expect(missing).toBe(0);
      expect(unexplained.slice(0, 5)).toEqual([]);
      expect(regressions).toEqual([]);
      expect(overlaps.slice(0, 5)).toEqual([]);
      expect(unowned).toEqual([]);
      expect(kills).toBeGreaterThanOrEqual(Math.floor(CHAOS_MS / KILL_EVERY_MS) - 2);
      const injected = p.stats().injected;
      expect(
        (injected.ProvisionedThroughputExceededException ?? 0) + (injected.ThrottlingException ?? 0),
      ).toBeGreaterThan(0);
    },
    SOAK ? 900_000 : 240_000,
  );
});
