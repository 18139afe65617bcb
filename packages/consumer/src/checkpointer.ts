import { ValidationError } from '@kinesis-kit/core';
import type { CheckpointError } from './checkpoint-error.js';
import { ExtendedSequenceNumber } from './extended-sequence-number.js';
import type { KinesisClientRecord } from './kinesis-client-record.js';

/** The checkpoint fields of a lease, as one write sets them. */
export interface CheckpointState {
  readonly checkpoint: ExtendedSequenceNumber;
  readonly pendingCheckpoint: ExtendedSequenceNumber | undefined;
  readonly pendingCheckpointState: Uint8Array | undefined;
}

/**
 * Persists checkpoint fields for one lease: a write conditional on the lease counter. Rejects with a
 * {@link @kinesis-kit/core!ShutdownError} when the lease is no longer held, or a {@link CheckpointError} when the
 * write did not get through (throttled, timed out); it does not retry.
 */
export interface CheckpointWriter {
  write(state: CheckpointState): Promise<void>;
}

/** A record, or anything with its position: what `checkpoint(record)` accepts. */
export type CheckpointPosition = Pick<KinesisClientRecord, 'sequenceNumber'> &
  Partial<Pick<KinesisClientRecord, 'subSequenceNumber'>>;

/** A checkpoint recorded as pending by {@link Checkpointer.prepareCheckpoint}, committed by its `checkpoint()`. */
export interface PreparedCheckpoint {
  /** The position that `checkpoint()` will commit. */
  readonly pendingCheckpoint: ExtendedSequenceNumber;
  /** Commits the prepared position as the checkpoint (and clears the pending one). */
  checkpoint(): Promise<void>;
}

/** Options of a {@link Checkpointer}; made by the shard consumer, not by users. */
export interface CheckpointerOptions {
  readonly shardId: string;
  readonly streamName?: string;
  /** The lease's checkpoint when processing starts. */
  readonly checkpoint: ExtendedSequenceNumber;
  readonly pendingCheckpoint?: ExtendedSequenceNumber;
  readonly writer: CheckpointWriter;
}

/**
 * Records progress in a shard, with the KCL's rules:
 * - `checkpoint()` commits the last record delivered to `processRecords`;
 * - an explicit position must lie between the last checkpoint and the last record delivered (inclusive),
 *   else a {@link @kinesis-kit/core!ValidationError}; checkpointing the current checkpoint again does nothing;
 * - in `shardEnded`, `checkpoint()` (or the last record of the shard) writes `SHARD_END`, which lets the
 *   shard's children start;
 * - once the lease is lost every write rejects with a {@link @kinesis-kit/core!ShutdownError}; a throttled or failed
 *   write rejects at once with a retriable {@link CheckpointError}, for the application to checkpoint again later.
 *
 * Writes are serialized: a second call waits for the first.
 */
