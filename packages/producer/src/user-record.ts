import { type HashKeyCache, MAX_PARTITION_KEY_LENGTH, parseExplicitHashKey, ValidationError } from '@kinesis-kit/core';
import type { Attempt, UserRecordResult } from './user-record-result.js';

/** The object form of `addUserRecord`'s arguments. */
export interface UserRecordInput {
  streamName: string;
  partitionKey: string;
  /** The payload: bytes (a `Buffer` is a `Uint8Array`) or a string, sent as UTF-8. */
  data: Uint8Array | string;
  /** A decimal integer from 0 to 2^128−1 that routes the record instead of its partition key's hash. */
  explicitHashKey?: string | bigint;
}

const MAX_STREAM_NAME_LENGTH = 128;
const STREAM_NAME = /^[a-zA-Z0-9_.-]+$/;

/**
 * A user record inside the producer, from `addUserRecord` until its promise settles. Mutable and
 * internal: the pipeline moves it between aggregates, shards and attempts.
 */
export class UserRecord {
  readonly partitionKey: string;
  readonly data: Uint8Array;
  /** The explicit hash key the user gave, if any (what the aggregate stores). */
  readonly explicitHashKey: bigint | undefined;
  /** The key that routes the record: the explicit hash key, else MD5 of the partition key. */
  readonly hashKey: bigint;
  /** Partition key (UTF-8) and data bytes: what the record counts against sizes and memory bounds. */
  readonly size: number;
  readonly arrivedAt: number;
  /** Time by which the record should be on its way. Lowered by `flush()`. */
  deadline: number;
  readonly expiresAt: number;
  /** The shard the producer routed the record to; `undefined` until the stream's shard map is known. */
  predictedShardId: string | undefined;
  /** Failed attempts so far; allocated on the first failure only, because most records never fail. */
  failedAttempts: Attempt[] | undefined;
  /** When the last attempt ended (the start of the delay of the next one). */
  lastAttemptEnd: number;
  settled = false;
  /**
   * Settles the caller's promise; set by {@link promiseFor}. Failures settle it too, with a rejected
   * promise (see {@link rejectRecord}), so the record need not keep the reject function alive.
   */
  resolve: (result: UserRecordResult | Promise<never>) => void = noop;

  constructor(
    partitionKey: string,
    data: Uint8Array,
    explicitHashKey: bigint | undefined,
    hashKey: bigint,
    size: number,
    arrivedAt: number,
    deadline: number,
    expiresAt: number,
  ) {
    this.partitionKey = partitionKey;
    this.data = data;
    this.explicitHashKey = explicitHashKey;
    this.hashKey = hashKey;
    this.size = size;
    this.arrivedAt = arrivedAt;
    this.deadline = deadline;
    this.expiresAt = expiresAt;
    this.predictedShardId = undefined;
    this.failedAttempts = undefined;
    this.lastAttemptEnd = arrivedAt;
  }

  /** Records a failed attempt that started at `start` and ended at `end`. */
  addFailedAttempt(start: number, end: number, errorCode: string, errorMessage: string | undefined): void {
    const attempt: Attempt =
      errorMessage === undefined
        ? { delayMs: start - this.lastAttemptEnd, durationMs: end - start, successful: false, errorCode }
        : { delayMs: start - this.lastAttemptEnd, durationMs: end - start, successful: false, errorCode, errorMessage };
    if (this.failedAttempts === undefined) this.failedAttempts = [attempt];
    else this.failedAttempts.push(attempt);
    this.lastAttemptEnd = end;
  }
}

/** What {@link createUserRecord} needs besides the record itself. */
export interface UserRecordSettings {
  readonly hashKeys: HashKeyCache;
  readonly maxUserRecordSize: number;
  /** Whether a stream name was already validated (a pipeline exists for it): skips the pattern test. */
  readonly knownStream: (streamName: string) => boolean;
  readonly recordMaxBufferedTime: number;
  readonly recordTtl: number;
}

/**
 * Checks a user record the way the service would, so a bad record fails at the call and never poisons a
 * PutRecords call shared with good ones, and builds it. Positional arguments and no intermediate objects:
 * this runs once per record on the hot path.
 * @throws {@link @kinesis-kit/core!ValidationError} naming the field, the rule and the value.
 */
export function createUserRecord(
  streamName: unknown,
  partitionKey: unknown,
  raw: unknown,
  explicitHashKey: unknown,
  settings: UserRecordSettings,
  now: number,
): UserRecord {
  if (typeof streamName !== 'string' || !settings.knownStream(streamName)) assertStreamName(streamName);
  if (typeof partitionKey !== 'string' || partitionKey.length === 0 || partitionKey.length > MAX_PARTITION_KEY_LENGTH) {
    throw new ValidationError(
      `partitionKey must be a string of 1 to ${MAX_PARTITION_KEY_LENGTH} characters, got ${describeValue(partitionKey)}`,
      { field: 'partitionKey', value: partitionKey, streamName: String(streamName) },
    );
  }
  let data: Uint8Array;
  if (raw instanceof Uint8Array) data = raw;
  else if (typeof raw === 'string') data = Buffer.from(raw, 'utf8');
  else {
    throw new ValidationError(`data must be a Uint8Array or a string, got ${describeValue(raw)}`, {
      field: 'data',
      value: raw,
      streamName,
    });
  }
  const keyInfo = settings.hashKeys.get(partitionKey);
  const size = keyInfo.byteLength + data.length;
  if (size > settings.maxUserRecordSize) {
    throw new ValidationError(
      `A user record's partition key and data must be at most ${settings.maxUserRecordSize} bytes together, got ${size}`,
      { field: 'data', value: size, streamName },
    );
  }
  let ehk: bigint | undefined;
  if (explicitHashKey !== undefined) {
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
  const expiresAt = now + settings.recordTtl;
  const deadline = Math.min(now + settings.recordMaxBufferedTime, expiresAt);
  return new UserRecord(partitionKey, data, ehk, ehk ?? keyInfo.hashKey, size, now, deadline, expiresAt);
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
  record.resolve(rejected);
}

function noop(): void {}

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
