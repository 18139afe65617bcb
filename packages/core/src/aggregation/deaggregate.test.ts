import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { protobufjsMessageCodec } from '../../test/support/protobufjs-codec.js';
import { ValidationError } from '../errors.js';
import { hashKeyOf } from '../hash-key.js';
import { HashKeyCache } from '../hash-key-cache.js';
import { MAX_HASH_KEY } from '../limits.js';
import type { AggregatableRecord } from './aggregated-record-builder.js';
import type { AggregatedRecordMessage } from './aggregated-record-message.js';
import { type DeaggregationResult, type DeliveredRecords, deaggregate } from './deaggregate.js';
import { encodeAggregatedRecord } from './encode-aggregated-record.js';
import { frameAggregatedRecordMessage } from './framing.js';
import type { KinesisRecord } from './kinesis-record.js';
import { encodeAggregatedRecordMessage } from './message-encoder.js';

const ARRIVAL = new Date('2024-05-01T12:00:00Z');
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const bytes = (...values: number[]) => new Uint8Array(values);

function kinesisRecord(data: Uint8Array, extra: Partial<KinesisRecord> = {}): KinesisRecord {
  return {
    data,
    partitionKey: 'a',
    sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
    ...extra,
  };
}

function delivered(result: DeaggregationResult): DeliveredRecords {
  if (result.status !== 'delivered') throw new Error(`expected records to be delivered, got ${result.status}`);
  return result;
}

/** Asserts `result` is `input` passed through whole, as one non-aggregated user record. */
function expectPassThrough(result: DeaggregationResult, input: KinesisRecord): DeliveredRecords {
  const { records, aggregated } = delivered(result);
  expect(aggregated).toBe(false);
  expect(records).toHaveLength(1);
  expect(records[0]?.data).toBe(input.data);
  expect(records[0]).toMatchObject({
    partitionKey: input.partitionKey,
    sequenceNumber: input.sequenceNumber,
    subSequenceNumber: 0,
    aggregated: false,
  });
  return delivered(result);
}

const message = (input: Partial<AggregatedRecordMessage>): Uint8Array =>
  frameAggregatedRecordMessage(
    encodeAggregatedRecordMessage({ partitionKeyTable: [], explicitHashKeyTable: [], records: [], ...input }),
  );

function withLastByteFlipped(data: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(data);
  copy[copy.length - 1] = (copy[copy.length - 1] ?? 0) ^ 1;
  return copy;
}

const SAMPLE: AggregatableRecord[] = [
  { partitionKey: 'alpha', data: bytes(1, 2, 3) },
  { partitionKey: 'βeta', explicitHashKey: '123', data: bytes() },
  { partitionKey: 'alpha', explicitHashKey: MAX_HASH_KEY, data: new Uint8Array(300).fill(7) },
];

