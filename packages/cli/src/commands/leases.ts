import { type AttributeValue, ScanCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import { itemToLease } from '@kinesis-kit/consumer';
import { readShard, type ShardPosition } from '@kinesis-kit/core';
import { CliError, EXIT, toCliError, UsageError } from '../cli-error.js';
import { type Command, stringOption } from '../command.js';
import type { CommandContext } from '../context.js';
import { formatTable, jsonLine } from '../format.js';

/** How long the one read behind each checkpoint may take before its lag is shown as unknown. */
const LAG_READ_TIMEOUT_MS = 10_000;

/** One row of a KCL 2.x lease table, as the command shows it. */
export interface LeaseRow {
  readonly leaseKey: string;
  /** The stream the lease belongs to, when the key says (multi-stream keys) or `--stream` does. */
  readonly streamName: string | undefined;
  readonly shardId: string;
  readonly leaseOwner: string | undefined;
  readonly leaseCounter: number | undefined;
  readonly checkpoint: string | undefined;
  readonly checkpointSubSequenceNumber: number | undefined;
  readonly pendingCheckpoint: string | undefined;
  readonly ownerSwitchesSinceCheckpoint: number | undefined;
  readonly parentShardIds: readonly string[];
  readonly childShardIds: readonly string[];
  /** MillisBehindLatest read at the checkpoint; `undefined` when it cannot be computed. */
  lagMillis?: number;
}

/**
 * Reads a lease item with the consumer's own reader, so the command sees exactly the leases a worker would:
 * items of other entity types (KCL 3.x keeps some in the same table) and unreadable items are left out.
 * Multi-stream applications key leases `account:stream:creationEpoch:shardId`; single-stream ones key them
 * by shard id.
 */
export function toLeaseRow(item: Record<string, AttributeValue>, streamName: string | undefined): LeaseRow | undefined {
  const lease = itemToLease(item);
  if (typeof lease === 'string') return undefined;
  const { leaseKey } = lease;
  const parts = leaseKey.split(':');
  const multiStream = parts.length === 4;
  return {
    leaseKey,
    streamName: multiStream ? parts[1] : streamName,
    shardId: (multiStream ? parts[3] : leaseKey) ?? leaseKey,
    leaseOwner: lease.leaseOwner,
    leaseCounter: lease.leaseCounter,
    checkpoint: lease.checkpoint.sequenceNumber,
    checkpointSubSequenceNumber: lease.checkpoint.subSequenceNumber,
    pendingCheckpoint: lease.pendingCheckpoint?.sequenceNumber,
    ownerSwitchesSinceCheckpoint: lease.ownerSwitchesSinceCheckpoint,
    parentShardIds: lease.parentShardIds,
    childShardIds: lease.childShardIds,
  };
}

/**
 * How far the checkpoint is behind the tip of its shard: the `MillisBehindLatest` of a one-record read right
 * after it. Finished shards are 0 behind; `undefined` when the shard is gone or the server does not say.
 */
async function lagOf(context: CommandContext, row: LeaseRow): Promise<number | undefined> {
  if (row.streamName === undefined || row.checkpoint === undefined) return undefined;
  if (row.checkpoint === 'SHARD_END') return 0;
  let from: ShardPosition;
  if (row.checkpoint === 'TRIM_HORIZON' || row.checkpoint === 'LATEST') from = { type: row.checkpoint };
  else if (/^\d+$/.test(row.checkpoint)) from = { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: row.checkpoint };
  else return undefined; // AT_TIMESTAMP: the lease does not hold the time
  try {
    // One read of one record is enough: its MillisBehindLatest. Bounded, so a hung call cannot hold the listing.
    const reads = readShard({
      client: context.kinesis(),
      streamName: row.streamName,
      shardId: row.shardId,
      from,
      maxRecords: 1,
      requestTimeout: LAG_READ_TIMEOUT_MS,
      retry: { maxAttempts: 1 },
      signal: context.io.signal,
    });
    for await (const read of reads) return read.millisBehindLatest;
    return undefined;
  } catch {
    return undefined; // a trimmed or deleted shard: no lag to show, and not worth failing the listing for
  }
}

function shortSequence(checkpoint: string | undefined, sub: number | undefined): string {
  if (checkpoint === undefined) return '-';
  const shown = /^\d{20,}$/.test(checkpoint) ? `…${checkpoint.slice(-12)}` : checkpoint;
  return sub !== undefined && sub > 0 ? `${shown}/${sub}` : shown;
}

/** `kinesis-kit leases` */
export const leasesCommand: Command = {
  path: ['leases'],
  summary: "show a KCL application's lease table: shard, owner, counter, checkpoint, parents, lag",
  synopsis: 'leases <application> [--table T] [--stream S]',
  help: `Reads the DynamoDB lease table that @kinesis-kit/consumer and the Java KCL 2.x share (named after the
application unless --table says otherwise). With --stream (or multi-stream lease keys) it also shows each
lease's lag: how far its checkpoint is behind the tip of the shard (MillisBehindLatest; kinesalite always
says 0).

Options:
  --table T     the lease table (default: <application>)
  --stream S    the stream of a single-stream application, to compute lag

Example:
  kinesis-kit leases orders-processor --stream orders`,
  options: { table: { type: 'string' }, stream: { type: 'string' } },
  async run(context, values, positionals) {
    const [application, ...extra] = positionals;
    if (application === undefined) throw new UsageError('missing <application>');
    if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    const table = stringOption(values, 'table') ?? application;
    const streamName = stringOption(values, 'stream');
    const rows: LeaseRow[] = [];
    try {
      let page: ScanCommandOutput | undefined;
      do {
        page = await context
          .dynamodb()
          .send(new ScanCommand({ TableName: table, ExclusiveStartKey: page?.LastEvaluatedKey, ConsistentRead: true }));
        for (const item of page.Items ?? []) {
          const row = toLeaseRow(item, streamName);
          if (row !== undefined) rows.push(row);
        }
      } while (page.LastEvaluatedKey !== undefined);
    } catch (error) {
      if (error instanceof Error && error.name === 'ResourceNotFoundException') {
        throw new CliError(`no lease table ${table}: is ${application} the application name?`, EXIT.notFound);
      }
      throw toCliError(error, 'leases');
    }
    rows.sort((a, b) => a.leaseKey.localeCompare(b.leaseKey));
    await Promise.all(
      rows.map(async (row) => {
        row.lagMillis = await lagOf(context, row);
      }),
    );
    if (context.options.json) {
      for (const row of rows) context.io.out(jsonLine(row));
      return EXIT.ok;
    }
    if (rows.length === 0) {
      context.io.err(`# ${table} holds no leases yet`);
      return EXIT.ok;
    }
    context.io.out(
      formatTable(
        ['shard', 'owner', 'counter', 'checkpoint', 'parents', 'lag'],
        rows.map((row) => [
          row.streamName !== undefined && row.leaseKey !== row.shardId
            ? `${row.streamName}/${row.shardId}`
            : row.shardId,
          row.leaseOwner ?? '(free)',
          `${row.leaseCounter ?? '-'}`,
          shortSequence(row.checkpoint, row.checkpointSubSequenceNumber),
          row.parentShardIds.join(',') || '-',
          row.lagMillis === undefined ? '-' : `${row.lagMillis} ms`,
        ]),
      ),
    );
    return EXIT.ok;
  },
};
