import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.js';
import { encodeAggregatedRecord } from './encode-aggregated-record.js';
import { decodeAggregatedRecordMessage } from './message-decoder.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const md5 = (hexMessage: string): string => createHash('md5').update(Buffer.from(hexMessage, 'hex')).digest('hex');
const bytes = (...values: number[]) => new Uint8Array(values);

describe('encodeAggregatedRecord', () => {
  it.each([
    ['no records', [], ''],
    ['one record with empty data', [{ partitionKey: 'a', data: bytes() }], '0a0161' + '1a04' + '0800' + '1a00'],
    [
      'records sharing a partition key',
      [
        { partitionKey: 'a', data: bytes(1) },
        { partitionKey: 'b', data: bytes(2) },
        { partitionKey: 'a', data: bytes(3) },
      ],
      '0a0161' + '0a0162' + '1a05' + '0800' + '1a0101' + '1a05' + '0801' + '1a0102' + '1a05' + '0800' + '1a0103',
    ],
    [
      'explicit hash keys, normalized and shared',
      [
        { partitionKey: 'a', explicitHashKey: '0042', data: bytes() },
        { partitionKey: 'a', data: bytes() },
        { partitionKey: 'a', explicitHashKey: 42n, data: bytes() },
      ],
      '0a0161' +
        '12023432' +
        '1a06' +
        '0800' +
        '1000' +
        '1a00' +
        '1a04' +
        '0800' +
        '1a00' +
        '1a06' +
        '0800' +
        '1000' +
        '1a00',
    ],
  ])('encodes %s as magic, message and the MD5 of the message', (_, records, message) => {
    expect(hex(encodeAggregatedRecord(records))).toBe(`f3899ac2${message}${md5(message)}`);
  });

  it('keeps the records in order', () => {
    const records = Array.from({ length: 50 }, (_, i) => ({ partitionKey: `k${i % 7}`, data: bytes(i) }));
    const encoded = encodeAggregatedRecord(records);
    const message = decodeAggregatedRecordMessage(encoded.subarray(4, encoded.length - 16));
    expect(message.records.map((r) => r.data[0])).toEqual(records.map((_, i) => i));
    expect(message.records.map((r) => message.partitionKeyTable[r.partitionKeyIndex])).toEqual(
      records.map((r) => r.partitionKey),
    );
  });

  it('applies no size limit', () => {
    const encoded = encodeAggregatedRecord([{ partitionKey: 'a', data: new Uint8Array(2 * 1024 * 1024) }]);
    expect(encoded.length).toBeGreaterThan(2 * 1024 * 1024);
  });

  it('rejects an invalid explicit hash key with a ValidationError naming it', () => {
    const encode = () => encodeAggregatedRecord([{ partitionKey: 'a', explicitHashKey: '12x', data: bytes() }]);
    expect(encode).toThrow(ValidationError);
    expect(encode).toThrow(expect.objectContaining({ field: 'explicitHashKey', value: '12x' }));
  });
});
