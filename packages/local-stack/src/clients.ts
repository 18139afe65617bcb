import { Agent } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

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

function http1Handler(options: LocalClientOptions): NodeHttpHandler {
  // HTTP/1.1 keep-alive: the SDK's default Kinesis handler speaks HTTP/2, which kinesalite does not, and
  // opens a session per request against kinesis-mock (several times slower).
  return new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 }) });
}

/** What both clients share: the emulator's endpoint, dummy credentials, HTTP/1.1 keep-alive. */
function localClientConfig(options: LocalClientOptions) {
  return {
    endpoint: options.endpoint,
    region: options.region ?? LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    requestHandler: http1Handler(options),
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
  };
}

/** A Kinesis client for a local emulator: HTTP/1.1 keep-alive, dummy credentials. */
export function createKinesisClient(options: LocalClientOptions): KinesisClient {
  return new KinesisClient(localClientConfig(options));
}

/** A DynamoDB client for a local emulator: HTTP/1.1 keep-alive, dummy credentials. */
export function createDynamoDBClient(options: LocalClientOptions): DynamoDBClient {
  return new DynamoDBClient(localClientConfig(options));
}
