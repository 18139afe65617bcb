/**
 * One consumer worker of the chaos suite, in its own process so it can be SIGKILLed: configured from the
 * environment, it prints one JSON line per batch (before checkpointing, so a kill between the two shows up as
 * a duplicate the next owner explains) and per lease gained or lost.
 */
import { createDynamoDBClient, createKinesisClient } from '@kinesis-kit/local-stack';
import { KinesisConsumer } from '../../src/kinesis-consumer.js';
import { type ProcessRecordsInput, RecordProcessor } from '../../src/record-processor.js';
import { env, print } from '../support/child-io.js';
import { FAST } from '../support/fast-options.js';

const worker = env('WORKER_ID');

class LoggingProcessor extends RecordProcessor {
  #shardId = '?';
  override async initialize(input: { shardId: string }): Promise<void> {
    this.#shardId = input.shardId;
  }
  async processRecords(input: ProcessRecordsInput): Promise<void> {
    const start = Date.now();
    const values = input.records.map((r) => new TextDecoder().decode(r.data));
    print({ type: 'batch', worker, shardId: this.#shardId, start, end: Date.now(), values });
    await input.checkpointer.checkpoint();
  }
}

const kinesisClient = createKinesisClient({ endpoint: env('KINESIS_ENDPOINT') });
const dynamoDBClient = createDynamoDBClient({ endpoint: env('DYNAMODB_ENDPOINT') });
const consumer = new KinesisConsumer({
  streamName: env('STREAM_NAME'),
  applicationName: env('APPLICATION_NAME'),
  workerIdentifier: worker,
  processor: LoggingProcessor,
  kinesisClient,
  dynamoDBClient,
  initialPositionInStream: 'TRIM_HORIZON',
  ...FAST,
  failoverTimeMillis: Number(env('FAILOVER_TIME_MILLIS')),
  handleSignals: true,
});
consumer.on('lease.acquired', ({ payload }) =>
  print({ type: 'acquired', worker, leaseKey: payload.leaseKey, at: Date.now() }),
);
consumer.on('lease.lost', ({ payload }) =>
  print({ type: 'lost', worker, leaseKey: payload.leaseKey, reason: payload.reason, at: Date.now() }),
);
consumer.on('processor.error', ({ payload }) =>
  print({ type: 'processorError', worker, code: (payload.error as { code?: string }).code ?? 'other' }),
);
consumer.on('consumer.shutdown.completed', () => {
  print({ type: 'stopped', worker });
  kinesisClient.destroy();
  dynamoDBClient.destroy();
});
await consumer.start();
print({ type: 'started', worker });
