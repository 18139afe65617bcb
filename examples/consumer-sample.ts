/**
 * The classic KCL sample: a record processor that handles each record, remembers the sequence number it has
 * reached and checkpoints at an interval — and always on shard end and graceful shutdown.
 *
 *   pnpm --filter @kinesis-kit/examples consumer [--records N] [--seconds S]     # seeds N records locally
 *   pnpm --filter @kinesis-kit/examples consumer --aws --region eu-west-1 --stream orders --seconds 60
 */
import {
  type InitializationInput,
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
  { records: { type: 'string' }, seconds: { type: 'string' }, 'checkpoint-interval': { type: 'string' } },
  'consumer-sample [--records N (default 500, local only)] [--seconds S (default: until all are read)] [--checkpoint-interval MS (default 2000)]',
);
const checkpointIntervalMs = intFlag(target, 'checkpoint-interval', 2_000);
let processed = 0;
let checkpoints = 0;

class SampleRecordProcessor extends RecordProcessor {
  #shardId = '';
  #lastSequenceNumber = '';
  #nextCheckpointAt = 0;

  override async initialize({ shardId, extendedSequenceNumber }: InitializationInput): Promise<void> {
    this.#shardId = shardId;
    this.#nextCheckpointAt = Date.now() + checkpointIntervalMs;
    console.log(`${shardId}: starting after ${extendedSequenceNumber}`);
  }

  async processRecords({ records, checkpointer }: ProcessRecordsInput): Promise<void> {
    for (const record of records) {
      // Your logic here. A record that cannot be handled should be logged or parked, not thrown: a throw
      // skips the rest of the batch (processRecordsErrorPolicy 'continue', the KCL's behaviour).
      JSON.parse(new TextDecoder().decode(record.data));
      this.#lastSequenceNumber = `${record.sequenceNumber}/${record.subSequenceNumber}`;
      processed++;
    }
    // Checkpoint at an interval, not per record: every checkpoint is a DynamoDB write.
    if (Date.now() >= this.#nextCheckpointAt) {
      await checkpointer.checkpoint();
      checkpoints++;
      console.log(`${this.#shardId}: checkpointed at ${this.#lastSequenceNumber}`);
      this.#nextCheckpointAt = Date.now() + checkpointIntervalMs;
    }
  }

  override async shardEnded({ checkpointer }: ShardEndedInput): Promise<void> {
    // Required: the shard's children start only after the parent's SHARD_END checkpoint.
    await checkpointer.checkpoint();
  }

  override async shutdownRequested({ checkpointer }: ShutdownRequestedInput): Promise<void> {
    await checkpointer.checkpoint();
    checkpoints++;
    console.log(`${this.#shardId}: checkpointed at ${this.#lastSequenceNumber || 'the start'} on shutdown`);
  }
}

const seeded = target.local ? intFlag(target, 'records', 500) : 0;
const seconds = intFlag(target, 'seconds', target.local ? 30 : 60);
const consumer = new KinesisConsumer({
  streamName: target.streamName,
  applicationName: target.local ? uniqueName('consumer-sample') : `${target.streamName}-consumer-sample`,
  processor: SampleRecordProcessor,
  initialPositionInStream: 'TRIM_HORIZON',
  kinesisClient: target.kinesis,
  dynamoDBClient: target.dynamodb,
  // The CloudWatch client the consumer makes for its metrics goes to the same region.
  ...(target.region === undefined ? {} : { region: target.region }),
  idleTimeBetweenReadsInMillis: 250,
  metricsLevel: target.local ? 'NONE' : 'SUMMARY',
  handleSignals: true,
});

try {
  if (seeded > 0) await seedRecords(target.kinesis, target.streamName, seeded);
  await consumer.start();
  const deadline = Date.now() + seconds * 1000;
  // Locally we know how many records there are; on AWS the sample runs for --seconds (or until Ctrl-C).
  while (Date.now() < deadline && (seeded === 0 || processed < seeded)) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
} finally {
  await consumer.shutdown();
  await target.close();
}
console.log(`processed ${processed} records with ${checkpoints} checkpoints`);
process.exitCode = seeded === 0 || processed >= seeded ? 0 : 1;
