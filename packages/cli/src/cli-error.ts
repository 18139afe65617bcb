/** Exit codes of `kinesis-kit`, stable for scripts. */
export const EXIT = {
  ok: 0,
  /** The service or the network failed, or records could not be put. */
  failure: 1,
  /** Bad command line: unknown command or option, missing or malformed argument. */
  usage: 2,
  /** The stream, shard or lease table does not exist. */
  notFound: 3,
  /** No credentials or region could be found, or they were refused. */
  credentials: 4,
  /** The endpoint does not support the operation (e.g. UpdateShardCount on kinesalite). */
  unsupported: 5,
} as const;

/** An error the CLI reports as one line on stderr and turns into an exit code. */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A command-line mistake: exit code 2, and the command's usage is printed after the message. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
    this.name = 'UsageError';
  }
}

/**
 * Turns what the SDK throws into a message a person can act on and an exit code a script can test. The SDK's
 * own messages are kept as the detail, because they name the resource.
 */
export function toCliError(error: unknown, context: string): CliError {
  if (error instanceof CliError) return error;
  if (!(error instanceof Error)) return new CliError(`${context}: ${String(error)}`, EXIT.failure);
  const name = error.name;
  const message = error.message;
  if (name === 'ResourceNotFoundException')
    return new CliError(`${context}: ${message}`, EXIT.notFound, { cause: error });
  if (
    name === 'CredentialsProviderError' ||
    /Could not load credentials|Region is missing|Unable to find (environment|a) region/i.test(message)
  ) {
    return new CliError(
      `${context}: ${message}. Set credentials the usual AWS ways (environment, ~/.aws, --profile, an instance ` +
        'role) and a region (--region or AWS_REGION), or run against the local stack (see `kinesis-kit local`).',
      EXIT.credentials,
      { cause: error },
    );
  }
  if (
    [
      'UnrecognizedClientException',
      'AccessDeniedException',
      'InvalidSignatureException',
      'ExpiredTokenException',
      'MissingAuthenticationTokenException',
    ].includes(name)
  ) {
    return new CliError(`${context}: the credentials were refused (${name}): ${message}`, EXIT.credentials, {
      cause: error,
    });
  }
  if (name === 'UnknownOperationException' || /unknown operation|not implemented/i.test(message)) {
    return new CliError(`${context}: this endpoint does not support the operation (${message})`, EXIT.unsupported, {
      cause: error,
    });
  }
  if (name === 'InvalidArgumentException' || name === 'ValidationException' || name === 'ValidationError') {
    return new CliError(`${context}: ${message}`, EXIT.usage, { cause: error });
  }
  if (name === 'ECONNREFUSED' || (error as { code?: unknown }).code === 'ECONNREFUSED') {
    return new CliError(`${context}: nothing is listening at the endpoint (${message})`, EXIT.failure, {
      cause: error,
    });
  }
  return new CliError(`${context}: ${name}: ${message}`, EXIT.failure, { cause: error });
}