describe('deaggregate', () => {
  it('returns every user record of an aggregate, in order, under the outer sequence number', () => {
    const input = kinesisRecord(encodeAggregatedRecord(SAMPLE), { approximateArrivalTimestamp: ARRIVAL });
    const result = delivered(deaggregate(input));
    expect(result.aggregated).toBe(true);
    expect(result.rejected).toBeUndefined();
    expect(result.outOfRange).toBeUndefined();
    expect(result.records.map((r) => ({ ...r, data: hex(r.data) }))).toEqual([
      {
        partitionKey: 'alpha',
        data: '010203',
        sequenceNumber: input.sequenceNumber,
        subSequenceNumber: 0,
        approximateArrivalTimestamp: ARRIVAL,
        aggregated: true,
      },
      {
        partitionKey: 'βeta',
        explicitHashKey: '123',
        data: '',
        sequenceNumber: input.sequenceNumber,
        subSequenceNumber: 1,
        approximateArrivalTimestamp: ARRIVAL,
        aggregated: true,
      },
      {
        partitionKey: 'alpha',
        explicitHashKey: MAX_HASH_KEY.toString(),
        data: '07'.repeat(300),
        sequenceNumber: input.sequenceNumber,
        subSequenceNumber: 2,
        approximateArrivalTimestamp: ARRIVAL,
        aggregated: true,
      },
    ]);
    expect('explicitHashKey' in (result.records[0] ?? {})).toBe(false);
  });

  it('leaves approximateArrivalTimestamp out when the input has none', () => {
    const [first] = delivered(deaggregate(kinesisRecord(encodeAggregatedRecord(SAMPLE)))).records;
    expect(first).toBeDefined();
    expect('approximateArrivalTimestamp' in (first ?? {})).toBe(false);
  });

  it('decodes what encodeAggregatedRecord encodes, for any records', () => {
    const record = fc.record(
      {
        partitionKey: fc.string({ unit: 'binary', maxLength: 30 }),
        explicitHashKey: fc.oneof(fc.bigInt(0n, MAX_HASH_KEY), fc.bigInt(0n, MAX_HASH_KEY).map(String)),
        data: fc.uint8Array({ maxLength: 200 }),
      },
      { requiredKeys: ['partitionKey', 'data'] },
    );
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 30 }), (records) => {
        const result = delivered(deaggregate(kinesisRecord(encodeAggregatedRecord(records))));
        expect(result.aggregated).toBe(true);
        expect(
          result.records.map((r) => [r.partitionKey, r.explicitHashKey, hex(r.data), r.subSequenceNumber]),
        ).toEqual(
          records.map((r, i) => [
            r.partitionKey,
            r.explicitHashKey === undefined ? undefined : BigInt(r.explicitHashKey).toString(),
            hex(r.data),
            i,
          ]),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('returns data as views into the input by default, and copies with copyData', () => {
    const input = kinesisRecord(Buffer.from(encodeAggregatedRecord([{ partitionKey: 'p', data: bytes(0xab, 0xcd) }])));
    const view = delivered(deaggregate(input)).records[0]?.data;
    const copy = delivered(deaggregate(input, { copyData: true })).records[0]?.data;
    expect(view?.buffer).toBe(input.data.buffer);
    expect(copy?.buffer).not.toBe(input.data.buffer);
    expect(copy).not.toBeInstanceOf(Buffer);
    expect(view).not.toBeInstanceOf(Buffer);
    input.data[input.data.indexOf(0xcd)] = 0xee;
    expect([...(view ?? [])]).toEqual([0xab, 0xee]);
    expect([...(copy ?? [])]).toEqual([0xab, 0xcd]);
  });

  it('unpacks aggregates of tens of thousands of records, one after another', () => {
    for (const count of [20_000, 3, 40_000, 1_500]) {
      const records = Array.from({ length: count }, (_, i) => ({
        partitionKey: `k${i % 300}`,
        data: new Uint8Array([i & 0xff, (i >> 8) & 0xff]),
      }));
      const result = delivered(deaggregate(kinesisRecord(encodeAggregatedRecord(records))));
      expect(result.records).toHaveLength(count);
      result.records.forEach((user, i) => {
        if (user.subSequenceNumber !== i || user.partitionKey !== `k${i % 300}` || user.data[0] !== (i & 0xff)) {
          expect.fail(`record ${i} of ${count} came back as ${JSON.stringify({ ...user, data: [...user.data] })}`);
        }
      });
    }
  });

  it('returns an aggregate of tables but no records as no user records, as the KCL does', () => {
    const result = delivered(deaggregate(kinesisRecord(message({ partitionKeyTable: ['a'] }))));
    expect(result.aggregated).toBe(true);
    expect(result.records).toEqual([]);
  });
});

describe('deaggregate pass-through', () => {
  it('passes a record without the magic through as it is, keeping its explicit hash key and timestamp', () => {
    const input = kinesisRecord(bytes(1, 2, 3), { explicitHashKey: '99', approximateArrivalTimestamp: ARRIVAL });
    const result = expectPassThrough(deaggregate(input), input);
    expect(result.rejected).toBeUndefined();
    expect(result.records[0]).toEqual({
      partitionKey: 'a',
      explicitHashKey: '99',
      data: input.data,
      sequenceNumber: input.sequenceNumber,
      subSequenceNumber: 0,
      approximateArrivalTimestamp: ARRIVAL,
      aggregated: false,
    });
  });

  it.each([
    ['empty data', bytes(), undefined],
    ['fewer bytes than the magic', bytes(0xf3, 0x89, 0x9a), undefined],
    ['the magic alone', bytes(0xf3, 0x89, 0x9a, 0xc2), 'too-short'],
    ['an empty message (20 bytes)', message({}), 'too-short'],
    ['a wrong digest', withLastByteFlipped(encodeAggregatedRecord(SAMPLE)), 'checksum-mismatch'],
    ['a message that does not parse', frameAggregatedRecordMessage(bytes(0x1a, 0x02, 0x1a, 0x00)), 'invalid-message'],
    [
      'a record without data',
      frameAggregatedRecordMessage(bytes(0x0a, 0x01, 0x61, 0x1a, 0x02, 0x08, 0x00)),
      'invalid-message',
    ],
    [
      'a partition key index past the table',
      message({ partitionKeyTable: ['a'], records: [{ partitionKeyIndex: 1, data: bytes() }] }),
      'index-out-of-range',
    ],
    [
      'an explicit hash key index past the table',
      message({
        partitionKeyTable: ['a'],
        explicitHashKeyTable: ['1'],
        records: [{ partitionKeyIndex: 0, explicitHashKeyIndex: 1, data: bytes() }],
      }),
      'index-out-of-range',
    ],
    [
      'an explicit hash key index with an empty table',
      message({
        partitionKeyTable: ['a'],
        records: [{ partitionKeyIndex: 0, explicitHashKeyIndex: 0, data: bytes() }],
      }),
      'index-out-of-range',
    ],
    [
      'an explicit hash key that is not a decimal',
      message({
        partitionKeyTable: ['a'],
        explicitHashKeyTable: ['0x1f'],
        records: [{ partitionKeyIndex: 0, explicitHashKeyIndex: 0, data: bytes() }],
      }),
      'invalid-explicit-hash-key',
    ],
    [
      'an explicit hash key of 2^128',
      message({
        partitionKeyTable: ['a'],
        explicitHashKeyTable: [(MAX_HASH_KEY + 1n).toString()],
        records: [{ partitionKeyIndex: 0, explicitHashKeyIndex: 0, data: bytes() }],
      }),
      'invalid-explicit-hash-key',
    ],
  ])('passes through %s, reporting %s', (_, data, reason) => {
    const input = kinesisRecord(data);
    const result = expectPassThrough(deaggregate(input), input);
    expect(result.rejected?.reason).toBe(reason);
    if (reason !== undefined) expect(result.rejected?.detail).toEqual(expect.any(String));
  });

  it('ignores an invalid explicit hash key no record uses, as the KCL does', () => {
    const data = message({
      partitionKeyTable: ['a'],
      explicitHashKeyTable: ['junk'],
      records: [{ partitionKeyIndex: 0, data: bytes(1) }],
    });
    expect(delivered(deaggregate(kinesisRecord(data))).records).toHaveLength(1);
  });

  it('passes through every truncation of an aggregate', () => {
    const whole = encodeAggregatedRecord(SAMPLE);
    for (let length = 0; length < whole.length; length++) {
      const input = kinesisRecord(Uint8Array.prototype.slice.call(whole, 0, length));
      const result = expectPassThrough(deaggregate(input), input);
      expect(result.rejected?.reason).toBe(length < 4 ? undefined : length <= 20 ? 'too-short' : 'checksum-mismatch');
    }
  });

  it('passes through an aggregate with any single bit flipped', () => {
    const whole = encodeAggregatedRecord(SAMPLE);
    for (let at = 0; at < whole.length; at++) {
      for (let bit = 0; bit < 8; bit++) {
        const data = Uint8Array.from(whole);
        data[at] = (data[at] ?? 0) ^ (1 << bit);
        const input = kinesisRecord(data);
        const result = expectPassThrough(deaggregate(input), input);
        expect(result.rejected?.reason).toBe(at < 4 ? undefined : 'checksum-mismatch');
      }
    }
  });

  it('never throws on random data, with or without the magic', () => {
    const data = fc.oneof(
      fc.uint8Array({ maxLength: 80 }),
      fc.uint8Array({ maxLength: 80 }).map((tail) => new Uint8Array([0xf3, 0x89, 0x9a, 0xc2, ...tail])),
    );
    fc.assert(
      fc.property(data, (bytesIn) => {
        const input = kinesisRecord(bytesIn);
        expectPassThrough(deaggregate(input), input);
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with protobufjs on random messages with a valid digest: unpacked only if they parse', () => {
    const rejectedForContent = ['invalid-message', 'index-out-of-range', 'invalid-explicit-hash-key'];
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 60 }), (body) => {
        const input = kinesisRecord(frameAggregatedRecordMessage(body));
        const result = delivered(deaggregate(input));
        let reference: AggregatedRecordMessage | undefined;
        let referenceError: unknown;
        try {
          reference = protobufjsMessageCodec.decode(body);
        } catch (error) {
          reference = undefined;
          referenceError = error;
        }
        if (result.aggregated && reference === undefined) {
          // The one known disagreement: protobufjs refuses a tag or length whose varint has more than 32 bits or
          // more than five bytes; protobuf-java (the KCL) reads it to its end and keeps the low 32 bits, as we do.
          expect(String(referenceError)).toMatch(/invalid (tag|length) encoding/);
        } else if (result.aggregated) {
          expect(reference?.records.map((r) => hex(r.data))).toEqual(result.records.map((r) => hex(r.data)));
        } else {
          expectPassThrough(result, input);
          expect(rejectedForContent).toContain(result.rejected?.reason);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('deaggregate with a hash key range', () => {
  const byKey = encodeAggregatedRecord([
    { partitionKey: 'x', explicitHashKey: '10', data: bytes(1) },
    { partitionKey: 'y', explicitHashKey: '20', data: bytes(2) },
    { partitionKey: 'z', explicitHashKey: '15', data: bytes(3) },
  ]);
  const range = (startingHashKey: bigint, endingHashKey: bigint) => ({ startingHashKey, endingHashKey });

  it('delivers the aggregate when every user record is inside the range, bounds included', () => {
    const result = delivered(deaggregate(kinesisRecord(byKey), { hashKeyRange: range(10n, 20n) }));
    expect(result.records.map((r) => r.data[0])).toEqual([1, 2, 3]);
    expect(result.outOfRange).toBeUndefined();
  });

  it.each([
    [range(11n, 20n), 0, 10n],
    [range(10n, 19n), 1, 20n],
    [range(16n, MAX_HASH_KEY), 0, 10n],
  ])('drops the whole aggregate when any user record is outside %o, and reports it', (hashKeyRange, first, hashKey) => {
    const input = kinesisRecord(byKey);
    const result = deaggregate(input, { hashKeyRange });
    expect(result).toEqual({
      status: 'dropped',
      reason: 'hash-key-out-of-range',
      sequenceNumber: input.sequenceNumber,
      hashKeyRange,
      recordCount: 3,
      outOfRangeCount: hashKeyRange.startingHashKey === 16n ? 2 : 1,
      firstOutOfRange: { subSequenceNumber: first, partitionKey: first === 0 ? 'x' : 'y', hashKey },
    });
    expect('records' in result).toBe(false);
  });

  it('delivers out-of-range user records with deliverOutOfRangeRecords, still reporting them', () => {
    const result = delivered(
      deaggregate(kinesisRecord(byKey), { hashKeyRange: range(11n, 20n), deliverOutOfRangeRecords: true }),
    );
    expect(result.records.map((r) => r.data[0])).toEqual([1, 2, 3]);
    expect(result.outOfRange).toMatchObject({
      recordCount: 3,
      outOfRangeCount: 1,
      firstOutOfRange: { subSequenceNumber: 0 },
    });
  });

  it('uses the MD5 of the partition key for user records without an explicit hash key', () => {
    const hash = hashKeyOf('ü-key');
    const data = encodeAggregatedRecord([
      { partitionKey: 'ü-key', data: bytes(1) },
      { partitionKey: 'ü-key', data: bytes(2) },
    ]);
    expect(delivered(deaggregate(kinesisRecord(data), { hashKeyRange: range(hash, hash) })).records).toHaveLength(2);
    const dropped = deaggregate(kinesisRecord(data), { hashKeyRange: range(hash + 1n, MAX_HASH_KEY) });
    expect(dropped).toMatchObject({ status: 'dropped', outOfRangeCount: 2, firstOutOfRange: { hashKey: hash } });
  });

  it('hashes partition keys with the given hashKeyOf, once per distinct key of an aggregate', () => {
    const data = encodeAggregatedRecord([
      { partitionKey: 'p', data: bytes(1) },
      { partitionKey: 'q', data: bytes(2) },
      { partitionKey: 'p', data: bytes(3) },
    ]);
    const asked: string[] = [];
    const fake = (partitionKey: string) => {
      asked.push(partitionKey);
      return partitionKey === 'p' ? 5n : 50n;
    };
    const result = deaggregate(kinesisRecord(data), { hashKeyRange: range(0n, 10n), hashKeyOf: fake });
    expect(result).toMatchObject({ status: 'dropped', outOfRangeCount: 1, firstOutOfRange: { partitionKey: 'q' } });
    expect(asked).toEqual(['p', 'q']);
    const cache = new HashKeyCache();
    expect(
      deaggregate(kinesisRecord(data), { hashKeyRange: range(0n, MAX_HASH_KEY), hashKeyOf: cache.hashKeyOf }),
    ).toMatchObject({ status: 'delivered' });
    expect(cache.size).toBe(2);
  });

  it('does not apply the range to records that are not aggregated', () => {
    const input = kinesisRecord(bytes(1, 2, 3), { partitionKey: 'outside' });
    expectPassThrough(deaggregate(input, { hashKeyRange: range(0n, 0n) }), input);
  });

  it.each([
    [range(5n, 4n)],
    [range(-1n, 4n)],
    [range(0n, MAX_HASH_KEY + 1n)],
    [{ startingHashKey: 0, endingHashKey: 5n } as unknown as ReturnType<typeof range>],
  ])('rejects the invalid range %o with a ValidationError', (hashKeyRange) => {
    expect(() => deaggregate(kinesisRecord(byKey), { hashKeyRange })).toThrow(ValidationError);
  });

  it('makes callers check the status before reading records', () => {
    const result = deaggregate(kinesisRecord(byKey), { hashKeyRange: range(11n, 20n) });
    // @ts-expect-error `records` exists only on delivered results, so a drop cannot be missed
    expect(result.records).toBeUndefined();
    expect(result.status).toBe('dropped');
  });
});
