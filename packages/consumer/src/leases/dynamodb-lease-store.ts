import {
  type AttributeValue,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
  ScanCommand,
  type ScanCommandOutput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { type Clock, callWithTimeout, KinesisKitError, systemClock } from '@kinesis-kit/core';
import type { CheckpointState } from '../checkpointer.js';
import { DEFAULT_DYNAMO_DB_REQUEST_TIMEOUT } from '../defaults.js';
import type { Lease } from './lease.js';
import { withLease } from './lease.js';
import { itemToLease, LeaseAttribute, type LeaseItem, leaseToItem, type SkipReason } from './lease-serializer.js';
import type { LeaseMetaInfo, LeaseStore, WorkerHeartbeatStore } from './lease-store.js';

/** Options of a {@link DynamoDBLeaseStore}. */
export interface DynamoDBLeaseStoreOptions {
  readonly client: Pick<DynamoDBClient, 'send'>;
  readonly tableName: string;
  /** Strongly consistent reads for scans and gets. @defaultValue false (as the KCL) */
  readonly consistentReads?: boolean;
  /** How long `initialize` waits for the table to become ACTIVE. @defaultValue 600 000 (as the KCL) */
  readonly tableActiveTimeoutMillis?: number;
  /**
   * Longest one DynamoDB call may take before it is abandoned as failed and retried where the caller retries
   * (KCL `dynamoDbRequestTimeout`). @defaultValue 60 000
   */
  readonly requestTimeoutMillis?: number;
  /** @defaultValue the system clock */
  readonly clock?: Clock;
  /** Told about every item skipped because it is not a readable lease. */
  readonly onSkippedItem?: (leaseKey: string | undefined, reason: SkipReason) => void;
  /** Worker heartbeats, kept in a table of their own (see `DynamoDBWorkerHeartbeatStore`). @defaultValue none */
  readonly workerHeartbeats?: WorkerHeartbeatStore;
}

/**
 * The owner index KCL 3.x creates (`LeaseOwnerToLeaseKeyIndex`: hash `leaseOwner`, range `leaseKey`, keys only).
 * Same name and shape, so a table shared with Java KCL 3.x workers has one index, not two.
 */
export const LEASE_OWNER_INDEX_NAME = 'LeaseOwnerToLeaseKeyIndex';

const TABLE_POLL_MIN_MILLIS = 50;
const TABLE_POLL_MAX_MILLIS = 5_000;
const DEFAULT_TABLE_ACTIVE_TIMEOUT_MILLIS = 600_000;

/**
 * The lease table in DynamoDB, item for item what the Java KCL 2.x reads and writes: hash key `leaseKey`
 * (S), on-demand billing, the KCL's attribute names and types, and writes conditional on `leaseCounter`.
 * Updates touch only the attributes they change, so attributes written by other KCL versions survive.
 */
export class DynamoDBLeaseStore implements LeaseStore {
  readonly tableName: string;
  readonly workerHeartbeats: WorkerHeartbeatStore | undefined;
  readonly #client: Pick<DynamoDBClient, 'send'>;
  readonly #consistentRead: boolean;
  readonly #timeoutMillis: number;
  readonly #requestTimeoutMillis: number;
  readonly #clock: Clock;
  readonly #onSkippedItem: ((leaseKey: string | undefined, reason: SkipReason) => void) | undefined;

  constructor(options: DynamoDBLeaseStoreOptions) {
    this.tableName = options.tableName;
    this.#client = options.client;
    this.#consistentRead = options.consistentReads ?? false;
    this.#timeoutMillis = options.tableActiveTimeoutMillis ?? DEFAULT_TABLE_ACTIVE_TIMEOUT_MILLIS;
    this.#requestTimeoutMillis = options.requestTimeoutMillis ?? DEFAULT_DYNAMO_DB_REQUEST_TIMEOUT;
    this.#clock = options.clock ?? systemClock;
    this.#onSkippedItem = options.onSkippedItem;
    this.workerHeartbeats = options.workerHeartbeats;
  }

  async initialize(signal?: AbortSignal): Promise<void> {
    let status = await this.#tableStatus(signal);
    if (status === undefined) {
      try {
        await this.#send(
          'CreateTable',
          (abortSignal) =>
            this.#client.send(
              new CreateTableCommand({
                TableName: this.tableName,
                KeySchema: [{ AttributeName: LeaseAttribute.leaseKey, KeyType: 'HASH' }],
                AttributeDefinitions: [
                  { AttributeName: LeaseAttribute.leaseKey, AttributeType: 'S' },
                  { AttributeName: LeaseAttribute.leaseOwner, AttributeType: 'S' },
                ],
                // Lets each worker find the leases assigned to it with one query (fast hand-over); Java KCL 2.x
                // workers ignore it, KCL 3.x ones use the same index.
                GlobalSecondaryIndexes: [
                  {
                    IndexName: LEASE_OWNER_INDEX_NAME,
                    KeySchema: [
                      { AttributeName: LeaseAttribute.leaseOwner, KeyType: 'HASH' },
                      { AttributeName: LeaseAttribute.leaseKey, KeyType: 'RANGE' },
                    ],
                    Projection: { ProjectionType: 'KEYS_ONLY' },
                  },
                ],
                BillingMode: 'PAY_PER_REQUEST',
              }),
              { abortSignal },
            ),
          signal,
        );
      } catch (error) {
        // Another worker created it between our describe and create: fine, wait for it like for ours.
        if (!hasName(error, 'ResourceInUseException')) throw error;
      }
    }
    const deadline = this.#clock.now() + this.#timeoutMillis;
    let pause = TABLE_POLL_MIN_MILLIS;
    for (;;) {
      status = await this.#tableStatus(signal);
      if (status === 'ACTIVE' || status === 'UPDATING') return;
      if (this.#clock.now() >= deadline) {
        throw new KinesisKitError(
          'LEASE_TABLE_NOT_ACTIVE',
          `Lease table ${this.tableName} is ${status ?? 'missing'} after ${this.#timeoutMillis} ms`,
          { retriable: true },
        );
      }
      await this.#clock.sleep(pause, signal);
      pause = Math.min(pause * 2, TABLE_POLL_MAX_MILLIS);
    }
  }

  async listLeases(signal?: AbortSignal): Promise<Lease[]> {
    const leases: Lease[] = [];
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
        const lease = this.#read(item);
        if (lease !== undefined) leases.push(lease);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && Object.keys(startKey).length > 0);
    return leases;
  }

  async listLeaseKeysOwnedBy(owner: string, signal?: AbortSignal): Promise<string[] | undefined> {
    const keys: string[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      let page: QueryCommandOutput;
      try {
        page = await this.#send(
          'Query',
          (abortSignal) =>
            this.#client.send(
              new QueryCommand({
                TableName: this.tableName,
                IndexName: LEASE_OWNER_INDEX_NAME,
                KeyConditionExpression: '#owner = :owner',
                ExpressionAttributeNames: { '#owner': LeaseAttribute.leaseOwner },
                ExpressionAttributeValues: { ':owner': { S: owner } },
                ExclusiveStartKey: startKey,
              }),
              { abortSignal },
            ),
          signal,
        );
      } catch (error) {
        if (isMissingIndex(error)) return undefined;
        throw error;
      }
      for (const item of page.Items ?? []) {
        const key = item[LeaseAttribute.leaseKey]?.S;
        if (key !== undefined) keys.push(key);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && Object.keys(startKey).length > 0);
    return keys;
  }

  async getLease(leaseKey: string, signal?: AbortSignal): Promise<Lease | undefined> {
    const { Item } = await this.#send(
      'GetItem',
      (abortSignal) =>
        this.#client.send(
          new GetItemCommand({ TableName: this.tableName, Key: keyOf(leaseKey), ConsistentRead: this.#consistentRead }),
          { abortSignal },
        ),
      signal,
    );
    return Item === undefined ? undefined : this.#read(Item);
  }

  async createLeaseIfNotExists(lease: Lease, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.#send(
        'PutItem',
        (abortSignal) =>
          this.#client.send(
            new PutItemCommand({
              TableName: this.tableName,
              Item: leaseToItem(lease),
              ConditionExpression: 'attribute_not_exists(#key)',
              ExpressionAttributeNames: { '#key': LeaseAttribute.leaseKey },
            }),
            { abortSignal },
          ),
        signal,
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  async renewLease(lease: Lease, signal?: AbortSignal): Promise<Lease | undefined> {
    const renewed = await this.#conditionalUpdate(lease, new UpdateBuilder(), signal);
    if (renewed !== undefined) return renewed;
    // The KCL's "spurious retry" check: our first attempt may have succeeded with its reply lost, and the
    // SDK's retry then failed the condition. If the item shows exactly our bump, the renewal worked.
    const current = await this.#getConsistent(lease.leaseKey, signal);
    if (
      current !== undefined &&
      current.leaseOwner === lease.leaseOwner &&
      current.leaseCounter === lease.leaseCounter + 1
    ) {
      return current;
    }
    return undefined;
  }

  takeLease(lease: Lease, owner: string, signal?: AbortSignal): Promise<Lease | undefined> {
    const update = new UpdateBuilder().set(LeaseAttribute.leaseOwner, { S: owner });
    const switched = lease.leaseOwner !== undefined && lease.leaseOwner !== owner;
    if (switched) update.add(LeaseAttribute.ownerSwitchesSinceCheckpoint, { N: '1' });
    return this.#conditionalUpdate(lease, update, signal, {
      leaseOwner: owner,
      ownerSwitchesSinceCheckpoint: lease.ownerSwitchesSinceCheckpoint + (switched ? 1 : 0),
    });
  }

  releaseLease(lease: Lease, signal?: AbortSignal): Promise<Lease | undefined> {
    return this.#conditionalUpdate(lease, new UpdateBuilder().remove(LeaseAttribute.leaseOwner), signal, {
      leaseOwner: undefined,
    });
  }

  updateCheckpoint(lease: Lease, state: CheckpointState, signal?: AbortSignal): Promise<Lease | undefined> {
    const update = new UpdateBuilder()
      .set(LeaseAttribute.checkpoint, { S: state.checkpoint.sequenceNumber })
      .set(LeaseAttribute.checkpointSubSequenceNumber, { N: String(state.checkpoint.subSequenceNumber) });
    // Only a full checkpoint resets the owner-switch count; a prepared one (pending set) leaves it, as the KCL.
    const full = state.pendingCheckpoint === undefined;
    if (full) update.set(LeaseAttribute.ownerSwitchesSinceCheckpoint, { N: '0' });
    if (state.pendingCheckpoint === undefined) {
      update
        .remove(LeaseAttribute.pendingCheckpoint)
        .remove(LeaseAttribute.pendingCheckpointSubSequenceNumber)
        .remove(LeaseAttribute.pendingCheckpointState);
    } else {
      update
        .set(LeaseAttribute.pendingCheckpoint, { S: state.pendingCheckpoint.sequenceNumber })
        .set(LeaseAttribute.pendingCheckpointSubSequenceNumber, {
          N: String(state.pendingCheckpoint.subSequenceNumber),
        });
      if (state.pendingCheckpointState === undefined) update.remove(LeaseAttribute.pendingCheckpointState);
      else update.set(LeaseAttribute.pendingCheckpointState, { B: state.pendingCheckpointState });
    }
    // As the KCL's updateLease: child ids and hash range known in memory are written along.
    if (lease.childShardIds.length > 0) update.set(LeaseAttribute.childShardIds, { SS: [...lease.childShardIds] });
    if (lease.hashKeyRange !== undefined) {
      update
        .set(LeaseAttribute.startingHashKey, { S: lease.hashKeyRange.startingHashKey })
        .set(LeaseAttribute.endingHashKey, { S: lease.hashKeyRange.endingHashKey });
    }
    return this.#conditionalUpdate(lease, update, signal, {
      checkpoint: state.checkpoint,
      pendingCheckpoint: state.pendingCheckpoint,
      pendingCheckpointState: state.pendingCheckpoint === undefined ? undefined : state.pendingCheckpointState,
      ownerSwitchesSinceCheckpoint: full ? 0 : lease.ownerSwitchesSinceCheckpoint,
    });
  }

  async updateLeaseMetaInfo(leaseKey: string, info: LeaseMetaInfo, signal?: AbortSignal): Promise<boolean> {
    const update = new UpdateBuilder();
    if (info.childShardIds !== undefined && info.childShardIds.length > 0) {
      update.set(LeaseAttribute.childShardIds, { SS: [...info.childShardIds] });
    }
    if (info.hashKeyRange !== undefined) {
      update
        .set(LeaseAttribute.startingHashKey, { S: info.hashKeyRange.startingHashKey })
        .set(LeaseAttribute.endingHashKey, { S: info.hashKeyRange.endingHashKey });
    }
    if (update.isEmpty) return true;
    return this.#updateIfConditionHolds(
      {
        TableName: this.tableName,
        Key: keyOf(leaseKey),
        UpdateExpression: update.expression,
        ConditionExpression: 'attribute_exists(#key)',
        ExpressionAttributeNames: { ...update.names, '#key': LeaseAttribute.leaseKey },
        ExpressionAttributeValues: update.values,
      },
      signal,
    );
  }

  async deleteLease(leaseKey: string, signal?: AbortSignal): Promise<void> {
    await this.#send(
      'DeleteItem',
      (abortSignal) =>
        this.#client.send(new DeleteItemCommand({ TableName: this.tableName, Key: keyOf(leaseKey) }), { abortSignal }),
      signal,
    );
  }

  /**
   * Applies `update` plus `leaseCounter = expected + 1`, on condition that `leaseCounter = expected`, and
   * returns the lease as it now is (the in-memory copy with `changes`), or `undefined` if the condition failed.
   */
  async #conditionalUpdate(
    lease: Lease,
    update: UpdateBuilder,
    signal: AbortSignal | undefined,
    changes: Partial<Lease> = {},
  ): Promise<Lease | undefined> {
    const next = lease.leaseCounter + 1;
    update.set(LeaseAttribute.leaseCounter, { N: String(next) });
    const updated = await this.#updateIfConditionHolds(
      {
        TableName: this.tableName,
        Key: keyOf(lease.leaseKey),
        UpdateExpression: update.expression,
        ConditionExpression: '#counter = :expectedCounter',
        ExpressionAttributeNames: { ...update.names, '#counter': LeaseAttribute.leaseCounter },
        ExpressionAttributeValues: { ...update.values, ':expectedCounter': { N: String(lease.leaseCounter) } },
      },
      signal,
    );
    if (!updated) return undefined;
    return withLease(lease, { ...changes, leaseCounter: next });
  }

  /** An UpdateItem whose condition may fail: returns whether it held (and so the update was made). */
  async #updateIfConditionHolds(input: UpdateItemCommandInput, signal: AbortSignal | undefined): Promise<boolean> {
    try {
      await this.#send(
        'UpdateItem',
        (abortSignal) => this.#client.send(new UpdateItemCommand(input), { abortSignal }),
        signal,
      );
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  async #getConsistent(leaseKey: string, signal: AbortSignal | undefined): Promise<Lease | undefined> {
    const { Item } = await this.#send(
      'GetItem',
      (abortSignal) =>
        this.#client.send(
          new GetItemCommand({ TableName: this.tableName, Key: keyOf(leaseKey), ConsistentRead: true }),
          { abortSignal },
        ),
      signal,
    );
    return Item === undefined ? undefined : this.#read(Item);
  }

  /** One DynamoDB call, abandoned after the request timeout: the SDK sets none, and a hung call would stall renewals. */
  #send<T>(
    operation: string,
    call: (abortSignal: AbortSignal) => Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    return callWithTimeout(call, {
      operation,
      timeoutMs: this.#requestTimeoutMillis,
      clock: this.#clock,
      signal,
    });
  }

  #read(item: LeaseItem): Lease | undefined {
    const lease = itemToLease(item);
    if (typeof lease === 'string') {
      this.#onSkippedItem?.(item[LeaseAttribute.leaseKey]?.S, lease);
      return undefined;
    }
    return lease;
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

