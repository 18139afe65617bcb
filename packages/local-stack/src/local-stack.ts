import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { createDynamoDBClient, createKinesisClient, LOCAL_REGION, type LocalClientOptions } from './clients.js';
import { startDynalite } from './dynalite-server.js';
import type { EmulatorServer } from './emulator-server.js';
import { startKinesalite } from './kinesalite-server.js';
import { startKinesisMock } from './kinesis-mock-server.js';

/** Which Kinesis emulator to run. */
export type KinesisEmulator = 'kinesis-mock' | 'kinesalite';

/** Options of {@link startLocalStack}. */
export interface LocalStackOptions {
  /**
   * `kinesis-mock` (a child process; faithful: ChildShards, ListShards paging and filters, UpdateShardCount,
   * consumers) or `kinesalite` (in process; about ten times faster, fewer APIs).
   * @defaultValue `kinesis-mock`
   */
  kinesis?: KinesisEmulator;
  /** Port for the Kinesis emulator on 127.0.0.1. @defaultValue a free port */
  kinesisPort?: number;
  /** Port for the DynamoDB emulator on 127.0.0.1. @defaultValue a free port */
  dynamoDBPort?: number;
  /** Region the clients sign for. @defaultValue `us-east-1` */
  region?: string;
  /** How long streams and tables stay CREATING / UPDATING / DELETING, in ms. @defaultValue 10 */
  statusDelayMs?: number;
}

/** Options of a {@link LocalStack}'s client factories. */
export type StackClientOptions = Pick<LocalClientOptions, 'maxAttempts' | 'maxSockets'>;

/** A running Kinesis + DynamoDB emulator pair. */
export interface LocalStack {
  readonly kinesisEmulator: KinesisEmulator;
  readonly kinesisEndpoint: string;
  readonly dynamoDBEndpoint: string;
  readonly region: string;
  /** A new Kinesis client for this stack; destroyed by {@link LocalStack.stop}. */
  kinesisClient(options?: StackClientOptions): KinesisClient;
  /** A new DynamoDB client for this stack; destroyed by {@link LocalStack.stop}. */
  dynamoDBClient(options?: StackClientOptions): DynamoDBClient;
  /** Destroys the clients it handed out and stops both emulators, even if one step fails. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a Kinesis emulator and a DynamoDB emulator (dynalite) on free ports of 127.0.0.1 — never on other
 * interfaces — with short status delays, and returns their endpoints and client factories.
 *
 * @example
 * ```ts
 * const stack = await startLocalStack({ kinesis: 'kinesalite' });
 * try {
 *   const kinesis = stack.kinesisClient();
 *   // ...
 * } finally {
 *   await stack.stop();
 * }
 * ```
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const kinesisEmulator = options.kinesis ?? 'kinesis-mock';
  const region = options.region ?? LOCAL_REGION;
  const statusDelayMs = options.statusDelayMs ?? 10;
  const startKinesis = () =>
    kinesisEmulator === 'kinesalite'
      ? startKinesalite({ port: options.kinesisPort, statusDelayMs })
      : startKinesisMock({ port: options.kinesisPort, statusDelayMs, region });

  const started = await Promise.allSettled([
    startKinesis(),
    startDynalite({ port: options.dynamoDBPort, statusDelayMs }),
  ]);
  const servers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = started.find((result) => result.status === 'rejected');
  if (failure) {
    await stopAll(servers);
    throw failure.reason;
  }
  const [kinesis, dynamo] = servers as [EmulatorServer, EmulatorServer];

  const clients: { destroy(): void }[] = [];
  const track = <T extends { destroy(): void }>(client: T): T => {
    clients.push(client);
    return client;
  };
  let stopped: Promise<void> | undefined;
  return {
    kinesisEmulator,
    kinesisEndpoint: kinesis.endpoint,
    dynamoDBEndpoint: dynamo.endpoint,
    region,
    kinesisClient: (clientOptions = {}) =>
      track(createKinesisClient({ ...clientOptions, endpoint: kinesis.endpoint, region })),
    dynamoDBClient: (clientOptions = {}) =>
      track(createDynamoDBClient({ ...clientOptions, endpoint: dynamo.endpoint, region })),
    stop() {
      stopped ??= (async () => {
        for (const client of clients.splice(0)) client.destroy();
        await stopAll([kinesis, dynamo]);
      })();
      return stopped;
    },
  };
}

/** Stops every server, then reports every failure together. */
export async function stopAll(servers: readonly EmulatorServer[]): Promise<void> {
  const results = await Promise.allSettled(servers.map((server) => server.stop()));
  const errors = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, 'Stopping the local stack failed');
}
