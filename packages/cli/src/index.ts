export { CliError, EXIT, UsageError } from './cli-error.js';
export type { CliIo, GlobalOptions } from './context.js';
export { COMMANDS, runCli } from './run-cli.js';
export { runFromProcess } from './run-from-process.js';
