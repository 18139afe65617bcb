/**
 * The consumer benchmark suite, for `pnpm bench` (bench/run.ts lists it). In one run:
 * - deaggregate + dispatch: user records/s through the shard consumer (polling fetcher with an in-process
 *   Kinesis stub, deaggregation with the shard's hash range, checkpoint filter, processor call) against
 *   aws-kinesis-agg's `deaggregateSync` plus a loop calling the same processor, on the same GetRecords pages;
 * - put → processRecords latency on kinesalite with `idleTimeBetweenReadsInMillis: 200` (p50 / p99);
 * - failover: SIGKILL of a worker process until its shards are held elsewhere, and `shutdown()` until the
 *   leases are held elsewhere, as multiples of `failoverTimeMillis` (the Java KCL expects 2–4 × for both,
 *   10–40 s at its defaults, because it does not release leases on shutdown).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  type KinesisClient,
  PutRecordCommand,
} from '@aws-sdk/client-kinesis';
import { type Clock, encodeAggregatedRecord, TypedEventEmitter } from '@kinesis-kit/core';
import { createStreamAndWait, startLocalStack, uniqueName } from '@kinesis-kit/local-stack';
import type { BenchmarkResult, BenchmarkSettings, BenchmarkSuite, BenchmarkTarget } from '../../../../bench/suite.js';
import type { ConsumerEvents } from '../../src/events.js';
import { ExtendedSequenceNumber } from '../../src/extended-sequence-number.js';
import type { KinesisClientRecord } from '../../src/kinesis-client-record.js';
import { KinesisConsumer } from '../../src/kinesis-consumer.js';
import { newLease } from '../../src/leases/lease.js';
import { silentLogger } from '../../src/logger.js';
import { type ProcessRecordsInput, RecordProcessor } from '../../src/record-processor.js';
import { PollingFetcher } from '../../src/retrieval/polling-fetcher.js';
import { ShardConsumer } from '../../src/shard-consumer.js';

const PAGES = 50;
const AGGREGATES_PER_PAGE = 20;
const RECORDS_PER_AGGREGATE = 50;
const RECORD_SIZE = 100;
const USER_RECORDS = PAGES * AGGREGATES_PER_PAGE * RECORDS_PER_AGGREGATE;
const MAX_HASH_KEY = ((1n << 128n) - 1n).toString();
const LATENCY_SAMPLES = 150;
const FAILOVER_TIME_MILLIS = 2_000;

interface AwsKinesisAgg {
  deaggregateSync(
    record: { data: Uint8Array; partitionKey: string; sequenceNumber: string },
    computeChecksums: boolean,
    callback: (error: Error | null | undefined, records?: { data: string; partitionKey: string }[]) => void,
  ): void;
}
// A devDependency of packages/core, so resolve it from there.
const agg = createRequire(new URL('../../../core/package.json', import.meta.url))('aws-kinesis-agg') as AwsKinesisAgg;

/** Time that only moves when someone sleeps: the fetcher's pacing costs nothing in an in-process benchmark. */
class FastForwardClock implements Clock {
  #now = 0;
  now(): number {
    return this.#now;
  }
  async sleep(ms: number): Promise<void> {
    this.#now += Math.max(0, ms);
  }
}

export function makePages(): GetRecordsCommandOutput[] {
  const keys = Array.from({ length: 100 }, () => `customer-${randomBytes(8).toString('hex')}`);
  let sequence = 49_000_000_000_000n;
  return Array.from({ length: PAGES }, (_, page) => ({
    $metadata: {},
    MillisBehindLatest: 1_000,
    NextShardIterator: page === PAGES - 1 ? undefined : `it-${page + 1}`,
    Records: Array.from({ length: AGGREGATES_PER_PAGE }, () => ({
      SequenceNumber: String(sequence++),
      PartitionKey: 'a',
      ApproximateArrivalTimestamp: new Date(0),
      Data: encodeAggregatedRecord(
        Array.from({ length: RECORDS_PER_AGGREGATE }, (_, i) => ({
          partitionKey: keys[i % keys.length] ?? 'k',
          data: randomBytes(RECORD_SIZE),
        })),
      ),
    })),
  }));
}

