import { ValidationError } from '@kinesis-kit/core';
import type { Checkpointer } from './checkpointer.js';
import type { ExtendedSequenceNumber } from './extended-sequence-number.js';
import type { KinesisClientRecord } from './kinesis-client-record.js';

/** What {@link RecordProcessor.initialize} is told. */
export interface InitializationInput {
  readonly streamName: string;
  readonly shardId: string;
  /** The shard's checkpoint: processing starts right after it. */
  readonly extendedSequenceNumber: ExtendedSequenceNumber;
  /** A checkpoint prepared (but not committed) by an earlier owner, if any. */
  readonly pendingCheckpoint?: ExtendedSequenceNumber;
  /** The state saved with the prepared checkpoint, if any. */
  readonly pendingCheckpointState?: Uint8Array;
}

/** What {@link RecordProcessor.processRecords} is told. */
export interface ProcessRecordsInput {
  /** User records in shard order, deaggregated, without those at or before the checkpoint. */
  readonly records: readonly KinesisClientRecord[];
  readonly checkpointer: Checkpointer;
  /**
   * How far behind the tip of the shard this batch was read; 0 when caught up, `undefined` when the service
   * did not say (an emulator, or the empty batch that marks a shard that no longer exists).
   */
  readonly millisBehindLatest: number | undefined;
}

/** What {@link RecordProcessor.leaseLost} is told: nothing; the lease is gone and checkpointing would fail. */
export type LeaseLostInput = Readonly<Record<string, never>>;

/** What {@link RecordProcessor.shardEnded} is told. */
export interface ShardEndedInput {
  /** Call `checkpointer.checkpoint()`: children of this shard start only after it. */
  readonly checkpointer: Checkpointer;
}

/** What {@link RecordProcessor.shutdownRequested} is told. */
export interface ShutdownRequestedInput {
  /** The lease is still held: checkpoint here to hand over without reprocessing. */
  readonly checkpointer: Checkpointer;
}

/**
 * Your code: one instance per leased shard, called one method at a time, in order, never concurrently.
 * Extend this class, override `processRecords` (and the others as needed) and pass the class (or a factory)
 * as the consumer's `processor` option.
 *
 * Lifecycle: `initialize` → `processRecords`* → exactly one of `shardEnded` (the shard was closed by a
 * reshard and fully read), `leaseLost` (another worker took it, or it could not be renewed) or
 * `shutdownRequested` (the consumer is shutting down gracefully; `leaseLost` follows once the lease is
 * released).
 */
export abstract class RecordProcessor {
  /** Called once before the first batch. Throwing makes the consumer back off and call it again. */
  async initialize(_input: InitializationInput): Promise<void> {}

  /** Handles one batch. Checkpoint through `input.checkpointer` when the records are safely handled. */
  abstract processRecords(input: ProcessRecordsInput): Promise<void>;

  /** The lease is gone; do not checkpoint (it would throw {@link @kinesis-kit/core!ShutdownError}). */
  async leaseLost(_input: LeaseLostInput): Promise<void> {}

  /**
   * Every record of the shard has been delivered. You must call `input.checkpointer.checkpoint()`: as in
   * the KCL, the shard's children wait until the parent's checkpoint reads `SHARD_END`.
   */
  async shardEnded(input: ShardEndedInput): Promise<void> {
    await input.checkpointer.checkpoint();
  }

  /** The consumer is shutting down gracefully; checkpoint what you have handled. */
  async shutdownRequested(_input: ShutdownRequestedInput): Promise<void> {}
}

/** A class extending {@link RecordProcessor} with a no-argument constructor. */
export type RecordProcessorClass = new () => RecordProcessor;

/** Makes a fresh processor for a shard. */
export type RecordProcessorFactory = () => RecordProcessor;

/** The `processor` option: a class or a factory. */
export type RecordProcessorOption = RecordProcessorClass | RecordProcessorFactory;

/** Turns the `processor` option into a factory, telling a class from a function by its prototype chain. */
export function toRecordProcessorFactory(option: RecordProcessorOption): RecordProcessorFactory {
  if (typeof option !== 'function') {
    throw new ValidationError(
      `processor must be a class extending RecordProcessor or a function returning one, got ${typeof option}`,
      { field: 'processor', value: option },
    );
  }
  if (option.prototype instanceof RecordProcessor) {
    const ProcessorClass = option as RecordProcessorClass;
    return () => new ProcessorClass();
  }
  const factory = option as RecordProcessorFactory;
  return () => {
    const processor: unknown = factory();
    if (!(processor instanceof RecordProcessor)) {
      throw new ValidationError('The processor factory must return a RecordProcessor', {
        field: 'processor',
        value: processor,
      });
    }
    return processor;
  };
}
