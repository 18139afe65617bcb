import { KinesisKitError, ValidationError } from '../errors.js';
import { parseExplicitHashKey } from '../hash-key.js';
import { MAX_RECORD_SIZE_BYTES } from '../limits.js';
import {
  TAG_DATA,
  TAG_EXPLICIT_HASH_KEY_INDEX,
  TAG_EXPLICIT_HASH_KEY_TABLE,
  TAG_PARTITION_KEY_INDEX,
  TAG_PARTITION_KEY_TABLE,
  TAG_RECORDS,
} from './field-tags.js';
import { AGGREGATED_RECORD_OVERHEAD_BYTES, writeDigest, writeMagic } from './framing.js';
import { utf8Length, varintSize, writeUtf8, writeVarint } from './protobuf-wire.js';

/**
 * The partition key of an aggregated Kinesis record. One byte keeps the record small; the shard is
 * chosen by the explicit hash key the producer sets on it, not by this key.
 */
export const AGGREGATED_RECORD_PARTITION_KEY = 'a';

/** A user record to aggregate. */
export interface AggregatableRecord {
  /** The user record's partition key; stored once per aggregate however many records share it. */
  partitionKey: string;
  /**
   * A decimal string or bigint from 0 to 2^128−1. Stored as its normalized decimal string
   * (`"007"` becomes `"7"`), once per aggregate.
   */
  explicitHashKey?: string | bigint;
  /**
   * The payload: bytes, or a string stored as its UTF-8 bytes (as `TextEncoder` writes it). Copied (encoded) into
   * the builder when the record is added: the caller may reuse a buffer once `tryAdd` returns.
   */
  data: Uint8Array | string;
}

/** Limits an {@link AggregatedRecordBuilder} keeps every aggregate under. */
export interface AggregationLimits {
  /**
   * Largest aggregate in bytes, counted as the `build()` output (the KPL's `aggregationMaxSize`).
   * @defaultValue `Infinity`
   */
  maxBytes?: number;
  /**
   * Largest Kinesis record in bytes as the service counts it: the outer partition key
   * ({@link AGGREGATED_RECORD_PARTITION_KEY}, one byte) plus the data. Set it to the stream's
   * maximum record size.
   * @defaultValue {@link MAX_RECORD_SIZE_BYTES} (1 MiB)
   */
  maxRecordBytes?: number;
  /**
   * Most user records in one aggregate (the KPL's `aggregationMaxCount`).
   * @defaultValue `Infinity`
   */
  maxCount?: number;
}

// The records region starts this large and doubles as it fills.
const INITIAL_RECORDS_BYTES = 4096;

function checkLimit(name: keyof AggregationLimits, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (value !== Number.POSITIVE_INFINITY && !(Number.isSafeInteger(value) && value > 0)) {
    throw new ValidationError(`${name} must be a positive integer or Infinity, got ${value}`, {
      field: name,
      value,
    });
  }
  return value;
}

/**
 * Builds one KPL aggregated record incrementally, knowing its exact encoded size at every step.
 *
 * The size is exact, not estimated: {@link size} always equals the length of what {@link build}
 * returns, and {@link tryAdd} refuses a record *before* adding it if the aggregate would then exceed
 * a limit. So a producer never has to trim an aggregate after the fact, and never emits one over
 * `aggregationMaxSize` or the stream's record size.
 *
 * Partition keys and explicit hash keys are stored once each in the aggregate's key tables.
 * Each record is encoded (its `Record` submessage, data included) into the builder's records region when it
 * is added, so the caller may reuse its buffer at once; {@link build} writes magic, key tables, that region and
 * the digest into one buffer. {@link lastDataOffset} and {@link recordsOffset} say where a record's data is
 * in that buffer, so a caller can view it there instead of keeping a copy of its own.
 *
 * A single record is still encoded as an aggregate here; the KPL sends a lone record as a plain
 * Kinesis record instead, and that choice is the producer's.
 *
 * @example
 * ```ts
 * const builder = new AggregatedRecordBuilder({ maxBytes: 51_200 });
 * for (const record of records) {
 *   if (!builder.tryAdd(record)) {
 *     send(builder.build());
 *     builder.reset();
 *     builder.add(record);
 *   }
 * }
 * ```
 */
export class AggregatedRecordBuilder {
  readonly #maxBytes: number;
  readonly #maxRecordBytes: number;
  readonly #maxCount: number;

