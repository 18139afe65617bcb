/**
 * Conformance with aws-kinesis-agg (AWS Labs' Node.js KPL-format library): aggregates we write
 * unpack with its deaggregator, and aggregates it writes unpack with ours.
 *
 * Its quirks the tests work around (see also docs on the emulators):
 * - It reports an `explicitPartitionKey` for every user record, taking entry 0 of the table for
 *   records that had none, so explicit hash keys are compared only where a record had one.
 * - It builds its key tables with `Object.keys`, which lists array-index-like keys ("0" to
 *   "4294967294") first in numeric order, so such partition keys and explicit hash keys get the
 *   wrong indexes. Generated partition keys are never integer-like and generated explicit hash keys
 *   are at least 2^32; the last test pins the behaviour down.
 * - It takes and returns data as base64 strings in the v2 (camelCase) record shape.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_HASH_KEY } from '../limits.js';
import { deaggregate } from './deaggregate.js';
import { encodeAggregatedRecord } from './encode-aggregated-record.js';

/** The parts of aws-kinesis-agg 4.2.8 we use; its own typings need aws-sdk v2 and aws-lambda. */
interface AggUserRecord {
  partitionKey: string;
  explicitPartitionKey?: string;
  sequenceNumber: string;
  subSequenceNumber?: number;
  data: string;
}
interface AggInputRecord {
  partitionKey: string;
  explicitHashKey?: string;
  data: Uint8Array;
}
interface AggEncodedRecord {
  partitionKey: string;
  data: Buffer;
  ExplicitHashKey?: string;
}
interface AwsKinesisAgg {
  deaggregateSync(
    record: { data: string; partitionKey: string; sequenceNumber: string },
    computeChecksums: boolean,
    callback: (error: Error | null | undefined, records?: AggUserRecord[]) => void,
  ): void;
  RecordAggregator: new () => { addUserRecord(record: AggInputRecord): void; build(): AggEncodedRecord | undefined };
  aggregate(
    records: AggInputRecord[],
    onEncoded: (encoded: AggEncodedRecord, done: (error?: Error) => void) => void,
    afterAll: () => void,
    onError: (error: Error) => void,
  ): void;
}

const agg = createRequire(import.meta.url)('aws-kinesis-agg') as AwsKinesisAgg;

const SEQUENCE_NUMBER = '49590338271490256608559692538361571095921575989136588898';

function theirDeaggregate(data: Uint8Array): AggUserRecord[] {
  let result: AggUserRecord[] | undefined;
  let failure: unknown;
  agg.deaggregateSync(
    { data: Buffer.from(data).toString('base64'), partitionKey: 'a', sequenceNumber: SEQUENCE_NUMBER },
    true,
    (error, records) => {
      if (error) failure = error;
      else result = records;
    },
  );
  if (result === undefined) throw failure;
  return result;
}

function ourDeaggregate(data: Uint8Array) {
  const result = deaggregate({ data, partitionKey: 'a', sequenceNumber: SEQUENCE_NUMBER });
  if (result.status !== 'delivered') throw new Error('not delivered');
  expect(result.aggregated).toBe(true);
  return result.records;
}

/** Keys aws-kinesis-agg handles: non-empty, not integer-like, not an Object.prototype name. */
const partitionKey = fc
  .string({ unit: 'binary', minLength: 1, maxLength: 24 })
  .filter((key) => !/^(0|[1-9][0-9]*)$/.test(key) && !(key in Object.prototype));
function recordOf(key: fc.Arbitrary<string>) {
  return fc.record(
    {
      partitionKey: key,
      explicitHashKey: fc.bigInt(2n ** 32n, MAX_HASH_KEY).map(String),
      data: fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.constant(new Uint8Array())),
    },
    { requiredKeys: ['partitionKey', 'data'] },
  );
}
/** Records drawing keys from a small pool, so keys repeat as in real traffic. */
const records = fc
  .array(partitionKey, { minLength: 1, maxLength: 4 })
  .chain((pool) =>
    fc.array(recordOf(fc.oneof(fc.constantFrom(...pool), partitionKey)), { minLength: 1, maxLength: 40 }),
  );

