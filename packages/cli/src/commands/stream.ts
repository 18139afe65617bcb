import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  ListStreamsCommand,
  type ListStreamsCommandOutput,
  MergeShardsCommand,
  type Shard,
  SplitShardCommand,
  UpdateShardCountCommand,
} from '@aws-sdk/client-kinesis';
import { isOpenShard, listShards, MAX_HASH_KEY, waitForStreamActive } from '@kinesis-kit/core';
import { CliError, EXIT, toCliError, UsageError } from '../cli-error.js';
import {
  booleanOption,
  type Command,
  integerOption,
  type OptionValues,
  positionalArgs,
  stringOption,
} from '../command.js';
import type { CommandContext } from '../context.js';
import { formatTable, jsonLine } from '../format.js';
import { parseShardId } from '../shard-id.js';

/** How long the stream commands wait for ACTIVE unless `--no-wait` is given. */
const WAIT_TIMEOUT_MS = 120_000;

const waitOption = { 'no-wait': { type: 'boolean' } } as const;

async function waitUnlessAsked(context: CommandContext, values: OptionValues, streamName: string): Promise<void> {
  if (booleanOption(values, 'no-wait')) return;
  await waitForStreamActive(context.kinesis(), { streamName, timeoutMs: WAIT_TIMEOUT_MS, signal: context.io.signal });
}

/** A shard as the commands print it. */
interface ShardView {
  shardId: string;
  open: boolean;
  parentShardId?: string;
  adjacentParentShardId?: string;
  startingHashKey: string;
  endingHashKey: string;
  startingSequenceNumber?: string;
  endingSequenceNumber?: string;
}

function viewOf(shard: Shard): ShardView {
  return {
    shardId: shard.ShardId ?? '',
    open: isOpenShard(shard),
    parentShardId: shard.ParentShardId,
    adjacentParentShardId: shard.AdjacentParentShardId,
    startingHashKey: shard.HashKeyRange?.StartingHashKey ?? '',
    endingHashKey: shard.HashKeyRange?.EndingHashKey ?? '',
    startingSequenceNumber: shard.SequenceNumberRange?.StartingSequenceNumber,
    endingSequenceNumber: shard.SequenceNumberRange?.EndingSequenceNumber,
  };
}

async function shardsOf(context: CommandContext, streamName: string): Promise<ShardView[]> {
  return (await listShards(context.kinesis(), { streamName, include: 'all', signal: context.io.signal })).map(viewOf);
}

/** Hash keys as a share of the key space, which a person can compare at a glance (0 % … 100 %). */
function percentOfKeySpace(hashKey: string): string {
  if (hashKey === '') return '?';
  return `${(Number((BigInt(hashKey) * 10_000n) / MAX_HASH_KEY) / 100).toFixed(2)}%`;
}

function printShards(context: CommandContext, shards: readonly ShardView[]): void {
  context.io.out(
    formatTable(
      ['shard', 'state', 'parents', 'hash keys (share of key space)'],
      shards.map((shard) => [
        shard.shardId,
        shard.open ? 'open' : 'closed',
        [shard.parentShardId, shard.adjacentParentShardId].filter((id) => id !== undefined).join(',') || '-',
        `${percentOfKeySpace(shard.startingHashKey)} – ${percentOfKeySpace(shard.endingHashKey)}`,
      ]),
    ),
  );
}

const create: Command = {
  path: ['stream', 'create'],
  summary: 'create a provisioned stream and wait until it is ACTIVE',
  synopsis: 'stream create <stream> [--shards N] [--no-wait]',
  help: `Options:
  --shards N     number of shards (default 1)
  --no-wait      return at once instead of waiting for ACTIVE`,
  options: { shards: { type: 'string' }, ...waitOption },
  async run(context, values, positionals) {
    const { stream } = positionalArgs(positionals, ['stream']);
    const shards = integerOption(values, 'shards', 1, 1, 100_000);
    await context.kinesis().send(new CreateStreamCommand({ StreamName: stream, ShardCount: shards }));
    await waitUnlessAsked(context, values, stream);
    const status = booleanOption(values, 'no-wait') ? 'CREATING' : 'ACTIVE';
    if (context.options.json) context.io.out(jsonLine({ streamName: stream, shards, status }));
    else context.io.out(`created ${stream} with ${shards} shard${shards === 1 ? '' : 's'} (${status})`);
    return EXIT.ok;
  },
};

