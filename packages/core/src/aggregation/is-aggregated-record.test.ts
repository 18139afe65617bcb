import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deaggregate } from './deaggregate.js';
import { encodeAggregatedRecord } from './encode-aggregated-record.js';
import { frameAggregatedRecordMessage } from './framing.js';
import { isAggregatedRecord } from './is-aggregated-record.js';

const aggregate = encodeAggregatedRecord([
  { partitionKey: 'a', data: new Uint8Array([1]) },
  { partitionKey: 'b', explicitHashKey: '9', data: new Uint8Array([2]) },
]);

describe('isAggregatedRecord', () => {
  it.each([
    ['an aggregate', aggregate, true],
    ['an aggregate of one record', encodeAggregatedRecord([{ partitionKey: 'a', data: new Uint8Array() }]), true],
    ['plain data', new Uint8Array([1, 2, 3]), false],
    ['empty data', new Uint8Array(), false],
    ['an empty aggregate (20 bytes)', encodeAggregatedRecord([]), false],
    ['an aggregate cut by one byte', aggregate.subarray(0, aggregate.length - 1), false],
    ['the magic followed by garbage', new Uint8Array([0xf3, 0x89, 0x9a, 0xc2, ...new Uint8Array(30).fill(7)]), false],
    [
      'a valid digest over a message that does not parse',
      frameAggregatedRecordMessage(new Uint8Array([0x1a, 0x02, 0x1a, 0x00])),
      false,
    ],
  ])('says %s is %s', (_, data, expected) => {
    expect(isAggregatedRecord(data)).toBe(expected);
  });

  it('agrees with deaggregate on corrupted aggregates', () => {
    fc.assert(
      fc.property(
        fc.nat(aggregate.length - 1),
        fc.integer({ min: 1, max: 255 }),
        fc.nat(aggregate.length),
        (at, mask, cut) => {
          const data = Uint8Array.from(aggregate.subarray(0, Math.max(cut, at + 1)));
          data[at] = (data[at] ?? 0) ^ mask;
          const result = deaggregate({ data, partitionKey: 'a', sequenceNumber: '1' });
          expect(isAggregatedRecord(data)).toBe(result.status === 'delivered' && result.aggregated);
          expect(isAggregatedRecord(data)).toBe(false);
        },
      ),
    );
  });
});
