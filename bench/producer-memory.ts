/**
 * The producer's memory bound under overload, run on its own by bench/producer.ts: feeds 1 KiB records as
 * fast as `waitForCapacity()` lets it into a sink taking a tenth of what the feeder manages unthrottled, and
 * prints how much the process's heap and buffers grew.
 */
import type {
  ListShardsCommand,
  ListShardsCommandOutput,
  PutRecordsCommand,
  PutRecordsCommandOutput,
} from '../packages/producer/node_modules/@aws-sdk/client-kinesis/dist-types/index.js';
import { KinesisProducer } from '../packages/producer/src/index.js';
import { NoOpKinesis, sdk } from './producer.js';

/** A sink that accepts `bytesPerSecond`: each call resolves after the time its bytes take at that rate. */
class SlowKinesis extends NoOpKinesis {
  readonly #bytesPerMs: number;
  #busyUntil = 0;

  constructor(bytesPerSecond: number) {
    super();
    this.#bytesPerMs = bytesPerSecond / 1000;
  }

  override send(command: PutRecordsCommand, options?: { abortSignal?: AbortSignal }): Promise<PutRecordsCommandOutput>;
  override send(command: ListShardsCommand, options?: { abortSignal?: AbortSignal }): Promise<ListShardsCommandOutput>;
  override send(
    command: PutRecordsCommand | ListShardsCommand,
  ): Promise<PutRecordsCommandOutput | ListShardsCommandOutput> {
    if (command instanceof sdk.ListShardsCommand) return super.send(command);
    const bytes = (command.input.Records ?? []).reduce((sum, e) => sum + (e.Data?.length ?? 0), 0);
    const now = performance.now();
    this.#busyUntil = Math.max(this.#busyUntil, now) + bytes / this.#bytesPerMs;
    const answer = super.send(command);
    return new Promise((resolve) => setTimeout(() => resolve(answer), this.#busyUntil - now));
  }
}

/**
 * Feeds a producer 1 KiB records as fast as `waitForCapacity()` lets it, into a sink accepting a tenth of
 * what the feeder manages unthrottled, and samples RSS: memory must stay near the configured bound.
 */
async function memoryUnderOverload(): Promise<string> {
  const bound = 16 * 1024 * 1024;
  const record = Buffer.alloc(1024, 7);
  // How fast the feeder goes unthrottled, to size the sink at a tenth of it.
  const probe = new KinesisProducer({
    kinesisClient: new NoOpKinesis(),
    metricsLevel: 'none',
    maxOutstandingBytes: 1 << 30,
  });
  const probeStart = performance.now();
  for (let i = 0; i < 20_000; i++) probe.addUserRecord('bench', `k${i % 1000}`, record).catch(() => {});
  await probe.flushSync();
  const feederBytesPerSecond = (20_000 * 1024) / ((performance.now() - probeStart) / 1000);
  await probe.destroy();

  const sinkBytesPerSecond = feederBytesPerSecond / 10;
  const producer = new KinesisProducer({
    kinesisClient: new SlowKinesis(sinkBytesPerSecond),
    metricsLevel: 'none',
    maxOutstandingBytes: bound,
    maxOutstandingRecords: 1_000_000,
    rateLimit: 1_000_000,
  });
  globalThis.gc?.();
  // Heap and buffers rather than RSS: earlier suites in the same process leave RSS high and it never shrinks.
  const held = (): number => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const before = held();
  let peak = before;
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, held());
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 20);
  const end = performance.now() + 3_000;
  let added = 0;
  let refused = 0;
  while (performance.now() < end) {
    await producer.waitForCapacity({ bytes: 1024 + 8 });
    producer.addUserRecord('bench', `k${added % 1000}`, record).catch(() => {
      refused++;
    });
    added++;
  }
  await producer.destroy({ timeoutMs: 1 });
  clearInterval(sampler);
  const mib = (n: number): string => (n / 1024 / 1024).toFixed(1);
  return (
    `Memory: fed ${mib(feederBytesPerSecond)} MiB/s unthrottled into a sink taking ${mib(sinkBytesPerSecond)} MiB/s ` +
    `for 3 s with maxOutstandingBytes ${mib(bound)} MiB: heap + buffers grew by at most ${mib(peak - before)} MiB, ` +
    `peak RSS ${mib(peakRss)} MiB (${added.toLocaleString('en-US')} records added, ${refused} failed by the final destroy).`
  );
}

console.log(await memoryUnderOverload());
