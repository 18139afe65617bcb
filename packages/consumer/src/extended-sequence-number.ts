import { ValidationError } from '@kinesis-kit/core';

/** The checkpoint values that are not sequence numbers, exactly as the KCL writes them in the lease table. */
export type SentinelCheckpoint = 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP' | 'SHARD_END';

const SENTINELS: ReadonlySet<string> = new Set<SentinelCheckpoint>([
  'TRIM_HORIZON',
  'LATEST',
  'AT_TIMESTAMP',
  'SHARD_END',
]);

// The KCL orders sentinels by giving them these numbers; every real sequence number is ≥ 0, and SHARD_END is
// above all of them (it means "everything in the shard is done").
const SENTINEL_RANK: Readonly<Record<SentinelCheckpoint, bigint>> = {
  AT_TIMESTAMP: -3n,
  TRIM_HORIZON: -2n,
  LATEST: -1n,
  SHARD_END: 0n, // compared specially below
};

const DECIMAL = /^[0-9]{1,128}$/;

/**
 * A position in a shard at the granularity of user records: a Kinesis sequence number plus, inside a KPL
 * aggregate, the user record's index (`subSequenceNumber`, 0 for plain records). The sequence number may
 * also be one of the KCL's sentinels. Immutable.
 *
 * Ordering (as the Java KCL's `ExtendedSequenceNumber`): `AT_TIMESTAMP` < `TRIM_HORIZON` < `LATEST` < every
 * sequence number (compared as integers, then by sub-sequence number) < `SHARD_END`.
 */
export class ExtendedSequenceNumber {
  static readonly TRIM_HORIZON = new ExtendedSequenceNumber('TRIM_HORIZON');
  static readonly LATEST = new ExtendedSequenceNumber('LATEST');
  static readonly AT_TIMESTAMP = new ExtendedSequenceNumber('AT_TIMESTAMP');
  static readonly SHARD_END = new ExtendedSequenceNumber('SHARD_END');

  readonly sequenceNumber: string;
  readonly subSequenceNumber: number;

  /**
   * @throws {@link @kinesis-kit/core!ValidationError} unless `sequenceNumber` is a decimal string or a sentinel and
   * `subSequenceNumber` a whole number ≥ 0.
   */
  constructor(sequenceNumber: string, subSequenceNumber = 0) {
    if (!SENTINELS.has(sequenceNumber) && !DECIMAL.test(sequenceNumber)) {
      throw new ValidationError(
        `sequenceNumber must be a decimal string or one of ${[...SENTINELS].join(', ')}, got ${JSON.stringify(sequenceNumber)}`,
        { field: 'sequenceNumber', value: sequenceNumber },
      );
    }
    if (!Number.isSafeInteger(subSequenceNumber) || subSequenceNumber < 0) {
      throw new ValidationError(`subSequenceNumber must be a whole number ≥ 0, got ${subSequenceNumber}`, {
        field: 'subSequenceNumber',
        value: subSequenceNumber,
      });
    }
    this.sequenceNumber = sequenceNumber;
    this.subSequenceNumber = subSequenceNumber;
    Object.freeze(this);
  }

  /** Whether this is one of the sentinels rather than a real sequence number. */
  get isSentinel(): boolean {
    return SENTINELS.has(this.sequenceNumber);
  }

  /** Whether this is the `SHARD_END` sentinel: every record of the shard has been processed. */
  get isShardEnd(): boolean {
    return this.sequenceNumber === 'SHARD_END';
  }

  /** Negative, zero or positive as this is before, at or after `other`. */
  compareTo(other: ExtendedSequenceNumber): number {
    return compareExtendedSequenceNumbers(this, other);
  }

  equals(other: ExtendedSequenceNumber | undefined): boolean {
    return other !== undefined && compareExtendedSequenceNumbers(this, other) === 0;
  }

  toString(): string {
    return this.isSentinel || this.subSequenceNumber === 0
      ? this.sequenceNumber
      : `${this.sequenceNumber}.${this.subSequenceNumber}`;
  }
}

/** Orders two extended sequence numbers (usable with `Array.prototype.sort`). */
export function compareExtendedSequenceNumbers(a: ExtendedSequenceNumber, b: ExtendedSequenceNumber): number {
  if (a.isShardEnd || b.isShardEnd) return (a.isShardEnd ? 1 : 0) - (b.isShardEnd ? 1 : 0);
  const na = numericValue(a);
  const nb = numericValue(b);
  if (na !== nb) return na < nb ? -1 : 1;
  return a.subSequenceNumber - b.subSequenceNumber;
}

function numericValue(esn: ExtendedSequenceNumber): bigint {
  return esn.isSentinel ? SENTINEL_RANK[esn.sequenceNumber as SentinelCheckpoint] : BigInt(esn.sequenceNumber);
}
