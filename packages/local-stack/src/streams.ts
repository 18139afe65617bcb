import { randomBytes } from 'node:crypto';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-kinesis';

/** A name no other test run will use: `prefix-<time>-<random>`, valid for streams and tables. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** Options of {@link createStreamAndWait}. */
export interface CreateStreamOptions {
  streamName: string;
  shardCount: number;
  /** How long to wait for ACTIVE. @defaultValue 30000 */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Creates a provisioned stream and resolves once it is ACTIVE. */
export async function createStreamAndWait(
  client: Pick<KinesisClient, 'send'>,
  options: CreateStreamOptions,
): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: options.streamName, ShardCount: options.shardCount }), {
    abortSignal: options.signal,
  });
  await waitForStreamActive(client, options);
}

/** Resolves once the stream is ACTIVE (after creation, a split, a merge or a resize). */
export async function waitForStreamActive(
  client: Pick<KinesisClient, 'send'>,
  options: { streamName: string; timeoutMs?: number; signal?: AbortSignal },
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    options.signal?.throwIfAborted();
    const { StreamDescriptionSummary } = await client.send(
      new DescribeStreamSummaryCommand({ StreamName: options.streamName }),
      { abortSignal: options.signal },
    );
    const status = StreamDescriptionSummary?.StreamStatus;
    if (status === 'ACTIVE') return;
    if (Date.now() > deadline) {
      throw new Error(`Stream ${options.streamName} is still ${status} after ${options.timeoutMs ?? 30_000} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Deletes a stream if it exists; for test clean-up. */
export async function deleteStreamIfExists(client: Pick<KinesisClient, 'send'>, streamName: string): Promise<void> {
  try {
    await client.send(new DeleteStreamCommand({ StreamName: streamName, EnforceConsumerDeletion: true }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
}
