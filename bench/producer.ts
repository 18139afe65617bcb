/**
 * The producer pipeline against hand-rolled batching on the same input in the same run:
 * - `pipeline (no-op sender)`: KinesisProducer (validation, hashing, shard prediction, per-shard
 *   aggregation, rate limits, collection, per-record promises and results) with a Kinesis client that
 *   answers at once, against aws-kinesis-agg's RecordAggregator plus hand batching into 500-entry calls
 *   to the same no-op client (no routing, no promises, no results: the floor any producer pays);
 * - `end to end (kinesalite)`: the producer against a naive loop of 500-record PutRecords calls, both
 *   writing to the same kinesalite stream.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { formatShardId, MAX_HASH_KEY } from '../packages/core/src/index.js';
import { createKinesisClient, createStreamAndWait, startKinesalite } from '../packages/local-stack/src/index.js';
// The SDK is a dependency of the packages, not of the repository root: load it (and its types) from the
// producer package, so the bench and the producer share one copy and `instanceof` holds.
import type * as KinesisSdk from '../packages/producer/node_modules/@aws-sdk/client-kinesis/dist-types/index.js';
import type {
  ListShardsCommand,
  ListShardsCommandOutput,
  PutRecordsCommand,
  PutRecordsCommandOutput,
  PutRecordsRequestEntry,
  Shard,
} from '../packages/producer/node_modules/@aws-sdk/client-kinesis/dist-types/index.js';
import { KinesisProducer, type ProducerKinesisClient } from '../packages/producer/src/index.js';
import { collectGarbage } from './gc.js';
import type { BenchmarkResult, BenchmarkSettings, BenchmarkSuite, BenchmarkTarget } from './suite.js';

const PIPELINE_RECORDS = 50_000;
const E2E_RECORDS = 20_000;
const RECORD_SIZE = 100;
const DISTINCT_PARTITION_KEYS = 1_000;
const SHARDS = 8;

interface AwsKinesisAgg {
  RecordAggregator: new () => {
    addUserRecord(record: { partitionKey: string; data: Uint8Array }): void;
    build(): { data: Buffer; partitionKey: string; explicitHashKey?: string } | undefined;
  };
}

const agg = createRequire(new URL('../packages/core/package.json', import.meta.url))(
  'aws-kinesis-agg',
) as AwsKinesisAgg;
export const sdk = createRequire(new URL('../packages/producer/package.json', import.meta.url))(
  '@aws-sdk/client-kinesis',
) as typeof KinesisSdk;

function evenShards(count: number): Shard[] {
  const width = (MAX_HASH_KEY + 1n) / BigInt(count);
  return Array.from({ length: count }, (_, i) => ({
    ShardId: formatShardId(i),
    HashKeyRange: {
      StartingHashKey: (width * BigInt(i)).toString(),
      EndingHashKey: (i === count - 1 ? MAX_HASH_KEY : width * BigInt(i + 1) - 1n).toString(),
    },
    SequenceNumberRange: { StartingSequenceNumber: '0' },
  }));
}

/** A Kinesis client that accepts every record at once and counts what it was sent. */
export class NoOpKinesis implements ProducerKinesisClient {
  readonly shards = evenShards(SHARDS);
  requests = 0;
  kinesisRecords = 0;
  #sequence = 0;