  // The key table survives reset(): an index is valid only while it points into this aggregate's table at
  // the same key (see #partitionKeyIndex). Clearing a Map and growing it back for every aggregate costs
  // more than the lookups it saves.
  readonly #partitionKeyIndexes = new Map<string, number>();
  readonly #partitionKeys: string[] = [];
  readonly #partitionKeyLengths: number[] = [];
  #partitionKeyCount = 0;
  // Keyed by the caller's value as given, so a repeated key skips parsing and normalizing.
  readonly #explicitHashKeyIndexesByInput = new Map<string | bigint, number>();
  readonly #explicitHashKeyIndexes = new Map<string, number>();
  readonly #explicitHashKeys: string[] = [];
  // The records region: every added record's `Record` submessage (tag, length, indexes, data), encoded at add.
  // It grows by doubling and survives reset(), so a busy builder allocates nothing per record; its size is
  // bounded by the aggregate's own limits. Own memory, never a slab of Node's shared buffer pool.
  #body = newBytes(INITIAL_RECORDS_BYTES);
  /** {@link #body} as a Buffer, for writing strings into it. */
  #bodyText = textView(this.#body);
  #bodyLength = 0;
  #lastDataOffset = 0;
  #count = 0;
  #messageSize = 0;

  // What #measure found for the record it was last given, so #commit need not look it up again.
  #pendingPartitionKeyIndex = 0;
  #pendingPartitionKeyLength = -1;
  #pendingExplicitHashKeyIndex = -1;
  #pendingExplicitHashKey: string | undefined;
  #pendingExplicitHashKeyInputIsNew = false;
  #pendingGrowth = 0;
  #pendingDataLength = 0;

  /**
   * @param limits - what {@link tryAdd} keeps the aggregate under; validated here.
   * @throws {@link ValidationError} when a limit is not a positive integer or `Infinity`.
   */
  constructor(limits: AggregationLimits = {}) {
    this.#maxBytes = checkLimit('maxBytes', limits.maxBytes, Number.POSITIVE_INFINITY);
    this.#maxRecordBytes = checkLimit('maxRecordBytes', limits.maxRecordBytes, MAX_RECORD_SIZE_BYTES);
    this.#maxCount = checkLimit('maxCount', limits.maxCount, Number.POSITIVE_INFINITY);
  }

  /** Number of user records added since construction or the last {@link reset}. */
  get count(): number {
    return this.#count;
  }

  /**
   * Where the data of the record last added starts, counted from the start of the records region: add
   * {@link recordsOffset} at build time for its place in what {@link build} returns.
   */
  get lastDataOffset(): number {
    return this.#lastDataOffset;
  }

  /**
   * Where the records region starts in what {@link build} would return now: after the magic and the key
   * tables (keys first, the KPL's layout). Grows when a later record brings a new key.
   */
  get recordsOffset(): number {
    return 4 + this.#messageSize - this.#bodyLength;
  }

  /** Exact length in bytes of what {@link build} would return now: magic, message and digest. */
  get size(): number {
    return AGGREGATED_RECORD_OVERHEAD_BYTES + this.#messageSize;
  }

  /**
   * Bytes the service counts for the Kinesis record carrying this aggregate, against the record
   * size limit and the 5 MiB PutRecords limit: the one-byte outer partition key plus {@link size}.
   * (The explicit hash key is not counted.)
   */
  get kinesisRecordSize(): number {
    return AGGREGATED_RECORD_PARTITION_KEY.length + this.size;
  }

  /**
   * Exact {@link size} the aggregate would have with `record` added, without adding it.
   * @throws {@link ValidationError} when the record is invalid (see {@link add}).
   */
  sizeWith(record: AggregatableRecord): number {
    return AGGREGATED_RECORD_OVERHEAD_BYTES + this.#messageSize + this.#measure(record);
  }

