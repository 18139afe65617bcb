import {
  type HashKeyCache,
  KinesisKitError,
  MAX_PARTITION_KEY_LENGTH,
  parseExplicitHashKey,
  ValidationError,
} from '@kinesis-kit/core';
import { earliest, later, type ProducerTime } from './producer-time.js';
import type { Attempt, UserRecordResult } from './user-record-result.js';

/** The object form of `addUserRecord`'s arguments. */
export interface UserRecordInput {
  streamName: string;
  partitionKey: string;
  /** The payload: bytes (a `Buffer` is a `Uint8Array`) or a string, sent as UTF-8. */
  data: Uint8Array | string;
  /**
   * A decimal integer from 0 to 2^128−1 that routes the record instead of its partition key's hash (leading
   * zeros allowed). `null` or `undefined`: none, route by the partition key (as the Java KPL takes `null`).
   */
  explicitHashKey?: string | bigint | null;
}

const MAX_STREAM_NAME_LENGTH = 128;
const STREAM_NAME = /^[a-zA-Z0-9_.-]+$/;

/** What a user record carries once an attempt has failed; most records never need it. */
interface RetryHistory {
  readonly attempts: Attempt[];
  /** When the last attempt ended (the start of the delay of the next one). */
  lastAttemptEnd: ProducerTime;
}

/**
 * A user record inside the producer, from `addUserRecord` until its promise settles. Mutable and
 * internal: the pipeline moves it between aggregates, shards and attempts.
 *
 * A burst of records stays alive until its calls return, and every young-generation GC it lives through
 * copies it, so the record is kept small: what only a failed record needs lives in `history`, allocated on
 * the first failure, and "settled" is the resolve function being gone.
 */
export class UserRecord {
  readonly partitionKey: string;
  /**
   * The memory holding the record's data, at {@link offset}: the caller's buffer while `addUserRecord` runs
   * ({@link borrowed}) or with `copyData: false`, a copy of the record's own, or the sealed aggregate that
   * carries it (issue 11: the copy at add *is* the aggregate, see `Aggregator`). Empty while the record is in
   * an open aggregate, whose builder holds the data. Or the caller's string, immutable, encoded as UTF-8 by the
   * aggregate it joins or when it is sent alone.
   */
  bytes: Uint8Array | string;
  /** Where the data starts in {@link bytes} (in an open aggregate: in its builder's records region). */
  offset: number;
  readonly dataLength: number;
  /**
   * {@link bytes} is the caller's buffer, which the caller may reuse once `addUserRecord` returns: the record
   * must be copied into an aggregate or into memory of its own ({@link ownData}) before then.
   */
  borrowed: boolean;
  /** The explicit hash key the user gave, if any (what the aggregate stores). */
  readonly explicitHashKey: bigint | undefined;
  /** The key that routes the record: the explicit hash key, else MD5 of the partition key. */
  readonly hashKey: bigint;
  /** Partition key (UTF-8) and data bytes: what the record counts against sizes and memory bounds. */
  readonly size: number;
  readonly arrivedAt: ProducerTime;
  /** Time by which the record should be on its way. Lowered by `flush()`. */
  deadline: ProducerTime;
  readonly expiresAt: ProducerTime;
  /**
   * Settles the caller's promise; set by {@link promiseFor}, and replaced by a no-op once used (see
   * {@link settle}). Failures settle it too, with a rejected promise (see {@link rejectRecord}), so the
   * record need not keep the reject function alive.
   */
  resolve: (result: UserRecordResult | Promise<never>) => void;
  /** Failed attempts so far; `undefined` until the first failure. */
  history: RetryHistory | undefined;
  /**
   * Links of the producer's list of unsettled records, owned by `Outstanding`: the record added just
   * before and just after this one, `undefined` outside the list. {@link settle} unlinks the record, so once
   * settled nothing of the producer's reaches its data, whatever older record is still pending.
   */
  older: UserRecord | undefined;
  newer: UserRecord | undefined;
  /** The record's position among every record ever added (see `Outstanding.whenSettled`). */
  ticket: number;

  constructor(
    partitionKey: string,
    data: Uint8Array | string,
    explicitHashKey: bigint | undefined,
    hashKey: bigint,
    size: number,
    arrivedAt: ProducerTime,
    deadline: ProducerTime,
    expiresAt: ProducerTime,
  ) {
    this.partitionKey = partitionKey;
    this.bytes = data;
    this.offset = 0;
    this.dataLength = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.length;
    this.borrowed = false;
    this.explicitHashKey = explicitHashKey;
    this.hashKey = hashKey;
    this.size = size;
    this.arrivedAt = arrivedAt;
    this.deadline = deadline;
    this.expiresAt = expiresAt;
    this.resolve = unbound;
    this.history = undefined;
    this.older = undefined;
    this.newer = undefined;
    this.ticket = 0;
  }