  send(command: PutRecordsCommand, options?: { abortSignal?: AbortSignal }): Promise<PutRecordsCommandOutput>;
  send(command: ListShardsCommand, options?: { abortSignal?: AbortSignal }): Promise<ListShardsCommandOutput>;
  send(command: PutRecordsCommand | ListShardsCommand): Promise<PutRecordsCommandOutput | ListShardsCommandOutput> {
    if (command instanceof sdk.ListShardsCommand) return Promise.resolve({ Shards: this.shards, $metadata: {} });
    const entries = command.input.Records ?? [];
    this.requests++;
    this.kinesisRecords += entries.length;
    const sequenceNumber = String(++this.#sequence);
    // Every entry on shard 0: the producer only reads the id back, and a real id per entry costs the fake time.
    return Promise.resolve({
      Records: entries.map((e) => ({
        ShardId: predicted(this.shards, e.ExplicitHashKey),
        SequenceNumber: sequenceNumber,
      })),
      FailedRecordCount: 0,
      $metadata: {},
    });
  }
}

function predicted(shards: readonly Shard[], explicitHashKey: string | undefined): string {
  const key = BigInt(explicitHashKey ?? '0');
  const width = (MAX_HASH_KEY + 1n) / BigInt(shards.length);
  return formatShardId(Math.min(shards.length - 1, Number(key / width)));
}

interface Input {
  readonly keys: string[];
  readonly data: Buffer[];
}

function makeInput(records: number): Input {
  const distinct = Array.from(
    { length: DISTINCT_PARTITION_KEYS },
    (_, i) => `customer-${(i * 2654435761) % 4294967296}-${i}`,
  );
  return {
    keys: Array.from({ length: records }, (_, i) => distinct[i % DISTINCT_PARTITION_KEYS] ?? 'customer'),
    data: Array.from({ length: records }, (_, i) => Buffer.alloc(RECORD_SIZE, i % 251)),
  };
}

async function produce(producer: KinesisProducer, streamName: string, input: Input): Promise<void> {
  const { keys, data } = input;
  let failures = 0;
  const onFailure = (): void => {
    failures++;
  };
  for (let i = 0; i < keys.length; i++) {
    producer.addUserRecord(streamName, keys[i] ?? '', data[i] ?? Buffer.alloc(0)).then(undefined, onFailure);
  }
  await producer.flushSync();
  if (failures > 0) throw new Error(`${failures} records failed`);
}

/** aws-kinesis-agg + hand batching: aggregate in arrival order, batch 500 Kinesis records per call. */
async function handBatched(send: (entries: PutRecordsRequestEntry[]) => Promise<unknown>, input: Input): Promise<void> {
  const aggregator = new agg.RecordAggregator();
  let batch: PutRecordsRequestEntry[] = [];
  let batchBytes = 0;
  const calls: Promise<unknown>[] = [];
  const flushAggregate = (): void => {
    const built = aggregator.build();
    if (built === undefined) return;
    batch.push({ Data: built.data, PartitionKey: built.partitionKey, ExplicitHashKey: built.explicitHashKey });
    batchBytes += built.data.length + built.partitionKey.length;
    if (batch.length === 500 || batchBytes > 4 * 1024 * 1024) {
      calls.push(send(batch));
      batch = [];
      batchBytes = 0;
    }
  };
  for (let i = 0; i < input.keys.length; i++) {
    const record = { partitionKey: input.keys[i] ?? '', data: input.data[i] ?? Buffer.alloc(0) };
    // Its fastest correct use (as in the codec suite): add until it throws, once per aggregate.
    try {
      aggregator.addUserRecord(record);
    } catch {
      flushAggregate();
      aggregator.addUserRecord(record);
    }
  }
  flushAggregate();
  if (batch.length > 0) calls.push(send(batch));
  await Promise.all(calls);
}

/**
 * The same, plus what any API with a promise per record pays: a promise per user record, settled with a
 * result object once its call returns. The floor for `addUserRecord`'s contract.
 */
async function handBatchedWithPromises(
  send: (entries: PutRecordsRequestEntry[]) => Promise<unknown>,
  input: Input,
): Promise<void> {
  type Settle = (result: { successful: boolean; sequenceNumber: string; subSequenceNumber: number }) => void;
  const aggregator = new agg.RecordAggregator();
  let batch: PutRecordsRequestEntry[] = [];
  let batchSettlers: Settle[][] = [];
  let aggregateSettlers: Settle[] = [];
  let batchBytes = 0;
  let failures = 0;
  const onFailure = (): void => {
    failures++;
  };
  const calls: Promise<unknown>[] = [];
  const sendBatch = (): void => {
    const settlers = batchSettlers;
    calls.push(
      send(batch).then(() => {
        for (const aggregate of settlers) {
          for (const [i, settle] of aggregate.entries())
            settle({ successful: true, sequenceNumber: '1', subSequenceNumber: i });
        }
      }),
    );
    batch = [];
    batchSettlers = [];
    batchBytes = 0;
  };
  const flushAggregate = (): void => {
    const built = aggregator.build();
    if (built === undefined) return;
    batch.push({ Data: built.data, PartitionKey: built.partitionKey, ExplicitHashKey: built.explicitHashKey });
    batchSettlers.push(aggregateSettlers);
    aggregateSettlers = [];
    batchBytes += built.data.length + built.partitionKey.length;
    if (batch.length === 500 || batchBytes > 4 * 1024 * 1024) sendBatch();
  };
  for (let i = 0; i < input.keys.length; i++) {
    const record = { partitionKey: input.keys[i] ?? '', data: input.data[i] ?? Buffer.alloc(0) };
    try {
      aggregator.addUserRecord(record);
    } catch {
      flushAggregate();
      aggregator.addUserRecord(record);
    }
    new Promise<unknown>((resolve) => aggregateSettlers.push(resolve)).then(undefined, onFailure);
  }
  flushAggregate();
  if (batch.length > 0) sendBatch();
  await Promise.all(calls);
  if (failures > 0) throw new Error(`${failures} records failed`);
}

/** The naive loop: 500 user records per PutRecords call, one call after the other. */
async function naiveLoop(send: (entries: PutRecordsRequestEntry[]) => Promise<unknown>, input: Input): Promise<void> {
  for (let start = 0; start < input.keys.length; start += 500) {
    const entries: PutRecordsRequestEntry[] = [];
    for (let i = start; i < Math.min(start + 500, input.keys.length); i++) {
      entries.push({ PartitionKey: input.keys[i], Data: input.data[i] });
    }
    await send(entries);
  }
}

/** Mean ms per run of `run` over `timeMs` (at least 3 runs), after `warmupMs` of warm-up runs. */
async function meanMs(
  run: () => Promise<void>,
  timeMs: number,
  warmupMs: number,
): Promise<{ mean: number; runs: number }> {
  // No task pays for the garbage the previous one left behind.
  collectGarbage();
  const warmupEnd = performance.now() + warmupMs;
  while (performance.now() < warmupEnd) await run();
  let runs = 0;
  let total = 0;
  const end = performance.now() + timeMs;
  do {
    const start = performance.now();
    await run();
    total += performance.now() - start;
    runs++;
  } while (performance.now() < end || runs < 3);
  return { mean: total / runs, runs };
}

interface Task {
  readonly operation: string;
  readonly input: string;
  readonly implementation: string;
  readonly records: number;
  readonly run: () => Promise<void>;
}

/**
 * Measures the tasks in `settings.rounds` rounds, taking turns, and reports each one's best round (as the
 * codec suite does): outside load on a shared machine only ever adds time.
 */
async function measureAll(
  tasks: readonly Task[],
  settings: BenchmarkSettings,
  warmupMs: number,
): Promise<BenchmarkResult[]> {
  const rounds = Math.max(1, settings.rounds);
  const perTask = tasks.map(() => [] as { mean: number; runs: number }[]);
  for (let round = 0; round < rounds; round++) {
    for (const [i, task] of tasks.entries())
      perTask[i]?.push(await meanMs(task.run, settings.timeMs, round === 0 ? warmupMs : 0));
  }
  return tasks.map((task, i) => {
    const measured = perTask[i] ?? [];
    const rates = measured.map((m) => task.records / (m.mean / 1000)).sort((a, b) => a - b);
    const median = rates[Math.floor(rates.length / 2)] ?? 0;
    const best = rates.at(-1) ?? 0;
    return {
      suite: 'producer',
      operation: task.operation,
      input: task.input,
      implementation: task.implementation,
      recordsPerSecond: best,
      megabytesPerSecond: (best * RECORD_SIZE) / 1e6,
      spreadPercent: median === 0 ? 0 : (((rates.at(-1) ?? 0) - (rates[0] ?? 0)) / median) * 100,
      samples: measured.reduce((a, m) => a + m.runs, 0),
    };
  });
}

const YOUNG_GENERATION_FLAG = '--max-semi-space-size=64';
// V8 scavenges on helper threads (the second core here); this keeps all of it on the main thread.
const ONE_CORE_FLAG = '--single-threaded-gc';
const PIPELINE_LABEL = `${PIPELINE_RECORDS.toLocaleString('en-US')} × ${RECORD_SIZE} B`;
const flagSuffix = (flags: readonly string[]): string => `, ${flags.join(' ')}`;
const TUNED_SUFFIX = flagSuffix([YOUNG_GENERATION_FLAG]);

/**
 * The pipeline against aws-kinesis-agg + hand batching (with and without a promise per record), all with a
 * no-op Kinesis client. `inputSuffix` tells runs under different Node flags apart in the results.
 */
export async function measurePipeline(settings: BenchmarkSettings, inputSuffix = ''): Promise<BenchmarkResult[]> {
  const pipelineInput = makeInput(PIPELINE_RECORDS);
  const noOp = new NoOpKinesis();
  const producer = new KinesisProducer({
    kinesisClient: noOp,
    metricsLevel: 'none',
    maxOutstandingRecords: 1_000_000,
    maxOutstandingBytes: 1024 * 1024 * 1024,
    rateLimit: 1_000_000,
  });
  const baselineSink = new NoOpKinesis();
  const results = await measureAll(
    [
      {
        operation: 'pipeline (no-op sender)',
        input: PIPELINE_LABEL,
        implementation: 'kinesis-kit',
        records: PIPELINE_RECORDS,
        run: () => produce(producer, 'bench', pipelineInput),
      },
      {
        operation: 'pipeline (no-op sender)',
        input: PIPELINE_LABEL,
        implementation: 'aws-kinesis-agg + hand batching + a promise per record',
        records: PIPELINE_RECORDS,
        run: () =>
          handBatchedWithPromises(
            (entries) => baselineSink.send(new sdk.PutRecordsCommand({ StreamName: 'bench', Records: entries })),
            pipelineInput,
          ),
      },
      {
        operation: 'pipeline (no-op sender)',
        input: PIPELINE_LABEL,
        implementation: 'aws-kinesis-agg + hand batching',
        records: PIPELINE_RECORDS,
        run: () =>
          handBatched(
            (entries) => baselineSink.send(new sdk.PutRecordsCommand({ StreamName: 'bench', Records: entries })),
            pipelineInput,
          ),
      },
    ],
    settings,
    settings.warmupMs,
  );
  await producer.destroy();
  return results.map((r) => ({ ...r, input: `${r.input}${inputSuffix}` }));
}

/**
 * {@link measurePipeline} in a child process started with `flags` (both implementations alike): a 64 MiB
 * semi-space, because a burst of records kept alive until their calls return outgrows Node's default young
 * generation and the scavenges then copy it; and GC on the main thread only, for a figure on one core.
 */
function pipelineUnderFlags(settings: BenchmarkSettings, flags: readonly string[]): Promise<BenchmarkResult[]> {
  const script = fileURLToPath(new URL('./producer-pipeline.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        ...flags,
        '--expose-gc',
        '--conditions=source',
        '--import',
        'tsx',
        script,
        JSON.stringify(settings),
        flagSuffix(flags),
      ],
      {
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout) => (error ? reject(error) : resolve(JSON.parse(stdout) as BenchmarkResult[])),
    );
  });
}

