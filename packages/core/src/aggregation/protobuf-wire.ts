/**
 * The few protobuf wire-format primitives the aggregated-record codec needs: varints, UTF-8 string
 * lengths and field tags. Integers are JavaScript numbers; values above 2^53 are never valid here
 * (they index tables of at most a few thousand entries) and are only ever read, to be rejected.
 */

/** Protobuf wire types (the low three bits of a field tag). */
export const WireType = {
  VARINT: 0,
  FIXED64: 1,
  LENGTH_DELIMITED: 2,
  START_GROUP: 3,
  END_GROUP: 4,
  FIXED32: 5,
} as const;

/** Bytes the varint encoding of a non-negative integer (at most 2^53) takes. */
export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  if (value < 0x800000000) return 5;
  if (value < 0x40000000000) return 6;
  if (value < 0x2000000000000) return 7;
  return 8; // Number.MAX_SAFE_INTEGER < 2^56
}

/** Writes a non-negative integer (at most 2^53) as a varint at `pos`; returns the position after it. */
export function writeVarint(out: Uint8Array, pos: number, value: number): number {
  let v = value;
  // Beyond 31 bits the bitwise operators would truncate, so peel 7-bit groups arithmetically first.
  while (v > 0x7fffffff) {
    out[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  while (v > 0x7f) {
    out[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[pos++] = v;
  return pos;
}

/**
 * Bytes `text` takes in UTF-8 as `TextEncoder` and `Buffer` write it: a lone surrogate becomes
 * U+FFFD (three bytes). Counting in JavaScript beats a native call for the short strings keys are.
 */
export function utf8Length(text: string): number {
  const length = text.length;
  let bytes = length;
  for (let i = 0; i < length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) {
      bytes += 1;
    } else if ((unit & 0xfc00) === 0xd800 && i + 1 < length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: two UTF-16 units, four UTF-8 bytes.
      bytes += 2;
      i++;
    } else {
      bytes += 2;
    }
  }
  return bytes;
}

const encoder = new TextEncoder();

/**
 * Writes `text` as UTF-8 at `pos`, given its UTF-8 length from {@link utf8Length}; returns the
 * position after it.
 */
export function writeUtf8(out: Uint8Array, pos: number, text: string, byteLength: number): number {
  // Equal lengths mean every unit is ASCII; a plain loop beats a native call for short keys.
  if (byteLength === text.length && byteLength <= 64) {
    for (let i = 0; i < byteLength; i++) {
      out[pos + i] = text.charCodeAt(i);
    }
  } else {
    encoder.encodeInto(text, out.subarray(pos, pos + byteLength));
  }
  return pos + byteLength;
}

const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * Reads `bytes[start .. end)` as UTF-8. Invalid sequences become U+FFFD rather than failing, as
 * Java's proto2 string fields (which the KCL reads) do not validate UTF-8 either.
 */
export function readUtf8(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= 32) {
    let text = '';
    for (let i = start; i < end; i++) {
      const byte = bytes[i];
      if (byte === undefined || byte >= 0x80) {
        return decoder.decode(bytes.subarray(start, end));
      }
      text += String.fromCharCode(byte);
    }
    return text;
  }
  return decoder.decode(bytes.subarray(start, end));
}

/** A field tag: field number and wire type packed as protobuf does. Valid for field numbers below 16. */
export function fieldTag(fieldNumber: number, wireType: number): number {
  return (fieldNumber << 3) | wireType;
}
