import { KinesisKitError, type KinesisKitErrorOptions } from '@kinesis-kit/core';
import type { UserRecordResult } from './user-record-result.js';

/** Error code of a user record that was not put within `recordTtl` (the KPL's word for it). */
export const EXPIRED = 'Expired';

/**
 * Error code of an attempt whose Kinesis record landed on a shard other than the one it was aggregated for,
 * when that shard does not own all its user records or the shard map does not know it (the KPL's
 * "Wrong Shard"): a KCL consumer would drop such an aggregate, so its records are sent again.
 */
export const WRONG_SHARD = 'WrongShard';

/** Error code of a user record failed because the producer was destroyed before it could be put. */
export const DESTROYED = 'Destroyed';

function describe(result: UserRecordResult): string {
  const last = result.attempts[result.attempts.length - 1];
  const tries = `${result.attempts.length} attempt${result.attempts.length === 1 ? '' : 's'}`;
  if (last === undefined) return 'The user record failed before any attempt';
  return `The user record failed after ${tries}: ${last.errorCode ?? 'unknown error'}${
    last.errorMessage === undefined ? '' : ` (${last.errorMessage})`
  }`;
}

/**
 * A user record could not be put. `code` is the error code of its last attempt (a Kinesis error code such
 * as `ProvisionedThroughputExceededException` or `ResourceNotFoundException`, or `Expired`); `result` holds
 * every attempt. Unlike the KPL's `UserRecordFailedException`, the message always says why.
 */
export class UserRecordFailedError extends KinesisKitError {
  readonly result: UserRecordResult;

  constructor(result: UserRecordResult, options: KinesisKitErrorOptions = {}) {
    const last = result.attempts[result.attempts.length - 1];
    super(last?.errorCode ?? 'UserRecordFailed', describe(result), options);
    this.result = result;
  }
}

/** A user record was not put within `recordTtl`; its `code` is `Expired`. */
export class RecordExpiredError extends UserRecordFailedError {}

/**
 * The producer already holds `maxOutstandingRecords` records or `maxOutstandingBytes` bytes. Retriable:
 * wait with `waitForCapacity()` (or use `writable()`, which does) and add the record again.
 */
export class BufferFullError extends KinesisKitError {
  /** Records outstanding when the record was refused. */
  readonly outstandingRecords: number;
  /** Bytes outstanding when the record was refused. */
  readonly outstandingBytes: number;

  constructor(
    outstandingRecords: number,
    outstandingBytes: number,
    limits: { records: number; bytes: number },
    options: KinesisKitErrorOptions = {},
  ) {
    super(
      'BUFFER_FULL',
      `The producer buffer is full (${outstandingRecords} of ${limits.records} records, ${outstandingBytes} of ${limits.bytes} bytes outstanding); await waitForCapacity() before adding more`,
      { retriable: true, ...options },
    );
    this.outstandingRecords = outstandingRecords;
    this.outstandingBytes = outstandingBytes;
  }
}