const describe: Command = {
  path: ['stream', 'describe'],
  summary: "show a stream's status and every shard (open and closed) with its parents and hash-key range",
  synopsis: 'stream describe <stream>',
  help: '',
  options: {},
  async run(context, _values, positionals) {
    const { stream } = positionalArgs(positionals, ['stream']);
    const { StreamDescriptionSummary: summary } = await context
      .kinesis()
      .send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    const shards = await shardsOf(context, stream);
    const description = {
      streamName: stream,
      status: summary?.StreamStatus,
      streamARN: summary?.StreamARN,
      retentionPeriodHours: summary?.RetentionPeriodHours,
      openShardCount: shards.filter((shard) => shard.open).length,
      shards,
    };
    if (context.options.json) {
      context.io.out(jsonLine(description));
      return EXIT.ok;
    }
    context.io.out(
      `${stream}  ${description.status ?? '?'}  ${description.openShardCount} open shards, ${shards.length} in all, ` +
        `retention ${description.retentionPeriodHours ?? '?'} h`,
    );
    printShards(context, shards);
    return EXIT.ok;
  },
};

const remove: Command = {
  path: ['stream', 'delete'],
  summary: 'delete a stream (and its registered consumers)',
  synopsis: 'stream delete <stream>',
  help: '',
  options: {},
  async run(context, _values, positionals) {
    const { stream } = positionalArgs(positionals, ['stream']);
    await context.kinesis().send(new DeleteStreamCommand({ StreamName: stream, EnforceConsumerDeletion: true }));
    if (context.options.json) context.io.out(jsonLine({ streamName: stream, status: 'DELETING' }));
    else context.io.out(`deleting ${stream}`);
    return EXIT.ok;
  },
};

const list: Command = {
  path: ['stream', 'list'],
  summary: 'list the streams of the account and region',
  synopsis: 'stream list',
  help: '',
  options: {},
  async run(context, _values, positionals) {
    positionalArgs(positionals, []);
    const names: string[] = [];
    let page: ListStreamsCommandOutput | undefined;
    do {
      // ExclusiveStartStreamName pages on every server; NextToken is newer and kinesalite lacks it.
      page = await context
        .kinesis()
        .send(new ListStreamsCommand({ ExclusiveStartStreamName: names.at(-1), Limit: 100 }));
      names.push(...(page.StreamNames ?? []));
    } while (page.HasMoreStreams === true && (page.StreamNames?.length ?? 0) > 0);
    if (context.options.json) context.io.out(jsonLine({ streamNames: names }));
    else if (names.length > 0) context.io.out(names.join('\n'));
    return EXIT.ok;
  },
};

async function findOpenShard(context: CommandContext, streamName: string, shardId: string): Promise<ShardView> {
  const shard = (await shardsOf(context, streamName)).find((candidate) => candidate.shardId === shardId);
  if (shard === undefined) throw new CliError(`${streamName} has no shard ${shardId}`, EXIT.notFound);
  if (!shard.open) throw new UsageError(`${shardId} is closed; only open shards can be split or merged`);
  return shard;
}

async function printChildren(context: CommandContext, streamName: string, parents: readonly string[]): Promise<void> {
  const children = (await shardsOf(context, streamName)).filter(
    (shard) =>
      (shard.parentShardId !== undefined && parents.includes(shard.parentShardId)) ||
      (shard.adjacentParentShardId !== undefined && parents.includes(shard.adjacentParentShardId)),
  );
  if (context.options.json) context.io.out(jsonLine({ streamName, parents, children }));
  else printShards(context, children);
}

const split: Command = {
  path: ['stream', 'split'],
  summary: 'split an open shard in two (by default at the middle of its hash-key range)',
  synopsis: 'stream split <stream> <shard> [--hash-key K] [--no-wait]',
  help: `<shard> is a shard id (shardId-000000000003) or its number (3).

Options:
  --hash-key K   the first hash key of the new upper shard, a decimal inside the shard's range
                 (default: the middle of the range)
  --no-wait      return at once instead of waiting for ACTIVE and printing the children`,
  options: { 'hash-key': { type: 'string' }, ...waitOption },
  async run(context, values, positionals) {
    const args = positionalArgs(positionals, ['stream', 'shard']);
    const shardId = parseShardId(args.shard);
    const shard = await findOpenShard(context, args.stream, shardId);
    const start = BigInt(shard.startingHashKey);
    const end = BigInt(shard.endingHashKey);
    const raw = stringOption(values, 'hash-key');
    let hashKey = (start + end + 1n) / 2n;
    if (raw !== undefined) {
      if (!/^\d+$/.test(raw)) throw new UsageError(`--hash-key must be a decimal number, got ${JSON.stringify(raw)}`);
      hashKey = BigInt(raw);
      if (hashKey <= start || hashKey > end) {
        throw new UsageError(`--hash-key must lie in ${shardId}'s range (${start}, ${end}], got ${raw}`);
      }
    }
    await context.kinesis().send(
      new SplitShardCommand({
        StreamName: args.stream,
        ShardToSplit: shardId,
        NewStartingHashKey: hashKey.toString(),
      }),
    );
    if (!context.options.json) context.io.out(`split ${shardId} at hash key ${hashKey}`);
    if (booleanOption(values, 'no-wait')) return EXIT.ok;
    await waitUnlessAsked(context, values, args.stream);
    await printChildren(context, args.stream, [shardId]);
    return EXIT.ok;
  },
};