export class Checkpointer {
  readonly shardId: string;
  readonly #streamName: string | undefined;
  readonly #writer: CheckpointWriter;
  #lastCheckpoint: ExtendedSequenceNumber;
  #pendingCheckpoint: ExtendedSequenceNumber | undefined;
  #largestPermitted: ExtendedSequenceNumber;
  #sequenceNumberAtShardEnd: ExtendedSequenceNumber | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: CheckpointerOptions) {
    this.shardId = options.shardId;
    this.#streamName = options.streamName;
    this.#writer = options.writer;
    this.#lastCheckpoint = options.checkpoint;
    this.#pendingCheckpoint = options.pendingCheckpoint;
    this.#largestPermitted = options.checkpoint;
  }

  /** The last committed checkpoint. */
  get lastCheckpointValue(): ExtendedSequenceNumber {
    return this.#lastCheckpoint;
  }

  /** The last prepared, uncommitted checkpoint, if any. */
  get pendingCheckpointValue(): ExtendedSequenceNumber | undefined {
    return this.#pendingCheckpoint;
  }

  /** The furthest position a checkpoint may name: the last record delivered (or `SHARD_END` at shard end). */
  get largestPermittedCheckpointValue(): ExtendedSequenceNumber {
    return this.#largestPermitted;
  }

  /**
   * Called by the shard consumer before each `processRecords`, with the last record of the batch.
   * @internal
   */
  advanceLargestPermitted(position: ExtendedSequenceNumber): void {
    if (position.compareTo(this.#largestPermitted) > 0) this.#largestPermitted = position;
  }

  /**
   * Called by the shard consumer before `shardEnded`: from now on the last record delivered means `SHARD_END`.
   * @internal
   */
  markShardEnd(): void {
    if (!this.#largestPermitted.isShardEnd) this.#sequenceNumberAtShardEnd = this.#largestPermitted;
    this.#largestPermitted = ExtendedSequenceNumber.SHARD_END;
  }

  /** Commits the last record delivered. */
  checkpoint(): Promise<void>;
  /** Commits a delivered record (its sequence and sub-sequence number). */
  checkpoint(record: CheckpointPosition): Promise<void>;
  /** Commits a position; `subSequenceNumber` defaults to 0. */
  checkpoint(sequenceNumber: string, subSequenceNumber?: number): Promise<void>;
  checkpoint(target?: CheckpointPosition | string, subSequenceNumber?: number): Promise<void> {
    return this.#enqueue(async () => {
      const position = this.#validate(this.#positionOf(target, subSequenceNumber));
      if (position.equals(this.#lastCheckpoint)) return;
      await this.#writer.write({
        checkpoint: position,
        pendingCheckpoint: undefined,
        pendingCheckpointState: undefined,
      });
      this.#lastCheckpoint = position;
      this.#pendingCheckpoint = undefined;
    });
  }

  /** Records the last record delivered as a pending checkpoint, to be committed later. */
  prepareCheckpoint(state?: Uint8Array): Promise<PreparedCheckpoint>;
  /** Records a delivered record as a pending checkpoint, with optional application state. */
  prepareCheckpoint(record: CheckpointPosition, state?: Uint8Array): Promise<PreparedCheckpoint>;
  /** Records a position as a pending checkpoint, with optional application state. */
  prepareCheckpoint(
    sequenceNumber: string,
    subSequenceNumber?: number,
    state?: Uint8Array,
  ): Promise<PreparedCheckpoint>;
  prepareCheckpoint(
    target?: CheckpointPosition | string | Uint8Array,
    second?: number | Uint8Array,
    third?: Uint8Array,
  ): Promise<PreparedCheckpoint> {
    return this.#enqueue(async () => {
      let state: Uint8Array | undefined;
      let position: ExtendedSequenceNumber;
      if (target === undefined || target instanceof Uint8Array) {
        state = target;
        position = this.#largestPermitted;
      } else if (typeof target === 'string') {
        position = this.#positionOf(target, typeof second === 'number' ? second : undefined);
        state = second instanceof Uint8Array ? second : third;
      } else {
        position = this.#positionOf(target, undefined);
        state = second instanceof Uint8Array ? second : undefined;
      }
      position = this.#validate(position);
      if (position.equals(this.#lastCheckpoint)) return this.#prepared(position);
      await this.#writer.write({
        checkpoint: this.#lastCheckpoint,
        pendingCheckpoint: position,
        pendingCheckpointState: state,
      });
      this.#pendingCheckpoint = position;
      return this.#prepared(position);
    });
  }

  #prepared(position: ExtendedSequenceNumber): PreparedCheckpoint {
    return Object.freeze({
      pendingCheckpoint: position,
      checkpoint: () => this.checkpoint(position.sequenceNumber, position.subSequenceNumber),
    });
  }

  #positionOf(
    target: CheckpointPosition | string | undefined,
    subSequenceNumber: number | undefined,
  ): ExtendedSequenceNumber {
    if (target === undefined) return this.#largestPermitted;
    if (typeof target === 'string') return new ExtendedSequenceNumber(target, subSequenceNumber ?? 0);
    if (typeof target !== 'object' || target === null || typeof target.sequenceNumber !== 'string') {
      throw new ValidationError('checkpoint expects a record, a sequence number string or nothing', {
        field: 'checkpoint',
        value: target,
        shardId: this.shardId,
      });
    }
    return new ExtendedSequenceNumber(target.sequenceNumber, target.subSequenceNumber ?? 0);
  }

  /** Applies the KCL's rules and the shard-end rewrite; returns what to write. */
  #validate(position: ExtendedSequenceNumber): ExtendedSequenceNumber {
    const atShardEnd = this.#sequenceNumberAtShardEnd;
    const effective =
      atShardEnd !== undefined && position.equals(atShardEnd) ? ExtendedSequenceNumber.SHARD_END : position;
    if (effective.compareTo(this.#lastCheckpoint) < 0) {
      throw new ValidationError(
        `Cannot checkpoint ${effective} on ${this.shardId}: it is before the last checkpoint ${this.#lastCheckpoint}`,
        {
          field: 'sequenceNumber',
          value: effective.sequenceNumber,
          shardId: this.shardId,
          streamName: this.#streamName,
        },
      );
    }
    if (effective.compareTo(this.#largestPermitted) > 0) {
      throw new ValidationError(
        `Cannot checkpoint ${effective} on ${this.shardId}: it is beyond the last record delivered (${this.#largestPermitted})`,
        {
          field: 'sequenceNumber',
          value: effective.sequenceNumber,
          shardId: this.shardId,
          streamName: this.#streamName,
        },
      );
    }
    return effective;
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
