import { randomBytes } from 'node:crypto';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  type KinesisClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-kinesis';
import { waitForStreamActive as waitForStreamActiveInCore } from '@kinesis-kit/core';

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

/** How often the local wait asks: the emulators answer in milliseconds and tests should not idle. */
const LOCAL_POLL_MS = 25;

/**
 * Resolves once the stream is ACTIVE (after creation, a split, a merge or a resize): core's
 * `waitForStreamActive` with an emulator's pace (every 25 ms, 30 s at most unless `timeoutMs` says otherwise).
 */
export function waitForStreamActive(
  client: Pick<KinesisClient, 'send'>,
  options: { streamName: string; timeoutMs?: number; signal?: AbortSignal },
): Promise<void> {
  return waitForStreamActiveInCore(client, {
    streamName: options.streamName,
    timeoutMs: options.timeoutMs ?? 30_000,
    pollIntervalMs: LOCAL_POLL_MS,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
}

/** Deletes a stream if it exists; for test clean-up. */
export async function deleteStreamIfExists(client: Pick<KinesisClient, 'send'>, streamName: string): Promise<void> {
  try {
    await client.send(new DeleteStreamCommand({ StreamName: streamName, EnforceConsumerDeletion: true }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
}
