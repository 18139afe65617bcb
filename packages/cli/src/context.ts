import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

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
    const client = new KinesisClient({ ...this.#common(), endpoint: this.options.endpoint, maxAttempts });
    this.#clients.push(client);
    return client;
  }

  dynamodb(): DynamoDBClient {
    if (this.#dynamodb === undefined) {
      this.#dynamodb = new DynamoDBClient({ ...this.#common(), endpoint: this.options.dynamodbEndpoint });
      this.#clients.push(this.#dynamodb);
    }
    return this.#dynamodb;
  }

  /** Destroys every client made, so no keep-alive socket holds the process open. */
  close(): void {
    for (const client of this.#clients.splice(0)) client.destroy();
  }

  #common() {
    return {
      region: this.options.region,
      profile: this.options.profile,
      // HTTP/1.1 keep-alive: the SDK's default Kinesis handler speaks HTTP/2, which kinesalite does not.
      requestHandler: new NodeHttpHandler({
        httpAgent: new HttpAgent({ keepAlive: true }),
        httpsAgent: new HttpsAgent({ keepAlive: true }),
      }),
    };
  }
}
