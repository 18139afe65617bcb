import { describe, expect, it } from 'vitest';
import { base64Length, entryBytes, spliceFailures } from './put-records-rewrite.js';

const throttled = { errorCode: 'ProvisionedThroughputExceededException', errorMessage: 'Rate exceeded' };

describe('spliceFailures', () => {
  it('puts held-back entries back in the caller order and counts them', () => {
    const response = spliceFailures([throttled, undefined, throttled, undefined], {
      FailedRecordCount: 0,
      Records: [
        { SequenceNumber: '1', ShardId: 'shardId-000000000000' },
        { SequenceNumber: '2', ShardId: 'shardId-000000000001' },
      ],
    });
    expect(response.FailedRecordCount).toBe(2);
    expect(response.Records.map((r) => r.SequenceNumber ?? r.ErrorCode)).toEqual([
      'ProvisionedThroughputExceededException',
      '1',
      'ProvisionedThroughputExceededException',
      '2',
    ]);
  });

  it('adds to failures the emulator reported itself and answers an all-failed call without it', () => {
    expect(
      spliceFailures([undefined, throttled], { FailedRecordCount: 1, Records: [{ ErrorCode: 'InternalFailure' }] })
        .FailedRecordCount,
    ).toBe(2);
    expect(spliceFailures([throttled, throttled], undefined)).toEqual({
      FailedRecordCount: 2,
      Records: [
        { ErrorCode: throttled.errorCode, ErrorMessage: throttled.errorMessage },
        { ErrorCode: throttled.errorCode, ErrorMessage: throttled.errorMessage },
      ],
    });
  });

  it('refuses an emulator answer with the wrong number of entries', () => {
    expect(() => spliceFailures([undefined, undefined], { Records: [{ SequenceNumber: '1' }] })).toThrow(/fewer/);
    expect(() => spliceFailures([undefined], { Records: [{ SequenceNumber: '1' }, { SequenceNumber: '2' }] })).toThrow(
      /2 entries, 1 were sent/,
    );
  });
});

describe('entry sizes', () => {
  it('counts decoded data plus the partition key bytes', () => {
    for (const size of [0, 1, 2, 3, 100]) {
      expect(base64Length(Buffer.alloc(size).toString('base64'))).toBe(size);
    }
    expect(entryBytes({ Data: Buffer.alloc(10).toString('base64'), PartitionKey: 'é' })).toBe(12);
  });
});