/** Collects SET / ADD / REMOVE clauses with placeholder names, so attribute names never clash with reserved words. */
class UpdateBuilder {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, AttributeValue> = {};
  readonly #sets: string[] = [];
  readonly #adds: string[] = [];
  readonly #removes: string[] = [];
  #n = 0;

  set(attribute: string, value: AttributeValue): this {
    const [name, placeholder] = this.#placeholders(attribute);
    this.values[placeholder] = value;
    this.#sets.push(`${name} = ${placeholder}`);
    return this;
  }

  add(attribute: string, value: AttributeValue): this {
    const [name, placeholder] = this.#placeholders(attribute);
    this.values[placeholder] = value;
    this.#adds.push(`${name} ${placeholder}`);
    return this;
  }

  remove(attribute: string): this {
    const [name] = this.#placeholders(attribute);
    this.#removes.push(name);
    return this;
  }

  get isEmpty(): boolean {
    return this.#sets.length + this.#adds.length + this.#removes.length === 0;
  }

  get expression(): string {
    const parts: string[] = [];
    if (this.#sets.length > 0) parts.push(`SET ${this.#sets.join(', ')}`);
    if (this.#adds.length > 0) parts.push(`ADD ${this.#adds.join(', ')}`);
    if (this.#removes.length > 0) parts.push(`REMOVE ${this.#removes.join(', ')}`);
    return parts.join(' ');
  }

  #placeholders(attribute: string): [string, string] {
    const i = this.#n++;
    this.names[`#a${i}`] = attribute;
    return [`#a${i}`, `:v${i}`];
  }
}

function keyOf(leaseKey: string): Record<string, AttributeValue> {
  return { [LeaseAttribute.leaseKey]: { S: leaseKey } };
}

function hasName(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}

/**
 * A query of an index the table does not have: DynamoDB answers `ValidationException` ("The table does not have
 * the specified index"); the KCL also treats `ResourceNotFoundException` so (an index still being created).
 */
function isMissingIndex(error: unknown): boolean {
  return (
    hasName(error, 'ResourceNotFoundException') ||
    (hasName(error, 'ValidationException') && error instanceof Error && /index/i.test(error.message))
  );
}

function isConditionalFailure(error: unknown): boolean {
  return hasName(error, 'ConditionalCheckFailedException');
}
