import { MAX_PARTITION_KEY_LENGTH, parseExplicitHashKey, ValidationError } from '@kinesis-kit/core';
import type { HashKeyCache } from './hash-key-cache.js';
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
  readonly streamName: string;
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
  readonly resolve: (result: UserRecordResult) => void;
  readonly reject: (error: Error) => void;

  constructor(
    streamName: string,
    partitionKey: string,
    data: Uint8Array,
    explicitHashKey: bigint | undefined,
    hashKey: bigint,
    size: number,
    arrivedAt: number,
    deadline: number,
    expiresAt: number,
    resolve: (result: UserRecordResult) => void,
    reject: (error: Error) => void,
  ) {
    this.streamName = streamName;
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
    this.resolve = resolve;
    this.reject = reject;
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

/** A validated user record, before it gets a promise. */
export interface ValidatedUserRecord {
  readonly streamName: string;
  readonly partitionKey: string;
  readonly data: Uint8Array;
  readonly explicitHashKey: bigint | undefined;
  readonly hashKey: bigint;
  readonly size: number;
}

/**
 * Checks a user record the way the service would, so a bad record fails at the call and never poisons a
 * PutRecords call shared with good ones.
 * @throws {@link ValidationError} naming the field, the rule and the value.
 */
export function validateUserRecord(
  input: UserRecordInput,
  hashKeys: HashKeyCache,
  maxUserRecordSize: number,
  knownStream: (streamName: string) => boolean,
): ValidatedUserRecord {
  const { streamName, partitionKey, explicitHashKey } = input;
  if (typeof streamName !== 'string' || !knownStream(streamName)) validateStreamName(streamName);
  if (typeof partitionKey !== 'string' || partitionKey.length === 0 || partitionKey.length > MAX_PARTITION_KEY_LENGTH) {
    throw new ValidationError(
      `partitionKey must be a string of 1 to ${MAX_PARTITION_KEY_LENGTH} characters, got ${describeValue(partitionKey)}`,
      { field: 'partitionKey', value: partitionKey, streamName: String(streamName) },
    );
  }
  let data: Uint8Array;
  const raw: unknown = input.data;
  if (raw instanceof Uint8Array) data = raw;
  else if (typeof raw === 'string') data = Buffer.from(raw, 'utf8');
  else {
    throw new ValidationError(`data must be a Uint8Array or a string, got ${describeValue(raw)}`, {
      field: 'data',
      value: raw,
      streamName,
    });
  }
  const keyInfo = hashKeys.get(partitionKey);
  const size = keyInfo.byteLength + data.length;
  if (size > maxUserRecordSize) {
    throw new ValidationError(
      `A user record's partition key and data must be at most ${maxUserRecordSize} bytes together, got ${size}`,
      { field: 'data', value: size, streamName },
    );
  }
  let ehk: bigint | undefined;
  if (explicitHashKey !== undefined) {
    try {
      ehk = parseExplicitHashKey(explicitHashKey);
    } catch (error) {
      if (error instanceof ValidationError) {
        throw new ValidationError(error.message, { field: 'explicitHashKey', value: explicitHashKey, streamName });
      }
      throw error;
    }
  }
  return { streamName, partitionKey, data, explicitHashKey: ehk, hashKey: ehk ?? keyInfo.hashKey, size };
}

function validateStreamName(streamName: unknown): void {
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