  /**
   * Adds `record` if the aggregate then stays within every limit; otherwise leaves the builder
   * unchanged and returns `false`. A record that does not fit even into an empty builder is always
   * refused, so check {@link count} to tell "full" from "too large on its own".
   *
   * @throws {@link ValidationError} when the record is invalid (see {@link add}), whether or not it fits.
   */
  tryAdd(record: AggregatableRecord): boolean {
    const { partitionKey, data } = record;
    // Fast path for the common case, a partition key already in the table and no explicit hash key:
    // no pending state, no table updates.
    const partitionKeyIndex = this.#partitionKeyIndex(partitionKey);
    const length = dataLength(data);
    if (partitionKeyIndex !== -1 && record.explicitHashKey === undefined && length !== -1) {
      const count = this.#count;
      const recordLength = 2 + varintSize(partitionKeyIndex) + varintSize(length) + length;
      const messageSize = this.#messageSize + 1 + varintSize(recordLength) + recordLength;
      const size = AGGREGATED_RECORD_OVERHEAD_BYTES + messageSize;
      if (
        count >= this.#maxCount ||
        size > this.#maxBytes ||
        size + AGGREGATED_RECORD_PARTITION_KEY.length > this.#maxRecordBytes
      ) {
        return false;
      }
      this.#encode(recordLength, partitionKeyIndex, -1, data, length);
      this.#count = count + 1;
      this.#messageSize = messageSize;
      return true;
    }
    const growth = this.#measure(record, partitionKeyIndex);
    const size = AGGREGATED_RECORD_OVERHEAD_BYTES + this.#messageSize + growth;
    if (
      this.#count >= this.#maxCount ||
      size > this.#maxBytes ||
      size + AGGREGATED_RECORD_PARTITION_KEY.length > this.#maxRecordBytes
    ) {
      return false;
    }
    this.#commit(record);
    return true;
  }

  /**
   * Adds `record`, which must fit within the limits.
   *
   * @returns this builder, for chaining.
   * @throws {@link ValidationError} when `partitionKey` is not a string, `data` is not a
   * `Uint8Array`, `explicitHashKey` is not a decimal from 0 to 2^128−1, or the record does not fit
   * (use {@link tryAdd} to find out without throwing).
   */
  add(record: AggregatableRecord): this {
    if (!this.tryAdd(record)) {
      throw new ValidationError(
        `The record does not fit into the aggregate: it would hold ${this.#count + 1} records and ` +
          `${this.sizeWith(record)} bytes (limits: ${this.#maxCount} records, ${this.#maxBytes} bytes, ` +
          `${this.#maxRecordBytes} bytes with the partition key)`,
        { field: 'record', value: record },
      );
    }
    return this;
  }