/**
 * Runs the memory check (bench/producer-memory.ts) in a fresh process with `--expose-gc`, so earlier suites'
 * garbage cannot hide or inflate what the producer holds.
 */
function memoryUnderOverload(): Promise<string> {
  const script = fileURLToPath(new URL('./producer-memory.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--conditions=source', '--import', 'tsx', script],
      { env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } },
      (error, stdout) => (error ? reject(error) : resolve(stdout.trim())),
    );
  });
}

export const producerSuite: BenchmarkSuite = {
  name: 'producer',
  async run(settings: BenchmarkSettings) {
    const results: BenchmarkResult[] = [];
    const notes: string[] = [];

    // In-process pipeline, no network: with Node's defaults, then in child processes with a larger young
    // generation (both implementations alike; the tuning docs/operations.md recommends for bulk loads), and
    // with that and the GC kept on the main thread: the figure for one core.
    const pipeline = await measurePipeline(settings);
    results.push(...pipeline);
    const tuned = await pipelineUnderFlags(settings, [YOUNG_GENERATION_FLAG]);
    results.push(...tuned);
    const oneCore = await pipelineUnderFlags(settings, [YOUNG_GENERATION_FLAG, ONE_CORE_FLAG]);
    results.push(...oneCore);
    const ours = (rows: readonly BenchmarkResult[]) =>
      rows.find((r) => r.implementation === 'kinesis-kit')?.recordsPerSecond ?? 0;
    const rate = (n: number) => Math.round(n).toLocaleString('en-US');
    const figures = [
      {
        name: 'pipeline (no-op sender), kinesis-kit, records/s (target ≥ 500,000)',
        value:
          `${rate(ours(pipeline))} with Node's defaults; ${rate(ours(tuned))} with ${YOUNG_GENERATION_FLAG}; ` +
          `${rate(ours(oneCore))} with that and ${ONE_CORE_FLAG} (GC on the main thread: one core)`,
      },
    ];

    // End to end against kinesalite.
    const kinesalite = await startKinesalite();
    const kinesis = createKinesisClient({ endpoint: kinesalite.endpoint });
    try {
      const streamName = `bench-${Date.now().toString(36)}`;
      await createStreamAndWait(kinesis, { streamName, shardCount: SHARDS });
      const e2eInput = makeInput(E2E_RECORDS);
      const e2eLabel = `${E2E_RECORDS.toLocaleString('en-US')} × ${RECORD_SIZE} B, ${SHARDS} shards`;
      const e2eProducer = new KinesisProducer({ kinesisClient: kinesis, metricsLevel: 'none' });
      let requests = 0;
      let kinesisRecords = 0;
      e2eProducer.events.on('producer.request', (e): void => {
        requests++;
        kinesisRecords += e.payload.kinesisRecords;
      });
      let userRecords = 0;
      results.push(
        ...(await measureAll(
          [
            {
              operation: 'end to end (kinesalite)',
              input: e2eLabel,
              implementation: 'kinesis-kit',
              records: E2E_RECORDS,
              run: async () => {
                await produce(e2eProducer, streamName, e2eInput);
                userRecords += E2E_RECORDS;
              },
            },
            {
              operation: 'end to end (kinesalite)',
              input: e2eLabel,
              implementation: 'naive 500-record PutRecords loop',
              records: E2E_RECORDS,
              run: () =>
                naiveLoop(
                  (entries) => kinesis.send(new sdk.PutRecordsCommand({ StreamName: streamName, Records: entries })),
                  e2eInput,
                ),
            },
          ],
          settings,
          0,
        )),
      );
      await e2eProducer.destroy();
      notes.push(
        `per 1,000 user records: kinesis-kit ${((kinesisRecords / userRecords) * 1000).toFixed(1)} Kinesis records in ` +
          `${((requests / userRecords) * 1000).toFixed(2)} PutRecords calls; the naive loop 1,000 in 2.`,
      );
    } finally {
      kinesis.destroy();
      await kinesalite.stop();
    }

    notes.push(await memoryUnderOverload());

    const targets: BenchmarkTarget[] = [
      {
        operation: 'pipeline (no-op sender)',
        input: PIPELINE_LABEL,
        ours: 'kinesis-kit',
        baseline: 'aws-kinesis-agg + hand batching',
        atLeast: 1,
      },
      {
        operation: 'pipeline (no-op sender)',
        input: PIPELINE_LABEL,
        ours: 'kinesis-kit',
        baseline: 'aws-kinesis-agg + hand batching + a promise per record',
        atLeast: 1,
      },
      ...[' + a promise per record', ''].map((extra) => ({
        operation: 'pipeline (no-op sender)',
        input: `${PIPELINE_LABEL}${TUNED_SUFFIX}`,
        ours: 'kinesis-kit',
        baseline: `aws-kinesis-agg + hand batching${extra}`,
        atLeast: 1,
      })),
      {
        operation: 'end to end (kinesalite)',
        input: `${E2E_RECORDS.toLocaleString('en-US')} × ${RECORD_SIZE} B, ${SHARDS} shards`,
        ours: 'kinesis-kit',
        baseline: 'naive 500-record PutRecords loop',
        atLeast: 10,
      },
    ];
    return {
      description:
        `${DISTINCT_PARTITION_KEYS} distinct partition keys, ${RECORD_SIZE} B records; pipeline: every record gets a ` +
        `promise and a result, target ≥ 500,000 records/s. ${notes.join(' ')}`,
      results,
      targets,
      figures,
    };
  },
};
