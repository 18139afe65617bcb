/** The `kinesis-kit` command line; its commands arrive in the next commits. */
export const COMMAND_NAME = 'kinesis-kit';
