import type { AggregatedRecordMessage, AggregatedRecordTag } from './aggregated-record-message.js';
import {
  TAG_DATA,
  TAG_EXPLICIT_HASH_KEY_INDEX,
  TAG_EXPLICIT_HASH_KEY_TABLE,
  TAG_PARTITION_KEY_INDEX,
  TAG_PARTITION_KEY_TABLE,
  TAG_RECORDS,
  TAG_TAG_KEY,
  TAG_TAG_VALUE,
  TAG_TAGS,
} from './field-tags.js';
import { MalformedAggregatedRecordError } from './malformed-aggregated-record-error.js';
import { readUtf8, WireType } from './protobuf-wire.js';

/** How deep nested groups may go before we give up, as protobuf-java's recursion limit does. */
const MAX_GROUP_DEPTH = 100;

/**
 * Scans reuse one `fields` array: allocating and growing a fresh one per aggregate cost more than
 * the parsing itself. It is kept only up to this many records (512 KiB), enough for a 1 MiB
 * aggregate of 64-byte records; larger scans grow a private copy that is not kept.
 */
const MAX_RETAINED_RECORDS = 16 * 1024;
let sharedFields = new Float64Array(4 * 1024);

/**
 * A parsed message kept flat: one entry per user record in `fields`, four numbers each, so decoding
 * allocates no object per record until the caller decides what to build.
 */
export interface ScannedMessage {
  partitionKeyTable: string[];
  explicitHashKeyTable: string[];
  /** Number of user records. */
  count: number;
  /**
   * Per record `i`, at `4 * i`: partition key index, explicit hash key index (−1 when absent), and
   * the start and end offsets of its data in the scanned bytes. Longer than `4 * count`, and
   * shared: valid only until the next scan, so read it before scanning again.
   */
  fields: Float64Array;
  /** Tags by record position; `undefined` when no record has any (the normal case). */
  tags: Map<number, AggregatedRecordTag[]> | undefined;
}

/** Reads protobuf wire format from `bytes`; every read is bounds-checked and throws when short. */
class WireReader {
  pos = 0;

  constructor(readonly bytes: Uint8Array) {}

  fail(reason: string): never {
    throw new MalformedAggregatedRecordError(
      `Invalid aggregated record message: ${reason} at byte ${this.pos}`,
      this.pos,
    );
  }

