import { type ErrorContext, KinesisKitError } from '@kinesis-kit/core';

/**
 * A checkpoint write that did not get through, while the lease is still held (a lost lease is a
 * {@link @kinesis-kit/core!ShutdownError} instead):
 * - `CHECKPOINT_THROTTLED`: the lease table throttled the write (the KCL's `ThrottlingException`);
 * - `CHECKPOINT_FAILED`: any other failure (timeout, network, server error).
 *
 * The write is tried once and not retried inside: retrying there would hold the lease's lock and keep its
 * renewal out, so the lease could expire under a throttled checkpoint. `retriable` says whether calling
 * `checkpoint()` again later can succeed; the application decides when.
 */
export class CheckpointError extends KinesisKitError {
  constructor(
    code: 'CHECKPOINT_THROTTLED' | 'CHECKPOINT_FAILED',
    message: string,
    options: ErrorContext & { retriable: boolean; cause: unknown },
  ) {
    super(code, message, options);
  }
}
