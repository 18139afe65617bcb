import type { KinesisClient, Shard } from '@aws-sdk/client-kinesis';
import {
  deaggregate,
  fromSdkRecord,
  listShards,
  readShard,
  runWithFixedDelay,
  TimeoutError,
  type UserRecord,
} from '@kinesis-kit/core';
import { CliError, EXIT, toCliError, UsageError } from '../cli-error.js';
import { booleanOption, type Command, integerOption, stringOption } from '../command.js';
import type { CommandContext } from '../context.js';
import { jsonLine } from '../format.js';
import { parseShardId } from '../shard-id.js';

/** Where reading starts: one of the iterator types, with its argument. */
export type StartPosition =
  | { readonly type: 'TRIM_HORIZON' | 'LATEST' }
  | { readonly type: 'AT_TIMESTAMP'; readonly timestamp: Date }
  | { readonly type: 'AT_SEQUENCE_NUMBER'; readonly sequenceNumber: string };

/** How often an idle shard is polled while following; far below the 5 GetRecords/s a shard allows. */
const FOLLOW_POLL_MS = 1_000;
/** How often a shard with records still to read is polled: the shard's whole 5 calls/s, for a short catch-up. */
const CATCH_UP_POLL_MS = 200;
/** How long one GetShardIterator or GetRecords may take; a GetShardIterator that times out ends the tail. */
const REQUEST_TIMEOUT_MS = 10_000;
/** How often `--follow` lists shards to find the children of a reshard. */
const RELIST_MS = 5_000;

/**
 * Parses `--from`: `trim-horizon`, `latest`, a time (ISO 8601, or `10m`/`2h`/`30s` ago), or a sequence number.
 */
export function parseStartPosition(raw: string, now: number = Date.now()): StartPosition {
  const lower = raw.toLowerCase();
  if (lower === 'trim-horizon' || lower === 'trim_horizon') return { type: 'TRIM_HORIZON' };
  if (lower === 'latest') return { type: 'LATEST' };
  if (/^\d{20,}$/.test(raw)) return { type: 'AT_SEQUENCE_NUMBER', sequenceNumber: raw };
  const ago = /^(\d+)(s|m|h|d)$/.exec(lower);
  if (ago !== null) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as 's' | 'm' | 'h' | 'd'];
    return { type: 'AT_TIMESTAMP', timestamp: new Date(now - Number(ago[1]) * unit) };
  }
  const time = new Date(raw);
  if (/\d{4}-\d{2}-\d{2}/.test(raw) && !Number.isNaN(time.getTime())) return { type: 'AT_TIMESTAMP', timestamp: time };
  throw new UsageError(
    `--from must be trim-horizon, latest, a time (2026-11-25T20:00:00Z, or 10m for ten minutes ago) or a sequence number, got ${JSON.stringify(raw)}`,
  );
}

type Format = 'text' | 'json' | 'data';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeData(data: Uint8Array): { data: string; dataEncoding: 'utf8' | 'base64' } {
  try {
    return { data: utf8.decode(data), dataEncoding: 'utf8' };
  } catch {
    return {
      data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
      dataEncoding: 'base64',
    };
  }
}

function formatRecord(shardId: string, record: UserRecord, format: Format): string {
  const { data, dataEncoding } = decodeData(record.data);
  if (format === 'json') {
    return jsonLine({
      shardId,
      sequenceNumber: record.sequenceNumber,
      subSequenceNumber: record.subSequenceNumber,
      partitionKey: record.partitionKey,
      explicitHashKey: record.explicitHashKey,
      approximateArrivalTimestamp: record.approximateArrivalTimestamp?.toISOString(),
      aggregated: record.aggregated,
      data,
      dataEncoding,
    });
  }
  const shown = dataEncoding === 'utf8' ? data.replace(/\r?\n$/, '') : `base64:${data}`;
  if (format === 'data') return shown;
  return `${shardId} ${record.sequenceNumber}/${record.subSequenceNumber} ${record.partitionKey}  ${shown}`;
}

/** Reads shards, deaggregates what they hold and prints each user record; stops on `--limit` or the signal. */
class Tail {
  readonly #context: CommandContext;
  readonly #streamName: string;
  readonly #format: Format;
  readonly #follow: boolean;
  readonly #limit: number;
  readonly #stop = new AbortController();
  /** One SDK attempt per call: readShard retries, with the throttling backoff the SDK's retry lacks. */
  readonly #client: KinesisClient;
  #printed = 0;
  #dropped = 0;

