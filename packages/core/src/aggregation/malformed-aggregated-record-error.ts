import { KinesisKitError, type KinesisKitErrorOptions } from '../errors.js';

/**
 * Bytes that should hold an aggregated record's protobuf message but do not parse as one. Never
 * retriable: the same bytes fail the same way. {@link deaggregate} does not throw it; it delivers
 * such records as they are, as the KCL does, and reports why.
 */
export class MalformedAggregatedRecordError extends KinesisKitError {
  /** Where in the message the problem was found, in bytes from its start, when known. */
  readonly offset: number | undefined;

  constructor(message: string, offset: number | undefined, options: KinesisKitErrorOptions = {}) {
    super('MALFORMED_AGGREGATED_RECORD', message, { ...options, retriable: false });
    this.offset = offset;
  }
}