  /**
   * The record's data: its string, or a view of {@link bytes}. Not for a record in an open aggregate (its builder
   * has it).
   */
  get data(): Uint8Array | string {
    const bytes = this.bytes;
    if (typeof bytes === 'string') return bytes;
    const offset = this.offset;
    const length = this.dataLength;
    if (offset === 0 && length === bytes.length) return bytes;
    if (offset + length > bytes.length) {
      throw new KinesisKitError('INTERNAL', 'A record in an open aggregate has no data of its own');
    }
    return bytes.subarray(offset, offset + length);
  }

  /** Moves the data into memory of the record's own (a copy, a string encoded), unless it has it already. */
  ownData(): Uint8Array {
    const bytes = this.bytes;
    if (typeof bytes !== 'string' && !this.borrowed && this.offset === 0 && this.dataLength === bytes.length) {
      return bytes;
    }
    const data = this.data;
    const own = typeof data === 'string' ? utf8.encode(data) : ownCopy(data);
    this.bytes = own;
    this.offset = 0;
    this.borrowed = false;
    return own;
  }

  /** Whether the caller's promise has been settled (or is about to be: the call is queued). */
  get settled(): boolean {
    return this.resolve === settledMark;
  }

  /** Failed attempts so far; `undefined` until the first failure. */
  get failedAttempts(): readonly Attempt[] | undefined {
    return this.history?.attempts;
  }

  /** When the last attempt ended (the start of the delay of the next one): arrival until one fails. */
  get lastAttemptEnd(): ProducerTime {
    return this.history === undefined ? this.arrivedAt : this.history.lastAttemptEnd;
  }

  /**
   * Settles the caller's promise with `result`, once: later calls do nothing. Takes the record out of the
   * unsettled list at once (issue 11: a list that let go of records only in arrival order kept every record
   * settled behind one slow record reachable, data and all).
   */
  settle(result: UserRecordResult | Promise<never>): void {
    const resolve = this.resolve;
    this.resolve = settledMark;
    const older = this.older;
    const newer = this.newer;
    if (older !== undefined && newer !== undefined) {
      older.newer = newer;
      newer.older = older;
      this.older = undefined;
      this.newer = undefined;
    }
    resolve(result);
  }

  /** Records a failed attempt that started at `start` and ended at `end`. */
  addFailedAttempt(start: ProducerTime, end: ProducerTime, errorCode: string, errorMessage: string | undefined): void {
    const delayMs = start - this.lastAttemptEnd;
    const attempt: Attempt =
      errorMessage === undefined
        ? { delayMs, durationMs: end - start, successful: false, errorCode }
        : { delayMs, durationMs: end - start, successful: false, errorCode, errorMessage };
    if (this.history === undefined) this.history = { attempts: [attempt], lastAttemptEnd: end };
    else {
      this.history.attempts.push(attempt);
      this.history.lastAttemptEnd = end;
    }
  }
}

/** What a record in an open aggregate holds as its {@link UserRecord.bytes}: its builder has its data. */
export const NO_BYTES = new Uint8Array(0);

/** What emptied slots of the producer's record arrays hold, so they keep nothing of the user's alive. */
export const NO_RECORD = new UserRecord(
  '',
  new Uint8Array(0),
  undefined,
  0n,
  0,
  0 as ProducerTime,
  0 as ProducerTime,
  0 as ProducerTime,
);

/** What {@link createUserRecord} needs besides the record itself. */
export interface UserRecordSettings {
  readonly hashKeys: HashKeyCache;
  readonly maxUserRecordSize: number;
  readonly recordMaxBufferedTime: number;
  readonly recordTtl: number;
  /** Whether `addUserRecord` copies the caller's bytes (see `ProducerOptions.copyData`). */
  readonly copyData: boolean;
}

/**
 * Checks a user record the way the service would, so a bad record fails at the call and never poisons a
 * PutRecords call shared with good ones, and builds it. Positional arguments and no intermediate objects:
 * this runs once per record on the hot path.
 * @throws {@link @kinesis-kit/core!ValidationError} naming the field, the rule and the value.
 */