  constructor(context: CommandContext, streamName: string, format: Format, follow: boolean, limit: number) {
    this.#context = context;
    this.#streamName = streamName;
    this.#format = format;
    this.#follow = follow;
    this.#limit = limit;
    this.#client = context.newKinesisClient(1);
    context.io.signal?.addEventListener('abort', () => this.#stop.abort(), { once: true });
  }

  get printed(): number {
    return this.#printed;
  }

  /** Reads every shard from `position`; with `follow`, new shards (reshard children) from their start. */
  async run(shards: readonly Shard[], position: StartPosition, onlyShard: string | undefined): Promise<void> {
    const seen = new Set<string>();
    const readers: Promise<void>[] = [];
    let started = 0;
    // With --follow, say on stderr once every shard has its iterator: records put from then on will be shown.
    let waitingForFirstRead = shards.length;
    const firstReadDone = () => {
      if (--waitingForFirstRead === 0 && this.#follow && !this.#stop.signal.aborted) {
        this.#context.io.err(`# following ${this.#streamName} (${shards.length} shard(s)); Ctrl-C to stop`);
      }
    };
    const start = (shard: Shard, from: StartPosition, initial: boolean) => {
      if (shard.ShardId === undefined) return;
      seen.add(shard.ShardId);
      let first = initial;
      const onFirstRead = () => {
        if (!first) return;
        first = false;
        firstReadDone();
      };
      const reader = this.#readShard(shard, from, onFirstRead).then(
        () => {
          onFirstRead();
          started++;
        },
        (error: unknown) => {
          onFirstRead();
          // A sequence number belongs to one shard; the others reject it, and that is not an error.
          if (from.type === 'AT_SEQUENCE_NUMBER' && onlyShard === undefined && isInvalidArgument(error)) return;
          started++;
          // The tail fails: stop the other readers and the relisting rather than follow on without this shard.
          this.#stop.abort();
          throw error;
        },
      );
      // Awaited with the others once the follow loop ends; until then a failure must not count as unhandled.
      reader.catch(() => {});
      readers.push(reader);
    };
    for (const shard of shards) start(shard, position, true);
    if (this.#follow && onlyShard === undefined) {
      // A failed listing is reported and tried again at the next round; it does not end the tail.
      await runWithFixedDelay(
        async (signal) => {
          const all = await listShards(this.#context.kinesis(), {
            streamName: this.#streamName,
            include: 'all',
            signal,
          });
          for (const shard of all)
            if (shard.ShardId !== undefined && !seen.has(shard.ShardId)) start(shard, { type: 'TRIM_HORIZON' }, false);
        },
        {
          intervalMs: RELIST_MS,
          signal: this.#stop.signal,
          onError: (error) =>
            this.#context.io.err(
              `# listing the shards of ${this.#streamName} failed (${error instanceof Error ? error.message : String(error)}); trying again in ${RELIST_MS / 1000} s`,
            ),
        },
      );
    }
    await Promise.all(readers);
    if (position.type === 'AT_SEQUENCE_NUMBER' && started === 0) {
      throw new UsageError(`no shard of ${this.#streamName} holds sequence number ${position.sequenceNumber}`);
    }
    if (this.#dropped > 0) {
      this.#context.io.err(
        `# skipped ${this.#dropped} aggregate(s) holding records outside their shard's hash-key range (a reshard re-send; the KCL drops them too)`,
      );
    }
  }

  async #readShard(shard: Shard, position: StartPosition, onFirstRead: () => void): Promise<void> {
    const shardId = shard.ShardId ?? '';
    const range =
      shard.HashKeyRange?.StartingHashKey !== undefined && shard.HashKeyRange.EndingHashKey !== undefined
        ? {
            startingHashKey: BigInt(shard.HashKeyRange.StartingHashKey),
            endingHashKey: BigInt(shard.HashKeyRange.EndingHashKey),
          }
        : undefined;
    const reads = readShard({
      client: this.#client,
      streamName: this.#streamName,
      shardId,
      from: position,
      maxRecords: 1_000,
      idleTimeBetweenReadsInMillis: FOLLOW_POLL_MS,
      catchUpTimeBetweenReadsInMillis: CATCH_UP_POLL_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      // Without --follow the shard is done once a read finds nothing new.
      stopAtLatest: !this.#follow,
      signal: this.#stop.signal,
      onRetry: ({ operation, error }) => {
        // Bounded: kinesalite never answers AT_TIMESTAMP for a time after a shard's last record; waiting again
        // would only hang again.
        if (operation === 'GetShardIterator' && error instanceof TimeoutError) {
          throw new CliError(
            `${shardId}: no answer to GetShardIterator ${position.type} within ${REQUEST_TIMEOUT_MS / 1000} s` +
              (position.type === 'AT_TIMESTAMP' ? ' (kinesalite hangs on a time after the last record)' : ''),
            EXIT.failure,
          );
        }
      },
    });
    for await (const read of reads) {
      onFirstRead();
      for (const sdkRecord of read.records) {
        const result = deaggregate(fromSdkRecord(sdkRecord), { hashKeyRange: range });
        if (result.status === 'dropped') {
          this.#dropped++;
          continue;
        }
        for (const record of result.records) {
          if (this.#printed >= this.#limit) break;
          this.#context.io.out(formatRecord(shardId, record, this.#format));
          this.#printed++;
        }
        if (this.#printed >= this.#limit) {
          this.#stop.abort();
          return;
        }
      }
    }
  }
}