  /**
   * Encodes the aggregate: magic, protobuf message, MD5 of the message, in one buffer of exactly
   * {@link size} bytes. The records were encoded when added, so this writes the key tables and copies the
   * records region in one piece. The builder keeps its records; call {@link reset} to start the next one.
   */
  build(): Uint8Array {
    const end = 4 + this.#messageSize;
    const out = newBytes(end + 16);
    writeMagic(out);
    let pos = 4;
    const partitionKeys = this.#partitionKeys;
    const partitionKeyLengths = this.#partitionKeyLengths;
    for (let i = 0; i < this.#partitionKeyCount; i++) {
      const length = partitionKeyLengths[i] ?? 0;
      out[pos] = TAG_PARTITION_KEY_TABLE;
      pos = writeUtf8(out, writeVarint(out, pos + 1, length), partitionKeys[i] ?? '', length);
    }
    for (const key of this.#explicitHashKeys) {
      // Normalized decimal strings are ASCII, so their length is their UTF-8 length.
      out[pos] = TAG_EXPLICIT_HASH_KEY_TABLE;
      pos = writeUtf8(out, writeVarint(out, pos + 1, key.length), key, key.length);
    }
    const bodyLength = this.#bodyLength;
    out.set(bodyLength === this.#body.length ? this.#body : this.#body.subarray(0, bodyLength), pos);
    pos += bodyLength;
    if (pos !== end) {
      // The size bookkeeping is what the limits rely on; never ship bytes that disagree with it.
      throw new KinesisKitError('INTERNAL', `Aggregate size mismatch: computed ${end} bytes, wrote ${pos}`);
    }
    writeDigest(out, end);
    return out;
  }

  /**
   * A copy, in memory of its own, of the data of a record in the builder: `length` bytes from `dataOffset` (its
   * {@link lastDataOffset}). For a record that leaves the builder without being built, whose data would
   * otherwise be overwritten by the next aggregate's records.
   * @throws {@link ValidationError} when the range is not inside the records added since the last reset.
   */
  recordData(dataOffset: number, length: number): Uint8Array {
    if (!(Number.isSafeInteger(dataOffset) && Number.isSafeInteger(length) && dataOffset >= 0 && length >= 0)) {
      throw new ValidationError(`dataOffset and length must be non-negative integers, got ${dataOffset}, ${length}`);
    }
    if (dataOffset + length > this.#bodyLength) {
      throw new ValidationError(
        `Bytes ${dataOffset} to ${dataOffset + length} are not inside the ${this.#bodyLength} bytes of records added`,
      );
    }
    return this.#body.slice(dataOffset, dataOffset + length);
  }

  /** Empties the builder for the next aggregate, keeping its limits and its allocated capacity. */
  reset(): void {
    // Stale entries are harmless (see #partitionKeyIndex) and pay off when the next aggregate meets the same
    // keys; once they outnumber this aggregate's keys, the keys do not repeat much (a producer keeps one
    // builder per shard, and unique keys per record are common): start over rather than keep them alive.
    if (this.#partitionKeyIndexes.size > this.#partitionKeyCount + MAX_STALE_PARTITION_KEYS) {
      this.#partitionKeyIndexes.clear();
    }
    this.#partitionKeyCount = 0;
    if (this.#explicitHashKeys.length > 0) {
      this.#explicitHashKeyIndexesByInput.clear();
      this.#explicitHashKeyIndexes.clear();
      this.#explicitHashKeys.length = 0;
    }
    // Keep the records region: what it holds is overwritten by the next aggregate's records.
    this.#bodyLength = 0;
    this.#count = 0;
    this.#messageSize = 0;
  }

  /**
   * Validates `record` and returns how many bytes adding it would add to the message. `partitionKeyIndex` is
   * its key's index in this aggregate's table (−1: not there), when the caller has looked it up already.
   */
  #measure(record: AggregatableRecord, partitionKeyIndex = this.#partitionKeyIndex(record.partitionKey)): number {
    const { partitionKey, explicitHashKey, data } = record;
    if (typeof partitionKey !== 'string') {
      throw new ValidationError(`partitionKey must be a string, got ${typeof partitionKey}`, {
        field: 'partitionKey',
        value: partitionKey,
      });
    }
    const length = dataLength(data);
    if (length === -1) {
      throw new ValidationError(`data must be a Uint8Array or a string, got ${typeof data}`, {
        field: 'data',
        value: data,
      });
    }
    let growth = 0;
    if (partitionKeyIndex === -1) {
      partitionKeyIndex = this.#partitionKeyCount;
      const length = utf8Length(partitionKey);
      this.#pendingPartitionKeyLength = length;
      growth += 1 + varintSize(length) + length;
    } else {
      this.#pendingPartitionKeyLength = -1;
    }
    let recordLength = 2 + varintSize(partitionKeyIndex) + varintSize(length) + length;
    this.#pendingDataLength = length;

    let explicitHashKeyIndex = -1;
    this.#pendingExplicitHashKey = undefined;
    this.#pendingExplicitHashKeyInputIsNew = false;
    if (explicitHashKey !== undefined) {
      const known = this.#explicitHashKeyIndexesByInput.get(explicitHashKey);
      if (known === undefined) {
        this.#pendingExplicitHashKeyInputIsNew = true;
        const normalized = parseExplicitHashKey(explicitHashKey).toString();
        const existing = this.#explicitHashKeyIndexes.get(normalized);
        if (existing === undefined) {
          explicitHashKeyIndex = this.#explicitHashKeys.length;
          this.#pendingExplicitHashKey = normalized;
          growth += 1 + varintSize(normalized.length) + normalized.length;
        } else {
          explicitHashKeyIndex = existing;
        }
      } else {
        explicitHashKeyIndex = known;
      }
      recordLength += 1 + varintSize(explicitHashKeyIndex);
    }

    growth += 1 + varintSize(recordLength) + recordLength;
    this.#pendingPartitionKeyIndex = partitionKeyIndex;
    this.#pendingExplicitHashKeyIndex = explicitHashKeyIndex;
    this.#pendingGrowth = growth;
    return growth;
  }

