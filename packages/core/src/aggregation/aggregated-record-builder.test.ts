import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { protobufjsMessageCodec } from '../../test/support/protobufjs-codec.js';
import { ValidationError } from '../errors.js';
import { MAX_HASH_KEY, MAX_RECORD_SIZE_BYTES } from '../limits.js';
import { type AggregatableRecord, AggregatedRecordBuilder } from './aggregated-record-builder.js';
import { decodeAggregatedRecordMessage } from './message-decoder.js';

/** Any UTF-16 code units, lone surrogates included: they cost three bytes each once encoded. */
const anyUtf16 = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)),
  maxLength: 30,
});
const wellFormedKey = fc.oneof(
  fc.constantFrom('a', 'key-1', 'ü', '😀', '', 'x'.repeat(256), 'é'.repeat(200)),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
const explicitHashKey = fc.oneof(
  fc.constantFrom<string | bigint>('0', '7', '007', 7n, 0n, MAX_HASH_KEY, MAX_HASH_KEY.toString()),
  fc.bigInt(0n, MAX_HASH_KEY),
  fc.bigInt(0n, MAX_HASH_KEY).map((key) => key.toString()),
  fc.tuple(fc.nat(5), fc.bigInt(0n, 10n ** 30n)).map(([zeros, key]) => '0'.repeat(zeros) + key.toString()),
);
const data = fc.oneof(
  { weight: 5, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 1, arbitrary: fc.integer({ min: 16_000, max: 70_000 }).map((n) => new Uint8Array(n).fill(n & 0xff)) },
  // Strings are stored as their UTF-8 bytes, lone surrogates as U+FFFD (as TextEncoder writes them).
  { weight: 2, arbitrary: anyUtf16 },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
);

/** The bytes the aggregate stores for `data`. */
const bytesOf = (data: Uint8Array | string): Uint8Array =>
  typeof data === 'string' ? new TextEncoder().encode(data) : data;

function recordOf(partitionKey: fc.Arbitrary<string>): fc.Arbitrary<AggregatableRecord> {
  return fc.record({ partitionKey, explicitHashKey, data }, { requiredKeys: ['partitionKey', 'data'] });
}

/** Records drawing keys from a small pool, so repeats (and de-duplication) are common. */
const records = (partitionKey: fc.Arbitrary<string>) =>
  fc
    .array(partitionKey, { minLength: 1, maxLength: 5 })
    .chain((pool) => fc.array(recordOf(fc.oneof(fc.constantFrom(...pool), partitionKey)), { maxLength: 40 }));

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('AggregatedRecordBuilder size', () => {
  it('is always exactly the length of build(), and sizeWith predicts it', () => {
    fc.assert(
      fc.property(records(fc.oneof(wellFormedKey, anyUtf16)), (input) => {
        const builder = new AggregatedRecordBuilder({ maxRecordBytes: Number.POSITIVE_INFINITY });
        expect(builder.size).toBe(builder.build().length);
        for (const record of input) {
          const predicted = builder.sizeWith(record);
          builder.add(record);
          expect(builder.size).toBe(predicted);
          expect(builder.build().length).toBe(builder.size);
          expect(builder.kinesisRecordSize).toBe(builder.size + 1);
        }
        expect(builder.count).toBe(input.length);
        // Self-consistent sizes could still hide wrong bytes: check the keys decode as written.
        const built = builder.build();
        const message = decodeAggregatedRecordMessage(built.subarray(4, built.length - 16));
        expect(message.partitionKeyTable).toEqual(
          [...new Set(input.map((r) => r.partitionKey))].map((key) => Buffer.from(key, 'utf8').toString('utf8')),
        );
      }),
      { numRuns: 200 },
    );
  });

  it.each([
    ['data of 127 and 128 bytes', [127, 128]],
    ['data of 16,383 and 16,384 bytes', [16_383, 16_384]],
    ['records whose message length crosses 127', [121, 122, 123, 124, 125, 126]],
    ['records whose message length crosses 16,383', [16_375, 16_376, 16_377, 16_378, 16_379, 16_380]],
    ['data of 2 MiB', [2 * 1024 * 1024]],
  ])('is exact around varint boundaries: %s', (_, lengths) => {
    for (const length of lengths) {
      const builder = new AggregatedRecordBuilder({ maxRecordBytes: Number.POSITIVE_INFINITY });
      builder.add({ partitionKey: 'k', explicitHashKey: '1', data: new Uint8Array(length) });
      expect(builder.build().length).toBe(builder.size);
    }
  });

  it('is exact when the key tables grow past 127 entries and indexes take two bytes', () => {
    const builder = new AggregatedRecordBuilder();
    for (let i = 0; i < 300; i++) {
      builder.add({ partitionKey: `key-${i}`, explicitHashKey: BigInt(i), data: new Uint8Array(1) });
      expect(builder.build().length).toBe(builder.size);
    }
  });

  it('starts at the 20 bytes of magic and digest', () => {
    const builder = new AggregatedRecordBuilder();
    expect(builder.size).toBe(20);
    expect(builder.count).toBe(0);
    expect(hex(builder.build())).toBe('f3899ac2d41d8cd98f00b204e9800998ecf8427e');
  });
});

describe('AggregatedRecordBuilder output', () => {
  it('stores each partition key and explicit hash key once, in first-seen order, normalized', () => {
    fc.assert(
      fc.property(records(wellFormedKey), (input) => {
        const builder = new AggregatedRecordBuilder({ maxRecordBytes: Number.POSITIVE_INFINITY });
        for (const record of input) builder.add(record);
        const built = builder.build();
        const message = protobufjsMessageCodec.decode(built.subarray(4, built.length - 16));

        const partitionKeys = [...new Set(input.map((r) => r.partitionKey))];
        const explicitHashKeys = [
          ...new Set(
            input.flatMap((r) => (r.explicitHashKey === undefined ? [] : [BigInt(r.explicitHashKey).toString()])),
          ),
        ];
        expect(message.partitionKeyTable).toEqual(partitionKeys);
        expect(message.explicitHashKeyTable).toEqual(explicitHashKeys);
        expect(message.records).toHaveLength(input.length);
        message.records.forEach((entry, i) => {
          const record = input[i];
          expect(message.partitionKeyTable[entry.partitionKeyIndex]).toBe(record?.partitionKey);
          const key =
            entry.explicitHashKeyIndex === undefined
              ? undefined
              : message.explicitHashKeyTable[entry.explicitHashKeyIndex];
          expect(key).toBe(
            record?.explicitHashKey === undefined ? undefined : BigInt(record.explicitHashKey).toString(),
          );
          expect(hex(entry.data)).toBe(hex(bytesOf(record?.data ?? new Uint8Array())));
        });
      }),
      { numRuns: 150 },
    );
  });

  it('writes one entry for "7", "007" and 7n', () => {
    const builder = new AggregatedRecordBuilder();
    for (const explicitHashKey of ['7', '007', 7n, '7']) {
      builder.add({ partitionKey: 'p', explicitHashKey, data: new Uint8Array() });
    }
    const built = builder.build();
    const message = decodeAggregatedRecordMessage(built.subarray(4, built.length - 16));
    expect(message.explicitHashKeyTable).toEqual(['7']);
    expect(message.records.map((r) => r.explicitHashKeyIndex)).toEqual([0, 0, 0, 0]);
  });

  it('copies data when the record is added, and build() leaves the builder as it was', () => {
    const data = new Uint8Array([1, 2, 3]);
    const builder = new AggregatedRecordBuilder().add({ partitionKey: 'p', data });
    data[0] = 9;
    const first = builder.build();
    const second = builder.build();
    expect(hex(first)).toBe(hex(second));
    expect(first.subarray(4, first.length - 16).includes(9)).toBe(false);
    expect(builder.count).toBe(1);
  });

  it("says where each record's data is in what build() returns", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            partitionKey: fc.string({ minLength: 1, maxLength: 20 }),
            data,
            explicitHashKey: fc.option(fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }), { nil: undefined }),
          }),
          { minLength: 1, maxLength: 200 },
        ),
        (records) => {
          const builder = new AggregatedRecordBuilder();
          const offsets = records.map((record) => {
            builder.add(record);
            return builder.lastDataOffset;
          });
          const out = builder.build();
          records.forEach((record, i) => {
            const start = builder.recordsOffset + (offsets[i] ?? 0);
            const bytes = bytesOf(record.data);
            expect(hex(out.subarray(start, start + bytes.length))).toBe(hex(bytes));
          });
        },
      ),
    );
  });

  it('builds after reset() exactly what a fresh builder builds', () => {
    fc.assert(
      fc.property(records(wellFormedKey), records(wellFormedKey), (before, after) => {
        const reused = new AggregatedRecordBuilder({ maxRecordBytes: Number.POSITIVE_INFINITY });
        for (const record of before) reused.add(record);
        reused.reset();
        expect(reused.count).toBe(0);
        expect(reused.size).toBe(20);
        const fresh = new AggregatedRecordBuilder({ maxRecordBytes: Number.POSITIVE_INFINITY });
        for (const record of after) {
          reused.add(record);
          fresh.add(record);
        }
        expect(hex(reused.build())).toBe(hex(fresh.build()));
      }),
      { numRuns: 50 },
    );
  });
  it('indexes keys per aggregate when the next one meets the same keys in another order', () => {
    const builder = new AggregatedRecordBuilder();
    const keysOf = (aggregate: Uint8Array) => {
      const message = decodeAggregatedRecordMessage(aggregate.subarray(4, aggregate.length - 16));
      return message.records.map((r) => message.partitionKeyTable[r.partitionKeyIndex]);
    };
    for (const key of ['a', 'b', 'c', 'a']) builder.add({ partitionKey: key, data: new Uint8Array([1]) });
    expect(keysOf(builder.build())).toEqual(['a', 'b', 'c', 'a']);
    builder.reset();
    // 'c' was index 2 before: it must not be taken for this aggregate's third key.
    for (const key of ['c', 'b', 'x', 'c', 'a']) builder.add({ partitionKey: key, data: new Uint8Array([2]) });
    expect(keysOf(builder.build())).toEqual(['c', 'b', 'x', 'c', 'a']);
  });

  it('stays exact across resets whether the next aggregate repeats its keys or brings new ones', () => {
    const builder = new AggregatedRecordBuilder();
    // Key sets by round: the same keys in another order (the index is kept), then new keys only (stale
    // entries outnumber the aggregate's: the index starts over), then the first keys again.
    const rounds = [
      { set: 'a', step: 1 },
      { set: 'a', step: 7 },
      { set: 'b', step: 1 },
      { set: 'a', step: 13 },
    ];
    for (const { set, step } of rounds) {
      const fresh = new AggregatedRecordBuilder();
      builder.reset();
      for (let i = 0; i < 3000; i++) {
        const record = { partitionKey: `${set}${(i * step) % 2999}`, data: new Uint8Array([i & 0xff]) };
        builder.add(record);
        fresh.add(record);
      }
      expect(hex(builder.build())).toBe(hex(fresh.build()));
      expect(builder.size).toBe(builder.build().length);
    }
  });
});

