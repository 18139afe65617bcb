import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { encodeAggregatedRecord } from '@kinesis-kit/core';
import {
  createDynamoDBClient,
  createKinesisClient,
  createStreamAndWait,
  deleteStreamIfExists,
  uniqueName,
} from '@kinesis-kit/local-stack';
import { inject } from 'vitest';
import type { KinesisClientRecord } from '../../src/kinesis-client-record.js';
import { KinesisConsumer } from '../../src/kinesis-consumer.js';
import type { KinesisConsumerOptions } from '../../src/options.js';
import { type ProcessRecordsInput, RecordProcessor, type ShutdownRequestedInput } from '../../src/record-processor.js';
import { FAST } from './fast-options.js';

/** A delivered record, flattened for assertions. */
export interface Delivered {
  readonly worker: string;
  readonly shardId: string;
  readonly partitionKey: string;
  readonly value: string;
  readonly sequenceNumber: string;
  readonly subSequenceNumber: number;
}

/** Collects what processors see, across workers. */
export class Recorder {
  readonly delivered: Delivered[] = [];
  readonly calls: string[] = [];
  #waiters: { predicate: () => boolean; resolve: () => void }[] = [];

  record(worker: string, shardId: string, records: readonly KinesisClientRecord[]): void {
    for (const r of records) {
      this.delivered.push({
        worker,
        shardId,
        partitionKey: r.partitionKey,
        value: new TextDecoder().decode(r.data),
        sequenceNumber: r.sequenceNumber,
        subSequenceNumber: r.subSequenceNumber,
      });
    }
    this.#check();
  }

  note(call: string): void {
    this.calls.push(call);
    this.#check();
  }

  /** Distinct values delivered. */
  values(): Set<string> {
    return new Set(this.delivered.map((d) => d.value));
  }

  until(predicate: () => boolean, timeoutMs = 40_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `Timed out after ${timeoutMs} ms; delivered ${this.delivered.length}; calls ${this.calls.slice(-20).join(', ')}`,
          ),
        );
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#waiters.push({ predicate, resolve: done });
    });
  }

  #check(): void {
    const ready = this.#waiters.filter((w) => w.predicate());
    this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }
}

/** A processor that records every batch and checkpoints after it, as most applications do. */
export function recordingProcessor(
  recorder: Recorder,
  worker: string,
  checkpointEveryBatch = true,
): () => RecordProcessor {
  return () => {
    let shardId = '?';
    return new (class extends RecordProcessor {
      override async initialize(input: {
        shardId: string;
        extendedSequenceNumber: { toString(): string };
      }): Promise<void> {
        shardId = input.shardId;
        recorder.note(`${worker}:initialize:${shardId}:${input.extendedSequenceNumber}`);
      }
      async processRecords(input: ProcessRecordsInput): Promise<void> {
        recorder.record(worker, shardId, input.records);
        if (checkpointEveryBatch) await input.checkpointer.checkpoint();
      }
      override async leaseLost(): Promise<void> {
        recorder.note(`${worker}:leaseLost:${shardId}`);
      }
      override async shardEnded(input: { checkpointer: { checkpoint(): Promise<void> } }): Promise<void> {
        await input.checkpointer.checkpoint();
        recorder.note(`${worker}:shardEnded:${shardId}`);
      }
      override async shutdownRequested(input: ShutdownRequestedInput): Promise<void> {
        if (checkpointEveryBatch) await input.checkpointer.checkpoint();
        recorder.note(`${worker}:shutdownRequested:${shardId}`);
      }
    })();
  };
}

/** Clients, a fresh stream and a fresh table name; `cleanup()` deletes both and destroys the clients. */
export async function setupStream(options: { shardCount: number; emulator?: 'kinesis-mock' | 'kinesalite' }) {
  const endpoint = inject(options.emulator === 'kinesalite' ? 'kinesaliteEndpoint' : 'kinesisEndpoint');
  const kinesis = createKinesisClient({ endpoint });
  const dynamo = createDynamoDBClient({ endpoint: inject('dynamoDBEndpoint') });
  const streamName = uniqueName('consumer');
  const applicationName = uniqueName('app');
  await createStreamAndWait(kinesis, { streamName, shardCount: options.shardCount });
  const consumers: KinesisConsumer[] = [];
  return {
    kinesis,
    dynamo,
    streamName,
    applicationName,
    kinesisEndpoint: endpoint,
    dynamoDBEndpoint: inject('dynamoDBEndpoint'),
    consumer(extra: Partial<KinesisConsumerOptions> & Pick<KinesisConsumerOptions, 'processor'>): KinesisConsumer {
      const consumer = new KinesisConsumer({
        streamName,
        applicationName,
        kinesisClient: kinesis,
        dynamoDBClient: dynamo,
        initialPositionInStream: 'TRIM_HORIZON',
        ...FAST,
        ...extra,
      });
      consumers.push(consumer);
      return consumer;
    },
    async cleanup(): Promise<void> {
      await Promise.allSettled(consumers.map((c) => c.shutdown()));
      await Promise.allSettled([
        deleteStreamIfExists(kinesis, streamName),
        dynamo.send(new DeleteTableCommand({ TableName: applicationName })),
        dynamo.send(new DeleteTableCommand({ TableName: `${applicationName}-WorkerHeartbeats` })),
      ]);
      kinesis.destroy();
      dynamo.destroy();
    },
  };
}

/** Puts plain records, one per value, with the given partition keys; in batches of 500. */
export async function putPlain(
  kinesis: KinesisClient,
  streamName: string,
  records: readonly { partitionKey: string; value: string }[],
): Promise<void> {
  const entries: PutRecordsRequestEntry[] = records.map((r) => ({
    PartitionKey: r.partitionKey,
    Data: new TextEncoder().encode(r.value),
  }));
  await putEntries(kinesis, streamName, entries);
}

/**
 * Puts KPL aggregates: each group of user records becomes one Kinesis record, routed by the first user
 * record's partition key (as the KPL routes by an explicit hash key of the shard).
 */
export async function putAggregated(
  kinesis: KinesisClient,
  streamName: string,
  groups: readonly (readonly { partitionKey: string; value: string }[])[],
): Promise<void> {
  const entries: PutRecordsRequestEntry[] = groups.map((group) => ({
    PartitionKey: group[0]?.partitionKey ?? 'a',
    Data: encodeAggregatedRecord(
      group.map((r) => ({ partitionKey: r.partitionKey, data: new TextEncoder().encode(r.value) })),
    ),
  }));
  await putEntries(kinesis, streamName, entries);
}

async function putEntries(
  kinesis: KinesisClient,
  streamName: string,
  entries: PutRecordsRequestEntry[],
): Promise<void> {
  for (let i = 0; i < entries.length; i += 500) {
    const batch = entries.slice(i, i + 500);
    const out = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: batch }));
    if ((out.FailedRecordCount ?? 0) > 0) throw new Error(`${out.FailedRecordCount} records failed`);
  }
}

/** Values per partition key in delivery order, to check per-key ordering. */
export function byPartitionKey(delivered: readonly Delivered[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const d of delivered) {
    const list = out.get(d.partitionKey);
    if (list === undefined) out.set(d.partitionKey, [d.value]);
    else list.push(d.value);
  }
  return out;
}

export type { DynamoDBClient };
export { uniqueName };
