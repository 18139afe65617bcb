import { ValidationError } from './errors.js';

/** Digits after `shardId-` in the ids Kinesis assigns. */
const SHARD_ID_DIGITS = 12;
const SHARD_ID = /^shardId-(\d+)$/;

/**
 * The number in a shard id (`shardId-000000000123` → 123), or `undefined` for an id not in that form.
 * Kinesis numbers shards in creation order, so a larger number is a younger shard: children are always
 * larger than their parents.
 */
export function shardIdNumber(shardId: string): number | undefined {
  const digits = SHARD_ID.exec(shardId)?.[1];
  if (digits === undefined) return undefined;
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The shard id Kinesis gives shard number `n`: `shardId-` and `n` zero-padded to 12 digits. */
export function formatShardId(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new ValidationError(`A shard number must be a whole number ≥ 0, got ${n}`, {
      field: 'shardNumber',
      value: n,
    });
  }
  return `shardId-${String(n).padStart(SHARD_ID_DIGITS, '0')}`;
}

/**
 * Orders shard ids by their number (creation order), falling back to plain string order for ids not in the
 * Kinesis form, which sort after the numbered ones. Usable with `Array.prototype.sort`.
 */
export function compareShardIds(a: string, b: string): number {
  const na = shardIdNumber(a);
  const nb = shardIdNumber(b);
  if (na !== undefined && nb !== undefined && na !== nb) return na - nb;
  if (na !== undefined && nb === undefined) return -1;
  if (na === undefined && nb !== undefined) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
