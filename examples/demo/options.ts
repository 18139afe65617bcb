import { parseArgs } from 'node:util';

/** What one demo run does; every field has a flag. */
export interface DemoOptions {
  /** Shards the stream starts with (the demo splits one and merges two, so at least 3). */
  readonly shards: number;
  /** How long the producer runs, in seconds. */
  readonly durationSeconds: number;
  /** User records per second the producer adds. */
  readonly rate: number;
  /** Total user records; when set, the rate is derived from it and the duration. */
  readonly records: number | undefined;
  /** Bytes of data per user record. */
  readonly recordSize: number;
  /** Print plain lines even on a terminal. */
  readonly plain: boolean;
}

export const DEMO_USAGE = `Usage: pnpm demo [options]

Runs the whole system on the embedded local stack (kinesalite + dynalite, in process, on 127.0.0.1):
a KinesisProducer writes at a steady rate while two KinesisConsumer workers read, the stream is resharded,
and one worker is stopped; the run ends with a verification that no record was lost.

Options:
  --shards N         shards the stream starts with (≥ 3)            default 4
  --duration S       seconds the producer runs (≥ 4)                default 40
  --rate N           user records per second                         default 500
  --records N        total user records (sets the rate from --duration)
  --record-size B    bytes of data per record (≥ 16)                 default 100
  --plain            periodic plain lines instead of a live display (the default when stdout is not a TTY)
  -h, --help         this help

Exit codes: 0 every record was consumed; 1 records were lost or the run failed; 2 bad arguments.`;

/** Parses the demo's flags; throws an Error whose message names the bad flag. */
export function parseDemoOptions(args: readonly string[]): DemoOptions | 'help' {
  const { values } = parseArgs({
    args: [...args],
    options: {
      shards: { type: 'string' },
      duration: { type: 'string' },
      rate: { type: 'string' },
      records: { type: 'string' },
      'record-size': { type: 'string' },
      plain: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const shards = integer('--shards', values.shards, 4, 3, 64);
  const durationSeconds = integer('--duration', values.duration, 40, 4, 3600);
  const records = values.records === undefined ? undefined : integer('--records', values.records, 0, 1, 10_000_000);
  const rate =
    records === undefined ? integer('--rate', values.rate, 500, 1, 50_000) : Math.ceil(records / durationSeconds);
  const recordSize = integer('--record-size', values['record-size'], 100, 16, 1_000_000);
  return { shards, durationSeconds, rate, records, recordSize, plain: values.plain ?? false };
}

function integer(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${flag} must be a whole number from ${min} to ${max}, got ${raw}`);
  }
  return value;
}
