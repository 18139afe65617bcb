import { UsageError } from './cli-error.js';

/**
 * Accepts a shard id as Kinesis writes it (`shardId-000000000003`) or by its number (`3`), so nobody has to
 * count zeros, and rejects anything else before a call is made.
 */
export function parseShardId(value: string, what = 'shard'): string {
  if (/^shardId-\d{12}$/.test(value)) return value;
  if (/^\d{1,12}$/.test(value)) return `shardId-${value.padStart(12, '0')}`;
  throw new UsageError(
    `${what} must be a shard id like shardId-000000000003 or its number (3), got ${JSON.stringify(value)}`,
  );
}
