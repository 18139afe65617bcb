import {
  type AttributeValue,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ScanCommand,
  type ScanCommandOutput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type Clock, callWithTimeout, KinesisKitError, systemClock } from '@kinesis-kit/core';
import { DEFAULT_DYNAMO_DB_REQUEST_TIMEOUT } from '../defaults.js';
import type { WorkerHeartbeatStore } from './lease-store.js';
import type { WorkerHeartbeat } from './worker-heartbeat.js';

/** The heartbeat table's attribute names: the hash key and the counter bumped by every heartbeat. */
export const WorkerHeartbeatAttribute = {
  workerIdentifier: 'workerIdentifier',
  heartbeatCounter: 'heartbeatCounter',
} as const;

/**
 * The heartbeat table of a lease table: `<leaseTableName>-WorkerHeartbeats`. Not the KCL 3.x
 * `<applicationName>-WorkerMetricStats` table: a KCL 3.x worker reads every row of that one as a worker's CPU
 * and throughput report (hash key `wid`), and its leader deletes rows it finds stale, so sharing it would feed
 * it rows it cannot use.
 */
export function workerHeartbeatTableName(leaseTableName: string): string {
  return `${leaseTableName}-WorkerHeartbeats`;
}

/** Options of a {@link DynamoDBWorkerHeartbeatStore}. */
export interface DynamoDBWorkerHeartbeatStoreOptions {
  readonly client: Pick<DynamoDBClient, 'send'>;
  /** The heartbeat table, e.g. {@link workerHeartbeatTableName} of the lease table. */
  readonly tableName: string;
  /** Strongly consistent scans. @defaultValue false (as the lease table's) */
  readonly consistentReads?: boolean;
  /** How long `initialize` waits for the table to become ACTIVE. @defaultValue 600 000 (as the lease table) */
  readonly tableActiveTimeoutMillis?: number;
  /** Longest one DynamoDB call may take before it is abandoned (KCL `dynamoDbRequestTimeout`). @defaultValue 60 000 */
  readonly requestTimeoutMillis?: number;
  /** @defaultValue the system clock */
  readonly clock?: Clock;
  /**
   * Called once when a call is refused for lack of permission (`AccessDeniedException`, e.g. an IAM policy that
   * covers only the lease table). From then on the store is off: heartbeats are not written, the list is empty
   * and balancing counts lease holders only, as the KCL 2.x does. Without it the refusal is thrown.
   */
  readonly onAccessDenied?: (error: unknown) => void;
}

const TABLE_POLL_MIN_MILLIS = 50;
const TABLE_POLL_MAX_MILLIS = 5_000;
const DEFAULT_TABLE_ACTIVE_TIMEOUT_MILLIS = 600_000;

/**
 * Worker heartbeats in a DynamoDB table of their own (never in the lease table, which Java KCL 2.x workers read
 * item for item as leases): hash key `workerIdentifier` (S), a `heartbeatCounter` (N) bumped by an unconditional
 * `ADD` (each worker writes only its own row), on-demand billing. Like the lease store, every call is abandoned
 * after the request timeout and failures (throttling included) reject with the SDK's error for the caller to
 * classify; the taker reports them and balances by lease holders for that round.
 */
export class DynamoDBWorkerHeartbeatStore implements WorkerHeartbeatStore {
  readonly tableName: string;
  readonly #client: Pick<DynamoDBClient, 'send'>;
  readonly #consistentRead: boolean;
  readonly #tableActiveTimeoutMillis: number;
  readonly #requestTimeoutMillis: number;
  readonly #clock: Clock;
  readonly #onAccessDenied: ((error: unknown) => void) | undefined;
  #disabled = false;

  constructor(options: DynamoDBWorkerHeartbeatStoreOptions) {
    this.tableName = options.tableName;
    this.#client = options.client;
    this.#consistentRead = options.consistentReads ?? false;
    this.#tableActiveTimeoutMillis = options.tableActiveTimeoutMillis ?? DEFAULT_TABLE_ACTIVE_TIMEOUT_MILLIS;
    this.#requestTimeoutMillis = options.requestTimeoutMillis ?? DEFAULT_DYNAMO_DB_REQUEST_TIMEOUT;
    this.#clock = options.clock ?? systemClock;
    this.#onAccessDenied = options.onAccessDenied;
  }

  /** Whether a refused permission has switched the store off (see `onAccessDenied`). */
  get disabled(): boolean {
    return this.#disabled;
  }