describe('AggregatedRecordBuilder limits', () => {
  it('tryAdd never lets the aggregate exceed a limit, and refuses only what would', () => {
    const limits = fc.record(
      {
        maxBytes: fc.integer({ min: 1, max: 200_000 }),
        maxRecordBytes: fc.integer({ min: 1, max: 200_000 }),
        maxCount: fc.integer({ min: 1, max: 30 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(limits, records(wellFormedKey), (limit, input) => {
        const builder = new AggregatedRecordBuilder(limit);
        const maxBytes = limit.maxBytes ?? Number.POSITIVE_INFINITY;
        const maxRecordBytes = limit.maxRecordBytes ?? MAX_RECORD_SIZE_BYTES;
        const maxCount = limit.maxCount ?? Number.POSITIVE_INFINITY;
        for (const record of input) {
          const before = hex(builder.build());
          const count = builder.count;
          const wouldBe = builder.sizeWith(record);
          const fits = count < maxCount && wouldBe <= maxBytes && wouldBe + 1 <= maxRecordBytes;
          expect(builder.tryAdd(record)).toBe(fits);
          if (fits) {
            expect(builder.size).toBe(wouldBe);
            expect(builder.count).toBe(count + 1);
          } else {
            expect(hex(builder.build())).toBe(before);
            expect(builder.count).toBe(count);
          }
          expect(builder.size).toBeLessThanOrEqual(Math.max(20, maxBytes));
          expect(builder.kinesisRecordSize).toBeLessThanOrEqual(Math.max(21, maxRecordBytes));
          expect(builder.count).toBeLessThanOrEqual(maxCount);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('accepts a record that brings the aggregate exactly to the limit', () => {
    const record = { partitionKey: 'p', data: new Uint8Array(100) };
    const exact = new AggregatedRecordBuilder().sizeWith(record);
    expect(new AggregatedRecordBuilder({ maxBytes: exact }).tryAdd(record)).toBe(true);
    expect(new AggregatedRecordBuilder({ maxBytes: exact - 1 }).tryAdd(record)).toBe(false);
    expect(new AggregatedRecordBuilder({ maxRecordBytes: exact + 1 }).tryAdd(record)).toBe(true);
    expect(new AggregatedRecordBuilder({ maxRecordBytes: exact }).tryAdd(record)).toBe(false);
  });

  it('keeps the service record limit of 1 MiB, counting the outer partition key, by default', () => {
    const builder = new AggregatedRecordBuilder();
    // Lengths near 1 MiB all take three-byte varints, so the overhead measured at 1,000,000 holds there.
    const overhead = builder.sizeWith({ partitionKey: 'p', data: new Uint8Array(1_000_000) }) - 1_000_000;
    const largest = MAX_RECORD_SIZE_BYTES - 1 - overhead;
    expect(builder.tryAdd({ partitionKey: 'p', data: new Uint8Array(largest + 1) })).toBe(false);
    expect(builder.tryAdd({ partitionKey: 'p', data: new Uint8Array(largest) })).toBe(true);
    expect(builder.kinesisRecordSize).toBe(MAX_RECORD_SIZE_BYTES);
  });

  it('refuses by count once maxCount records are in', () => {
    const builder = new AggregatedRecordBuilder({ maxCount: 2 });
    const record = { partitionKey: 'p', data: new Uint8Array() };
    expect([builder.tryAdd(record), builder.tryAdd(record), builder.tryAdd(record)]).toEqual([true, true, false]);
  });

  it('add throws a ValidationError when the record does not fit, leaving the builder as it was', () => {
    const builder = new AggregatedRecordBuilder({ maxBytes: 40 });
    builder.add({ partitionKey: 'p', data: new Uint8Array(5) });
    const size = builder.size;
    expect(() => builder.add({ partitionKey: 'p', data: new Uint8Array(50) })).toThrow(ValidationError);
    expect(() => builder.add({ partitionKey: 'p', data: new Uint8Array(50) })).toThrow(/does not fit/);
    expect(builder.size).toBe(size);
    expect(builder.count).toBe(1);
  });

  it.each([
    [{ maxBytes: 0 }, 'maxBytes'],
    [{ maxBytes: -1 }, 'maxBytes'],
    [{ maxRecordBytes: 1.5 }, 'maxRecordBytes'],
    [{ maxCount: Number.NaN }, 'maxCount'],
  ])('rejects the limits %o naming %s', (limits, field) => {
    expect(() => new AggregatedRecordBuilder(limits)).toThrow(
      expect.objectContaining({ field, name: 'ValidationError' }),
    );
  });
});

describe('AggregatedRecordBuilder validation', () => {
  it.each<[string, AggregatableRecord, string]>([
    [
      'a negative explicit hash key',
      { partitionKey: 'p', explicitHashKey: '-1', data: new Uint8Array() },
      'explicitHashKey',
    ],
    [
      'a hexadecimal explicit hash key',
      { partitionKey: 'p', explicitHashKey: '0x10', data: new Uint8Array() },
      'explicitHashKey',
    ],
    [
      'an explicit hash key of 2^128',
      { partitionKey: 'p', explicitHashKey: MAX_HASH_KEY + 1n, data: new Uint8Array() },
      'explicitHashKey',
    ],
    ['data that is a number', { partitionKey: 'p', data: 5 as unknown as Uint8Array }, 'data'],
    [
      'a partition key that is a number',
      { partitionKey: 5 as unknown as string, data: new Uint8Array() },
      'partitionKey',
    ],
  ])('refuses %s with a ValidationError, from add, tryAdd and sizeWith, and changes nothing', (_, record, field) => {
    const builder = new AggregatedRecordBuilder().add({
      partitionKey: 'q',
      explicitHashKey: '1',
      data: new Uint8Array(1),
    });
    const before = hex(builder.build());
    for (const call of [() => builder.add(record), () => builder.tryAdd(record), () => builder.sizeWith(record)]) {
      expect(call).toThrow(ValidationError);
      expect(call).toThrow(expect.objectContaining({ field }));
    }
    expect(hex(builder.build())).toBe(before);
    expect(builder.count).toBe(1);
  });
});
