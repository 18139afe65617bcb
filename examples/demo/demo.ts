/**
 * `pnpm demo`: the whole system on the embedded local stack, using only the public APIs.
 *
 * 1. Start kinesalite + dynalite in this process (127.0.0.1) and create a stream.
 * 2. Produce numbered user records with a KinesisProducer at a steady rate (aggregation on).
 * 3. Consume with two KinesisConsumer workers of one application; each processor checkpoints every batch.
 * 4. While both run: split one shard, merge two others, then stop one worker gracefully.
 * 5. Wait until every acknowledged record was delivered, then verify: nothing lost, duplicates explained.
 */
import { ListShardsCommand, MergeShardsCommand, type Shard, SplitShardCommand } from '@aws-sdk/client-kinesis';
import {
  type InitializationInput,
  KinesisConsumer,
  type Logger,
  type ProcessRecordsInput,
  RecordProcessor,
  type ShutdownRequestedInput,
} from '@kinesis-kit/consumer';
import { createStreamAndWait, startLocalStack, uniqueName, waitForStreamActive } from '@kinesis-kit/local-stack';
import { KinesisProducer } from '@kinesis-kit/producer';
import { DEMO_USAGE, type DemoOptions, parseDemoOptions } from './options.js';
import { ProgressDisplay, type ShardRow } from './progress.js';
import { Tally, type Verification } from './tally.js';

/** How long to wait, after the producer stops, for the consumers to deliver every acknowledged record. */
const DRAIN_TIMEOUT_MS = 45_000;

const decoder = new TextDecoder();

/** Per-shard figures the processors report for the display. */
interface ShardStats {
  millisBehindLatest?: number;
  latencyMs?: number;
}

/**
 * The demo's record processor, the shape of any real one: handle the batch, then checkpoint it. Handling here
 * means telling the tally which record ids arrived, so the demo can prove none was lost.
 */
class VerifyingProcessor extends RecordProcessor {
  #shardId = '';

  constructor(
    private readonly worker: string,
    private readonly tally: Tally,
    private readonly stats: Map<string, ShardStats>,
  ) {
    super();
  }

  override async initialize({ shardId }: InitializationInput): Promise<void> {
    this.#shardId = shardId;
  }

  async processRecords({ records, checkpointer, millisBehindLatest }: ProcessRecordsInput): Promise<void> {
    for (const record of records) {
      const id = Number.parseInt(decoder.decode(record.data.subarray(0, 12)), 10);
      this.tally.recordDelivered(id, `${record.sequenceNumber}/${record.subSequenceNumber}`, this.worker);
    }
    const newest = records.at(-1);
    this.stats.set(this.#shardId, {
      millisBehindLatest,
      latencyMs: newest === undefined ? undefined : Date.now() - newest.approximateArrivalTimestamp.getTime(),
    });
    // Only after the records are handled: a crash before this line re-delivers them, never skips them.
    await checkpointer.checkpoint();
  }

  override async shutdownRequested({ checkpointer }: ShutdownRequestedInput): Promise<void> {
    // Hand the shard over exactly where we stopped, so the next worker re-reads nothing.
    await checkpointer.checkpoint();
  }
}

