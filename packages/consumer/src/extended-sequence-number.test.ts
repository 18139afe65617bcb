import { ValidationError } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { compareExtendedSequenceNumbers, ExtendedSequenceNumber } from './extended-sequence-number.js';

const esn = (s: string, sub = 0) => new ExtendedSequenceNumber(s, sub);

describe('ExtendedSequenceNumber', () => {
  it('orders sentinels and numbers as the KCL does', () => {
    const ordered = [
      ExtendedSequenceNumber.AT_TIMESTAMP,
      ExtendedSequenceNumber.TRIM_HORIZON,
      ExtendedSequenceNumber.LATEST,
      esn('0'),
      esn('9'),
      esn('10'),
      esn('10', 1),
      esn('10', 2),
      // Kinesis sequence numbers exceed 2^53: compared as integers, not floats or strings.
      esn('49590338271490256608559692538361571095921575989136588898'),
      esn('49590338271490256608559692538361571095921575989136588899'),
      esn('49590338271490256608559692538361571095921575989136588899', 5),
      ExtendedSequenceNumber.SHARD_END,
    ];
    const shuffled = [...ordered].reverse();
    expect(shuffled.sort(compareExtendedSequenceNumbers).map(String)).toEqual(ordered.map(String));
  });

  it.each([
    ['10', 0, '10', 0, 0],
    ['10', 1, '10', 0, 1],
    ['9', 7, '10', 0, -1],
    ['SHARD_END', 0, 'SHARD_END', 0, 0],
    ['TRIM_HORIZON', 0, '0', 0, -1],
  ])('compares %s.%s with %s.%s', (a, asub, b, bsub, sign) => {
    expect(Math.sign(esn(a, asub).compareTo(esn(b, bsub)))).toBe(sign);
  });

  it('rejects what is neither a decimal sequence number nor a sentinel', () => {
    expect(() => esn('12a')).toThrow(ValidationError);
    expect(() => esn('')).toThrow(ValidationError);
    expect(() => esn('AT_SEQUENCE_NUMBER')).toThrow(ValidationError);
    expect(() => esn('12', -1)).toThrow(/subSequenceNumber must be a whole number ≥ 0, got -1/);
  });

  it('knows sentinels and shard end', () => {
    expect(ExtendedSequenceNumber.LATEST.isSentinel).toBe(true);
    expect(esn('5').isSentinel).toBe(false);
    expect(ExtendedSequenceNumber.SHARD_END.isShardEnd).toBe(true);
    expect(esn('5', 2).toString()).toBe('5.2');
  });
});
