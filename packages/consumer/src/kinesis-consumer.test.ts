import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-kinesis';
import { ManualClock, ShutdownError, ValidationError } from '@kinesis-kit/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { KinesisConsumer } from './kinesis-consumer.js';
import { InMemoryLeaseStore } from './leases/in-memory-lease-store.js';
import { silentLogger } from './logger.js';
import { type ProcessRecordsInput, RecordProcessor } from './record-processor.js';

const kinesis = mockClient(KinesisClient);
afterEach(() => kinesis.reset());

const MAX = ((1n << 128n) - 1n).toString();

class Collect extends RecordProcessor {
  static readonly values: string[] = [];
  static readonly calls: string[] = [];
  async processRecords(input: ProcessRecordsInput): Promise<void> {
    for (const r of input.records) Collect.values.push(new TextDecoder().decode(r.data));
    await input.checkpointer.checkpoint();
  }
  override async shutdownRequested(): Promise<void> {
    Collect.calls.push('shutdownRequested');
  }
  override async leaseLost(): Promise<void> {
    Collect.calls.push('leaseLost');
  }
}

describe('KinesisConsumer (scheduler, with an in-memory lease store and a manual clock)', () => {
  it('rejects invalid options at construction, naming the option', () => {
    expect(
      () =>
        new KinesisConsumer({ streamName: 's', applicationName: 'app', processor: Collect, failoverTimeMillis: 10 }),
    ).toThrow(ValidationError);
    expect(
      () => new KinesisConsumer({ streamName: 's', applicationName: 'app', processor: Collect, maxRecords: 0 }),
    ).toThrow(/maxRecords/);
  });

  it('starts, processes, shuts down gracefully (release, then leaseLost), and leaves no timer behind', async () => {
    kinesis.on(ListShardsCommand).resolves({
      Shards: [
        {
          ShardId: 'shardId-000000000000',
          HashKeyRange: { StartingHashKey: '0', EndingHashKey: MAX },
          SequenceNumberRange: { StartingSequenceNumber: '1' },
        },
      ],
    });
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    kinesis
      .on(GetRecordsCommand)
      .resolvesOnce({
        Records: [{ SequenceNumber: '5', Data: new TextEncoder().encode('hello'), PartitionKey: 'k' }],
        NextShardIterator: 'it',
        MillisBehindLatest: 0,
      })
      .resolves({ Records: [], NextShardIterator: 'it', MillisBehindLatest: 0 });
    const clock = new ManualClock(1_000);
    const store = new InMemoryLeaseStore();
    const consumer = new KinesisConsumer({
      streamName: 's',
      applicationName: 'app',
      processor: Collect,
      kinesisClient: new KinesisClient({ region: 'us-east-1' }),
      leaseStore: store,
      clock,
      logger: silentLogger,
      metricsLevel: 'NONE',
      initialPositionInStream: 'TRIM_HORIZON',
      workerIdentifier: 'w',
    });
    const types: string[] = [];
    consumer.onAny((e) => {
      types.push(e.type);
    });
    const started = consumer.start();
    expect(consumer.start()).toBe(started);
    await started;
    // Waits on what the test is about, not on a count of sleeping loops (the watchdog and the heartbeat added some).
    await expect.poll(() => consumer.leasedShardIds).toEqual(['shardId-000000000000']);
    await expect.poll(() => Collect.values).toEqual(['hello']);
    expect((await store.getLease('shardId-000000000000'))?.checkpoint.sequenceNumber).toBe('5');

    const stopping = consumer.shutdown();
    expect(consumer.shutdown()).toBe(stopping);
    await stopping;
    expect(Collect.calls).toEqual(['shutdownRequested', 'leaseLost']);
    expect((await store.getLease('shardId-000000000000'))?.leaseOwner).toBeUndefined();
    expect(clock.sleeperCount).toBe(0);
    expect(types).toContain('consumer.started');
    expect(types).toContain('lease.released');
    expect(types.at(-1)).toBe('consumer.shutdown.completed');
    await expect(consumer.start()).resolves.toBeUndefined(); // the same, settled start
  });

  it('gives up waiting for a processor that never returns after shutdownTimeoutMillis, leaving its lease to expire', async () => {
    kinesis.on(ListShardsCommand).resolves({
      Shards: [
        {
          ShardId: 'shardId-000000000000',
          HashKeyRange: { StartingHashKey: '0', EndingHashKey: MAX },
          SequenceNumberRange: { StartingSequenceNumber: '1' },
        },
      ],
    });
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    kinesis.on(GetRecordsCommand).resolves({
      Records: [{ SequenceNumber: '5', Data: new TextEncoder().encode('x'), PartitionKey: 'k' }],
      NextShardIterator: 'it',
      MillisBehindLatest: 0,
    });
    let entered = false;
    class Hang extends RecordProcessor {
      async processRecords(): Promise<void> {
        entered = true;
        await new Promise(() => {});
      }
    }
    const clock = new ManualClock(0);
    const store = new InMemoryLeaseStore();
    const consumer = new KinesisConsumer({
      streamName: 's',
      applicationName: 'app',
      processor: Hang,
      kinesisClient: new KinesisClient({ region: 'us-east-1' }),
      leaseStore: store,
      clock,
      logger: silentLogger,
      metricsLevel: 'NONE',
      initialPositionInStream: 'TRIM_HORIZON',
      workerIdentifier: 'w',
      shutdownTimeoutMillis: 1_000,
    });
    await consumer.start();
    await expect.poll(() => entered).toBe(true);
    let stopped = false;
    const stopping = consumer.shutdown().then(() => {
      stopped = true;
    });
    for (let waited = 0; waited < 900 && !stopped; waited += 100) await clock.advance(100);
    expect(stopped).toBe(false);
    for (let waited = 0; waited < 1_000 && !stopped; waited += 100) await clock.advance(100);
    await stopping;
    expect(stopped).toBe(true);
    expect((await store.getLease('shardId-000000000000'))?.leaseOwner).toBe('w');
    expect(clock.sleeperCount).toBe(0);
  });

  it('retries a processor factory that throws (an error event each time) instead of holding the lease unprocessed', async () => {
    kinesis.on(ListShardsCommand).resolves({
      Shards: [
        {
          ShardId: 'shardId-000000000000',
          HashKeyRange: { StartingHashKey: '0', EndingHashKey: MAX },
          SequenceNumberRange: { StartingSequenceNumber: '1' },
        },
      ],
    });
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    kinesis
      .on(GetRecordsCommand)
      .resolvesOnce({
        Records: [{ SequenceNumber: '5', Data: new TextEncoder().encode('made it'), PartitionKey: 'k' }],
        NextShardIterator: 'it',
        MillisBehindLatest: 0,
      })
      .resolves({ Records: [], NextShardIterator: 'it', MillisBehindLatest: 0 });
    const values: string[] = [];
    let factoryCalls = 0;
    const clock = new ManualClock(0);
    const consumer = new KinesisConsumer({
      streamName: 's',
      applicationName: 'app',
      processor: () => {
        if (++factoryCalls <= 2) throw new Error('connection pool not ready');
        return new (class extends RecordProcessor {
          async processRecords(input: ProcessRecordsInput): Promise<void> {
            for (const r of input.records) values.push(new TextDecoder().decode(r.data));
          }
        })();
      },
      kinesisClient: new KinesisClient({ region: 'us-east-1' }),
      leaseStore: new InMemoryLeaseStore(),
      clock,
      logger: silentLogger,
      metricsLevel: 'NONE',
      initialPositionInStream: 'TRIM_HORIZON',
      workerIdentifier: 'w',
    });
    const failures: string[] = [];
    consumer.on('error', ({ payload }) => {
      failures.push(payload.operation);
    });
    await consumer.start();
    await expect
      .poll(async () => {
        await clock.advance(500);
        return values;
      })
      .toEqual(['made it']);
    expect(factoryCalls).toBe(3);
    expect(failures).toEqual(['CreateProcessor', 'CreateProcessor']);
    await consumer.shutdown();
  });

  it('a failed start rejects and leaves no timer running', async () => {
    const clock = new ManualClock(0);
    const store = new InMemoryLeaseStore();
    store.initialize = async () => {
      throw new Error('AccessDeniedException');
    };
    const consumer = new KinesisConsumer({
      streamName: 's',
      applicationName: 'app',
      processor: Collect,
      kinesisClient: new KinesisClient({ region: 'us-east-1' }),
      leaseStore: store,
      clock,
      logger: silentLogger,
      metricsLevel: 'SUMMARY',
      cloudWatchClient: new CloudWatchClient({ region: 'us-east-1' }),
    });
    await expect(consumer.start()).rejects.toThrow('AccessDeniedException');
    expect(clock.sleeperCount).toBe(0);
  });

  it('fails start when the stream does not exist', async () => {
    kinesis
      .on(ListShardsCommand)
      .rejects(new ResourceNotFoundException({ message: 'Stream s not found', $metadata: {} }));
    const consumer = new KinesisConsumer({
      streamName: 's',
      applicationName: 'app',
      processor: Collect,
      kinesisClient: new KinesisClient({ region: 'us-east-1' }),
      leaseStore: new InMemoryLeaseStore(),
      logger: silentLogger,
      metricsLevel: 'NONE',
    });
    await expect(consumer.start()).rejects.toMatchObject({ code: 'STREAM_NOT_FOUND', streamName: 's' });
  });

  it('cannot be started after shutdown', async () => {
    const consumer = new KinesisConsumer({
      streamName: 's',
      applicationName: 'app',
      processor: Collect,
      kinesisClient: new KinesisClient({ region: 'us-east-1' }),
      leaseStore: new InMemoryLeaseStore(),
      logger: silentLogger,
      metricsLevel: 'NONE',
    });
    await consumer.shutdown();
    await expect(consumer.start()).rejects.toThrow(ShutdownError);
  });
});
