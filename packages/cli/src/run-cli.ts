import { parseArgs } from 'node:util';
import { CliError, EXIT, toCliError, UsageError } from './cli-error.js';
import type { Command, OptionSpec } from './command.js';
import { leasesCommand } from './commands/leases.js';
import { localCommand } from './commands/local.js';
import { putCommand } from './commands/put.js';
import { streamCommands } from './commands/stream.js';
import { tailCommand } from './commands/tail.js';
import { type CliIo, CommandContext, type GlobalOptions } from './context.js';

/** Every command, in the order the help lists them. */
export const COMMANDS: readonly Command[] = [localCommand, ...streamCommands, putCommand, tailCommand, leasesCommand];

const GLOBAL_OPTIONS: OptionSpec = {
  region: { type: 'string' },
  endpoint: { type: 'string' },
  'dynamodb-endpoint': { type: 'string' },
  profile: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const GLOBAL_HELP = `Global options (every command):
  --region R              AWS region (default: AWS_REGION, the profile's region)
  --endpoint URL          Kinesis endpoint, e.g. the local stack's (default: AWS_ENDPOINT_URL_KINESIS, AWS)
  --dynamodb-endpoint URL DynamoDB endpoint for lease tables (default: AWS_ENDPOINT_URL_DYNAMODB, AWS)
  --profile P             a profile from ~/.aws/config and ~/.aws/credentials (default: the standard chain)
  --json                  machine-readable output: one JSON document per line
  -h, --help              help for the command

Exit codes: 0 ok, 1 failure, 2 bad usage, 3 not found, 4 no or refused credentials/region, 5 not supported
by the endpoint.`;

function overview(): string {
  const width = Math.max(...COMMANDS.map((command) => command.path.join(' ').length));
  return `kinesis-kit — Kinesis streams, KPL-aware put and tail, and KCL lease tables, on AWS or the local stack

Usage: kinesis-kit <command> [arguments] [options]

Commands:
${COMMANDS.map((command) => `  ${command.path.join(' ').padEnd(width)}  ${command.summary}`).join('\n')}

Run \`kinesis-kit <command> --help\` for a command's arguments and options.

${GLOBAL_HELP}

Try it without AWS:  kinesis-kit local   (then paste the exports into another shell)`;
}

function commandHelp(command: Command): string {
  return [
    `Usage: kinesis-kit ${command.synopsis}`,
    '',
    `${command.summary[0]?.toUpperCase()}${command.summary.slice(1)}.`,
    command.help && `\n${command.help}`,
    '',
    GLOBAL_HELP,
  ]
    .filter((part) => part !== '')
    .join('\n');
}

/** The command whose words begin `argv`, the longest match first. */
function findCommand(argv: readonly string[]): Command | undefined {
  const matches = COMMANDS.filter((command) => command.path.every((word, i) => argv[i] === word));
  return matches.sort((a, b) => b.path.length - a.path.length)[0];
}

/**
 * Runs `kinesis-kit` with `argv` (without the node and script paths) and resolves with the exit code. Never
 * throws: every failure becomes a message on `io.err` and a code from {@link EXIT}.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const words = argv[0] === 'help' ? argv.slice(1) : argv;
  const command = findCommand(words);
  if (command === undefined) {
    const asked = words.filter((word) => !word.startsWith('-'));
    const group = asked[0];
    if (words.length === 0 || words.includes('--help') || words.includes('-h') || argv[0] === 'help') {
      if (group !== undefined && COMMANDS.some((c) => c.path[0] === group)) {
        io.out(groupHelp(group));
        return EXIT.ok;
      }
      io.out(overview());
      return words.length === 0 && argv[0] !== 'help' ? EXIT.usage : EXIT.ok;
    }
    const known = group !== undefined && COMMANDS.some((c) => c.path[0] === group);
    io.err(
      known
        ? `kinesis-kit: unknown ${group} command ${JSON.stringify(asked[1] ?? '')}\n\n${groupHelp(group)}`
        : `kinesis-kit: unknown command ${JSON.stringify(group ?? words[0] ?? '')}; run \`kinesis-kit --help\``,
    );
    return EXIT.usage;
  }
  if (argv[0] === 'help') {
    io.out(commandHelp(command));
    return EXIT.ok;
  }

  let context: CommandContext | undefined;
  try {
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args: [...words.slice(command.path.length)],
        options: { ...GLOBAL_OPTIONS, ...command.options },
        allowPositionals: true,
        strict: true,
      });
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    const { values, positionals } = parsed;
    if (values.help === true) {
      io.out(commandHelp(command));
      return EXIT.ok;
    }
    const options: GlobalOptions = {
      region: typeof values.region === 'string' ? values.region : undefined,
      endpoint: typeof values.endpoint === 'string' ? values.endpoint : undefined,
      dynamodbEndpoint: typeof values['dynamodb-endpoint'] === 'string' ? values['dynamodb-endpoint'] : undefined,
      profile: typeof values.profile === 'string' ? values.profile : undefined,
      json: values.json === true,
    };
    context = new CommandContext(options, io);
    return await command.run(context, values, positionals);
  } catch (error) {
    const cliError = error instanceof CliError ? error : toCliError(error, command.path.join(' '));
    io.err(`kinesis-kit ${command.path.join(' ')}: ${cliError.message.replace(`${command.path.join(' ')}: `, '')}`);
    if (cliError instanceof UsageError) io.err(`\nUsage: kinesis-kit ${command.synopsis}  (--help for more)`);
    return cliError.exitCode;
  } finally {
    context?.close();
  }
}

function groupHelp(group: string): string {
  const commands = COMMANDS.filter((command) => command.path[0] === group);
  return `Usage:\n${commands.map((command) => `  kinesis-kit ${command.synopsis}\n      ${command.summary}`).join('\n')}\n\nRun \`kinesis-kit ${group} <command> --help\` for details.`;
}
