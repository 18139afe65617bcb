import { runCli } from './run-cli.js';

/**
 * Runs `kinesis-kit` for the bin: process arguments and streams, SIGINT/SIGTERM abort long-running commands
 * (a second Ctrl-C exits at once), and the exit code is set rather than forced so output is flushed.
 */
export async function runFromProcess(): Promise<void> {
  // The SDK warns in every process that its releases after January 2027 need Node 22; it is noise for a CLI.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const controller = new AbortController();
  const stop = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    process.exitCode = await runCli(process.argv.slice(2), {
      out: (text) => process.stdout.write(`${text}\n`),
      err: (text) => process.stderr.write(`${text}\n`),
      stdin: process.stdin,
      signal: controller.signal,
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