  /** Creates the table (on demand) if it does not exist and waits until it is ACTIVE, as the lease table. */
  async initialize(signal?: AbortSignal): Promise<void> {
    await this.#unlessDenied(undefined, async () => {
      let status = await this.#tableStatus(signal);
      if (status === undefined) {
        try {
          await this.#send(
            'CreateTable',
            (abortSignal) =>
              this.#client.send(
                new CreateTableCommand({
                  TableName: this.tableName,
                  KeySchema: [{ AttributeName: WorkerHeartbeatAttribute.workerIdentifier, KeyType: 'HASH' }],
                  AttributeDefinitions: [
                    { AttributeName: WorkerHeartbeatAttribute.workerIdentifier, AttributeType: 'S' },
                  ],
                  BillingMode: 'PAY_PER_REQUEST',
                }),
                { abortSignal },
              ),
            signal,
          );
        } catch (error) {
          // Another worker created it between our describe and create: wait for it like for ours.
          if (!hasName(error, 'ResourceInUseException')) throw error;
        }
      }
      const deadline = this.#clock.now() + this.#tableActiveTimeoutMillis;
      let pause = TABLE_POLL_MIN_MILLIS;
      for (;;) {
        status = await this.#tableStatus(signal);
        if (status === 'ACTIVE' || status === 'UPDATING') return;
        if (this.#clock.now() >= deadline) {
          throw new KinesisKitError(
            'HEARTBEAT_TABLE_NOT_ACTIVE',
            `Worker heartbeat table ${this.tableName} is ${status ?? 'missing'} after ${this.#tableActiveTimeoutMillis} ms`,
            { retriable: true },
          );
        }
        await this.#clock.sleep(pause, signal);
        pause = Math.min(pause * 2, TABLE_POLL_MAX_MILLIS);
      }
    });
  }

  async heartbeat(workerIdentifier: string, signal?: AbortSignal): Promise<void> {
    await this.#unlessDenied(undefined, async () => {
      await this.#send(
        'UpdateItem',
        (abortSignal) =>
          this.#client.send(
            new UpdateItemCommand({
              TableName: this.tableName,
              Key: keyOf(workerIdentifier),
              UpdateExpression: 'ADD #counter :one',
              ExpressionAttributeNames: { '#counter': WorkerHeartbeatAttribute.heartbeatCounter },
              ExpressionAttributeValues: { ':one': { N: '1' } },
            }),
            { abortSignal },
          ),
        signal,
      );
    });
  }

  async listHeartbeats(signal?: AbortSignal): Promise<WorkerHeartbeat[]> {
    return this.#unlessDenied<WorkerHeartbeat[]>([], async () => {
      const heartbeats: WorkerHeartbeat[] = [];
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const page: ScanCommandOutput = await this.#send(
          'Scan',
          (abortSignal) =>
            this.#client.send(
              new ScanCommand({
                TableName: this.tableName,
                ConsistentRead: this.#consistentRead,
                ExclusiveStartKey: startKey,
              }),
              { abortSignal },
            ),
          signal,
        );
        for (const item of page.Items ?? []) {
          const heartbeat = itemToHeartbeat(item);
          if (heartbeat !== undefined) heartbeats.push(heartbeat);
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey !== undefined && Object.keys(startKey).length > 0);
      return heartbeats;
    });
  }

  async removeHeartbeat(workerIdentifier: string, signal?: AbortSignal): Promise<void> {
    await this.#unlessDenied(undefined, async () => {
      await this.#send(
        'DeleteItem',
        (abortSignal) =>
          this.#client.send(new DeleteItemCommand({ TableName: this.tableName, Key: keyOf(workerIdentifier) }), {
            abortSignal,
          }),
        signal,
      );
    });
  }

  /** Runs `call` unless the store is off; a refused permission switches it off (once) when `onAccessDenied` is set. */
  async #unlessDenied<T>(off: T, call: () => Promise<T>): Promise<T> {
    if (this.#disabled) return off;
    try {
      return await call();
    } catch (error) {
      if (this.#onAccessDenied === undefined || !isAccessDenied(error)) throw error;
      if (!this.#disabled) {
        this.#disabled = true;
        this.#onAccessDenied(error);
      }
      return off;
    }
  }

  /** One DynamoDB call, abandoned after the request timeout: the SDK sets none, and a hung call would stall a round. */
  #send<T>(
    operation: string,
    call: (abortSignal: AbortSignal) => Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    return callWithTimeout(call, { operation, timeoutMs: this.#requestTimeoutMillis, clock: this.#clock, signal });
  }

  async #tableStatus(signal: AbortSignal | undefined): Promise<string | undefined> {
    try {
      const { Table } = await this.#send(
        'DescribeTable',
        (abortSignal) => this.#client.send(new DescribeTableCommand({ TableName: this.tableName }), { abortSignal }),
        signal,
      );
      return Table?.TableStatus ?? 'UNKNOWN';
    } catch (error) {
      if (hasName(error, 'ResourceNotFoundException')) return undefined;
      throw error;
    }
  }
}

/** A row as a heartbeat, or `undefined` for a row that is not one (no identifier or no numeric counter). */
function itemToHeartbeat(item: Record<string, AttributeValue>): WorkerHeartbeat | undefined {
  const workerIdentifier = item[WorkerHeartbeatAttribute.workerIdentifier]?.S;
  const counter = Number(item[WorkerHeartbeatAttribute.heartbeatCounter]?.N);
  if (workerIdentifier === undefined || !Number.isFinite(counter)) return undefined;
  return { workerIdentifier, heartbeatCounter: counter };
}

function keyOf(workerIdentifier: string): Record<string, AttributeValue> {
  return { [WorkerHeartbeatAttribute.workerIdentifier]: { S: workerIdentifier } };
}

function hasName(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}

function isAccessDenied(error: unknown): boolean {
  return hasName(error, 'AccessDeniedException') || hasName(error, 'AccessDenied');
}
