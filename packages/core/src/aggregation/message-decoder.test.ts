import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { protobufjsMessageCodec } from '../../test/support/protobufjs-codec.js';
import type { AggregatedRecordMessage } from './aggregated-record-message.js';
import { MalformedAggregatedRecordError } from './malformed-aggregated-record-error.js';
import { decodeAggregatedRecordMessage } from './message-decoder.js';
import { encodeAggregatedRecordMessage } from './message-encoder.js';

const text = fc.string({ unit: 'binary', maxLength: 12 });
const index = fc.oneof(fc.nat(300), fc.maxSafeNat());

function messageOf(data: fc.Arbitrary<Uint8Array>): fc.Arbitrary<AggregatedRecordMessage> {
  return fc.record({
    partitionKeyTable: fc.array(text, { maxLength: 4 }),
    explicitHashKeyTable: fc.array(text, { maxLength: 3 }),
    records: fc.array(
      fc.record(
        {
          partitionKeyIndex: index,
          explicitHashKeyIndex: index,
          data,
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
}

const message = messageOf(
  fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 120, maxLength: 2_000 })),
);
const smallMessage = messageOf(fc.uint8Array({ maxLength: 20 }));

/** The message with its payloads as hex, so comparisons do not depend on Buffer versus Uint8Array. */
function plain(input: AggregatedRecordMessage): unknown {
  return {
    ...input,
    records: input.records.map((record) => ({ ...record, data: Buffer.from(record.data).toString('hex') })),
  };
}

const bytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex.replaceAll(' ', ''), 'hex'));

/** A length-delimited field in hex: tag, one-byte length, body (spaces in the body are ignored). */
function delimited(tag: string, body: string): string {
  const length = body.replaceAll(' ', '').length / 2;
  expect(length).toBeLessThan(128);
  return `${tag}${length.toString(16).padStart(2, '0')}${body}`;
}

function outcome(decode: (input: Uint8Array) => AggregatedRecordMessage, input: Uint8Array): unknown {
  try {
    return plain(decode(input));
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedAggregatedRecordError);
    return 'malformed';
  }
}

