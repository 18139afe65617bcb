/**
 * The aggregated-record codec against aws-kinesis-agg, the fastest Node.js implementation of the
 * format, on the same inputs in the same process: encoding user records into aggregates of at
 * most 1 MiB, and unpacking those aggregates with MD5 verification. The protobufjs reference
 * codec is measured too, for context.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { Bench, type Task } from 'tinybench';
import {
  type AggregatableRecord,
  AggregatedRecordBuilder,
  type AggregatedRecordMessage,
  deaggregate,
} from '../packages/core/src/aggregation/index.js';
import { protobufjsMessageCodec } from '../packages/core/test/support/protobufjs-codec.js';
import { collectGarbage } from './gc.js';
import type { BenchmarkResult, BenchmarkSettings, BenchmarkSuite, BenchmarkTarget } from './suite.js';

const RECORDS = 10_000;
const DISTINCT_PARTITION_KEYS = 100;
const RECORD_SIZES = [100, 1024] as const;
const SEQUENCE_NUMBER = '49590338271490256608559692538361571095921575989136588898';

/** The parts of aws-kinesis-agg 4.2.8 measured here (its own typings need aws-sdk v2). */
interface AwsKinesisAgg {
  RecordAggregator: new () => {
    addUserRecord(record: AggregatableRecord): void;
    build(): { data: Buffer } | undefined;
  };
  deaggregateSync(
    record: { data: Uint8Array; partitionKey: string; sequenceNumber: string },
    computeChecksums: boolean,
    callback: (error: Error | null | undefined, records?: { data: string }[]) => void,
  ): void;
}

// A devDependency of packages/core, so resolve it from there.
const agg = createRequire(new URL('../packages/core/package.json', import.meta.url))(
  'aws-kinesis-agg',
) as AwsKinesisAgg;

/** The records measured here: bytes, as aws-kinesis-agg takes them. */
type ByteRecord = AggregatableRecord & { data: Uint8Array };

function makeRecords(size: number): ByteRecord[] {
  // UUID-like keys: realistic length, and never integer-like (aws-kinesis-agg mis-indexes those).
  const keys = Array.from({ length: DISTINCT_PARTITION_KEYS }, () => `customer-${randomBytes(16).toString('hex')}`);
  return Array.from({ length: RECORDS }, (_, i) => ({
    partitionKey: keys[i % DISTINCT_PARTITION_KEYS] ?? 'customer',
    data: randomBytes(size),
  }));
}

function encodeOurs(records: readonly AggregatableRecord[]): Uint8Array[] {
  const builder = new AggregatedRecordBuilder();
  const out: Uint8Array[] = [];
  for (const record of records) {
    if (!builder.tryAdd(record)) {
      out.push(builder.build());
      builder.reset();
      builder.add(record);
    }
  }
  out.push(builder.build());
  return out;
}

function encodeTheirs(records: readonly AggregatableRecord[]): Uint8Array[] {
  const aggregator = new agg.RecordAggregator();
  const out: Uint8Array[] = [];
  for (const record of records) {
    // Its fastest correct use: addUserRecord throws when the aggregate is full (once per aggregate),
    // which is ~20% cheaper than asking checkIfUserRecordFits before every add.
    try {
      aggregator.addUserRecord(record);
    } catch {
      const built = aggregator.build();
      if (built !== undefined) out.push(built.data);
      aggregator.addUserRecord(record);
    }
  }
  const built = aggregator.build();
  if (built !== undefined) out.push(built.data);
  return out;
}

