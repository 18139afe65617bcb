import { awsCliEndpointHint, type LocalStack, localStackEnvironment, startLocalStack } from '@kinesis-kit/local-stack';
import { CliError, EXIT, UsageError } from '../cli-error.js';
import { type Command, positionalArgs, stringOption } from '../command.js';
import { jsonLine } from '../format.js';

function port(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65_535) {
    throw new UsageError(`--${name} must be a port from 1 to 65535, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** `kinesis-kit local` */
export const localCommand: Command = {
  path: ['local'],
  summary: 'run the local stack (a Kinesis emulator and dynalite on 127.0.0.1) until Ctrl-C',
  synopsis: 'local [--kinesis kinesis-mock|kinesalite] [--kinesis-port N] [--dynamodb-port N]',
  help: `Prints the endpoints as \`export\` lines for another shell; the AWS CLI v2 (2.13 and later), the SDKs and
kinesis-kit all honour them (stderr shows the --endpoint-url form for older AWS CLIs). kinesis-mock is faithful (UpdateShardCount, ChildShards, realistic MillisBehindLatest);
kinesalite starts in a tenth of a second and is about ten times faster, with fewer APIs
(see docs/local-stack.md).

Options:
  --kinesis E          kinesis-mock (default) or kinesalite
  --kinesis-port N     port for Kinesis (default: a free port)
  --dynamodb-port N    port for DynamoDB (default: a free port)`,
  options: { kinesis: { type: 'string' }, 'kinesis-port': { type: 'string' }, 'dynamodb-port': { type: 'string' } },
  async run(context, values, positionals) {
    positionalArgs(positionals, []);
    const kinesis = stringOption(values, 'kinesis') ?? 'kinesis-mock';
    if (kinesis !== 'kinesis-mock' && kinesis !== 'kinesalite') {
      throw new UsageError(`--kinesis must be kinesis-mock or kinesalite, got ${JSON.stringify(kinesis)}`);
    }
    const options = {
      kinesis,
      kinesisPort: port('kinesis-port', stringOption(values, 'kinesis-port')),
      dynamoDBPort: port('dynamodb-port', stringOption(values, 'dynamodb-port')),
      region: context.options.region,
    } as const;
    let stack: LocalStack;
    try {
      stack = await startLocalStack(options);
    } catch (error) {
      throw new CliError(
        `could not start the local stack: ${error instanceof Error ? error.message : String(error)}`,
        EXIT.failure,
        { cause: error },
      );
    }
    try {
      const env = localStackEnvironment(stack);
      if (context.options.json) context.io.out(jsonLine({ kinesis, ...env }));
      else for (const [name, value] of Object.entries(env)) context.io.out(`export ${name}=${value}`);
      for (const line of awsCliEndpointHint(stack)) context.io.err(line);
      context.io.err(`# ${kinesis} and dynalite are running on 127.0.0.1; press Ctrl-C to stop.`);
      await new Promise<void>((resolve) => {
        const signal = context.io.signal;
        if (signal === undefined) return; // nothing can stop it but the process ending
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      await stack.stop();
    }
    context.io.err('# local stack stopped');
    return EXIT.ok;
  },
};