export function createUserRecord(
  // Typed as the API types it; a JavaScript caller's non-string is never a known stream, so it is checked.
  streamName: string,
  knownStream: boolean,
  partitionKey: unknown,
  raw: unknown,
  explicitHashKey: unknown,
  settings: UserRecordSettings,
  now: ProducerTime,
): UserRecord {
  // A stream that already has a pipeline passed this check before.
  if (!knownStream) assertStreamName(streamName);
  if (typeof partitionKey !== 'string' || partitionKey.length === 0 || partitionKey.length > MAX_PARTITION_KEY_LENGTH) {
    throw new ValidationError(
      `partitionKey must be a string of 1 to ${MAX_PARTITION_KEY_LENGTH} characters, got ${describeValue(partitionKey)}`,
      { field: 'partitionKey', value: partitionKey, streamName },
    );
  }
  if (!(raw instanceof Uint8Array) && typeof raw !== 'string') {
    throw new ValidationError(`data must be a Uint8Array or a string, got ${describeValue(raw)}`, {
      field: 'data',
      value: raw,
      streamName,
    });
  }
  const keyInfo = settings.hashKeys.get(partitionKey);
  const dataLength = typeof raw === 'string' ? Buffer.byteLength(raw, 'utf8') : raw.length;
  const size = keyInfo.byteLength + dataLength;
  if (size > settings.maxUserRecordSize) {
    throw new ValidationError(
      `A user record's partition key and data must be at most ${settings.maxUserRecordSize} bytes together, got ${size}`,
      { field: 'data', value: size, streamName },
    );
  }
  let ehk: bigint | undefined;
  // null means "none", as the Java KPL's addUserRecord(stream, key, null, data) does.
  if (explicitHashKey !== undefined && explicitHashKey !== null) {
    try {
      if (typeof explicitHashKey !== 'string' && typeof explicitHashKey !== 'bigint') {
        throw new ValidationError(
          `explicitHashKey must be a decimal string or a bigint, got ${describeValue(explicitHashKey)}`,
        );
      }
      ehk = parseExplicitHashKey(explicitHashKey);
    } catch (error) {
      if (error instanceof ValidationError) {
        throw new ValidationError(error.message, { field: 'explicitHashKey', value: explicitHashKey, streamName });
      }
      throw error;
    }
  }
  const expiresAt = later(now, settings.recordTtl);
  const deadline = earliest(later(now, settings.recordMaxBufferedTime), expiresAt);
  const record = new UserRecord(partitionKey, raw, ehk, ehk ?? keyInfo.hashKey, size, now, deadline, expiresAt);
  // Copied by the pipeline: into the shard's aggregate when it joins one, else into memory of its own (see
  // `KinesisProducer.#add`). A string cannot change, so it is kept until it is encoded into an aggregate (or
  // alone, when the record is sent alone).
  if (typeof raw !== 'string') record.borrowed = settings.copyData;
  return record;
}

/**
 * Encodes the strings of records sent alone into memory of their own, for the same reason as {@link ownCopy}
 * (`Buffer.from(string)` takes small strings from the shared pool).
 */
const utf8 = new TextEncoder();

/**
 * A copy of `bytes` in memory of its own: what the record sends can no longer change when the caller reuses
 * its buffer (the KPL copies at add too). Not a slice of Node's shared buffer pool (`Buffer.from`), where one
 * record still waiting would keep the pool's whole 8 KiB slab, and with it the bytes of records long settled.
 */
function ownCopy(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}

// One executor for every record's promise instead of a closure per record: the executor runs synchronously
// inside `new Promise`, so the record it is for can be handed over through this variable.
let binding: UserRecord | undefined;
function bindSettlers(resolve: (result: UserRecordResult | Promise<never>) => void): void {
  if (binding !== undefined) binding.resolve = resolve;
}

/** The caller's promise for `record`, settled through `record.resolve` or {@link rejectRecord}. */
export function promiseFor(record: UserRecord): Promise<UserRecordResult> {
  binding = record;
  const promise = new Promise<UserRecordResult>(bindSettlers);
  binding = undefined;
  return promise;
}

/**
 * Rejects the caller's promise of `record` with `error`. Resolving with a rejected promise rejects it
 * with the same reason (a microtask later), and means records never hold their reject function: on the
 * hot path every byte a record holds is copied by each young-generation GC it survives.
 */
export function rejectRecord(record: UserRecord, error: Error): void {
  const rejected = Promise.reject(error);
  // Handled here, so it is never reported as unhandled; the caller's promise adopts the rejection.
  rejected.catch(noop);
  record.settle(rejected);
}

function noop(): void {}

// A record's resolve function before promiseFor and after it is used; two, so "settled" can be told apart.
function unbound(): void {}
function settledMark(): void {}

function assertStreamName(streamName: unknown): asserts streamName is string {
  if (
    typeof streamName !== 'string' ||
    streamName.length === 0 ||
    streamName.length > MAX_STREAM_NAME_LENGTH ||
    !STREAM_NAME.test(streamName)
  ) {
    throw new ValidationError(
      `streamName must be 1 to ${MAX_STREAM_NAME_LENGTH} characters of a-z, A-Z, 0-9, '_', '-' and '.', got ${describeValue(streamName)}`,
      { field: 'streamName', value: streamName },
    );
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'string')
    return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (value === null) return 'null';
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  return typeof value;
}
