import { hash } from 'node:crypto';

/**
 * The four bytes that open every KPL aggregated record's data. They are not valid UTF-8, so no
 * text payload starts with them by accident.
 */
export const AGGREGATED_RECORD_MAGIC: readonly number[] = Object.freeze([0xf3, 0x89, 0x9a, 0xc2]);

/** Length of the MD5 digest that closes an aggregated record. */
export const AGGREGATED_RECORD_DIGEST_BYTES = 16;

/** Bytes an aggregated record adds around its protobuf message: the magic and the MD5 digest. */
export const AGGREGATED_RECORD_OVERHEAD_BYTES = 4 + AGGREGATED_RECORD_DIGEST_BYTES;

const MAGIC_0 = 0xf3;
const MAGIC_1 = 0x89;
const MAGIC_2 = 0x9a;
const MAGIC_3 = 0xc2;

/** Whether `data` starts with the aggregated-record magic. Says nothing about the rest. */
export function hasAggregatedRecordMagic(data: Uint8Array): boolean {
  return data[0] === MAGIC_0 && data[1] === MAGIC_1 && data[2] === MAGIC_2 && data[3] === MAGIC_3;
}

/** Writes the magic at the start of `out`. */
export function writeMagic(out: Uint8Array): void {
  out[0] = MAGIC_0;
  out[1] = MAGIC_1;
  out[2] = MAGIC_2;
  out[3] = MAGIC_3;
}

/** Writes the MD5 of `out[4 .. end)` (the protobuf message) at `out[end .. end + 16)`. */
export function writeDigest(out: Uint8Array, end: number): void {
  out.set(hash('md5', out.subarray(4, end), 'buffer'), end);
}

/**
 * Wraps an encoded `AggregatedRecord` message (from any encoder) as aggregated-record data:
 * magic, the message, its MD5.
 */
export function frameAggregatedRecordMessage(message: Uint8Array): Uint8Array {
  const end = 4 + message.length;
  const out = new Uint8Array(end + AGGREGATED_RECORD_DIGEST_BYTES);
  writeMagic(out);
  out.set(message, 4);
  writeDigest(out, end);
  return out;
}

/** Why data that starts with the magic is still not an aggregated record. */
export type FramingFailure = 'too-short' | 'checksum-mismatch';

/**
 * Checks the framing the KCL checks before parsing: the magic, more than 16 bytes after it, and an
 * MD5 trailer that matches the message. Returns the message bytes as a view into `data` (no copy),
 * `undefined` when the magic is absent (an ordinary record), or why the framing is wrong.
 */
export function openAggregatedRecord(data: Uint8Array): Uint8Array | FramingFailure | undefined {
  if (data.length < 4 || !hasAggregatedRecordMagic(data)) {
    return undefined;
  }
  // The KCL requires strictly more than 16 bytes after the magic, so an empty message never counts.
  if (data.length <= AGGREGATED_RECORD_OVERHEAD_BYTES) {
    return 'too-short';
  }
  const digestStart = data.length - AGGREGATED_RECORD_DIGEST_BYTES;
  const message = data.subarray(4, digestStart);
  const digest = hash('md5', message, 'buffer');
  for (let i = 0; i < AGGREGATED_RECORD_DIGEST_BYTES; i++) {
    if (digest[i] !== data[digestStart + i]) {
      return 'checksum-mismatch';
    }
  }
  return message;
}