const b64 = (data: Uint8Array): string => Buffer.from(data).toString('base64');

describe('conformance with aws-kinesis-agg', () => {
  it('its deaggregateSync, checksums on, unpacks what we encode', () => {
    fc.assert(
      fc.property(records, (input) => {
        const theirs = theirDeaggregate(encodeAggregatedRecord(input));
        expect(theirs).toHaveLength(input.length);
        theirs.forEach((user, i) => {
          const original = input[i];
          expect(user.partitionKey).toBe(original?.partitionKey);
          expect(user.data).toBe(b64(original?.data ?? new Uint8Array()));
          expect(user.subSequenceNumber).toBe(i);
          expect(user.sequenceNumber).toBe(SEQUENCE_NUMBER);
          if (original?.explicitHashKey !== undefined) expect(user.explicitPartitionKey).toBe(original.explicitHashKey);
        });
      }),
      { numRuns: 150 },
    );
  });

  it('we unpack what its RecordAggregator builds, byte for byte the same aggregate we build', () => {
    fc.assert(
      fc.property(records, (input) => {
        const aggregator = new agg.RecordAggregator();
        for (const user of input) aggregator.addUserRecord(user);
        const built = aggregator.build();
        expect(built).toBeDefined();
        const data = built?.data ?? Buffer.alloc(0);
        expect(b64(data)).toBe(b64(encodeAggregatedRecord(input)));
        const ours = ourDeaggregate(data);
        expect(ours.map((u) => [u.partitionKey, u.explicitHashKey, b64(u.data), u.subSequenceNumber])).toEqual(
          input.map((u, i) => [u.partitionKey, u.explicitHashKey, b64(u.data), i]),
        );
      }),
      { numRuns: 150 },
    );
  });

  it('we unpack every aggregate its aggregate() emits for a large batch, in order', async () => {
    const input = Array.from({ length: 1500 }, (_, i) => ({
      partitionKey: `user-${i % 37}`,
      ...(i % 5 === 0 ? { explicitHashKey: String(BigInt(i) * 10n ** 30n) } : {}),
      data: new Uint8Array(2000).fill(i & 0xff),
    }));
    const encoded: AggEncodedRecord[] = [];
    await new Promise<void>((resolve, reject) => {
      agg.aggregate(
        input,
        (record, done) => {
          encoded.push(record);
          done();
        },
        resolve,
        reject,
      );
    });
    expect(encoded.length).toBeGreaterThan(1);
    const users = encoded.flatMap((record) => ourDeaggregate(record.data));
    expect(users.map((u) => [u.partitionKey, u.explicitHashKey, u.data[0], u.data.length])).toEqual(
      input.map((u, i) => [u.partitionKey, u.explicitHashKey, i & 0xff, 2000]),
    );
    for (const record of encoded) {
      expect(ourDeaggregate(record.data).map((u) => u.subSequenceNumber)).toEqual(
        ourDeaggregate(record.data).map((_, i) => i),
      );
    }
  });

  it('mislabels small integer-like keys in the aggregates it builds (a quirk we do not share)', () => {
    const input = [
      { partitionKey: '1', explicitHashKey: '7', data: new Uint8Array([1]) },
      { partitionKey: '0', explicitHashKey: '3', data: new Uint8Array([2]) },
    ];
    const aggregator = new agg.RecordAggregator();
    for (const user of input) aggregator.addUserRecord(user);
    const keys = (users: { partitionKey: string; explicitHashKey?: string }[]) =>
      users.map((u) => [u.partitionKey, u.explicitHashKey]);
    expect(keys(ourDeaggregate(aggregator.build()?.data ?? Buffer.alloc(0)))).toEqual([
      ['0', '3'],
      ['1', '7'],
    ]);
    expect(keys(ourDeaggregate(encodeAggregatedRecord(input)))).toEqual([
      ['1', '7'],
      ['0', '3'],
    ]);
  });
});