const merge: Command = {
  path: ['stream', 'merge'],
  summary: 'merge two open shards whose hash-key ranges are adjacent',
  synopsis: 'stream merge <stream> <shard> <adjacent-shard> [--no-wait]',
  help: `Shards are shard ids (shardId-000000000003) or their numbers (3).

Options:
  --no-wait      return at once instead of waiting for ACTIVE and printing the child`,
  options: { ...waitOption },
  async run(context, values, positionals) {
    const args = positionalArgs(positionals, ['stream', 'shard', 'adjacent-shard']);
    const first = await findOpenShard(context, args.stream, parseShardId(args.shard));
    const second = await findOpenShard(context, args.stream, parseShardId(args['adjacent-shard'], 'adjacent-shard'));
    const adjacent =
      BigInt(first.endingHashKey) + 1n === BigInt(second.startingHashKey) ||
      BigInt(second.endingHashKey) + 1n === BigInt(first.startingHashKey);
    if (!adjacent) {
      throw new UsageError(
        `${first.shardId} and ${second.shardId} are not adjacent: their hash-key ranges do not meet`,
      );
    }
    await context.kinesis().send(
      new MergeShardsCommand({
        StreamName: args.stream,
        ShardToMerge: first.shardId,
        AdjacentShardToMerge: second.shardId,
      }),
    );
    if (!context.options.json) context.io.out(`merged ${first.shardId} and ${second.shardId}`);
    if (booleanOption(values, 'no-wait')) return EXIT.ok;
    await waitUnlessAsked(context, values, args.stream);
    await printChildren(context, args.stream, [first.shardId, second.shardId]);
    return EXIT.ok;
  },
};

const scale: Command = {
  path: ['stream', 'scale'],
  summary: 'change the number of open shards (UpdateShardCount, uniform scaling)',
  synopsis: 'stream scale <stream> <count> [--no-wait]',
  help: `Kinesis allows at most doubling or halving per call, and kinesalite does not implement it (exit code 5);
kinesis-mock and AWS do.

Options:
  --no-wait      return at once instead of waiting for ACTIVE`,
  options: { ...waitOption },
  async run(context, values, positionals) {
    const args = positionalArgs(positionals, ['stream', 'count']);
    const count = Number(args.count);
    if (!Number.isInteger(count) || count < 1) {
      throw new UsageError(`<count> must be a whole number ≥ 1, got ${JSON.stringify(args.count)}`);
    }
    await context.kinesis().send(
      new UpdateShardCountCommand({
        StreamName: args.stream,
        TargetShardCount: count,
        ScalingType: 'UNIFORM_SCALING',
      }),
    );
    await waitUnlessAsked(context, values, args.stream);
    const open = booleanOption(values, 'no-wait')
      ? undefined
      : (await shardsOf(context, args.stream)).filter((shard) => shard.open).length;
    if (context.options.json)
      context.io.out(jsonLine({ streamName: args.stream, targetShardCount: count, openShards: open }));
    else context.io.out(`scaled ${args.stream} to ${count} shards${open === undefined ? '' : ` (${open} open)`}`);
    return EXIT.ok;
  },
};

/** Wraps a command so an SDK error names the stream operation it came from. */
function named(command: Command): Command {
  return {
    ...command,
    async run(context, values, positionals) {
      try {
        return await command.run(context, values, positionals);
      } catch (error) {
        throw toCliError(error, command.path.join(' '));
      }
    },
  };
}

/** `kinesis-kit stream …` */
export const streamCommands: readonly Command[] = [create, describe, remove, list, split, merge, scale].map(named);
