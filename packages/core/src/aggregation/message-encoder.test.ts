import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { protobufjsMessageCodec } from '../../test/support/protobufjs-codec.js';
import { ValidationError } from '../errors.js';
import type { AggregatedRecordMessage } from './aggregated-record-message.js';
import { encodeAggregatedRecordMessage } from './message-encoder.js';

const text = fc.string({ unit: 'binary', maxLength: 12 });
const index = fc.oneof(fc.nat(300), fc.maxSafeNat());
const message: fc.Arbitrary<AggregatedRecordMessage> = fc.record({
  partitionKeyTable: fc.array(text, { maxLength: 4 }),
  explicitHashKeyTable: fc.array(text, { maxLength: 3 }),
  records: fc.array(
    fc.record(
      {
        partitionKeyIndex: index,
        explicitHashKeyIndex: index,
        data: fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 120, maxLength: 20_000 })),
        tags: fc.array(fc.record({ key: text, value: text }, { requiredKeys: ['key'] }), {
          minLength: 1,
          maxLength: 2,
        }),
      },
      { requiredKeys: ['partitionKeyIndex', 'data'] },
    ),
    { maxLength: 6 },
  ),
});

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('encodeAggregatedRecordMessage', () => {
  it.each<[string, AggregatedRecordMessage, string]>([
    ['an empty message', { partitionKeyTable: [], explicitHashKeyTable: [], records: [] }, ''],
    [
      'index 0 and empty data, which proto2 requires to be written',
      {
        partitionKeyTable: ['a'],
        explicitHashKeyTable: [],
        records: [{ partitionKeyIndex: 0, data: new Uint8Array() }],
      },
      '0a0161' + '1a04' + '0800' + '1a00',
    ],
    [
      'an explicit hash key index and data',
      {
        partitionKeyTable: ['pk'],
        explicitHashKeyTable: ['42'],
        records: [{ partitionKeyIndex: 0, explicitHashKeyIndex: 0, data: new Uint8Array([1, 2]) }],
      },
      '0a02706b' + '12023432' + '1a08' + '0800' + '1000' + '1a020102',
    ],
    [
      'a multi-byte UTF-8 key and a two-byte index',
      {
        partitionKeyTable: ['é'],
        explicitHashKeyTable: [],
        records: [{ partitionKeyIndex: 128, data: new Uint8Array([9]) }],
      },
      '0a02c3a9' + '1a06' + '088001' + '1a0109',
    ],
    [
      'tags, with and without a value',
      {
        partitionKeyTable: [],
        explicitHashKeyTable: [],
        records: [{ partitionKeyIndex: 1, data: new Uint8Array(), tags: [{ key: 'k', value: 'v' }, { key: 'x' }] }],
      },
      '1a11' + '0801' + '1a00' + '2206' + '0a016b' + '120176' + '2203' + '0a0178',
    ],
  ])('encodes %s', (_, input, expected) => {
    expect(hex(encodeAggregatedRecordMessage(input))).toBe(expected);
  });

  it('writes the same bytes as protobufjs for any message', () => {
    fc.assert(
      fc.property(message, (input) => {
        expect(hex(encodeAggregatedRecordMessage(input))).toBe(hex(protobufjsMessageCodec.encode(input)));
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    [{ partitionKeyIndex: -1, data: new Uint8Array() }, 'partitionKeyIndex'],
    [{ partitionKeyIndex: 1.5, data: new Uint8Array() }, 'partitionKeyIndex'],
    [{ partitionKeyIndex: 0, explicitHashKeyIndex: 2 ** 53, data: new Uint8Array() }, 'explicitHashKeyIndex'],
    [{ partitionKeyIndex: 0, explicitHashKeyIndex: Number.NaN, data: new Uint8Array() }, 'explicitHashKeyIndex'],
  ])('rejects an index that is not a non-negative safe integer: %o', (record, field) => {
    const encode = () =>
      encodeAggregatedRecordMessage({ partitionKeyTable: [], explicitHashKeyTable: [], records: [record] });
    expect(encode).toThrow(ValidationError);
    expect(encode).toThrow(expect.objectContaining({ field }));
  });
});