/** Encodes the same chunks as `chunks` (record counts per aggregate) with the protobufjs codec. */
function encodeReference(records: readonly ByteRecord[], chunks: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let next = 0;
  for (const count of chunks) {
    const indexes = new Map<string, number>();
    const message: AggregatedRecordMessage = { partitionKeyTable: [], explicitHashKeyTable: [], records: [] };
    for (const record of records.slice(next, next + count)) {
      let index = indexes.get(record.partitionKey);
      if (index === undefined) {
        index = message.partitionKeyTable.push(record.partitionKey) - 1;
        indexes.set(record.partitionKey, index);
      }
      message.records.push({ partitionKeyIndex: index, data: record.data });
    }
    next += count;
    const body = protobufjsMessageCodec.encode(message);
    out.push(Buffer.concat([Buffer.from([0xf3, 0x89, 0x9a, 0xc2]), body, createHash('md5').update(body).digest()]));
  }
  return out;
}

function deaggregateOurs(aggregates: readonly Uint8Array[]): number {
  let count = 0;
  for (const data of aggregates) {
    const result = deaggregate({ data, partitionKey: 'a', sequenceNumber: SEQUENCE_NUMBER });
    if (result.status !== 'delivered' || !result.aggregated) throw new Error('expected an aggregate');
    count += result.records.length;
  }
  return count;
}

function deaggregateTheirs(aggregates: readonly Uint8Array[]): number {
  let count = 0;
  for (const data of aggregates) {
    // A Buffer rather than the base64 string of a Lambda event: no base64 decoding to charge them for.
    agg.deaggregateSync({ data, partitionKey: 'a', sequenceNumber: SEQUENCE_NUMBER }, true, (error, records) => {
      if (error || records === undefined) throw error ?? new Error('no records');
      count += records.length;
    });
  }
  return count;
}

function deaggregateReference(aggregates: readonly Uint8Array[]): number {
  let count = 0;
  for (const data of aggregates) {
    const body = data.subarray(4, data.length - 16);
    const digest = createHash('md5').update(body).digest();
    if (!digest.equals(data.subarray(data.length - 16))) throw new Error('bad digest');
    const message = protobufjsMessageCodec.decode(body);
    const users = message.records.map((record, subSequenceNumber) => ({
      partitionKey: message.partitionKeyTable[record.partitionKeyIndex],
      data: record.data,
      sequenceNumber: SEQUENCE_NUMBER,
      subSequenceNumber,
    }));
    count += users.length;
  }
  return count;
}

/** The MD5 of every aggregate's message: the work encode and deaggregate cannot avoid. */
function digestAll(aggregates: readonly Uint8Array[]): number {
  let bytes = 0;
  for (const data of aggregates) {
    bytes += createHash('md5')
      .update(data.subarray(4, data.length - 16))
      .digest().length;
  }
  return bytes;
}

function expectEqual(actual: number, expected: number, what: string): void {
  if (actual !== expected) throw new Error(`${what}: got ${actual}, expected ${expected}`);
}

