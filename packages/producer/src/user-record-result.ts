/**
 * One try at putting a user record, as the KPL reports it. All user records sent in the same PutRecords
 * call share its start and end, so their `durationMs` is the same.
 */
export interface Attempt {
  /** Time in ms from the record's arrival (first attempt) or the previous attempt's end to this attempt's start. */
  readonly delayMs: number;
  /** Time in ms the PutRecords call took; 0 for an attempt that never reached the service (expiry). */
  readonly durationMs: number;
  readonly successful: boolean;
  /** The service's error code (`ProvisionedThroughputExceededException`, `InternalFailure`, …) or ours (`Expired`). */
  readonly errorCode?: string;
  readonly errorMessage?: string;
}

/**
 * The outcome of one user record: where it landed and every attempt it took. A successful record's
 * promise resolves with it; a failed record's promise rejects with a `UserRecordFailedError` holding it.
 */
export interface UserRecordResult {
  readonly successful: boolean;
  /** The shard the record was written to; `undefined` when it failed. */
  readonly shardId: string | undefined;
  /** Sequence number of the Kinesis record carrying it (shared by every user record of one aggregate). */
  readonly sequenceNumber: string | undefined;
  /**
   * Position of the record inside its aggregate, from 0: the subsequence number a KCL consumer sees and
   * checkpoints on. 0 for a record sent on its own, `undefined` when it failed.
   */
  readonly subSequenceNumber: number | undefined;
  /** Every attempt, oldest first. */
  readonly attempts: readonly Attempt[];
}
