import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { createDynamoDBClient, createKinesisClient, type SdkClientOptions, ValidationError } from '@kinesis-kit/core';
import { UsageError } from './cli-error.js';

/** The command-line flag behind each of core's client options, so a bad value is reported as the user typed it. */
const FLAG_OF_OPTION: Readonly<Record<string, string>> = {
  kinesisEndpoint: '--endpoint',
  dynamoDbEndpoint: '--dynamodb-endpoint',
};

/** Builds a client; a bad endpoint is a usage error naming the flag (exit 2), not a raw `Invalid URL`. */
function built<T>(make: () => T): T {
  try {
    return make();
  } catch (error) {
    const flag =
      error instanceof ValidationError && error.field !== undefined ? FLAG_OF_OPTION[error.field] : undefined;
    if (flag === undefined || !(error instanceof ValidationError) || error.field === undefined) throw error;
    throw new UsageError(error.message.replace(error.field, flag));
  }
}

/** The options every command accepts. */
export interface GlobalOptions {
  readonly region: string | undefined;
  /** Kinesis endpoint; the SDK's `AWS_ENDPOINT_URL_KINESIS` is honoured when this is unset. */
  readonly endpoint: string | undefined;
  /** DynamoDB endpoint (lease tables); `AWS_ENDPOINT_URL_DYNAMODB` is honoured when unset. */
  readonly dynamodbEndpoint: string | undefined;
  readonly profile: string | undefined;
  readonly json: boolean;
}

/** Where a command writes and reads. Tests pass strings in and collect strings out. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  readonly stdin: AsyncIterable<string | Uint8Array>;
  /** Aborts long-running commands (`tail --follow`, `local`); SIGINT does it for the bin. */
  readonly signal?: AbortSignal;
}

/** What a command runs with: the global options, its I/O and lazily made SDK clients. */
export class CommandContext {
  readonly options: GlobalOptions;
  readonly io: CliIo;
  readonly #clients: { destroy(): void }[] = [];
  #kinesis: KinesisClient | undefined;
  #dynamodb: DynamoDBClient | undefined;

  constructor(options: GlobalOptions, io: CliIo) {
    this.options = options;
    this.io = io;
  }

  /** A Kinesis client from the standard credential chain (or `--profile`), over HTTP/1.1. */
  kinesis(): KinesisClient {
    this.#kinesis ??= this.newKinesisClient();
    return this.#kinesis;
  }

  /**
   * A fresh Kinesis client. `maxAttempts: 1` is for the producer, which retries per record: an SDK retry of a
   * whole PutRecords call would duplicate the records that had succeeded.
   */
  newKinesisClient(maxAttempts?: number): KinesisClient {
    const client = built(() =>
      createKinesisClient({ ...this.#common(), ...(maxAttempts === undefined ? {} : { maxAttempts }) }),
    );
    this.#clients.push(client);
    return client;
  }

  dynamodb(): DynamoDBClient {
    let client = this.#dynamodb;
    if (client === undefined) {
      client = built(() => createDynamoDBClient(this.#common()));
      this.#dynamodb = client;
      this.#clients.push(client);
    }
    return client;
  }

  /** Destroys every client made, so no keep-alive socket holds the process open. */
  close(): void {
    for (const client of this.#clients.splice(0)) client.destroy();
  }

  /** Core's HTTP/1.1 keep-alive clients; an endpoint left unset is the SDK's to resolve (`AWS_ENDPOINT_URL_*`). */
  #common(): SdkClientOptions {
    const { region, profile, endpoint, dynamodbEndpoint } = this.options;
    return {
      ...(region === undefined ? {} : { region }),
      ...(profile === undefined ? {} : { profile }),
      ...(endpoint === undefined ? {} : { kinesisEndpoint: endpoint }),
      ...(dynamodbEndpoint === undefined ? {} : { dynamoDbEndpoint: dynamodbEndpoint }),
    };
  }
}
