import { ValidationError } from '../errors.js';
import { hashKeyOf } from '../hash-key.js';
import type { HashKeyCache } from '../hash-key-cache.js';
import { MAX_HASH_KEY } from '../limits.js';
import type { KinesisRecord } from './kinesis-record.js';
import type { ScannedMessage } from './message-decoder.js';
import { type AggregateRejection, unpackAggregatedRecord } from './unpack-aggregated-record.js';
import type { UserRecord } from './user-record.js';

/**
 * An inclusive range of hash keys, a shard's `HashKeyRange` as integers. Structural on purpose: the
 * shard map's `HashKeyRange` and `ShardInfo` fit as they are.
 */
interface HashKeyRange {
  readonly startingHashKey: bigint;
  readonly endingHashKey: bigint;
}

/** Options of {@link deaggregate}. There is deliberately no way to skip the MD5 check; the KCL never does. */
export interface DeaggregateOptions {
  /**
   * The hash key range of the shard the record was read from. When given, an aggregate with any
   * user record whose hash key (its explicit hash key, else the MD5 of its partition key) lies
   * outside is dropped whole, as the KCL does: after a reshard such records were also written to
   * the shard that owns them, so delivering them here would duplicate them.
   * @defaultValue no range check
   */
  hashKeyRange?: HashKeyRange;
  /**
   * Deliver the user records of an aggregate that fails the range check instead of dropping it.
   * The result still reports the out-of-range records in `outOfRange`.
   * @defaultValue `false`
   */
  deliverOutOfRangeRecords?: boolean;
  /**
   * Copy each user record's data out of the input. By default user records are views into the
   * input's buffer: cheaper, but a retained user record keeps the whole aggregate in memory, and
   * modifying the input changes the user records.
   * @defaultValue `false`
   */
  copyData?: boolean;
  /**
   * How to hash a partition key for the range check. Pass a {@link HashKeyCache}'s `hashKeyOf` when
   * deaggregating many records of one shard: streams reuse their keys, and the MD5 is otherwise most of
   * the cost of the check.
   * @defaultValue {@link hashKeyOf}, uncached
   */
  hashKeyOf?: (partitionKey: string) => bigint;
}

/** What the range check found in an aggregate. */
export interface OutOfRangeReport {
  /** Sequence number of the Kinesis record holding the aggregate. */
  sequenceNumber: string;
  /** The range the user records were checked against. */
  hashKeyRange: HashKeyRange;
  /** User records in the aggregate. */
  recordCount: number;
  /** User records whose hash key lies outside the range. */
  outOfRangeCount: number;
  /** The first user record outside the range. */
  firstOutOfRange: { subSequenceNumber: number; partitionKey: string; hashKey: bigint };
}

/** The records to deliver for one Kinesis record. */
export interface DeliveredRecords {
  status: 'delivered';
  /** User records in order: every user record of an aggregate, or the input as one record. */
  records: UserRecord[];
  /** Whether the input was unpacked as a KPL aggregate. */
  aggregated: boolean;
  /**
   * Set when the input carried the aggregation magic but failed a check, so it is delivered as
   * one plain record (as the KCL does). Worth a warning: something wrote a corrupt aggregate.
   */
  rejected?: AggregateRejection;
  /** Set when user records outside the hash key range were delivered because of `deliverOutOfRangeRecords`. */
  outOfRange?: OutOfRangeReport;
}

/**
 * An aggregate dropped whole because user records lie outside the shard's hash key range. It has
 * no `records` property on purpose: callers must look at `status` before reading records.
 */
export interface DroppedAggregate extends OutOfRangeReport {
  status: 'dropped';
  reason: 'hash-key-out-of-range';
}

/** The outcome of {@link deaggregate}; check `status` to reach the records. */
export type DeaggregationResult = DeliveredRecords | DroppedAggregate;

function checkRange(range: HashKeyRange): void {
  const { startingHashKey, endingHashKey } = range;
  if (
    typeof startingHashKey !== 'bigint' ||
    typeof endingHashKey !== 'bigint' ||
    startingHashKey < 0n ||
    endingHashKey > MAX_HASH_KEY ||
    startingHashKey > endingHashKey
  ) {
    throw new ValidationError(
      `hashKeyRange must hold bigints with 0 <= startingHashKey <= endingHashKey <= 2^128-1, got ` +
        `${String(startingHashKey)}..${String(endingHashKey)}`,
      { field: 'hashKeyRange', value: range },
    );
  }
}

function passThrough(record: KinesisRecord, rejected: AggregateRejection | undefined): DeliveredRecords {
  const user: UserRecord = {
    partitionKey: record.partitionKey,
    data: record.data,
    sequenceNumber: record.sequenceNumber,
    subSequenceNumber: 0,
    aggregated: false,
  };
  if (record.explicitHashKey !== undefined) user.explicitHashKey = record.explicitHashKey;
  if (record.approximateArrivalTimestamp !== undefined) {
    user.approximateArrivalTimestamp = record.approximateArrivalTimestamp;
  }
  const result: DeliveredRecords = { status: 'delivered', records: [user], aggregated: false };
  if (rejected !== undefined) result.rejected = rejected;
  return result;
}

