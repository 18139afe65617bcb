import { MAX_HASH_KEY } from '../limits.js';
import { openAggregatedRecord } from './framing.js';
import { MalformedAggregatedRecordError } from './malformed-aggregated-record-error.js';
import { type ScannedMessage, scanAggregatedRecordMessage } from './message-decoder.js';

/**
 * Why data that starts with the aggregated-record magic is delivered as one plain record:
 * - `too-short`: 20 bytes or fewer, so no message fits between magic and digest;
 * - `checksum-mismatch`: the MD5 trailer does not match the message;
 * - `invalid-message`: the message does not parse (truncated, bad wire format, required field missing);
 * - `index-out-of-range`: a record points past the end of a key table;
 * - `invalid-explicit-hash-key`: a record's explicit hash key is not a decimal from 0 to 2^128−1.
 */
export type AggregateRejectionReason =
  | 'too-short'
  | 'checksum-mismatch'
  | 'invalid-message'
  | 'index-out-of-range'
  | 'invalid-explicit-hash-key';

/** Why an input carrying the magic was not treated as an aggregate. */
export interface AggregateRejection {
  reason: AggregateRejectionReason;
  /** A human-readable account, for logs. */
  detail: string;
}

/** A verified aggregate: its message parsed, every index in range, every explicit hash key valid. */
export interface UnpackedAggregate {
  /** The message bytes (a view into the input); offsets in `scan` are relative to it. */
  message: Uint8Array;
  scan: ScannedMessage;
  /** The explicit hash key table parsed to integers, for the entries records use. */
  explicitHashKeys: (bigint | undefined)[];
}

const DECIMAL = /^[0-9]+$/;

function reject(reason: AggregateRejectionReason, detail: string): AggregateRejection {
  return { reason, detail };
}

/**
 * Everything the KCL checks before treating a record as an aggregate — magic, length, MD5, a
 * proto2 parse — plus what it checks while unpacking: that indexes point into the tables and that
 * explicit hash keys are integers in the key space. Returns `undefined` for data without the magic.
 */
export function unpackAggregatedRecord(data: Uint8Array): UnpackedAggregate | AggregateRejection | undefined {
  const message = openAggregatedRecord(data);
  if (message === undefined) return undefined;
  if (message === 'too-short') {
    return reject('too-short', `${data.length} bytes cannot hold magic, message and digest`);
  }
  if (message === 'checksum-mismatch') {
    return reject('checksum-mismatch', 'the MD5 trailer does not match the message');
  }

  let scan: ScannedMessage;
  try {
    scan = scanAggregatedRecordMessage(message);
  } catch (error) {
    if (error instanceof MalformedAggregatedRecordError) return reject('invalid-message', error.message);
    throw error;
  }

  const { fields, partitionKeyTable, explicitHashKeyTable } = scan;
  const partitionKeyCount = partitionKeyTable.length;
  const explicitHashKeyCount = explicitHashKeyTable.length;
  const explicitHashKeys: (bigint | undefined)[] = [];
  for (let i = 0, f = 0; i < scan.count; i++, f += 4) {
    const partitionKeyIndex = fields[f] ?? 0;
    if (partitionKeyIndex >= partitionKeyCount) {
      return reject(
        'index-out-of-range',
        `record ${i} has partition_key_index ${partitionKeyIndex}, but the table has ${partitionKeyCount} entries`,
      );
    }
    const explicitHashKeyIndex = fields[f + 1] ?? -1;
    if (explicitHashKeyIndex === -1 || explicitHashKeys[explicitHashKeyIndex] !== undefined) continue;
    if (explicitHashKeyIndex >= explicitHashKeyCount) {
      return reject(
        'index-out-of-range',
        `record ${i} has explicit_hash_key_index ${explicitHashKeyIndex}, but the table has ${explicitHashKeyCount} entries`,
      );
    }
    const text = explicitHashKeyTable[explicitHashKeyIndex] ?? '';
    const key = DECIMAL.test(text) ? BigInt(text) : -1n;
    if (key < 0n || key > MAX_HASH_KEY) {
      return reject(
        'invalid-explicit-hash-key',
        `record ${i} has explicit hash key ${JSON.stringify(text.slice(0, 50))}, not a decimal from 0 to 2^128-1`,
      );
    }
    explicitHashKeys[explicitHashKeyIndex] = key;
  }
  return { message, scan, explicitHashKeys };
}