class Counting extends RecordProcessor {
  count = 0;
  async processRecords(input: ProcessRecordsInput): Promise<void> {
    this.count += input.records.length;
  }
}

export async function dispatchOurs(
  pages: readonly GetRecordsCommandOutput[],
  checkHashKeyRange: boolean,
): Promise<number> {
  let next = 0;
  const client = {
    send: async (command: unknown) => {
      if (command instanceof GetRecordsCommand) return pages[next++];
      return { ShardIterator: 'it-0', $metadata: {} };
    },
  } as unknown as Pick<KinesisClient, 'send'>;
  const clock = new FastForwardClock();
  const events = new TypedEventEmitter<ConsumerEvents>({ clock });
  const processor = new Counting();
  const consumer = new ShardConsumer({
    lease: {
      leaseKey: 'shardId-000000000000',
      lease: newLease({ leaseKey: 'shardId-000000000000', checkpoint: ExtendedSequenceNumber.TRIM_HORIZON }),
      token: Symbol('bench'),
      isHeld: true,
      lost: new AbortController().signal,
      checkpoint: async () => {},
      recordChildren: async () => {},
      release: async () => true,
    },
    streamName: 'bench',
    createProcessor: () => processor,
    fetcher: new PollingFetcher({
      client,
      streamName: 'bench',
      shardId: 'shardId-000000000000',
      // The KCL checks every user record's hash key against the shard (an MD5 per partition key);
      // aws-kinesis-agg does not, so the fair comparison leaves the range out.
      hashKeyRange: checkHashKeyRange ? { startingHashKey: '0', endingHashKey: MAX_HASH_KEY } : undefined,
      maxRecords: 10_000,
      idleTimeBetweenReadsInMillis: 0,
      // This clock ends every sleep at once, so a timer would abort each call: no limit here.
      requestTimeoutMillis: Number.POSITIVE_INFINITY,
      initialTimestamp: undefined,
      clock,
      events,
    }),
    store: { getLease: async () => undefined },
    createChildLeases: async () => ({ status: 'created', childShardIds: [] }),
    config: {
      parentShardPollIntervalMillis: 1,
      taskBackoffTimeMillis: 1,
      callProcessRecordsEvenForEmptyRecordList: false,
      processRecordsErrorPolicy: 'continue',
      maxProcessRecordsAttempts: 1,
      clock,
      logger: silentLogger,
    },
    events,
  });
  await consumer.start();
  return processor.count;
}

export async function dispatchTheirs(pages: readonly GetRecordsCommandOutput[]): Promise<number> {
  const processor = new Counting();
  const checkpointer = undefined as unknown as ProcessRecordsInput['checkpointer'];
  for (const page of pages) {
    const records: KinesisClientRecord[] = [];
    for (const record of page.Records ?? []) {
      agg.deaggregateSync(
        {
          data: record.Data ?? new Uint8Array(0),
          partitionKey: record.PartitionKey ?? '',
          sequenceNumber: record.SequenceNumber ?? '',
        },
        true,
        (error, users) => {
          if (error) throw error;
          for (const [i, u] of (users ?? []).entries()) {
            records.push({
              data: Buffer.from(u.data, 'base64'),
              partitionKey: u.partitionKey,
              sequenceNumber: record.SequenceNumber ?? '',
              subSequenceNumber: i,
              approximateArrivalTimestamp: record.ApproximateArrivalTimestamp ?? new Date(0),
              aggregated: true,
            });
          }
        },
      );
    }
    await processor.processRecords({ records, checkpointer, millisBehindLatest: page.MillisBehindLatest ?? 0 });
  }
  return processor.count;
}

async function timeRounds(rounds: number, warmupMs: number, fn: () => Promise<number>): Promise<number[]> {
  const warmupEnd = performance.now() + warmupMs;
  while (performance.now() < warmupEnd) await fn();
  const seconds: number[] = [];
  for (let i = 0; i < Math.max(rounds, 3); i++) {
    const started = performance.now();
    const count = await fn();
    if (count !== USER_RECORDS) throw new Error(`Expected ${USER_RECORDS} records, got ${count}`);
    seconds.push((performance.now() - started) / 1_000);
  }
  return seconds;
}