/** Mean latency in ms of a completed task. */
function meanLatency(task: Task): number {
  const result = task.result;
  if (result.state !== 'completed') {
    throw new Error(
      `${task.name} did not complete: ${result.state === 'errored' ? result.error.message : result.state}`,
    );
  }
  return result.latency.mean;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/**
 * Runs every task once per round, the tasks taking turns, and keeps each task's best round: on a
 * shared machine outside load only ever adds time, so the fastest round is the least disturbed one
 * (each round's mean still includes the task's own garbage collection).
 */
async function measure(
  tasks: readonly { name: string; fn: () => unknown }[],
  settings: BenchmarkSettings,
): Promise<{ latencyMs: number; spreadPercent: number; samples: number }[]> {
  const latencies = tasks.map(() => [] as number[]);
  const samples = tasks.map(() => 0);
  for (let round = 0; round < settings.rounds; round++) {
    const bench = new Bench({
      time: settings.timeMs,
      warmupTime: settings.warmupMs,
      throws: true,
      setup: collectGarbage,
    });
    for (const task of tasks) bench.add(task.name, task.fn);
    await bench.run();
    bench.tasks.forEach((task, i) => {
      latencies[i]?.push(meanLatency(task));
      samples[i] = (samples[i] ?? 0) + task.runs;
    });
  }
  return latencies.map((rounds, i) => {
    const latencyMs = Math.min(...rounds);
    const rates = rounds.map((ms) => 1 / ms);
    const spreadPercent = (Math.max(...rates) - Math.min(...rates)) * median(rounds) * 100;
    return { latencyMs, spreadPercent, samples: samples[i] ?? 0 };
  });
}

export const codecSuite: BenchmarkSuite = {
  name: 'codec',
  async run(settings: BenchmarkSettings) {
    const results: BenchmarkResult[] = [];
    const targets: BenchmarkTarget[] = [];
    for (const size of RECORD_SIZES) {
      const records = makeRecords(size);
      const input = `${RECORDS.toLocaleString('en-US')} × ${size === 1024 ? '1 KiB' : `${size} B`}`;
      const bytes = RECORDS * size;

      // Every implementation must produce the same aggregates and unpack them to the same count,
      // or the comparison would be meaningless.
      const ours = encodeOurs(records);
      const theirs = encodeTheirs(records);
      const chunks = ours.map((data) => deaggregateOurs([data]));
      const reference = encodeReference(records, chunks);
      expectEqual(theirs.length, ours.length, 'aws-kinesis-agg aggregate count');
      for (const [i, data] of ours.entries()) {
        if (
          !Buffer.from(data).equals(Buffer.from(theirs[i] ?? [])) ||
          !Buffer.from(data).equals(Buffer.from(reference[i] ?? []))
        ) {
          throw new Error(`aggregate ${i} differs between implementations`);
        }
      }
      expectEqual(deaggregateTheirs(ours), RECORDS, 'aws-kinesis-agg user records');
      expectEqual(deaggregateReference(ours), RECORDS, 'protobufjs user records');

      const tasks = [
        { operation: 'encode', implementation: 'kinesis-kit', fn: () => encodeOurs(records) },
        { operation: 'encode', implementation: 'aws-kinesis-agg', fn: () => encodeTheirs(records) },
        { operation: 'encode', implementation: 'protobufjs (reference)', fn: () => encodeReference(records, chunks) },
        { operation: 'deaggregate', implementation: 'kinesis-kit', fn: () => deaggregateOurs(ours) },
        { operation: 'deaggregate', implementation: 'aws-kinesis-agg', fn: () => deaggregateTheirs(ours) },
        { operation: 'deaggregate', implementation: 'protobufjs (reference)', fn: () => deaggregateReference(ours) },
        // Both directions hash every message byte once; no implementation can beat this.
        { operation: 'MD5 alone (floor)', implementation: 'node:crypto', fn: () => digestAll(ours) },
      ];
      const measured = await measure(
        tasks.map((task) => ({ name: `${task.operation} ${input} ${task.implementation}`, fn: task.fn })),
        settings,
      );
      tasks.forEach((task, i) => {
        const m = measured[i];
        if (m === undefined) return;
        const seconds = m.latencyMs / 1000;
        results.push({
          suite: 'codec',
          operation: task.operation,
          input,
          implementation: task.implementation,
          recordsPerSecond: RECORDS / seconds,
          megabytesPerSecond: bytes / seconds / 1e6,
          spreadPercent: m.spreadPercent,
          samples: m.samples,
        });
      });
      const floor = { operation: 'MD5 alone (floor)', implementation: 'node:crypto' };
      targets.push(
        { operation: 'encode', input, ours: 'kinesis-kit', baseline: 'aws-kinesis-agg', atLeast: 3, floor },
        { operation: 'deaggregate', input, ours: 'kinesis-kit', baseline: 'aws-kinesis-agg', atLeast: 2, floor },
      );
    }
    return {
      description:
        `${RECORDS.toLocaleString('en-US')} user records per run, ${DISTINCT_PARTITION_KEYS} distinct partition keys, ` +
        'random data; encode = builder add + build into aggregates of ≤ 1 MiB; deaggregate = unpack those aggregates, MD5 verified;\n' +
        'MD5 alone = hashing those aggregates, the floor for both (its ratio to a baseline bounds what any implementation can reach).',
      results,
      targets,
    };
  },
};
