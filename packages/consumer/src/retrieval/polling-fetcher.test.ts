import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ProvisionedThroughputExceededException,
  ResourceNotFoundException,
} from '@aws-sdk/client-kinesis';
import { encodeAggregatedRecord, ManualClock, TypedEventEmitter } from '@kinesis-kit/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConsumerEvents } from '../events.js';
import { ExtendedSequenceNumber } from '../extended-sequence-number.js';
import { PollingFetcher } from './polling-fetcher.js';

const kinesis = mockClient(KinesisClient);
afterEach(() => kinesis.reset());

const MAX = ((1n << 128n) - 1n).toString();
const text = (s: string) => new TextEncoder().encode(s);

function setup(
  options: {
    hashKeyRange?: { startingHashKey: string; endingHashKey: string };
    maxRecords?: number;
    catchUpTimeBetweenReadsInMillis?: number;
  } = {},
) {
  const clock = new ManualClock(0);
  const events = new TypedEventEmitter<ConsumerEvents>({ clock });
  const seen: string[] = [];
  events.onAny((e) => {
    if (e.type !== 'records.fetched') seen.push(e.type);
  });
  const fetcher = new PollingFetcher({
    client: new KinesisClient({ region: 'us-east-1' }),
    streamName: 's',
    shardId: 'shardId-000000000000',
    hashKeyRange: options.hashKeyRange,
    maxRecords: options.maxRecords ?? 100,
    idleTimeBetweenReadsInMillis: 1_000,
    ...(options.catchUpTimeBetweenReadsInMillis === undefined
      ? {}
      : { catchUpTimeBetweenReadsInMillis: options.catchUpTimeBetweenReadsInMillis }),
    requestTimeoutMillis: 30_000,
    initialTimestamp: undefined,
    clock,
    events,
  });
  return { clock, fetcher, seen };
}

