import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  type PutRecordsCommandInput,
} from '@aws-sdk/client-kinesis';
import { formatShardId, MAX_HASH_KEY, ManualClock } from '@kinesis-kit/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserRecordFailedError } from './errors.js';
import { KinesisProducer } from './kinesis-producer.js';
import type { UserRecordResult } from './user-record-result.js';

let kinesis: KinesisClient;
let kinesisMock: ReturnType<typeof mockClient>;
let sent: string[];
let maxOutstanding: number;
let producer: KinesisProducer;
let failKey: string | undefined;
/** Calls with a record of this partition key wait until {@link release} is called. */
let holdKey: string | undefined;
let release: () => void;
let held: Promise<void>;

beforeEach(() => {
  kinesis = new KinesisClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  kinesisMock = mockClient(kinesis);
  sent = [];
  maxOutstanding = 0;
  failKey = undefined;
  holdKey = undefined;
  held = new Promise((resolve) => {
    release = resolve;
  });
  kinesisMock.on(ListShardsCommand).resolves({
    Shards: [
      {
        ShardId: formatShardId(0),
        HashKeyRange: { StartingHashKey: '0', EndingHashKey: MAX_HASH_KEY.toString() },
        SequenceNumberRange: { StartingSequenceNumber: '0' },
      },
    ],
  });
  kinesisMock.on(PutRecordsCommand).callsFake(async (input: PutRecordsCommandInput) => {
    maxOutstanding = Math.max(maxOutstanding, producer.getOutstandingRecordsCount());
    await new Promise((resolve) => setImmediate(resolve));
    if ((input.Records ?? []).some((r) => r.PartitionKey === holdKey)) await held;
    const records = (input.Records ?? []).map((r) => {
      sent.push(Buffer.from(r.Data ?? []).toString());
      return r.PartitionKey === failKey
        ? { ErrorCode: 'AccessDeniedException', ErrorMessage: 'no' }
        : { ShardId: formatShardId(0), SequenceNumber: String(sent.length) };
    });
    return { Records: records, FailedRecordCount: 0 };
  });
  producer = new KinesisProducer({
    kinesisClient: kinesis,
    clock: new ManualClock(0),
    metricsLevel: 'none',
    aggregationEnabled: false,
    recordMaxBufferedTime: 0,
    maxOutstandingRecords: 5,
  });
});

afterEach(async () => {
  await producer.destroy({ timeoutMs: 0 });
  kinesisMock.restore();
});

describe('KinesisProducer.writable', () => {
  it('applies backpressure: a fast source never overflows the bounds, and the end means everything was put', async () => {
    const orders = Array.from({ length: 200 }, (_, i) => ({ id: i, customer: `c${i % 7}` }));
    const results: UserRecordResult[] = [];
    await pipeline(
      Readable.from(orders),
      producer.writable({
        streamName: 'orders',
        partitionKey: (o: { customer: string }) => o.customer,
        onResult: (r) => void results.push(r),
      }),
    );
    expect(results).toHaveLength(200);
    expect(sent.map((d) => (JSON.parse(d) as { id: number }).id)).toEqual(orders.map((o) => o.id));
    expect(maxOutstanding).toBeLessThanOrEqual(5);
    expect(producer.getOutstandingRecordsCount()).toBe(0);
  });

  it('sends Buffers and strings as they are', async () => {
    await pipeline(
      Readable.from(['plain text', Buffer.from('bytes')]),
      producer.writable({ streamName: 's', partitionKey: () => 'k' }),
    );
    expect(sent).toEqual(['plain text', 'bytes']);
  });

  it('fails the stream with the error of a record that could not be put', async () => {
    failKey = 'bad';
    const write = pipeline(
      Readable.from(['a', 'b', 'c']),
      producer.writable({ streamName: 's', partitionKey: (chunk: string) => (chunk === 'b' ? 'bad' : 'good') }),
    );
    await expect(write).rejects.toThrow(UserRecordFailedError);
  });

  it('hands failures to onError instead when given', async () => {
    failKey = 'bad';
    const failed: string[] = [];
    await pipeline(
      Readable.from(['a', 'b', 'c']),
      producer.writable({
        streamName: 's',
        partitionKey: (chunk: string) => (chunk === 'b' ? 'bad' : 'good'),
        onError: (_error, chunk) => void failed.push(chunk),
      }),
    );
    expect(failed).toEqual(['b']);
  });

  it('fails the stream on a chunk that is not a valid record', async () => {
    const write = pipeline(Readable.from(['a']), producer.writable({ streamName: 's', partitionKey: () => '' }));
    await expect(write).rejects.toThrow(/partitionKey/);
  });

  // Issue 11, defect 5: each of these failed on the adapter before.
  describe('the edges', () => {
    let unhandled: unknown[];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    beforeEach(() => {
      unhandled = [];
      process.on('unhandledRejection', onUnhandled);
    });
    afterEach(() => {
      process.off('unhandledRejection', onUnhandled);
    });

    it.each([
      // A chunk that is put, for onResult; one that fails, for onError.
      ['onResult', 'a', { onResult: () => throwing('onResult broke') }],
      ['onError', 'b', { onError: () => throwing('onError broke') }],
    ])(
      'a throwing %s destroys the stream with its error, never an unhandled rejection',
      async (_name, chunk, callbacks) => {
        failKey = 'bad';
        const write = pipeline(
          Readable.from([chunk]),
          producer.writable({
            streamName: 's',
            partitionKey: (chunk: string) => (chunk === 'b' ? 'bad' : 'good'),
            ...callbacks,
          }),
        );
        await expect(write).rejects.toThrow(/broke/);
        // An unhandled rejection is reported on a later turn; give it a few.
        for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
        expect(unhandled).toEqual([]);
      },
    );

    it('two writers racing for the last slot both wait instead of failing with BufferFullError', async () => {
      const tight = new KinesisProducer({
        kinesisClient: kinesis,
        clock: new ManualClock(0),
        metricsLevel: 'none',
        aggregationEnabled: false,
        recordMaxBufferedTime: 0,
        maxOutstandingRecords: 1,
      });
      try {
        const chunks = (prefix: string) => Array.from({ length: 30 }, (_, i) => `${prefix}${i}`);
        await Promise.all([
          pipeline(Readable.from(chunks('a')), tight.writable({ streamName: 's', partitionKey: () => 'a' })),
          pipeline(Readable.from(chunks('b')), tight.writable({ streamName: 's', partitionKey: () => 'b' })),
        ]);
        expect([...sent].sort()).toEqual([...chunks('a'), ...chunks('b')].sort());
      } finally {
        await tight.destroy({ timeoutMs: 0 });
      }
    });

    it('a destroyed writable does not send the chunk it was waiting to add', async () => {
      holdKey = 'hold';
      // Five records held in flight fill the producer (maxOutstandingRecords 5).
      const holding = Array.from({ length: 5 }, (_, i) => producer.addUserRecord('s', 'hold', `held${i}`));
      const writable = producer.writable({ streamName: 's', partitionKey: () => 'k' });
      const closed = new Promise((resolve) => writable.on('close', resolve));
      writable.on('error', () => {});
      writable.write('waiting');
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      writable.destroy();
      await closed;
      release();
      await Promise.all(holding);
      await producer.flushSync();
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(sent).not.toContain('waiting');
      expect(producer.getOutstandingRecordsCount()).toBe(0);
    });
  });
});

function throwing(message: string): never {
  throw new Error(message);
}
