import { parseArgs } from 'node:util';
import { type KinesisEmulator, type LocalStack, startLocalStack } from './local-stack.js';
import { awsCliEndpointHint, localStackEnvironment } from './local-stack-environment.js';

const USAGE = `Usage: kinesis-kit-local [options]

Starts a Kinesis emulator and a DynamoDB emulator on 127.0.0.1 and prints their endpoints as environment
variables for the AWS CLI and SDKs. Runs in the foreground until interrupted (Ctrl-C); all data is in memory.

Options:
  --kinesis <kinesis-mock|kinesalite>  Kinesis emulator (default: kinesis-mock, the faithful one)
  --kinesis-port <port>                Port of the Kinesis emulator (default: a free port)
  --dynamodb-port <port>               Port of the DynamoDB emulator (default: a free port)
  --region <region>                    Region to sign for (default: us-east-1)
  -h, --help                           Show this help

Example:
  eval "$(kinesis-kit-local --kinesis kinesalite --kinesis-port 4567 & sleep 2)"
  aws kinesis list-streams`;

function parsePort(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new UsageError(`--${name} must be a port from 1 to 65535, got ${JSON.stringify(value)}`);
  }
  return port;
}

class UsageError extends Error {}

/**
 * Runs the `kinesis-kit-local` command. Resolves with the process exit code once the stack has stopped
 * (on SIGINT / SIGTERM, or on `signal`).
 */
export async function runLocalStackCli(
  argv: readonly string[],
  io: { out: (line: string) => void; err: (line: string) => void } = {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  },
  signal?: AbortSignal,
): Promise<number> {
  let options: { kinesis: KinesisEmulator; kinesisPort?: number; dynamoDBPort?: number; region?: string };
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        kinesis: { type: 'string', default: 'kinesis-mock' },
        'kinesis-port': { type: 'string' },
        'dynamodb-port': { type: 'string' },
        region: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    });
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    if (values.kinesis !== 'kinesis-mock' && values.kinesis !== 'kinesalite') {
      throw new UsageError(`--kinesis must be kinesis-mock or kinesalite, got ${JSON.stringify(values.kinesis)}`);
    }
    options = {
      kinesis: values.kinesis,
      kinesisPort: parsePort('kinesis-port', values['kinesis-port']),
      dynamoDBPort: parsePort('dynamodb-port', values['dynamodb-port']),
      region: values.region,
    };
  } catch (error) {
    io.err(`kinesis-kit-local: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }

  let stack: LocalStack;
  try {
    stack = await startLocalStack(options);
  } catch (error) {
    io.err(`kinesis-kit-local: could not start the local stack: ${(error as Error).message}`);
    return 1;
  }
  for (const [name, value] of Object.entries(localStackEnvironment(stack))) io.out(`export ${name}=${value}`);
  for (const line of awsCliEndpointHint(stack)) io.err(line);
  io.err(`# ${stack.kinesisEmulator} and dynalite are running on 127.0.0.1; press Ctrl-C to stop.`);

  await new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (signal?.aborted) done();
    else signal?.addEventListener('abort', done, { once: true });
  });
  await stack.stop();
  io.err('# local stack stopped');
  return 0;
}
