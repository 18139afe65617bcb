import { HashKeyCache, hashKeyOf, ValidationError } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import type { ProducerTime } from './producer-time.js';
import { createUserRecord, promiseFor, rejectRecord, type UserRecordInput } from './user-record.js';

const cache = new HashKeyCache(16);
const validate = (input: UserRecordInput, max = 1024 * 1024, copyData = true) =>
  createUserRecord(
    input.streamName,
    false,
    input.partitionKey,
    input.data,
    input.explicitHashKey,
    {
      hashKeys: cache,
      maxUserRecordSize: max,
      recordMaxBufferedTime: 100,
      recordTtl: 30_000,
      copyData,
    },
    0 as ProducerTime,
  );

describe('createUserRecord', () => {
  it('turns string data into UTF-8 bytes and hashes the partition key', () => {
    const record = validate({ streamName: 's', partitionKey: 'ключ', data: 'héllo' });
    expect(Buffer.from(record.data).toString('utf8')).toBe('héllo');
    expect(record.hashKey).toBe(hashKeyOf('ключ'));
    expect(record.size).toBe(8 + 6);
    expect(record.explicitHashKey).toBeUndefined();
  });

  it("marks the caller's bytes borrowed unless copyData is off, and ownData copies them into memory of its own", () => {
    const bytes = Buffer.from('before');
    const copied = validate({ streamName: 's', partitionKey: 'k', data: bytes });
    const borrowed = validate({ streamName: 's', partitionKey: 'k', data: bytes }, 1024 * 1024, false);
    // The pipeline copies a borrowed record into its aggregate or, failing that, calls ownData before
    // addUserRecord returns.
    expect(copied.borrowed).toBe(true);
    expect(borrowed.borrowed).toBe(false);
    copied.ownData();
    expect(copied.borrowed).toBe(false);
    bytes.write('AFTER!');
    expect(Buffer.from(copied.data).toString()).toBe('before');
    expect(Buffer.from(borrowed.data).toString()).toBe('AFTER!');
    // Its own memory: not a slice of Node's buffer pool, which one pending record would keep whole.
    const own = copied.ownData();
    expect(own.byteLength).toBe(own.buffer.byteLength);
    // A string cannot change under the record: it is kept, and encoded into memory of its own when sent alone.
    const text = validate({ streamName: 's', partitionKey: 'k', data: 'short string' });
    expect(text.borrowed).toBe(false);
    expect(text.data).toBe('short string');
    const encoded = text.ownData();
    expect(Buffer.from(encoded).toString()).toBe('short string');
    expect(encoded.byteLength).toBe(encoded.buffer.byteLength);
  });

  it('takes a null explicit hash key as none, as the Java KPL does (issue 11: a ValidationError before)', () => {
    const record = validate({ streamName: 's', partitionKey: 'k', data: 'x', explicitHashKey: null });
    expect(record.explicitHashKey).toBeUndefined();
    expect(record.hashKey).toBe(hashKeyOf('k'));
  });

  it('accepts leading zeros beyond 40 characters in an explicit hash key', () => {
    const record = validate({ streamName: 's', partitionKey: 'k', data: 'x', explicitHashKey: `${'0'.repeat(45)}7` });
    expect(record.explicitHashKey).toBe(7n);
  });

  it('routes by a valid explicit hash key', () => {
    const record = validate({ streamName: 's', partitionKey: 'k', data: '', explicitHashKey: '007' });
    expect(record.explicitHashKey).toBe(7n);
    expect(record.hashKey).toBe(7n);
  });

  it.each([
    [{ streamName: '', partitionKey: 'k', data: 'x' }, 'streamName'],
    [{ streamName: 'bad name', partitionKey: 'k', data: 'x' }, 'streamName'],
    [{ streamName: 's', partitionKey: '', data: 'x' }, 'partitionKey'],
    [{ streamName: 's', partitionKey: 'k'.repeat(257), data: 'x' }, 'partitionKey'],
    [{ streamName: 's', partitionKey: 'k', data: 42 }, 'data'],
    [{ streamName: 's', partitionKey: 'k', data: 'x', explicitHashKey: '-1' }, 'explicitHashKey'],
    [{ streamName: 's', partitionKey: 'k', data: 'x', explicitHashKey: 5 }, 'explicitHashKey'],
    [{ streamName: 42, partitionKey: 'k', data: 'x' }, 'streamName'],
    [{ streamName: 's', partitionKey: undefined, data: 'x' }, 'partitionKey'],
    [{ streamName: 's', partitionKey: 'k', data: 'x', explicitHashKey: (1n << 128n).toString() }, 'explicitHashKey'],
  ])('rejects %j with a ValidationError on %s', (input, field) => {
    try {
      validate(input as never);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe(field);
    }
  });

  it('sets the deadline and expiry from the options, the deadline never after the expiry', () => {
    const record = validate({ streamName: 's', partitionKey: 'k', data: '' });
    expect([record.arrivedAt, record.deadline, record.expiresAt]).toEqual([0, 100, 30_000]);
  });

  it('counts the partition key against the record size, as the service does', () => {
    expect(() => validate({ streamName: 's', partitionKey: 'kk', data: new Uint8Array(99) }, 100)).toThrow(
      'at most 100 bytes together, got 101',
    );
    expect(validate({ streamName: 's', partitionKey: 'k', data: new Uint8Array(99) }, 100).size).toBe(100);
  });

  it('settles its promise once, with the first result or failure, and then reads as settled', async () => {
    const record = validate({ streamName: 's', partitionKey: 'k', data: 'x' });
    const promise = promiseFor(record);
    expect(record.settled).toBe(false);
    const result = { successful: true, shardId: 'shardId-0', sequenceNumber: '1', subSequenceNumber: 0, attempts: [] };
    record.settle(result);
    expect(record.settled).toBe(true);
    rejectRecord(record, new Error('too late'));
    record.settle({ ...result, sequenceNumber: '2' });
    await expect(promise).resolves.toBe(result);
  });

  it('keeps failed attempts, each delay counted from the end of the attempt before', () => {
    const record = validate({ streamName: 's', partitionKey: 'k', data: 'x' });
    expect(record.failedAttempts).toBeUndefined();
    expect(record.lastAttemptEnd).toBe(0);
    record.addFailedAttempt(
      40 as ProducerTime,
      50 as ProducerTime,
      'ProvisionedThroughputExceededException',
      'slow down',
    );
    record.addFailedAttempt(150 as ProducerTime, 170 as ProducerTime, 'InternalFailure', undefined);
    expect(record.failedAttempts).toEqual([
      {
        delayMs: 40,
        durationMs: 10,
        successful: false,
        errorCode: 'ProvisionedThroughputExceededException',
        errorMessage: 'slow down',
      },
      { delayMs: 100, durationMs: 20, successful: false, errorCode: 'InternalFailure' },
    ]);
    expect(record.lastAttemptEnd).toBe(170);
  });
});
