/**
 * A consumer worker in its own process, for the failover test: configured from the environment, it prints
 * one JSON line per delivered record and per lease acquired, until it is killed.
 */
import { createDynamoDBClient, createKinesisClient } from '@kinesis-kit/local-stack';
import { KinesisConsumer } from '../../src/kinesis-consumer.js';
import { type ProcessRecordsInput, RecordProcessor } from '../../src/record-processor.js';
import { env, print } from './child-io.js';
import { FAST } from './fast-options.js';

const worker = env('WORKER_ID');

class PrintingProcessor extends RecordProcessor {
  #shardId = '?';
  override async initialize(input: { shardId: string }): Promise<void> {
    this.#shardId = input.shardId;
  }
  async processRecords(input: ProcessRecordsInput): Promise<void> {
    for (const r of input.records) {
      print({ type: 'record', worker, shardId: this.#shardId, value: new TextDecoder().decode(r.data) });
    }
    await input.checkpointer.checkpoint();
  }
}

const kinesisClient = createKinesisClient({ endpoint: env('KINESIS_ENDPOINT') });
const dynamoDBClient = createDynamoDBClient({ endpoint: env('DYNAMODB_ENDPOINT') });
const consumer = new KinesisConsumer({
  streamName: env('STREAM_NAME'),
  applicationName: env('APPLICATION_NAME'),
  workerIdentifier: worker,
  processor: PrintingProcessor,
  kinesisClient,
  dynamoDBClient,
  initialPositionInStream: 'TRIM_HORIZON',
  ...FAST,
  failoverTimeMillis: Number(env('FAILOVER_TIME_MILLIS')),
  handleSignals: true,
});
consumer.on('lease.acquired', ({ payload }) => {
  print({ type: 'acquired', worker, leaseKey: payload.leaseKey });
});
// handleSignals: SIGTERM runs a graceful shutdown; then close the sockets so the process can end.
consumer.on('consumer.shutdown.completed', () => {
  print({ type: 'stopped', worker });
  kinesisClient.destroy();
  dynamoDBClient.destroy();
});
await consumer.start();
print({ type: 'started', worker });