/** The data of user record `id`: its number first (what the processor parses), padded to `size` bytes. */
function recordData(id: number, size: number): Uint8Array {
  const data = new Uint8Array(size).fill(0x2e); // '.'
  new TextEncoder().encodeInto(`${id}`.padEnd(12, ' '), data);
  return data;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

async function listAllShards(
  kinesis: { send(command: ListShardsCommand): Promise<{ Shards?: Shard[] }> },
  streamName: string,
) {
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  return Shards;
}

async function runDemo(options: DemoOptions): Promise<Verification> {
  const started = Date.now();
  const elapsed = () => (Date.now() - started) / 1000;
  const display = new ProgressDisplay(process.stdout, options.plain);
  const stop = new AbortController();
  // After verification the last worker's shutdown releases every lease; those lines would only be noise.
  let quiet = false;
  const event = (message: string) => {
    if (!quiet) display.event(elapsed(), message);
  };
  const onSignal = () => {
    event('interrupted: stopping the producer and verifying what was acknowledged');
    stop.abort();
  };
  process.once('SIGINT', onSignal);

  const stack = await startLocalStack({ kinesis: 'kinesalite' });
  const kinesis = stack.kinesisClient();
  const streamName = uniqueName('demo');
  const applicationName = uniqueName('demo-app');
  const tally = new Tally();
  const stats = new Map<string, ShardStats>();
  const finished = new Set<string>();
  const workers: KinesisConsumer[] = [];
  let producer: KinesisProducer | undefined;
  try {
    await createStreamAndWait(kinesis, { streamName, shardCount: options.shards });
    display.event(
      elapsed(),
      `stream ${streamName}: ${options.shards} shards on kinesalite at ${stack.kinesisEndpoint}; ` +
        `producing ${options.rate} records/s of ${options.recordSize} bytes for ${options.durationSeconds}s ` +
        '(kinesalite reports millisBehindLatest as 0, so also watch latency: arrival to processing)',
    );

    // The clients come from the local stack (HTTP/1.1, which kinesalite needs); the producer's makes one attempt
    // per call, because the producer retries per record. On AWS, pass `region` instead.
    producer = new KinesisProducer({ kinesisClient: stack.kinesisClient({ maxAttempts: 1 }), metricsLevel: 'none' });
    let userRecordsPut = 0;
    let kinesisRecordsPut = 0;
    producer.events.on('producer.record.put', ({ payload }) => {
      userRecordsPut += payload.userRecords;
      kinesisRecordsPut++;
    });

    const logger: Logger = {
      debug: () => {},
      info: () => {},
      warn: (message) => event(`warning: ${message}`),
      error: (message) => event(`error: ${message}`),
    };
    for (const worker of ['worker-a', 'worker-b']) {
      const consumer = new KinesisConsumer({
        streamName,
        applicationName,
        workerIdentifier: worker,
        processor: () => new VerifyingProcessor(worker, tally, stats),
        kinesisClient: kinesis,
        dynamoDBClient: stack.dynamoDBClient(),
        initialPositionInStream: 'TRIM_HORIZON',
        // Short timings so leases move and children start within a demo's seconds (defaults suit production).
        failoverTimeMillis: 2_000,
        shardSyncIntervalMillis: 2_000,
        parentShardPollIntervalMillis: 500,
        idleTimeBetweenReadsInMillis: 250,
        metricsLevel: 'NONE',
        logger,
      });
      consumer.on('lease.acquired', ({ payload }) =>
        event(
          `${worker} took ${payload.leaseKey}` +
            (payload.previousOwner === undefined ? '' : ` from ${payload.previousOwner}`),
        ),
      );
      consumer.on('lease.released', ({ payload }) => event(`${worker} released ${payload.leaseKey}`));
      consumer.on('shard.ended', ({ payload }) => {
        if (payload.alreadyEnded) return;
        finished.add(payload.shardId);
        event(`${worker} read ${payload.shardId} to its end; children ${payload.childShardIds.join(', ')}`);
      });
      workers.push(consumer);
    }
    await Promise.all(workers.map((worker) => worker.start()));

    // The display ticks every second from its own figures and a ListShards call.
    let phase = 'producing';
    let last = { at: Date.now(), produced: 0, consumed: 0 };
    const snapshot = async () => {
      const shards = await listAllShards(kinesis, streamName);
      const owners = new Map<string, string>();
      for (const worker of workers)
        for (const shardId of worker.leasedShardIds) owners.set(shardId, worker.workerIdentifier);
      const rows: ShardRow[] = shards.map((shard) => {
        const shardId = shard.ShardId ?? '?';
        const shardStats = stats.get(shardId);
        return {
          shardId,
          open: shard.SequenceNumberRange?.EndingSequenceNumber === undefined,
          owner: finished.has(shardId) ? 'finished' : (owners.get(shardId) ?? '-'),
          millisBehindLatest: shardStats?.millisBehindLatest,
          latencyMs: shardStats?.latencyMs,
        };
      });
      const now = Date.now();
      const seconds = Math.max((now - last.at) / 1000, 0.001);
      const view = {
        elapsedSeconds: elapsed(),
        phase,
        produced: tally.produced,
        acknowledged: tally.acknowledged,
        consumed: tally.consumed,
        producedPerSecond: (tally.produced - last.produced) / seconds,
        consumedPerSecond: (tally.consumed - last.consumed) / seconds,
        aggregationRatio: kinesisRecordsPut === 0 ? 0 : userRecordsPut / kinesisRecordsPut,
        shards: rows,
      };
      last = { at: now, produced: tally.produced, consumed: tally.consumed };
      return view;
    };
    const ticker = (async () => {
      while (!stop.signal.aborted) {
        display.update(await snapshot());
        await sleep(1_000, stop.signal);
      }
    })();

    // The scenario's events, at fixed fractions of the producing time.
    const durationMs = options.durationSeconds * 1000;
    const scenario = (async () => {
      await sleep(durationMs * 0.25, stop.signal);
      if (stop.signal.aborted) return;
      const [first] = await listAllShards(kinesis, streamName);
      if (
        first?.ShardId !== undefined &&
        first.HashKeyRange?.StartingHashKey !== undefined &&
        first.HashKeyRange.EndingHashKey !== undefined
      ) {
        const start = BigInt(first.HashKeyRange.StartingHashKey);
        const end = BigInt(first.HashKeyRange.EndingHashKey);
        await kinesis.send(
          new SplitShardCommand({
            StreamName: streamName,
            ShardToSplit: first.ShardId,
            NewStartingHashKey: `${(start + end + 1n) / 2n}`,
          }),
        );
        await waitForStreamActive(kinesis, { streamName });
        event(`split ${first.ShardId} in two`);
      }
      await sleep(durationMs * 0.2, stop.signal);
      if (stop.signal.aborted) return;
      // The two highest original shards are adjacent: their hash-key ranges meet.
      const open = (await listAllShards(kinesis, streamName)).filter(
        (s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined,
      );
      const a = open.find((s) => s.ShardId === shardIdOf(options.shards - 2));
      const b = open.find((s) => s.ShardId === shardIdOf(options.shards - 1));
      if (a?.ShardId !== undefined && b?.ShardId !== undefined) {
        await kinesis.send(
          new MergeShardsCommand({ StreamName: streamName, ShardToMerge: a.ShardId, AdjacentShardToMerge: b.ShardId }),
        );
        await waitForStreamActive(kinesis, { streamName });
        event(`merged ${a.ShardId} and ${b.ShardId}`);
      }
      await sleep(durationMs * 0.15, stop.signal);
      if (stop.signal.aborted) return;
      const leaving = workers[1];
      if (leaving !== undefined) {
        phase = `producing; ${leaving.workerIdentifier} stopped, its leases move to the other worker`;
        event(`stopping ${leaving.workerIdentifier} gracefully (it checkpoints and releases its leases)`);
        await leaving.shutdown();
        event(`${leaving.workerIdentifier} stopped`);
      }
    })();

    // A steady rate: each tick adds the records due by now. waitForCapacity keeps memory bounded if the
    // producer falls behind, instead of piling up promises.
    const produced = (async (p: KinesisProducer) => {
      const total = options.records ?? options.rate * options.durationSeconds;
      const pending: Promise<unknown>[] = [];
      const producingStarted = Date.now();
      let id = 0;
      while (id < total && !stop.signal.aborted) {
        const due = Math.min(total, Math.floor(((Date.now() - producingStarted) / 1000) * options.rate));
        for (; id < due; id++) {
          await p.waitForCapacity({ signal: stop.signal });
          const recordId = id;
          tally.recordProduced();
          pending.push(
            p.addUserRecord(streamName, `customer-${recordId % 1000}`, recordData(recordId, options.recordSize)).then(
              () => tally.recordAcknowledged(recordId),
              (error: unknown) => {
                tally.recordFailed();
                display.event(
                  elapsed(),
                  `record ${recordId} failed: ${error instanceof Error ? error.message : String(error)}`,
                );
              },
            ),
          );
        }
        await sleep(50, stop.signal);
      }
      await p.flushSync();
      await Promise.all(pending);
    })(producer);

    await produced;
    await scenario;
    phase = 'producer done; waiting for the consumers to deliver every acknowledged record';
    event(`producer done: ${tally.acknowledged} acknowledged, ${tally.failed} failed`);
    const drainDeadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (tally.outstanding > 0 && Date.now() < drainDeadline) await sleep(250);
    phase = 'done';
    stop.abort();
    await ticker;
    display.update(await snapshot(), true);
    display.finish();
    quiet = true;
    return tally.verify();
  } finally {
    process.off('SIGINT', onSignal);
    stop.abort();
    // Every step runs even if one fails: a leftover worker or producer would keep the process alive.
    const results = await Promise.allSettled([...workers.map((worker) => worker.shutdown()), producer?.destroy()]);
    for (const result of results)
      if (result.status === 'rejected') console.error('shutdown step failed:', result.reason);
    await stack.stop();
  }
}

function shardIdOf(n: number): string {
  return `shardId-${String(n).padStart(12, '0')}`;
}

function printSummary(v: Verification): void {
  const lines = [
    '',
    'verification',
    `  produced      ${v.produced}`,
    `  acknowledged  ${v.acknowledged}`,
    `  failed        ${v.failed}`,
    `  consumed      ${v.consumed} distinct user records`,
    `  lost          ${v.lost}${v.lost > 0 ? `  (e.g. ids ${v.lostSample.join(', ')})` : ''}`,
    `  duplicates    ${v.duplicates}${v.duplicates === 0 ? '  (every hand-over happened at a checkpoint)' : ''}`,
  ];
  for (const [reason, count] of v.duplicateReasons) lines.push(`    ${count} × ${reason}`);
  lines.push(v.lost === 0 && v.failed === 0 ? 'result: OK, nothing lost' : 'result: FAILED');
  console.log(lines.join('\n'));
}

async function main(): Promise<number> {
  let options: DemoOptions | 'help';
  try {
    options = parseDemoOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${DEMO_USAGE}`);
    return 2;
  }
  if (options === 'help') {
    console.log(DEMO_USAGE);
    return 0;
  }
  const verification = await runDemo(options);
  printSummary(verification);
  return verification.lost === 0 && verification.failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error('demo failed:', error);
    process.exitCode = 1;
  },
);
