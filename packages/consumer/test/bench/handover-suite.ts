/**
 * The lease hand-over benchmark suite, for `pnpm bench --suite lease-handover` (bench/run.ts lists it). At the
 * default `failoverTimeMillis` (10 s), on kinesalite and dynalite, repeated (10 times; `BENCH_HANDOVER_REPS`
 * sets another count, e.g. 3 while developing):
 * - graceful hand-over: a worker's `shutdown()` until the shard's next `processRecords` on the other worker;
 * - crash takeover: SIGKILL of a worker process until the shard's next `processRecords` on the other worker.
 * Each repetition waits a random part of a renew interval first, so the kill or shutdown lands at a random
 * phase of the renew and scan cycles. The Java KCL 2.x expects 10–40 s for both: it does not release leases on
 * shutdown, and its taker scans every (failover + epsilon) × 2.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createStreamAndWait, startLocalStack, uniqueName } from '@kinesis-kit/local-stack';
import type { BenchmarkSettings, BenchmarkSuite } from '../../../../bench/suite.js';
import { DEFAULT_EPSILON_MILLIS, DEFAULT_FAILOVER_TIME_MILLIS } from '../../src/defaults.js';
import { KinesisConsumer } from '../../src/kinesis-consumer.js';
import { renewIntervalMillis } from '../../src/leases/lease-coordinator.js';
import { silentLogger } from '../../src/logger.js';
import { type ProcessRecordsInput, RecordProcessor } from '../../src/record-processor.js';

const FAILOVER = DEFAULT_FAILOVER_TIME_MILLIS;
const RENEW = renewIntervalMillis(FAILOVER, DEFAULT_EPSILON_MILLIS);
const REPS = Number(process.env.BENCH_HANDOVER_REPS ?? 10);

/** processRecords calls per shard, with their times, for the worker that stays. */
class Calls {
  readonly #times = new Map<string, number[]>();
  #waiters: (() => void)[] = [];
  note(shardId: string): void {
    const list = this.#times.get(shardId) ?? [];
    list.push(Date.now());
    this.#times.set(shardId, list);
    for (const w of this.#waiters.splice(0)) w();
  }
  /** The first call for `shardId` at or after `since`. */
  async firstAfter(shardId: string, since: number, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.#times.get(shardId)?.find((t) => t >= since);
      if (hit !== undefined) return hit;
      if (Date.now() > deadline) throw new Error(`no processRecords for ${shardId} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }
}

function processorFor(calls: Calls): () => RecordProcessor {
  return () => {
    let shardId = '?';
    return new (class extends RecordProcessor {
      override async initialize(input: { shardId: string }): Promise<void> {
        shardId = input.shardId;
      }
      async processRecords(_input: ProcessRecordsInput): Promise<void> {
        calls.note(shardId);
      }
    })();
  };
}

async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const randomPhase = () => new Promise((r) => setTimeout(r, Math.random() * RENEW));

const summary = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN,
    worst: sorted[sorted.length - 1] ?? Number.NaN,
  };
};

export const handoverSuite: BenchmarkSuite = {
  name: 'lease-handover',
  async run(_settings: BenchmarkSettings) {
    const stack = await startLocalStack({ kinesis: 'kinesalite' });
    const kinesis = stack.kinesisClient();
    const dynamo = stack.dynamoDBClient();
    const streamName = uniqueName('bench-handover');
    const applicationName = uniqueName('bench-handover-app');
    const children: ChildProcess[] = [];
    const consumers: KinesisConsumer[] = [];
    const calls = new Calls();
    const consumer = (workerIdentifier: string) => {
      const c = new KinesisConsumer({
        streamName,
        applicationName,
        workerIdentifier,
        kinesisClient: kinesis,
        dynamoDBClient: dynamo,
        processor: processorFor(calls),
        initialPositionInStream: 'TRIM_HORIZON',
        callProcessRecordsEvenForEmptyRecordList: true,
        idleTimeBetweenReadsInMillis: 200,
        logger: silentLogger,
        metricsLevel: 'NONE',
      });
      consumers.push(c);
      return c;
    };
    try {
      await createStreamAndWait(kinesis, { streamName, shardCount: 2 });
      const stays = consumer('bench-stays');
      await stays.start();
      await waitFor(() => stays.leasedShardIds.length === 2, 60_000, 'the first worker to take both leases');

      // Graceful: a second worker in this process takes one shard (a steal), then shuts down.
      const graceful: number[] = [];
      for (let rep = 0; rep < REPS; rep++) {
        const leaving = consumer(`bench-leaving-${rep}`);
        await leaving.start();
        await waitFor(
          () => leaving.leasedShardIds.length === 1 && stays.leasedShardIds.length === 1,
          60_000,
          'a steal to balance the two workers',
        );
        const shardId = leaving.leasedShardIds[0] ?? '';
        await calls.firstAfter(shardId, 0, 30_000).catch(() => undefined);
        await randomPhase();
        const at = Date.now();
        await leaving.shutdown();
        graceful.push((await calls.firstAfter(shardId, at, 60_000)) - at);
      }

      // Crash: a worker process takes one shard (a steal), then is killed.
      const crash: number[] = [];
      const script = fileURLToPath(new URL('../support/worker-process.ts', import.meta.url));
      for (let rep = 0; rep < REPS; rep++) {
        const leases = new Set<string>();
        const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script], {
          env: {
            ...process.env,
            WORKER_ID: `bench-crash-${rep}`,
            STREAM_NAME: streamName,
            APPLICATION_NAME: applicationName,
            KINESIS_ENDPOINT: stack.kinesisEndpoint,
            DYNAMODB_ENDPOINT: stack.dynamoDBEndpoint,
            FAILOVER_TIME_MILLIS: String(FAILOVER),
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        children.push(child);
        child.stdout?.on('data', (chunk: Buffer) => {
          for (const line of chunk.toString().split('\n')) {
            const match = /"type":"acquired".*"leaseKey":"([^"]+)"/.exec(line);
            if (match?.[1] !== undefined) leases.add(match[1]);
          }
        });
        await waitFor(
          () =>
            stays.leasedShardIds.length === 1 &&
            leases.size > 0 &&
            !stays.leasedShardIds.includes([...leases][0] ?? ''),
          60_000,
          'the worker process to take one shard',
        );
        const shardId = [...leases][0] ?? '';
        await randomPhase();
        const at = Date.now();
        child.kill('SIGKILL');
        crash.push((await calls.firstAfter(shardId, at, 120_000)) - at);
      }

      const g = summary(graceful);
      const c = summary(crash);
      const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
      const description = [
        `Lease hand-over at the default failoverTimeMillis (${FAILOVER} ms; renew every ${RENEW} ms, lease scan every ${FAILOVER / 4} ms, owner-index query every 1 s), two workers, two shards, kinesalite + dynalite, ${REPS} repetitions each, each at a random phase of the renew cycle.`,
        'Measured until the shard’s next processRecords on the other worker (callProcessRecordsEvenForEmptyRecordList, idleTimeBetweenReadsInMillis 200).',
        'The Java KCL 2.x at its defaults: 10–40 s for both (no release on shutdown; expiry seen by a taker scanning every 20 s). Targets: graceful ≤ 3 s, crash ≤ 1.5 × failover + 2 s = 17 s.',
      ].join('\n');
      return {
        description,
        results: [],
        targets: [],
        figures: [
          {
            name: 'graceful hand-over, shutdown() → processRecords elsewhere',
            value: `median ${s(g.median)}, worst ${s(g.worst)} (target ≤ 3 s; KCL 2.x 10–40 s)`,
          },
          {
            name: 'crash takeover, SIGKILL → processRecords elsewhere',
            value: `median ${s(c.median)}, worst ${s(c.worst)} (target ≤ 17 s; KCL 2.x 10–40 s)`,
          },
          { name: 'graceful samples (ms)', value: graceful.map((v) => v.toFixed(0)).join(', ') },
          { name: 'crash samples (ms)', value: crash.map((v) => v.toFixed(0)).join(', ') },
        ],
      };
    } finally {
      for (const child of children) child.kill('SIGKILL');
      await Promise.allSettled(consumers.map((c) => c.shutdown()));
      await stack.stop();
    }
  },
};