/**
 * Unpacks a Kinesis record into the user records a KPL producer aggregated into it, as the Java
 * KCL does:
 * - A record without the magic, or one that fails any check (too short, MD5 mismatch, a message
 *   that does not parse, an index outside its table, an invalid explicit hash key) comes back
 *   unchanged as one user record with `subSequenceNumber` 0 and `aggregated: false`; a failed
 *   check is reported in `rejected`. Corrupt input never throws.
 * - An aggregate yields its user records in order, all with the outer sequence number and
 *   `subSequenceNumber` 0, 1, 2…
 * - With `hashKeyRange`, an aggregate holding any user record outside the range is dropped whole
 *   (`status: 'dropped'`), or delivered and reported with `deliverOutOfRangeRecords`.
 *
 * One deliberate difference: when an index is out of range or an explicit hash key is not a
 * decimal, the Java KCL logs an error and keeps the user records before the bad one, losing the
 * rest (and an explicit hash key above 2^128−1 gets the aggregate dropped as out of range); here
 * such a record is passed through whole instead, so nothing is lost silently.
 *
 * User records' data are plain `Uint8Array` views into `record.data` unless `copyData` is set.
 *
 * @throws {@link ValidationError} only for invalid options (a malformed `hashKeyRange`), never for data.
 */
export function deaggregate(record: KinesisRecord, options: DeaggregateOptions = {}): DeaggregationResult {
  const { hashKeyRange, deliverOutOfRangeRecords = false, copyData = false, hashKeyOf: hash = hashKeyOf } = options;
  if (hashKeyRange !== undefined) checkRange(hashKeyRange);

  const unpacked = unpackAggregatedRecord(record.data);
  if (unpacked === undefined) return passThrough(record, undefined);
  if (!('scan' in unpacked)) return passThrough(record, unpacked);

  const { message, scan, explicitHashKeys } = unpacked;
  const { partitionKeyTable, explicitHashKeyTable, fields, count } = scan;

  let outOfRange: OutOfRangeReport | undefined;
  if (hashKeyRange !== undefined) {
    outOfRange = checkHashKeys(record.sequenceNumber, hashKeyRange, scan, explicitHashKeys, hash);
    if (outOfRange !== undefined && !deliverOutOfRangeRecords) {
      return { status: 'dropped', reason: 'hash-key-out-of-range', ...outOfRange };
    }
  }

  const { sequenceNumber, approximateArrivalTimestamp } = record;
  const { buffer, byteOffset } = message;
  const records: UserRecord[] = new Array(count);
  for (let i = 0, f = 0; i < count; i++, f += 4) {
    const start = fields[f + 2] ?? 0;
    // Constructing the view directly is much cheaper than subarray(), which looks up a species
    // constructor (and for a Buffer input would build a Buffer).
    const view = new Uint8Array(buffer, byteOffset + start, (fields[f + 3] ?? 0) - start);
    const user: UserRecord = {
      partitionKey: partitionKeyTable[fields[f] ?? 0] ?? '',
      data: copyData ? view.slice() : view,
      sequenceNumber,
      subSequenceNumber: i,
      aggregated: true,
    };
    const explicitHashKeyIndex = fields[f + 1] ?? -1;
    if (explicitHashKeyIndex !== -1) user.explicitHashKey = explicitHashKeyTable[explicitHashKeyIndex] ?? '';
    if (approximateArrivalTimestamp !== undefined) user.approximateArrivalTimestamp = approximateArrivalTimestamp;
    records[i] = user;
  }
  const result: DeliveredRecords = { status: 'delivered', records, aggregated: true };
  if (outOfRange !== undefined) result.outOfRange = outOfRange;
  return result;
}

/** Checks every user record's hash key; returns a report if any lies outside the range. */
function checkHashKeys(
  sequenceNumber: string,
  hashKeyRange: HashKeyRange,
  scan: ScannedMessage,
  explicitHashKeys: (bigint | undefined)[],
  hash: (partitionKey: string) => bigint,
): OutOfRangeReport | undefined {
  const { startingHashKey, endingHashKey } = hashKeyRange;
  const { partitionKeyTable, fields, count } = scan;
  // Records share table entries, so hash each partition key once (an MD5 is a native call).
  const partitionKeyHashes: (bigint | undefined)[] = [];
  let outOfRangeCount = 0;
  let first: OutOfRangeReport['firstOutOfRange'] | undefined;
  for (let i = 0, f = 0; i < count; i++, f += 4) {
    const partitionKeyIndex = fields[f] ?? 0;
    const explicitHashKeyIndex = fields[f + 1] ?? -1;
    let hashKey: bigint | undefined;
    if (explicitHashKeyIndex === -1) {
      hashKey = partitionKeyHashes[partitionKeyIndex];
      if (hashKey === undefined) {
        hashKey = hash(partitionKeyTable[partitionKeyIndex] ?? '');
        partitionKeyHashes[partitionKeyIndex] = hashKey;
      }
    } else {
      hashKey = explicitHashKeys[explicitHashKeyIndex] ?? 0n;
    }
    if (hashKey < startingHashKey || hashKey > endingHashKey) {
      outOfRangeCount++;
      first ??= { subSequenceNumber: i, partitionKey: partitionKeyTable[partitionKeyIndex] ?? '', hashKey };
    }
  }
  if (first === undefined) return undefined;
  return { sequenceNumber, hashKeyRange, recordCount: count, outOfRangeCount, firstOutOfRange: first };
}
