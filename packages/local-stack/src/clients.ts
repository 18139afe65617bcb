import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import {
  createDynamoDBClient as createCoreDynamoDBClient,
  createKinesisClient as createCoreKinesisClient,
  type SdkClientOptions,
} from '@kinesis-kit/core';

/** The region local clients sign for; the emulators accept any. */
export const LOCAL_REGION = 'us-east-1';

/** Credentials the emulators accept: none of them verifies signatures. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'AKIDLOCALSTACK', secretAccessKey: 'local-stack-secret' } as const;

/** Options of {@link createKinesisClient} and {@link createDynamoDBClient}. */
export interface LocalClientOptions {
  /** The emulator's endpoint, e.g. `http://127.0.0.1:4567`. */
  endpoint: string;
  /** @defaultValue `us-east-1` */
  region?: string;
  /** Most sockets kept open to the emulator. @defaultValue 64 */
  maxSockets?: number;
  /**
   * Attempts the SDK makes per call, the first included. Give a `KinesisProducer` a client with 1: it retries
   * per record, and an SDK retry of a whole PutRecords call would write again the records that had succeeded.
   * @defaultValue the SDK's default (3)
   */
  maxAttempts?: number;
}

function coreOptions(options: LocalClientOptions): SdkClientOptions {
  return {
    region: options.region ?? LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    kinesisEndpoint: options.endpoint,
    dynamoDbEndpoint: options.endpoint,
    maxSockets: options.maxSockets ?? 64,
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
  };
}

/** A Kinesis client for a local emulator: core's HTTP/1.1 keep-alive client with dummy credentials. */
export function createKinesisClient(options: LocalClientOptions): KinesisClient {
  return createCoreKinesisClient(coreOptions(options));
}

/** A DynamoDB client for a local emulator: core's HTTP/1.1 keep-alive client with dummy credentials. */
export function createDynamoDBClient(options: LocalClientOptions): DynamoDBClient {
  return createCoreDynamoDBClient(coreOptions(options));
}
