import type { _Record } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.js';
import { fromSdkRecord } from './kinesis-record.js';

describe('fromSdkRecord', () => {
  it('maps an SDK record field by field, without copying the data', () => {
    const sdk: _Record = {
      Data: new Uint8Array([1, 2]),
      PartitionKey: 'pk',
      SequenceNumber: '123',
      ApproximateArrivalTimestamp: new Date(1_700_000_000_000),
      EncryptionType: 'NONE',
    };
    const record = fromSdkRecord(sdk);
    expect(record).toEqual({
      data: sdk.Data,
      partitionKey: 'pk',
      sequenceNumber: '123',
      approximateArrivalTimestamp: sdk.ApproximateArrivalTimestamp,
    });
    expect(record.data).toBe(sdk.Data);
  });

  it('leaves approximateArrivalTimestamp out when the SDK record has none', () => {
    const record = fromSdkRecord({ Data: new Uint8Array(), PartitionKey: 'pk', SequenceNumber: '1' });
    expect('approximateArrivalTimestamp' in record).toBe(false);
  });

  it.each([
    ['Data', { PartitionKey: 'pk', SequenceNumber: '1' }],
    ['PartitionKey', { Data: new Uint8Array(), SequenceNumber: '1' }],
    ['SequenceNumber', { Data: new Uint8Array(), PartitionKey: 'pk', SequenceNumber: undefined }],
  ])('rejects a record without %s, naming it', (field, sdk) => {
    expect(() => fromSdkRecord(sdk)).toThrow(ValidationError);
    expect(() => fromSdkRecord(sdk)).toThrow(expect.objectContaining({ field }));
  });
});