function result(implementation: string, seconds: number[]): BenchmarkResult {
  const sorted = [...seconds].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 1;
  const rates = sorted.map((s) => USER_RECORDS / s);
  const rate = USER_RECORDS / median;
  return {
    suite: 'consumer',
    operation: 'deaggregate + dispatch',
    input: `${PAGES} pages × ${AGGREGATES_PER_PAGE} aggregates × ${RECORDS_PER_AGGREGATE} × ${RECORD_SIZE} B`,
    implementation,
    recordsPerSecond: rate,
    megabytesPerSecond: (rate * RECORD_SIZE) / 1e6,
    spreadPercent: ((Math.max(...rates) - Math.min(...rates)) / rate) * 100,
    samples: seconds.length,
  };
}

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

class LatencyProbe extends RecordProcessor {
  static readonly latencies: number[] = [];
  async processRecords(input: ProcessRecordsInput): Promise<void> {
    const now = performance.timeOrigin + performance.now();
    for (const r of input.records) LatencyProbe.latencies.push(now - Number(new TextDecoder().decode(r.data)));
  }
}

async function measureLatency(
  kinesis: KinesisClient,
  consumerFor: (stream: string, processor: typeof LatencyProbe) => KinesisConsumer,
) {
  const streamName = uniqueName('bench-latency');
  await createStreamAndWait(kinesis, { streamName, shardCount: 1 });
  const consumer = consumerFor(streamName, LatencyProbe);
  const initialized = new Promise<void>((resolve) => consumer.once('shard.initialized', () => resolve()));
  await consumer.start();
  await initialized;
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const sentAt = performance.timeOrigin + performance.now();
    await kinesis.send(
      new PutRecordCommand({
        StreamName: streamName,
        PartitionKey: `k${i}`,
        Data: new TextEncoder().encode(String(sentAt)),
      }),
    );
    await new Promise((r) => setTimeout(r, 37)); // spread puts over the poll cycle
  }
  const deadline = Date.now() + 10_000;
  while (LatencyProbe.latencies.length < LATENCY_SAMPLES && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  await consumer.shutdown();
  return { p50: percentile(LatencyProbe.latencies, 50), p99: percentile(LatencyProbe.latencies, 99) };
}

async function waitFor(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function measureFailover(
  kinesis: KinesisClient,
  endpoints: { kinesis: string; dynamoDB: string },
  consumerFor: (stream: string, app: string, worker: string) => KinesisConsumer,
): Promise<{ sigkillMs: number; shutdownMs: number }> {
  // SIGKILL: a worker process holds one of two shards, the other is held here.
  const streamName = uniqueName('bench-failover');
  const applicationName = uniqueName('bench-failover-app');
  await createStreamAndWait(kinesis, { streamName, shardCount: 2 });
  const script = fileURLToPath(new URL('../support/worker-process.ts', import.meta.url));
  let started = false;
  const child: ChildProcess = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script], {
    env: {
      ...process.env,
      WORKER_ID: 'bench-child',
      STREAM_NAME: streamName,
      APPLICATION_NAME: applicationName,
      KINESIS_ENDPOINT: endpoints.kinesis,
      DYNAMODB_ENDPOINT: endpoints.dynamoDB,
      FAILOVER_TIME_MILLIS: String(FAILOVER_TIME_MILLIS),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    if (chunk.toString().includes('"acquired"')) started = true;
  });
  try {
    await waitFor(() => started, 30_000);
    const survivor = consumerFor(streamName, applicationName, 'bench-survivor');
    await survivor.start();
    await waitFor(() => survivor.leasedShardIds.length === 1, 30_000);
    const killedAt = Date.now();
    child.kill('SIGKILL');
    await waitFor(() => survivor.leasedShardIds.length === 2, 60_000);
    const sigkillMs = Date.now() - killedAt;

    // shutdown(): a second worker here takes one shard back, then shuts down gracefully.
    const leaving = consumerFor(streamName, applicationName, 'bench-leaving');
    await leaving.start();
    await waitFor(() => leaving.leasedShardIds.length === 1 && survivor.leasedShardIds.length === 1, 60_000);
    const stoppingAt = Date.now();
    await leaving.shutdown();
    await waitFor(() => survivor.leasedShardIds.length === 2, 60_000);
    const shutdownMs = Date.now() - stoppingAt;
    await survivor.shutdown();
    return { sigkillMs, shutdownMs };
  } finally {
    child.kill('SIGKILL');
  }
}

