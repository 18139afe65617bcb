import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { KinesisProducer, type UserRecordResult } from '@kinesis-kit/producer';
import { CliError, EXIT, UsageError } from '../cli-error.js';
import { booleanOption, type Command, stringOption } from '../command.js';
import { formatTable, jsonLine } from '../format.js';
import { readLines } from '../input-lines.js';

/** One line of input and what became of it. */
interface PutOutcome {
  readonly line: number;
  readonly partitionKey: string;
  readonly result?: UserRecordResult;
  readonly error?: Error;
}

/** `kinesis-kit put` */
export const putCommand: Command = {
  path: ['put'],
  summary: 'put records through KinesisProducer (KPL aggregation on), reporting shard and sequence numbers',
  synopsis: 'put <stream> [data ...] [--file F] [--partition-key K] [--explicit-hash-key H] [--no-aggregation]',
  help: `Each argument is one record; without arguments, each line of --file (or of stdin) is one record.
Records go through KinesisProducer exactly as an application's would: records bound for one shard are packed
into KPL aggregates (which the KCL, kinesis-kit tail and @kinesis-kit/consumer unpack), collected into
PutRecords calls and retried until their time-to-live.

Options:
  --file F                read records from F, one per line ("-" for stdin)
  --partition-key K       partition key of every record (default: a random key per record, which spreads them)
  --explicit-hash-key H   explicit hash key (a decimal 0 … 2^128−1) of every record
  --no-aggregation        put each record as its own Kinesis record

Output: one row per record — input line, partition key, shard, sequence number and sub-sequence number (the
record's index inside its aggregate). Exit code 1 if any record failed.

Examples:
  kinesis-kit put orders '{"id":1}' '{"id":2}'
  seq 1 1000 | kinesis-kit put orders --json`,
  options: {
    file: { type: 'string' },
    'partition-key': { type: 'string' },
    'explicit-hash-key': { type: 'string' },
    'no-aggregation': { type: 'boolean' },
  },
  async run(context, values, positionals) {
    const [streamName, ...data] = positionals;
    if (streamName === undefined) throw new UsageError('missing <stream>');
    const file = stringOption(values, 'file');
    if (file !== undefined && data.length > 0)
      throw new UsageError('give records as arguments or with --file, not both');
    const fixedKey = stringOption(values, 'partition-key');
    const explicitHashKey = stringOption(values, 'explicit-hash-key');

    const producer = new KinesisProducer({
      kinesisClient: context.newKinesisClient(1),
      aggregationEnabled: !booleanOption(values, 'no-aggregation'),
      // No CloudWatch for a one-off command; records wait at most 50 ms for company.
      metricsLevel: 'none',
      recordMaxBufferedTime: 50,
    });
    const outcomes: Promise<PutOutcome>[] = [];
    try {
      const lines =
        data.length > 0
          ? toAsync(data)
          : readLines(file === undefined || file === '-' ? context.io.stdin : createReadStream(file));
      if (data.length === 0 && file === undefined && (context.io.stdin as { isTTY?: boolean }).isTTY === true) {
        context.io.err('# reading records from the terminal, one per line; end with Ctrl-D');
      }
      let line = 0;
      for await (const record of lines) {
        line++;
        const partitionKey = fixedKey ?? randomUUID();
        await producer.waitForCapacity({ signal: context.io.signal });
        const n = line;
        outcomes.push(
          producer.addUserRecord(streamName, partitionKey, record, explicitHashKey).then(
            (result) => ({ line: n, partitionKey, result }),
            (error: unknown) => ({
              line: n,
              partitionKey,
              error: error instanceof Error ? error : new Error(String(error)),
            }),
          ),
        );
      }
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT')
        throw new CliError(`cannot read ${file}: no such file`, EXIT.notFound);
      throw error;
    } finally {
      await producer.flushSync().catch(() => {});
    }
    const settled = await Promise.all(outcomes);
    await producer.destroy();
    if (settled.length === 0) throw new UsageError('no records: give them as arguments, with --file or on stdin');

    const failed = settled.filter((outcome) => outcome.error !== undefined);
    if (context.options.json) {
      for (const o of settled) {
        context.io.out(
          jsonLine(
            o.result === undefined
              ? { line: o.line, partitionKey: o.partitionKey, error: o.error?.message, code: codeOf(o.error) }
              : {
                  line: o.line,
                  partitionKey: o.partitionKey,
                  shardId: o.result.shardId,
                  sequenceNumber: o.result.sequenceNumber,
                  subSequenceNumber: o.result.subSequenceNumber,
                },
          ),
        );
      }
    } else {
      const put = settled.filter((o) => o.result !== undefined);
      if (put.length > 0) {
        context.io.out(
          formatTable(
            ['line', 'partition key', 'shard', 'sequence number', 'sub'],
            put.map((o) => [
              `${o.line}`,
              o.partitionKey,
              o.result?.shardId ?? '',
              o.result?.sequenceNumber ?? '',
              `${o.result?.subSequenceNumber ?? ''}`,
            ]),
          ),
        );
      }
      for (const o of failed) context.io.err(`line ${o.line}: ${o.error?.message ?? 'failed'}`);
    }
    const kinesisRecords = new Set(settled.flatMap((o) => (o.result === undefined ? [] : [o.result.sequenceNumber])))
      .size;
    context.io.err(
      `put ${settled.length - failed.length} of ${settled.length} records in ${kinesisRecords} Kinesis record${kinesisRecords === 1 ? '' : 's'}`,
    );
    if (failed.length === 0) return EXIT.ok;
    // Records the producer refused to send (bad key, too large) are a usage mistake, not a service failure.
    if (failed.length === settled.length && failed.every((o) => o.error?.name === 'ValidationError')) {
      throw new UsageError(failed[0]?.error?.message ?? 'invalid records');
    }
    // A stream that does not exist fails every record the same way: say so with its own exit code.
    if (failed.length === settled.length && failed.every((o) => codeOf(o.error) === 'ResourceNotFoundException')) {
      throw new CliError(`stream ${streamName} not found`, EXIT.notFound);
    }
    return EXIT.failure;
  },
};

function codeOf(error: Error | undefined): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

async function* toAsync(items: readonly string[]): AsyncGenerator<string> {
  yield* items;
}
