import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { createStreamAndWait, type LocalStack, startLocalStack, uniqueName } from '@kinesis-kit/local-stack';

/** Where an example runs: the clients to use and the stream to use them on. */
export interface Target {
  readonly kinesis: KinesisClient;
  readonly dynamodb: DynamoDBClient;
  readonly streamName: string;
  /** The region asked for with `--region` (AWS only). */
  readonly region: string | undefined;
  /** True on the embedded local stack, where the example may create what it needs. */
  readonly local: boolean;
  /** The example's own flags, after the target's. */
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  /** Destroys the clients and stops the local stack, if any. */
  close(): Promise<void>;
}

export const TARGET_USAGE = `Target (default: an embedded local stack with a new stream, nothing to set up):
  --aws                 use AWS with the standard credential chain instead
  --region R            region on AWS
  --stream NAME         the stream (on AWS it must exist)`;

/**
 * The examples run with one command: by default on an embedded kinesalite + dynalite with a fresh stream, or
 * on AWS with `--aws --region R --stream S`. This helper is the only place that knows the difference; the
 * examples themselves use only the Kinesis Kit APIs they demonstrate.
 */
export async function openTarget(
  options: Record<string, { type: 'string' | 'boolean' }>,
  usage: string,
  shardCount = 2,
): Promise<Target> {
  const { values } = parseArgs({
    options: {
      ...options,
      aws: { type: 'boolean' },
      region: { type: 'string' },
      stream: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    console.log(`${usage}\n\n${TARGET_USAGE}`);
    process.exit(0);
  }
  const flat = values as Record<string, string | boolean | undefined>;
  const region = typeof values.region === 'string' ? values.region : undefined;
  const named = typeof values.stream === 'string' ? values.stream : undefined;
  if (values.aws === true) {
    if (named === undefined) throw new Error('--aws needs --stream NAME (an existing stream)');
    const kinesis = new KinesisClient({ region });
    const dynamodb = new DynamoDBClient({ region });
    return {
      kinesis,
      dynamodb,
      streamName: named,
      region,
      local: false,
      values: flat,
      close: async () => {
        kinesis.destroy();
        dynamodb.destroy();
      },
    };
  }
  const stack: LocalStack = await startLocalStack({ kinesis: 'kinesalite' });
  const kinesis = stack.kinesisClient();
  const streamName = named ?? uniqueName('example');
  await createStreamAndWait(kinesis, { streamName, shardCount });
  return {
    kinesis,
    dynamodb: stack.dynamoDBClient(),
    streamName,
    region: undefined,
    local: true,
    values: flat,
    close: () => stack.stop(),
  };
}

/** A whole-number flag, or `fallback`. */
export function intFlag(target: Target, name: string, fallback: number): number {
  const raw = target.values[name];
  if (typeof raw !== 'string') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number, got ${raw}`);
  return value;
}