export const consumerSuite: BenchmarkSuite = {
  name: 'consumer',
  async run(settings: BenchmarkSettings) {
    const pages = makePages();
    const ours = await timeRounds(settings.rounds, settings.warmupMs, () => dispatchOurs(pages, false));
    const oursChecked = await timeRounds(settings.rounds, settings.warmupMs, () => dispatchOurs(pages, true));
    const theirs = await timeRounds(settings.rounds, settings.warmupMs, () => dispatchTheirs(pages));
    const results = [
      result('kinesis-kit ShardConsumer', ours),
      result('kinesis-kit ShardConsumer + hash range check', oursChecked),
      result('aws-kinesis-agg + loop', theirs),
    ];
    const targets: BenchmarkTarget[] = [
      {
        operation: 'deaggregate + dispatch',
        input: results[0]?.input ?? '',
        ours: 'kinesis-kit ShardConsumer',
        baseline: 'aws-kinesis-agg + loop',
        atLeast: 1,
      },
    ];

    const stack = await startLocalStack({ kinesis: 'kinesalite' });
    try {
      const kinesis = stack.kinesisClient();
      const dynamo = stack.dynamoDBClient();
      const common = {
        kinesisClient: kinesis,
        dynamoDBClient: dynamo,
        logger: silentLogger,
        metricsLevel: 'NONE' as const,
        idleTimeBetweenReadsInMillis: 200,
      };
      const latency = await measureLatency(
        kinesis,
        (streamName, processor) =>
          new KinesisConsumer({ ...common, streamName, applicationName: uniqueName('bench-latency-app'), processor }),
      );
      const failover = await measureFailover(
        kinesis,
        { kinesis: stack.kinesisEndpoint, dynamoDB: stack.dynamoDBEndpoint },
        (streamName, applicationName, workerIdentifier) =>
          new KinesisConsumer({
            ...common,
            streamName,
            applicationName,
            workerIdentifier,
            processor: LatencyProbe,
            initialPositionInStream: 'TRIM_HORIZON',
            failoverTimeMillis: FAILOVER_TIME_MILLIS,
          }),
      );
      const f = (ms: number) => `${ms.toFixed(0)} ms`;
      const x = (ms: number) => `${(ms / FAILOVER_TIME_MILLIS).toFixed(1)} × failoverTimeMillis`;
      const description = [
        `Dispatch: ${USER_RECORDS.toLocaleString('en-US')} user records in KPL aggregates (MD5 verified), one no-op processor; the KCL's hash range check (an MD5 per partition key, which aws-kinesis-agg skips) is measured separately.`,
        `Put → processRecords on kinesalite, idleTimeBetweenReadsInMillis 200: p50 ${f(latency.p50)}, p99 ${f(latency.p99)} (${LATENCY_SAMPLES} puts; AWS documents ~200 ms average for one polling consumer).`,
        `Failover with failoverTimeMillis ${FAILOVER_TIME_MILLIS}: SIGKILL → shards held elsewhere ${f(failover.sigkillMs)} (${x(failover.sigkillMs)}); shutdown() → held elsewhere ${f(failover.shutdownMs)} (${x(failover.shutdownMs)}). The Java KCL 2.x: 2–4 × failoverTimeMillis for both (10–40 s at defaults).`,
      ].join('\n');
      return { description, results, targets };
    } finally {
      await stack.stop();
    }
  },
};
