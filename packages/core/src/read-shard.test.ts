import {
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { ValidationError } from './errors.js';
import { readShard, type ShardRead } from './read-shard.js';

type Answer = Partial<GetRecordsCommandOutput> | Error | 'hang';

/** A Kinesis client whose GetRecords answers are scripted; remembers each call and when it started. */
function scripted(clock: ManualClock, answers: Answer[]) {
  const iteratorInputs: GetShardIteratorCommandInput[] = [];
  const readsAt: number[] = [];
  const iteratorsRead: (string | undefined)[] = [];
  let next = 0;
  let iterators = 0;
  return {
    iteratorInputs,
    readsAt,
    iteratorsRead,
    send: (async (command: { input: object }, options?: { abortSignal?: AbortSignal }): Promise<never> => {
      if (command instanceof GetShardIteratorCommand) {
        iteratorInputs.push(command.input);
        return { ShardIterator: `iterator-${++iterators}` } as never;
      }
      readsAt.push(clock.now());
      iteratorsRead.push((command.input as { ShardIterator?: string }).ShardIterator);
      const answer = answers[next++] ?? {};
      if (answer === 'hang') {
        return new Promise((_, reject) =>
          options?.abortSignal?.addEventListener('abort', () => reject(options.abortSignal?.reason)),
        );
      }
      if (answer instanceof Error) throw answer;
      return { NextShardIterator: `next-${next}`, MillisBehindLatest: 0, Records: [], ...answer } as never;
    }) as unknown as KinesisClient['send'],
  };
}

function named(name: string): Error {
  return Object.assign(new Error(name), { name });
}

const record = (sequenceNumber: string) => ({
  SequenceNumber: sequenceNumber,
  PartitionKey: 'k',
  Data: new Uint8Array([1]),
});

/** Collects `count` reads (or fewer if the iteration ends), moving the clock in small steps as it waits. */
async function collect(clock: ManualClock, reads: AsyncGenerator<ShardRead>, count = Number.POSITIVE_INFINITY) {
  const out: ShardRead[] = [];
  let done = false;
  const consuming = (async () => {
    for await (const read of reads) {
      out.push(read);
      if (out.length >= count) break;
    }
    done = true;
  })();
  // A macrotask turn between steps lets the reader finish whatever it does at one instant before time moves.
  for (let step = 0; !done && step < 10_000; step++) {
    await new Promise((resolve) => setImmediate(resolve));
    await clock.advance(10);
  }
  await consuming;
  return out;
}

describe('readShard', () => {
  it('reads until SHARD_END and hands out each next iterator and the children at the end', async () => {
    const clock = new ManualClock();
    const child = {
      ShardId: 'c',
      ParentShards: ['shardId-0'],
      HashKeyRange: { StartingHashKey: '0', EndingHashKey: '1' },
    };
    const client = scripted(clock, [
      { Records: [record('1'), record('2')] },
      { Records: [record('3')], NextShardIterator: undefined, ChildShards: [child] },
    ]);
    const reads = await collect(
      clock,
      readShard({ client, streamName: 's', shardId: 'shardId-0', from: { type: 'TRIM_HORIZON' }, clock }),
    );
    expect(reads.map((r) => r.records.map((x) => x.SequenceNumber))).toEqual([['1', '2'], ['3']]);
    expect(reads.map((r) => r.nextShardIterator)).toEqual(['next-1', undefined]);
    expect(reads[1]?.childShards).toEqual([child]);
    expect(client.iteratorInputs).toEqual([
      { StreamName: 's', ShardId: 'shardId-0', ShardIteratorType: 'TRIM_HORIZON' },
    ]);
  });

  it('spaces the starts of calls by the idle time when caught up, the catch-up time when behind, never < 200 ms', async () => {
    const clock = new ManualClock();
    const client = scripted(clock, [
      { Records: [record('1')], MillisBehindLatest: 5_000 }, // behind: catch-up spacing (raised to 200)
      { Records: [] }, // caught up: idle spacing
      { Records: [record('2')] },
    ]);
    await collect(
      clock,
      readShard({
        client,
        streamName: 's',
        shardId: 'shardId-0',
        from: { type: 'LATEST' },
        idleTimeBetweenReadsInMillis: 1_000,
        catchUpTimeBetweenReadsInMillis: 50,
        clock,
      }),
      3,
    );
    const [first = 0, second = 0, third = 0] = client.readsAt;
    expect([second - first, third - second]).toEqual([200, 1_000]);
  });

  it('backs off a throttled read with jitter, and tells onRetry', async () => {
    const clock = new ManualClock();
    const client = scripted(clock, [named('ProvisionedThroughputExceededException'), { Records: [record('1')] }]);
    const retries: string[] = [];
    const reads = await collect(
      clock,
      readShard({
        client,
        streamName: 's',
        shardId: 'shardId-0',
        from: { type: 'TRIM_HORIZON' },
        retry: { random: () => 0.9 },
        onRetry: (event) => retries.push(`${event.operation} ${event.errorClass} ${event.delayMs}`),
        clock,
      }),
      1,
    );
    expect(reads[0]?.records).toHaveLength(1);
    expect(retries).toEqual(['GetRecords throttling 450']);
    expect(client.readsAt[1]).toBeGreaterThanOrEqual(450);
  });

  it('gives up on a hung GetRecords after requestTimeout and reads again', async () => {
    const clock = new ManualClock();
    const client = scripted(clock, ['hang', { Records: [record('1')] }]);
    const retries: string[] = [];
    const reads = await collect(
      clock,
      readShard({
        client,
        streamName: 's',
        shardId: 'shardId-0',
        from: { type: 'TRIM_HORIZON' },
        requestTimeout: 1_000,
        retry: { random: () => 0 },
        onRetry: (event) => retries.push(`${event.operation} ${(event.error as Error).name}`),
        clock,
      }),
      1,
    );
    expect(reads[0]?.records).toHaveLength(1);
    expect(retries).toEqual(['GetRecords TimeoutError']);
    expect(client.readsAt[1]).toBeGreaterThanOrEqual(1_000);
  });

  it('renews an expired iterator after the last record read', async () => {
    const clock = new ManualClock();
    const client = scripted(clock, [
      { Records: [record('7')] },
      named('ExpiredIteratorException'),
      { Records: [record('8')] },
    ]);
    const reads = await collect(
      clock,
      readShard({ client, streamName: 's', shardId: 'shardId-0', from: { type: 'TRIM_HORIZON' }, clock }),
      2,
    );
    expect(reads.map((r) => r.records[0]?.SequenceNumber)).toEqual(['7', '8']);
    expect(client.iteratorInputs[1]).toMatchObject({
      ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
      StartingSequenceNumber: '7',
    });
    expect(client.iteratorsRead).toEqual(['iterator-1', 'next-1', 'iterator-2']);
  });

  it('resumes from an iterator handed in, without calling GetShardIterator', async () => {
    const clock = new ManualClock();
    const client = scripted(clock, [{ Records: [record('1')] }]);
    await collect(
      clock,
      readShard({
        client,
        streamName: 's',
        shardId: 'shardId-0',
        from: { type: 'ITERATOR', shardIterator: 'kept' },
        clock,
      }),
      1,
    );
    expect(client.iteratorInputs).toEqual([]);
    expect(client.iteratorsRead).toEqual(['kept']);
  });

  it('ends after the first caught-up read with stopAtLatest', async () => {
    const clock = new ManualClock();
    const client = scripted(clock, [
      { Records: [record('1')], MillisBehindLatest: 0 },
      { Records: [] },
      { Records: [record('2')] },
    ]);
    const reads = await collect(
      clock,
      readShard({
        client,
        streamName: 's',
        shardId: 'shardId-0',
        from: { type: 'TRIM_HORIZON' },
        stopAtLatest: true,
        clock,
      }),
    );
    expect(reads.map((r) => r.records.length)).toEqual([1, 0]);
  });

  it('ends quietly when the signal aborts during the wait between reads', async () => {
    const clock = new ManualClock();
    const stop = new AbortController();
    const client = scripted(clock, [{ Records: [] }]);
    const reads = readShard({
      client,
      streamName: 's',
      shardId: 'shardId-0',
      from: { type: 'LATEST' },
      signal: stop.signal,
      clock,
    });
    await reads.next();
    const second = reads.next();
    await clock.whenSleeping();
    stop.abort();
    await expect(second).resolves.toEqual({ done: true, value: undefined });
  });

  it('ends quietly when the signal aborts while a GetRecords call hangs', async () => {
    const clock = new ManualClock();
    const stop = new AbortController();
    const client = scripted(clock, ['hang']);
    const reads = readShard({
      client,
      streamName: 's',
      shardId: 'shardId-0',
      from: { type: 'LATEST' },
      signal: stop.signal,
      clock,
    });
    const first = reads.next();
    await expect.poll(() => client.readsAt.length).toBe(1);
    stop.abort();
    await expect(first).resolves.toEqual({ done: true, value: undefined });
  });

  it('throws a client error unwrapped, at once', async () => {
    const clock = new ManualClock();
    const client = scripted(clock, [named('InvalidArgumentException')]);
    const reads = readShard({ client, streamName: 's', shardId: 'shardId-0', from: { type: 'TRIM_HORIZON' }, clock });
    await expect(reads.next()).rejects.toMatchObject({ name: 'InvalidArgumentException' });
    expect(client.readsAt).toHaveLength(1);
  });

  it.each([
    ['neither stream name nor ARN', {}, /exactly one of streamName and streamArn/],
    ['maxRecords 0', { streamName: 's', maxRecords: 0 }, /maxRecords must be a whole number from 1 to 10000, got 0/],
    [
      'a negative idle time',
      { streamName: 's', idleTimeBetweenReadsInMillis: -1 },
      /idleTimeBetweenReadsInMillis must be a number ≥ 0, got -1/,
    ],
  ])('rejects %s at the call, before any request', (_, options, message) => {
    const client = scripted(new ManualClock(), []);
    const call = () => readShard({ client, shardId: 'shardId-0', from: { type: 'LATEST' }, ...options });
    expect(call).toThrow(ValidationError);
    expect(call).toThrow(message);
  });
});