function isInvalidArgument(error: unknown): boolean {
  return error instanceof Error && error.name === 'InvalidArgumentException';
}

/** `kinesis-kit tail` */
export const tailCommand: Command = {
  path: ['tail'],
  summary: 'print the records of a stream, unpacking KPL aggregates into their user records',
  synopsis: 'tail <stream> [--from P] [--shard S] [--follow] [--limit N] [--format text|json|data]',
  help: `Reads every shard (or --shard) and prints each user record. KPL aggregates are unpacked, as a KCL
consumer would see them (the AWS CLI shows them as opaque base64); an aggregate holding records outside its
shard's range after a reshard is skipped, as the KCL does. Shards are polled as the KCL polls them: one
GetRecords per second once caught up, five per second while behind, throttling answered with a jittered
backoff, and a call with no answer within 10 s retried.

Options:
  --from P          trim-horizon (default), latest, a time (ISO 8601, or 10m / 2h / 30s ago) or a sequence
                    number (read from that record on the shard holding it)
  --shard S         one shard only (shardId-000000000003 or 3)
  --follow, -f      keep reading new records, and the children of a reshard, until Ctrl-C; stderr says
                    "# following <stream>" once every shard is being read
  --limit N         stop after N user records
  --format F        text (default: shard, sequence/sub-sequence, partition key, data), data (the data alone,
                    one per line) or json (one object per line; same as --json). Binary data is base64.

Examples:
  kinesis-kit tail orders --from 10m
  kinesis-kit tail orders --from latest --follow --format data`,
  options: {
    from: { type: 'string' },
    shard: { type: 'string' },
    follow: { type: 'boolean', short: 'f' },
    limit: { type: 'string' },
    format: { type: 'string' },
  },
  async run(context, values, positionals) {
    const [streamName, ...extra] = positionals;
    if (streamName === undefined) throw new UsageError('missing <stream>');
    if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    const position = parseStartPosition(stringOption(values, 'from') ?? 'trim-horizon');
    const rawFormat = stringOption(values, 'format') ?? (context.options.json ? 'json' : 'text');
    if (rawFormat !== 'text' && rawFormat !== 'json' && rawFormat !== 'data') {
      throw new UsageError(`--format must be text, json or data, got ${JSON.stringify(rawFormat)}`);
    }
    const limit = integerOption(values, 'limit', Number.MAX_SAFE_INTEGER, 1, Number.MAX_SAFE_INTEGER);
    const rawShard = stringOption(values, 'shard');
    const onlyShard = rawShard === undefined ? undefined : parseShardId(rawShard);
    try {
      const all = await listShards(context.kinesis(), { streamName, include: 'all', signal: context.io.signal });
      const shards = onlyShard === undefined ? all : all.filter((shard) => shard.ShardId === onlyShard);
      if (shards.length === 0) throw new CliError(`${streamName} has no shard ${onlyShard}`, EXIT.notFound);
      await new Tail(context, streamName, rawFormat, booleanOption(values, 'follow'), limit).run(
        shards,
        position,
        onlyShard,
      );
    } catch (error) {
      throw toCliError(error, 'tail');
    }
    return EXIT.ok;
  },
};
