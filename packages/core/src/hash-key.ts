import { hash } from 'node:crypto';
import { ValidationError } from './errors.js';
import { MAX_HASH_KEY } from './limits.js';

/**
 * The hash key Kinesis derives from a partition key: the MD5 digest of its UTF-8 bytes read as an
 * unsigned 128-bit big-endian integer. It decides which shard a record lands on.
 */
export function hashKeyOf(partitionKey: string): bigint {
  return hashKeyFromDigest(hash('md5', partitionKey, 'buffer'));
}

/** Reads a 16-byte digest as an unsigned 128-bit big-endian integer. */
export function hashKeyFromDigest(digest: Uint8Array): bigint {
  if (digest.length !== 16) {
    throw new ValidationError(`A hash key digest must be 16 bytes, got ${digest.length}`, {
      field: 'digest',
      value: digest.length,
    });
  }
  const view = new DataView(digest.buffer, digest.byteOffset, 16);
  return (view.getBigUint64(0) << 64n) | view.getBigUint64(8);
}

const DECIMAL = /^[0-9]+$/;

/**
 * Parses an explicit hash key as the service accepts it: a decimal integer from 0 to 2^128−1.
 * A bigint is range-checked. Anything else throws a {@link ValidationError} naming the value.
 */
export function parseExplicitHashKey(value: string | bigint): bigint {
  let key: bigint;
  if (typeof value === 'bigint') {
    key = value;
  } else if (typeof value === 'string' && DECIMAL.test(value) && significantDigits(value) <= 39) {
    // Leading zeros do not count (as in the KPL's and Java's parsing): only the value must fit 128 bits.
    // 39 digits bound what BigInt parses, so a long string of digits cannot cost more than its scan.
    key = BigInt(value);
  } else {
    throw new ValidationError(
      `explicitHashKey must be a decimal integer from 0 to 2^128-1, got ${JSON.stringify(String(value))}`,
      { field: 'explicitHashKey', value },
    );
  }
  if (key < 0n || key > MAX_HASH_KEY) {
    throw new ValidationError(`explicitHashKey must be from 0 to 2^128-1, got ${String(value)}`, {
      field: 'explicitHashKey',
      value,
    });
  }
  return key;
}

/** Digits of a decimal string after its leading zeros (at least one: "000" has one, the 0). */
function significantDigits(decimal: string): number {
  let i = 0;
  while (i < decimal.length - 1 && decimal.charCodeAt(i) === 48) i++;
  return decimal.length - i;
}

/**
 * The hash key that routes a record: its explicit hash key when it has one, otherwise the hash of its
 * partition key.
 */
export function effectiveHashKey(partitionKey: string, explicitHashKey?: string | bigint): bigint {
  return explicitHashKey === undefined ? hashKeyOf(partitionKey) : parseExplicitHashKey(explicitHashKey);
}
