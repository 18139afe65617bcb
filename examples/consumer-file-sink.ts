/**
 * A consumer that writes records to a file in batches, and checkpoints only what is safely on disk: a batch
 * is written (and fsynced) when it reaches --batch records or --flush-ms of age, then the last record in it is
 * checkpointed. A crash re-delivers at most the unwritten records, never skips them.
 *
 *   pnpm --filter @kinesis-kit/examples consumer-file-sink [--out FILE] [--batch N] [--flush-ms MS] [--records N]
 */
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Checkpointer,
  type KinesisClientRecord,
  KinesisConsumer,
  type ProcessRecordsInput,
  RecordProcessor,
  type ShardEndedInput,
  type ShutdownRequestedInput,
} from '@kinesis-kit/consumer';
import { uniqueName } from '@kinesis-kit/local-stack';
import { seedRecords } from './support/seed.js';
import { intFlag, openTarget } from './support/target.js';

const target = await openTarget(
  { out: { type: 'string' }, batch: { type: 'string' }, 'flush-ms': { type: 'string' }, records: { type: 'string' } },
  'consumer-file-sink [--out FILE] [--batch N (default 200)] [--flush-ms MS (default 1000)] [--records N (default 1000, local only)]',
);
const out = typeof target.values.out === 'string' ? target.values.out : join(tmpdir(), `${target.streamName}.jsonl`);
const batchSize = intFlag(target, 'batch', 200);
const flushMs = intFlag(target, 'flush-ms', 1_000);
const file = await open(out, 'a');
let written = 0;
let batches = 0;

class FileSinkProcessor extends RecordProcessor {
  #buffer: string[] = [];
  #last: KinesisClientRecord | undefined;
  #oldest = 0;

  async processRecords({ records, checkpointer }: ProcessRecordsInput): Promise<void> {
    for (const record of records) {
      if (this.#buffer.length === 0) this.#oldest = Date.now();
      this.#buffer.push(new TextDecoder().decode(record.data));
      this.#last = record;
      if (this.#buffer.length >= batchSize) await this.#flush(checkpointer);
    }
    // Called for empty batches too (see the options below), so a quiet shard still flushes on time.
    if (this.#buffer.length > 0 && Date.now() - this.#oldest >= flushMs) await this.#flush(checkpointer);
  }

  override async shardEnded({ checkpointer }: ShardEndedInput): Promise<void> {
    await this.#flush(checkpointer);
    await checkpointer.checkpoint(); // SHARD_END
  }

  override async shutdownRequested({ checkpointer }: ShutdownRequestedInput): Promise<void> {
    await this.#flush(checkpointer);
  }

  async #flush(checkpointer: Checkpointer): Promise<void> {
    const last = this.#last;
    if (this.#buffer.length === 0 || last === undefined) return;
    const lines = this.#buffer;
    this.#buffer = [];
    // Durable first, checkpoint second: the checkpoint promises the records are safe.
    await file.appendFile(`${lines.join('\n')}\n`);
    await file.sync();
    await checkpointer.checkpoint(last);
    written += lines.length;
    batches++;
  }
}

const seeded = target.local ? intFlag(target, 'records', 1_000) : 0;
const consumer = new KinesisConsumer({
  streamName: target.streamName,
  applicationName: target.local ? uniqueName('file-sink') : `${target.streamName}-file-sink`,
  processor: FileSinkProcessor,
  initialPositionInStream: 'TRIM_HORIZON',
  kinesisClient: target.kinesis,
  dynamoDBClient: target.dynamodb,
  // The CloudWatch client the consumer makes for its metrics goes to the same region.
  ...(target.region === undefined ? {} : { region: target.region }),
  callProcessRecordsEvenForEmptyRecordList: true,
  idleTimeBetweenReadsInMillis: 250,
  metricsLevel: target.local ? 'NONE' : 'SUMMARY',
  handleSignals: true,
});

try {
  if (seeded > 0) await seedRecords(target.kinesis, target.streamName, seeded);
  await consumer.start();
  const deadline = Date.now() + (target.local ? 30_000 : 60_000);
  while (Date.now() < deadline && (seeded === 0 || written < seeded)) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
} finally {
  await consumer.shutdown();
  await file.close();
  await target.close();
}
console.log(`wrote ${written} records to ${out} in ${batches} batches`);
process.exitCode = seeded === 0 || written >= seeded ? 0 : 1;