describe('decodeAggregatedRecordMessage', () => {
  it('decodes what it encodes', () => {
    fc.assert(
      fc.property(message, (input) => {
        expect(plain(decodeAggregatedRecordMessage(encodeAggregatedRecordMessage(input)))).toEqual(plain(input));
      }),
      { numRuns: 300 },
    );
  });

  it('decodes what protobufjs encodes, and protobufjs decodes what it encodes', () => {
    fc.assert(
      fc.property(message, (input) => {
        expect(plain(decodeAggregatedRecordMessage(protobufjsMessageCodec.encode(input)))).toEqual(plain(input));
        expect(plain(protobufjsMessageCodec.decode(encodeAggregatedRecordMessage(input)))).toEqual(plain(input));
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with protobufjs on every truncation of a valid message', () => {
    fc.assert(
      fc.property(smallMessage, (input) => {
        const encoded = encodeAggregatedRecordMessage(input);
        for (let length = 0; length < encoded.length; length++) {
          const prefix = encoded.subarray(0, length);
          expect(outcome(decodeAggregatedRecordMessage, prefix)).toEqual(
            outcome((b) => protobufjsMessageCodec.decode(b), prefix),
          );
        }
      }),
      { numRuns: 40 },
    );
  });

  it('throws nothing but MalformedAggregatedRecordError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (input) => {
        outcome(decodeAggregatedRecordMessage, input);
      }),
      { numRuns: 2000 },
    );
  });

  it('returns data as views into the input, not copies', () => {
    const input = bytes('0a0161 1a07 0800 1a03010203');
    const decoded = decodeAggregatedRecordMessage(input);
    const data = decoded.records[0]?.data;
    expect(data?.buffer).toBe(input.buffer);
    expect(data?.byteOffset).toBe(9);
    expect([...(data ?? [])]).toEqual([1, 2, 3]);
  });

  it.each([
    ['a varint field', '7805'],
    ['a fixed64 field', '790102030405060708'],
    ['a length-delimited field', '7a03616263'],
    ['a fixed32 field', '7d01020304'],
    ['a group, with a group nested in it', '7b 8301 0801 8401 7c'],
    ['field 1 with a wire type none of the messages uses for it', '0d01020304'],
  ])('skips %s it does not know, at the top, in a record and in a tag', (_, unknown) => {
    const tag = delimited('22', `${unknown} 0a016b 120176`);
    const record = delimited('1a', `${unknown} 0800 1a0101 ${tag}`);
    const decoded = decodeAggregatedRecordMessage(bytes(`${unknown} 0a0161 ${record} ${unknown}`));
    expect(plain(decoded)).toEqual({
      partitionKeyTable: ['a'],
      explicitHashKeyTable: [],
      records: [{ partitionKeyIndex: 0, data: '01', tags: [{ key: 'k', value: 'v' }] }],
    });
  });

  it('keeps the last value of a scalar field that appears twice, as proto2 parsers do', () => {
    const decoded = decodeAggregatedRecordMessage(bytes(delimited('1a', '0801 1a0101 0802')));
    expect(decoded.records[0]?.partitionKeyIndex).toBe(2);
  });

  it.each([
    // 2^28 in six bytes: field 2^25, wire type 0, unknown, so skipped with its value (00).
    ['a tag varint of six bytes', '80 80 80 80 81 00 00', []],
    // 2^32 + 10 in five bytes: the low 32 bits are 10, field 1 (partition key table), an empty key.
    ['a tag varint wider than 32 bits', '8a 80 80 80 10 00', ['']],
    // The key's length is 2^32 + 1 in five bytes: the low 32 bits are 1, the key is "k".
    ['a length varint wider than 32 bits', '0a 81 80 80 80 10 6b', ['k']],
  ])('reads %s as protobuf-java (the KCL) does, keeping the low 32 bits; protobufjs refuses it', (_, hexBody, keys) => {
    const body = Uint8Array.from(Buffer.from(hexBody.replaceAll(' ', ''), 'hex'));
    expect(decodeAggregatedRecordMessage(body)).toMatchObject({ partitionKeyTable: keys, records: [] });
    expect(() => protobufjsMessageCodec.decode(body)).toThrow(/invalid (tag|length) encoding/);
  });

  it('still refuses field number 0 and a varint of more than ten bytes, as protobuf-java does', () => {
    for (const hexBody of ['00 00', '80 80 80 80 80 00 00', '80 80 80 80 80 80 80 80 80 80 01']) {
      const body = Uint8Array.from(Buffer.from(hexBody.replaceAll(' ', ''), 'hex'));
      expect(() => decodeAggregatedRecordMessage(body), hexBody).toThrow(MalformedAggregatedRecordError);
    }
  });

  it('reads indexes wider than 32 bits', () => {
    const decoded = decodeAggregatedRecordMessage(bytes(delimited('1a', '0880808080 10 1a00')));
    expect(decoded.records[0]?.partitionKeyIndex).toBe(2 ** 32);
  });

  it.each([
    ['a record without partition_key_index', '1a02 1a00'],
    ['a record without data', '1a02 0800'],
    ['a tag without a key', '1a08 0800 1a00 2202 1201'],
    ['a string running past the end', '0a0561'],
    ['a record running past the end', '1a05 0800 1a00'],
    ['a varint cut short', '1a02 0880'],
    ['a varint longer than ten bytes', '1a0e 08ffffffffffffffffffff01 1a00'],
    ['a record whose last varint straddles its end', '1a03 0800 1a 00'],
    ['field number 0', '0000'],
    ['an end-group with no group open', '0c'],
    ['an unterminated group', '0b 0801'],
    ['a group closed by another field number', '0b 14'],
    ['wire type 6', '0e'],
    ['wire type 7', '0f'],
    ['a truncated fixed64', '0901020304'],
    ['a truncated fixed32', '0d0102'],
  ])('throws MalformedAggregatedRecordError for %s', (_, hex) => {
    expect(() => decodeAggregatedRecordMessage(bytes(hex))).toThrow(MalformedAggregatedRecordError);
  });

  it('gives up on groups nested deeper than protobuf-java allows', () => {
    const depth = 101;
    const input = bytes(`${'0b'.repeat(depth)}${'0c'.repeat(depth)}`);
    expect(() => decodeAggregatedRecordMessage(input)).toThrow(MalformedAggregatedRecordError);
    const shallow = bytes(`${'0b'.repeat(100)}${'0c'.repeat(100)}`);
    expect(decodeAggregatedRecordMessage(shallow).records).toEqual([]);
  });
});