  /**
   * Reads an unsigned varint of up to 64 bits. Values above 2^53 lose precision, which is harmless:
   * they can only be indexes, and such indexes are out of range of any table anyway.
   */
  varint(): number {
    const bytes = this.bytes;
    let byte = bytes[this.pos++];
    if (byte === undefined) return this.fail('truncated varint');
    if (byte < 0x80) return byte;
    let value = byte & 0x7f;
    let scale = 0x80;
    for (let i = 1; i < 10; i++) {
      byte = bytes[this.pos++];
      if (byte === undefined) return this.fail('truncated varint');
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
    return this.fail('varint longer than 10 bytes');
  }

  /**
   * Reads a varint of up to ten bytes and returns its low 32 bits, unsigned: how protobuf-java (the KCL)
   * reads tags and lengths.
   */
  varint32(): number {
    const bytes = this.bytes;
    const first = bytes[this.pos];
    // Tags and short lengths take one byte: the common case, kept free of the loop.
    if (first !== undefined && first < 0x80) {
      this.pos++;
      return first;
    }
    let value = 0;
    for (let i = 0; i < 10; i++) {
      const byte = bytes[this.pos++];
      if (byte === undefined) return this.fail('truncated varint');
      // Seven bits per byte, the fifth byte's low four; the rest of a longer varint is dropped.
      if (i < 4) value += (byte & 0x7f) * 2 ** (7 * i);
      else if (i === 4) value += (byte & 0x0f) * 2 ** 28;
      if (byte < 0x80) return value;
    }
    return this.fail('varint longer than 10 bytes');
  }

  /** Reads a length prefix and checks the bytes it announces are present; returns their end. */
  delimitedEnd(limit: number): number {
    const length = this.varint32();
    // protobuf-java takes the length as a signed 32-bit value and rejects a negative one.
    if (length > 0x7fffffff || length > limit - this.pos) {
      return this.fail('length-delimited field runs past its end');
    }
    return this.pos + length;
  }

  /** Reads a field tag as protobuf-java does (see {@link varint32}); field number 0 is invalid. */
  tag(): number {
    const tag = this.varint32();
    if (tag >>> 3 === 0) return this.fail('invalid field tag');
    return tag;
  }

  /** Skips an unknown field whose tag was just read. */
  skip(tag: number, limit: number, depth: number): void {
    switch (tag & 7) {
      case WireType.VARINT:
        this.varint();
        return;
      case WireType.FIXED64:
        this.advance(8, limit);
        return;
      case WireType.LENGTH_DELIMITED:
        this.pos = this.delimitedEnd(limit);
        return;
      case WireType.FIXED32:
        this.advance(4, limit);
        return;
      case WireType.START_GROUP:
        this.skipGroup(tag >>> 3, limit, depth + 1);
        return;
      default:
        // An END_GROUP with no open group, or the undefined wire types 6 and 7.
        this.fail(`unexpected wire type ${tag & 7}`);
    }
  }

  private advance(count: number, limit: number): void {
    if (count > limit - this.pos) this.fail('fixed-width field runs past its end');
    this.pos += count;
  }

  private skipGroup(fieldNumber: number, limit: number, depth: number): void {
    if (depth > MAX_GROUP_DEPTH) this.fail('groups nested too deeply');
    while (this.pos < limit) {
      const tag = this.tag();
      if ((tag & 7) === WireType.END_GROUP) {
        if (tag >>> 3 !== fieldNumber) this.fail('mismatched end of group');
        return;
      }
      this.skip(tag, limit, depth);
    }
    this.fail('unterminated group');
  }
}

/**
 * Parses an `AggregatedRecord` message (no magic, no digest) the way a proto2 parser does: unknown
 * fields are skipped, the last value of a repeated scalar wins, and a record or tag without its
 * required fields makes the whole message invalid. Throws {@link MalformedAggregatedRecordError}.
 * Offsets in the result are relative to `bytes`.
 */
export function scanAggregatedRecordMessage(bytes: Uint8Array): ScannedMessage {
  const reader = new WireReader(bytes);
  const end = bytes.length;
  const partitionKeyTable: string[] = [];
  const explicitHashKeyTable: string[] = [];
  let fields = sharedFields;
  let tags: Map<number, AggregatedRecordTag[]> | undefined;
  let count = 0;

  while (reader.pos < end) {
    const tag = reader.tag();
    if (tag === TAG_RECORDS) {
      const recordEnd = reader.delimitedEnd(end);
      let partitionKeyIndex = -1;
      let explicitHashKeyIndex = -1;
      let dataStart = -1;
      let dataEnd = -1;
      while (reader.pos < recordEnd) {
        const field = reader.tag();
        if (field === TAG_DATA) {
          dataEnd = reader.delimitedEnd(recordEnd);
          dataStart = reader.pos;
          reader.pos = dataEnd;
        } else if (field === TAG_PARTITION_KEY_INDEX) {
          partitionKeyIndex = reader.varint();
        } else if (field === TAG_EXPLICIT_HASH_KEY_INDEX) {
          explicitHashKeyIndex = reader.varint();
        } else if (field === TAG_TAGS) {
          tags ??= new Map();
          const recordTags = tags.get(count) ?? [];
          recordTags.push(readTag(reader, reader.delimitedEnd(recordEnd)));
          tags.set(count, recordTags);
        } else {
          reader.skip(field, recordEnd, 0);
        }
      }
      // A sub-message must end exactly at its announced length; a varint may not straddle it.
      if (reader.pos !== recordEnd) reader.fail('record runs past its length');
      if (partitionKeyIndex === -1) reader.fail(`record ${count} has no partition_key_index`);
      if (dataStart === -1) reader.fail(`record ${count} has no data`);
      const at = 4 * count;
      if (at === fields.length) {
        const grown = new Float64Array(2 * fields.length);
        grown.set(fields);
        fields = grown;
        if (grown.length <= 4 * MAX_RETAINED_RECORDS) sharedFields = grown;
      }
      fields[at] = partitionKeyIndex;
      fields[at + 1] = explicitHashKeyIndex;
      fields[at + 2] = dataStart;
      fields[at + 3] = dataEnd;
      count++;
    } else if (tag === TAG_PARTITION_KEY_TABLE || tag === TAG_EXPLICIT_HASH_KEY_TABLE) {
      const stringEnd = reader.delimitedEnd(end);
      const text = readUtf8(bytes, reader.pos, stringEnd);
      (tag === TAG_PARTITION_KEY_TABLE ? partitionKeyTable : explicitHashKeyTable).push(text);
      reader.pos = stringEnd;
    } else {
      reader.skip(tag, end, 0);
    }
  }
  if (reader.pos !== end) reader.fail('field runs past the end of the message');
  return { partitionKeyTable, explicitHashKeyTable, count, fields, tags };
}

function readTag(reader: WireReader, end: number): AggregatedRecordTag {
  let key: string | undefined;
  let value: string | undefined;
  while (reader.pos < end) {
    const field = reader.tag();
    if (field === TAG_TAG_KEY || field === TAG_TAG_VALUE) {
      const stringEnd = reader.delimitedEnd(end);
      const text = readUtf8(reader.bytes, reader.pos, stringEnd);
      reader.pos = stringEnd;
      if (field === TAG_TAG_KEY) key = text;
      else value = text;
    } else {
      reader.skip(field, end, 0);
    }
  }
  if (reader.pos !== end) reader.fail('tag runs past its length');
  if (key === undefined) return reader.fail('tag has no key');
  return value === undefined ? { key } : { key, value };
}

/**
 * Decodes an `AggregatedRecord` protobuf message (the bytes between the magic and the digest).
 *
 * Each record's `data` is a plain `Uint8Array` view into `bytes` (even when `bytes` is a Buffer), not a copy: it stays valid only as long as `bytes`
 * is not modified, and it keeps the whole buffer reachable. Copy it (`data.slice()`) to keep it
 * independently.
 *
 * @throws {@link MalformedAggregatedRecordError} when the bytes are not a valid message.
 */
export function decodeAggregatedRecordMessage(bytes: Uint8Array): AggregatedRecordMessage {
  const scan = scanAggregatedRecordMessage(bytes);
  const { fields, tags } = scan;
  const records: AggregatedRecordMessage['records'] = new Array(scan.count);
  for (let i = 0, f = 0; i < scan.count; i++, f += 4) {
    const partitionKeyIndex = fields[f] ?? 0;
    const explicitHashKeyIndex = fields[f + 1] ?? -1;
    const start = fields[f + 2] ?? 0;
    const data = new Uint8Array(bytes.buffer, bytes.byteOffset + start, (fields[f + 3] ?? 0) - start);
    const record: AggregatedRecordMessage['records'][number] =
      explicitHashKeyIndex === -1 ? { partitionKeyIndex, data } : { partitionKeyIndex, explicitHashKeyIndex, data };
    const recordTags = tags?.get(i);
    if (recordTags !== undefined) record.tags = recordTags;
    records[i] = record;
  }
  return { partitionKeyTable: scan.partitionKeyTable, explicitHashKeyTable: scan.explicitHashKeyTable, records };
}