  /** The index of `partitionKey` in this aggregate's key table, or −1. */
  #partitionKeyIndex(partitionKey: string): number {
    const index = this.#partitionKeyIndexes.get(partitionKey);
    return index !== undefined && index < this.#partitionKeyCount && this.#partitionKeys[index] === partitionKey
      ? index
      : -1;
  }

  /** Encodes one `Record` submessage (its length `recordLength` already known) at the end of the records region. */
  #encode(
    recordLength: number,
    partitionKeyIndex: number,
    explicitHashKeyIndex: number,
    data: Uint8Array | string,
    length: number,
  ): void {
    let pos = this.#bodyLength;
    let body = this.#body;
    const end = pos + 1 + varintSize(recordLength) + recordLength;
    if (end > body.length) {
      let capacity = body.length * 2;
      while (capacity < end) capacity *= 2;
      const grown = newBytes(capacity);
      grown.set(body.subarray(0, pos));
      body = grown;
      this.#body = grown;
      this.#bodyText = textView(grown);
    }
    body[pos] = TAG_RECORDS;
    pos = writeVarint(body, pos + 1, recordLength);
    body[pos] = TAG_PARTITION_KEY_INDEX;
    pos = writeVarint(body, pos + 1, partitionKeyIndex);
    if (explicitHashKeyIndex !== -1) {
      body[pos] = TAG_EXPLICIT_HASH_KEY_INDEX;
      pos = writeVarint(body, pos + 1, explicitHashKeyIndex);
    }
    body[pos] = TAG_DATA;
    pos = writeVarint(body, pos + 1, length);
    this.#lastDataOffset = pos;
    if (typeof data === 'string') {
      // Straight into the region (Node's UTF-8 writer): a string record allocates nothing of its own. For speed:
      // the producer's string records ran at 0.98–1.17× their rate before copying was added, 0.79–0.82× when each
      // was encoded into memory of its own first (in-process A/B, CPU time, 50,000 × 100-character strings,
      // medians of two runs of 12 rounds, 2026-12-04).
      if (this.#bodyText.write(data, pos, length, 'utf8') !== length) {
        throw new KinesisKitError('INTERNAL', `A string's UTF-8 length changed while it was written`);
      }
    } else {
      body.set(data, pos);
    }
    this.#bodyLength = pos + length;
  }

  /** Adds the record {@link #measure} was last called with. */
  #commit(record: AggregatableRecord): void {
    if (this.#pendingPartitionKeyLength !== -1) {
      const index = this.#pendingPartitionKeyIndex;
      this.#partitionKeyIndexes.set(record.partitionKey, index);
      this.#partitionKeys[index] = record.partitionKey;
      this.#partitionKeyLengths[index] = this.#pendingPartitionKeyLength;
      this.#partitionKeyCount = index + 1;
    }
    const pendingExplicitHashKey = this.#pendingExplicitHashKey;
    if (pendingExplicitHashKey !== undefined) {
      this.#explicitHashKeyIndexes.set(pendingExplicitHashKey, this.#pendingExplicitHashKeyIndex);
      this.#explicitHashKeys.push(pendingExplicitHashKey);
    }
    if (this.#pendingExplicitHashKeyInputIsNew && record.explicitHashKey !== undefined) {
      this.#explicitHashKeyIndexesByInput.set(record.explicitHashKey, this.#pendingExplicitHashKeyIndex);
    }
    const length = this.#pendingDataLength;
    const explicitHashKeyIndex = this.#pendingExplicitHashKeyIndex;
    let recordLength = 2 + varintSize(this.#pendingPartitionKeyIndex) + varintSize(length) + length;
    if (explicitHashKeyIndex !== -1) recordLength += 1 + varintSize(explicitHashKeyIndex);
    this.#encode(recordLength, this.#pendingPartitionKeyIndex, explicitHashKeyIndex, record.data, length);
    this.#count++;
    this.#messageSize += this.#pendingGrowth;
  }
}

/**
 * `length` bytes of memory of their own, not zero-filled (every byte is written before it is read). A plain
 * Uint8Array over its own ArrayBuffer, not a pooled Buffer: its `buffer` is safe to transfer, and `slice`
 * copies as callers expect.
 */
/**
 * Bytes `data` takes in the aggregate: a Uint8Array's length, a string's UTF-8 length (lone surrogates count as
 * the three bytes of U+FFFD, as `TextEncoder` and `Buffer` write them); −1 for anything else.
 */
function dataLength(data: unknown): number {
  if (data instanceof Uint8Array) return data.length;
  if (typeof data === 'string') return Buffer.byteLength(data, 'utf8');
  return -1;
}

/** A Buffer over the same memory as `bytes`. */
function textView(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

function newBytes(length: number): Uint8Array {
  const backing = Buffer.allocUnsafeSlow(length);
  return new Uint8Array(backing.buffer, backing.byteOffset, backing.length);
}

// How many more keys than the finished aggregate had reset() lets the key index keep for the next one.
const MAX_STALE_PARTITION_KEYS = 64;