describe('PollingFetcher', () => {
  it('starts AT_SEQUENCE_NUMBER for a numeric checkpoint and maps sentinels to their iterator types', async () => {
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-1' });
    const { fetcher } = setup();
    await fetcher.start(new ExtendedSequenceNumber('123', 4));
    await fetcher.start(ExtendedSequenceNumber.TRIM_HORIZON);
    await fetcher.start(ExtendedSequenceNumber.LATEST);
    const inputs = kinesis.commandCalls(GetShardIteratorCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => [i.ShardIteratorType, i.StartingSequenceNumber])).toEqual([
      ['AT_SEQUENCE_NUMBER', '123'],
      ['TRIM_HORIZON', undefined],
      ['LATEST', undefined],
    ]);
    await expect(fetcher.start(ExtendedSequenceNumber.AT_TIMESTAMP)).rejects.toThrow(/no timestamp/);
  });

  it('starts AT_TIMESTAMP checkpoints at the configured timestamp (the lease stores none)', async () => {
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    const clock = new ManualClock(0);
    const fetcher = new PollingFetcher({
      client: new KinesisClient({ region: 'us-east-1' }),
      streamName: 's',
      shardId: 'shardId-000000000000',
      hashKeyRange: undefined,
      maxRecords: 100,
      idleTimeBetweenReadsInMillis: 1_000,
      requestTimeoutMillis: 30_000,
      initialTimestamp: new Date(1_700_000_000_000),
      clock,
      events: new TypedEventEmitter<ConsumerEvents>({ clock }),
    });
    await fetcher.start(ExtendedSequenceNumber.AT_TIMESTAMP);
    expect(kinesis.commandCalls(GetShardIteratorCommand)[0]?.args[0].input).toMatchObject({
      ShardIteratorType: 'AT_TIMESTAMP',
      Timestamp: new Date(1_700_000_000_000),
    });
  });

  const behindBatch = {
    Records: [{ SequenceNumber: '1', Data: text('a'), PartitionKey: 'k' }],
    NextShardIterator: 'it',
    MillisBehindLatest: 9_000,
  };

  /** When the next GetRecords call starts (ms on the manual clock) after one behind read at 0. */
  async function delayAfterBehindRead(options: { catchUpTimeBetweenReadsInMillis?: number }): Promise<number> {
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    kinesis.on(GetRecordsCommand).resolves(behindBatch);
    const { clock, fetcher } = setup(options);
    await fetcher.start(ExtendedSequenceNumber.TRIM_HORIZON);
    await fetcher.next();
    const second = fetcher.next();
    while (kinesis.commandCalls(GetRecordsCommand).length < 2) {
      await clock.whenSleeping();
      await clock.advance(1);
    }
    await second;
    return clock.now();
  }

  it('keeps the idle spacing between calls while behind, as the KCL (idle − time since the last call)', async () => {
    // Before: 200 ms, i.e. the shard's whole 5 reads/s for one application.
    expect(await delayAfterBehindRead({})).toBe(1_000);
  });

  it.each([
    [400, 400],
    [50, 200], // never faster than the shard's 5 calls/s
  ])(
    'reads %i ms apart while behind when catchUpTimeBetweenReadsInMillis says so (spacing %i)',
    async (option, expected) => {
      expect(await delayAfterBehindRead({ catchUpTimeBetweenReadsInMillis: option })).toBe(expected);
    },
  );

  it('counts the time since the last call into the spacing: a slow processor costs no extra wait', async () => {
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    kinesis.on(GetRecordsCommand).resolves(behindBatch);
    const { clock, fetcher } = setup();
    await fetcher.start(ExtendedSequenceNumber.TRIM_HORIZON);
    await fetcher.next();
    await clock.advance(700); // the processor worked for 700 ms
    const second = fetcher.next();
    await clock.whenSleeping();
    await clock.advance(299);
    expect(kinesis.commandCalls(GetRecordsCommand)).toHaveLength(1);
    await clock.advance(1);
    await second;
    expect(kinesis.commandCalls(GetRecordsCommand)).toHaveLength(2);
  });

  it('reports millisBehindLatest as undefined when the server does not send it (never as 0)', async () => {
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    kinesis.on(GetRecordsCommand).resolves({ Records: [], NextShardIterator: undefined });
    const { fetcher } = setup();
    await fetcher.start(ExtendedSequenceNumber.TRIM_HORIZON);
    expect((await fetcher.next()).millisBehindLatest).toBeUndefined();
    // And after the end, too.
    expect(await fetcher.next()).toMatchObject({ isAtShardEnd: true, millisBehindLatest: undefined });
  });

  it.each([
    ['start', ExtendedSequenceNumber.TRIM_HORIZON],
    [
      'start at a checkpoint inside a trimmed shard',
      new ExtendedSequenceNumber('49590338271490256608559692538361571095921575989136588898'),
    ],
  ])(
    'treats ResourceNotFoundException from GetShardIterator (%s) as the shard end, without retrying',
    async (_name, checkpoint) => {
      kinesis
        .on(GetShardIteratorCommand)
        .rejects(
          new ResourceNotFoundException({ message: 'Shard shardId-000000000000 does not exist', $metadata: {} }),
        );
      const { fetcher, seen } = setup();
      await fetcher.start(checkpoint);
      expect(await fetcher.next()).toEqual({
        records: [],
        millisBehindLatest: undefined,
        isAtShardEnd: true,
        childShards: undefined,
      });
      expect(kinesis.commandCalls(GetShardIteratorCommand)).toHaveLength(1);
      expect(kinesis.commandCalls(GetRecordsCommand)).toHaveLength(0);
      expect(seen).toEqual([]);
    },
  );

  it('treats ResourceNotFoundException when renewing an expired iterator as the shard end', async () => {
    kinesis
      .on(GetShardIteratorCommand)
      .resolvesOnce({ ShardIterator: 'it' })
      .rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} }));
    kinesis.on(GetRecordsCommand).rejects(new ExpiredIteratorException({ message: 'expired', $metadata: {} }));
    const { fetcher } = setup();
    await fetcher.start(ExtendedSequenceNumber.TRIM_HORIZON);
    expect((await fetcher.next()).isAtShardEnd).toBe(true);
  });

  it('renews an expired iterator AFTER the last record fetched', async () => {
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'fresh' });
    kinesis
      .on(GetRecordsCommand)
      .resolvesOnce({
        Records: [{ SequenceNumber: '77', Data: text('a'), PartitionKey: 'k' }],
        NextShardIterator: 'old',
        MillisBehindLatest: 0,
      })
      .rejectsOnce(new ExpiredIteratorException({ message: 'expired', $metadata: {} }))
      .resolves({
        Records: [{ SequenceNumber: '78', Data: text('b'), PartitionKey: 'k' }],
        NextShardIterator: 'x',
        MillisBehindLatest: 0,
      });
    const { clock, fetcher, seen } = setup();
    await fetcher.start(ExtendedSequenceNumber.TRIM_HORIZON);
    await fetcher.next();
    const next = fetcher.next();
    for (let i = 0; i < 2; i++) {
      await clock.whenSleeping();
      await clock.advance(1_000);
    }
    const batch = await next;
    expect(batch.records.map((r) => r.sequenceNumber)).toEqual(['78']);
    const restart = kinesis.commandCalls(GetShardIteratorCommand)[1]?.args[0].input;
    expect(restart).toMatchObject({ ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: '77' });
    expect(seen).toContain('records.iteratorExpired');
  });

  it('backs off on throttling and reports it', async () => {
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    kinesis
      .on(GetRecordsCommand)
      .rejectsOnce(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }))
      .resolves({ Records: [], NextShardIterator: 'it', MillisBehindLatest: 0 });
    const { clock, fetcher, seen } = setup();
    await fetcher.start(ExtendedSequenceNumber.TRIM_HORIZON);
    const next = fetcher.next();
    // (The call's own timeout timer sleeps too, so wait for the event rather than for a sleeper.)
    await vi.waitUntil(() => seen.length > 0);
    expect(seen).toEqual(['records.throttled']);
    await clock.advance(1_000);
    await next;
    expect(kinesis.commandCalls(GetRecordsCommand)).toHaveLength(2);
  });

  it('deaggregates with sub-sequence numbers and drops an aggregate holding a record outside the shard', async () => {
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    const inRange = encodeAggregatedRecord([
      { partitionKey: 'a', explicitHashKey: '5', data: text('x0') },
      { partitionKey: 'b', explicitHashKey: '6', data: text('x1') },
    ]);
    const straddling = encodeAggregatedRecord([
      { partitionKey: 'a', explicitHashKey: '5', data: text('y0') },
      { partitionKey: 'b', explicitHashKey: MAX, data: text('y1') },
    ]);
    kinesis.on(GetRecordsCommand).resolves({
      Records: [
        { SequenceNumber: '10', Data: inRange, PartitionKey: 'a' },
        { SequenceNumber: '11', Data: straddling, PartitionKey: 'a' },
        { SequenceNumber: '12', Data: text('plain'), PartitionKey: 'p' },
      ],
      NextShardIterator: undefined,
      ChildShards: [
        {
          ShardId: 'shardId-000000000002',
          ParentShards: ['shardId-000000000000'],
          HashKeyRange: { StartingHashKey: '0', EndingHashKey: '100' },
        },
      ],
      MillisBehindLatest: 0,
    });
    const { fetcher, seen } = setup({ hashKeyRange: { startingHashKey: '0', endingHashKey: '1000' } });
    await fetcher.start(ExtendedSequenceNumber.TRIM_HORIZON);
    const batch = await fetcher.next();
    expect(batch.records.map((r) => `${r.sequenceNumber}.${r.subSequenceNumber}:${r.aggregated}`)).toEqual([
      '10.0:true',
      '10.1:true',
      '12.0:false',
    ]);
    expect(seen).toEqual(['records.aggregateDropped']);
    expect(batch.isAtShardEnd).toBe(true);
    expect(batch.childShards).toEqual([
      {
        shardId: 'shardId-000000000002',
        parentShardIds: ['shardId-000000000000'],
        hashKeyRange: { startingHashKey: '0', endingHashKey: '100' },
      },
    ]);
    // After the end, no more calls.
    expect((await fetcher.next()).isAtShardEnd).toBe(true);
    expect(kinesis.commandCalls(GetRecordsCommand)).toHaveLength(1);
  });
});
