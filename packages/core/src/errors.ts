/**
 * The error hierarchy shared by every Kinesis Kit package. Every error a user can see is a
 * {@link KinesisKitError}: it carries a stable `code` to branch on, whether retrying could help, the
 * underlying `cause`, and where it happened (stream, shard).
 */

/** Where an error happened; every field is optional because not every error concerns a stream or shard. */
export interface ErrorContext {
  streamName?: string;
  shardId?: string;
}

/** Options accepted by every {@link KinesisKitError} constructor. */
export interface KinesisKitErrorOptions extends ErrorContext {
  /** Whether the same call could succeed if it were made again later. */
  retriable?: boolean;
  /** The error that caused this one. */
  cause?: unknown;
}

/** Root of the Kinesis Kit error hierarchy. */
export class KinesisKitError extends Error {
  /** A stable, machine-readable identifier of the kind of failure. */
  readonly code: string;
  /** Whether the same call could succeed if it were made again later. */
  readonly retriable: boolean;
  readonly streamName: string | undefined;
  readonly shardId: string | undefined;

  constructor(code: string, message: string, options: KinesisKitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.streamName = options.streamName;
    this.shardId = options.shardId;
  }
}

/** Options of a {@link ValidationError}: what was wrong and with which value. */
export interface ValidationErrorOptions extends KinesisKitErrorOptions {
  /** The name of the argument or option that was rejected, e.g. `partitionKey` or `recordTtl`. */
  field?: string;
  /** The rejected value, kept so callers can log or route it. */
  value?: unknown;
}

/**
 * Bad input: an argument or option that can never be accepted as it is. Raised at the call that
 * received it, never later, and never retriable.
 */
export class ValidationError extends KinesisKitError {
  readonly field: string | undefined;
  readonly value: unknown;

  constructor(message: string, options: ValidationErrorOptions = {}) {
    super('VALIDATION', message, { ...options, retriable: false });
    this.field = options.field;
    this.value = options.value;
  }
}

/** The object the call was made on is shutting down or has shut down. */
export class ShutdownError extends KinesisKitError {
  constructor(message: string, options: KinesisKitErrorOptions = {}) {
    super('SHUTDOWN', message, { ...options, retriable: false });
  }
}

/** A wait was cancelled through its `AbortSignal`. */
export class AbortError extends KinesisKitError {
  constructor(message = 'The operation was aborted', options: KinesisKitErrorOptions = {}) {
    super('ABORTED', message, { ...options, retriable: false });
  }
}

/** A wait ran past its deadline. */
export class TimeoutError extends KinesisKitError {
  constructor(message: string, options: KinesisKitErrorOptions = {}) {
    super('TIMEOUT', message, { retriable: true, ...options });
  }
}

/** Options of a {@link ListenerError}. */
export interface ListenerErrorOptions extends KinesisKitErrorOptions {
  /** The event type the failing listener was called for. */
  eventType: string;
}

/**
 * An event listener threw or rejected. The emitter reports it instead of letting it reach the code that
 * emitted the event, which must not fail because an observer did.
 */
export class ListenerError extends KinesisKitError {
  readonly eventType: string;

  constructor(message: string, options: ListenerErrorOptions) {
    super('LISTENER_FAILED', message, { ...options, retriable: false });
    this.eventType = options.eventType;
  }
}
