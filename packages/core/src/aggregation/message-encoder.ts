import { ValidationError } from '../errors.js';
import type { AggregatedRecordMessage } from './aggregated-record-message.js';
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
import { utf8Length, varintSize, writeUtf8, writeVarint } from './protobuf-wire.js';

/**
 * Sizes worked out by the first pass, in the order the second pass writes: UTF-8 lengths of table
 * entries and tag strings, and each record's (and tag's) message length. Strings are measured once.
 */
type SizePlan = number[];

function checkIndex(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError(`${field} must be a non-negative safe integer, got ${value}`, { field, value });
  }
}

function stringFieldSize(byteLength: number): number {
  return 1 + varintSize(byteLength) + byteLength;
}

function planSizes(message: AggregatedRecordMessage, plan: SizePlan): number {
  let size = 0;
  for (const key of message.partitionKeyTable) {
    const length = utf8Length(key);
    plan.push(length);
    size += stringFieldSize(length);
  }
  for (const key of message.explicitHashKeyTable) {
    const length = utf8Length(key);
    plan.push(length);
    size += stringFieldSize(length);
  }
  for (const record of message.records) {
    checkIndex(record.partitionKeyIndex, 'partitionKeyIndex');
    // Reserve the record's slot now; its length is known only after its tags are measured.
    const slot = plan.length;
    plan.push(0);
    let inner = 1 + varintSize(record.partitionKeyIndex);
    if (record.explicitHashKeyIndex !== undefined) {
      checkIndex(record.explicitHashKeyIndex, 'explicitHashKeyIndex');
      inner += 1 + varintSize(record.explicitHashKeyIndex);
    }
    inner += 1 + varintSize(record.data.length) + record.data.length;
    for (const tag of record.tags ?? []) {
      const tagSlot = plan.length;
      plan.push(0);
      const keyLength = utf8Length(tag.key);
      plan.push(keyLength);
      let tagSize = stringFieldSize(keyLength);
      if (tag.value !== undefined) {
        const valueLength = utf8Length(tag.value);
        plan.push(valueLength);
        tagSize += stringFieldSize(valueLength);
      }
      plan[tagSlot] = tagSize;
      inner += 1 + varintSize(tagSize) + tagSize;
    }
    plan[slot] = inner;
    size += 1 + varintSize(inner) + inner;
  }
  return size;
}

function writeString(out: Uint8Array, pos: number, tag: number, text: string, byteLength: number): number {
  out[pos] = tag;
  return writeUtf8(out, writeVarint(out, pos + 1, byteLength), text, byteLength);
}

/**
 * Serializes an `AggregatedRecord` protobuf message (no magic, no digest) into one exactly sized
 * buffer. Fields are written in field-number order and required fields always, as the KPL does, so
 * the bytes match other conforming encoders.
 *
 * @throws {@link ValidationError} when an index is not a non-negative safe integer.
 */
export function encodeAggregatedRecordMessage(message: AggregatedRecordMessage): Uint8Array {
  const plan: SizePlan = [];
  const size = planSizes(message, plan);
  const out = new Uint8Array(size);
  let pos = 0;
  let p = 0;
  for (const key of message.partitionKeyTable) {
    pos = writeString(out, pos, TAG_PARTITION_KEY_TABLE, key, plan[p++] ?? 0);
  }
  for (const key of message.explicitHashKeyTable) {
    pos = writeString(out, pos, TAG_EXPLICIT_HASH_KEY_TABLE, key, plan[p++] ?? 0);
  }
  for (const record of message.records) {
    out[pos] = TAG_RECORDS;
    pos = writeVarint(out, pos + 1, plan[p++] ?? 0);
    out[pos] = TAG_PARTITION_KEY_INDEX;
    pos = writeVarint(out, pos + 1, record.partitionKeyIndex);
    if (record.explicitHashKeyIndex !== undefined) {
      out[pos] = TAG_EXPLICIT_HASH_KEY_INDEX;
      pos = writeVarint(out, pos + 1, record.explicitHashKeyIndex);
    }
    out[pos] = TAG_DATA;
    pos = writeVarint(out, pos + 1, record.data.length);
    out.set(record.data, pos);
    pos += record.data.length;
    for (const tag of record.tags ?? []) {
      out[pos] = TAG_TAGS;
      pos = writeVarint(out, pos + 1, plan[p++] ?? 0);
      pos = writeString(out, pos, TAG_TAG_KEY, tag.key, plan[p++] ?? 0);
      if (tag.value !== undefined) {
        pos = writeString(out, pos, TAG_TAG_VALUE, tag.value, plan[p++] ?? 0);
      }
    }
  }
  return out;
}
