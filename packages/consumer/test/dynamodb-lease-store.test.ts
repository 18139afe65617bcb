import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import { createDynamoDBClient, uniqueName } from '@kinesis-kit/local-stack';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ExtendedSequenceNumber } from '../src/extended-sequence-number.js';
import { DynamoDBLeaseStore } from '../src/leases/dynamodb-lease-store.js';
import { newLease } from '../src/leases/lease.js';
import { describeLeaseStoreBehaviour } from './support/lease-store-behaviour.js';

let dynamo: DynamoDBClient;
const tables: string[] = [];

beforeAll(() => {
  dynamo = createDynamoDBClient({ endpoint: inject('dynamoDBEndpoint') });
});

afterAll(async () => {
  await Promise.allSettled(tables.map((TableName) => dynamo.send(new DeleteTableCommand({ TableName }))));
  dynamo.destroy();
});

function freshStore(): DynamoDBLeaseStore {
  const tableName = uniqueName('leases');
  tables.push(tableName);
  return new DynamoDBLeaseStore({ client: dynamo, tableName });
}

describeLeaseStoreBehaviour('DynamoDB (dynalite)', async () => freshStore());

describe('DynamoDB lease table', () => {
  it('is created on demand with the KCL key schema, the KCL 3.x owner index and on-demand billing, and initialize is repeatable', async () => {
    const store = freshStore();
    await store.initialize();
    await store.initialize();
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: store.tableName }));
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'leaseKey', KeyType: 'HASH' }]);
    expect(Table?.AttributeDefinitions).toEqual([
      { AttributeName: 'leaseKey', AttributeType: 'S' },
      { AttributeName: 'leaseOwner', AttributeType: 'S' },
    ]);
    expect(Table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.KeySchema, i.Projection])).toEqual([
      [
        'LeaseOwnerToLeaseKeyIndex',
        [
          { AttributeName: 'leaseOwner', KeyType: 'HASH' },
          { AttributeName: 'leaseKey', KeyType: 'RANGE' },
        ],
        { ProjectionType: 'KEYS_ONLY' },
      ],
    ]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Table?.TableStatus).toBe('ACTIVE');
  });

  it('answers owner queries with undefined on a table without the owner index (one a Java KCL 2.x made)', async () => {
    const store = freshStore();
    await dynamo.send(
      new CreateTableCommand({
        TableName: store.tableName,
        KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await store.initialize();
    await store.createLeaseIfNotExists(newLease({ leaseKey: 's-1', checkpoint: ExtendedSequenceNumber.TRIM_HORIZON }));
    expect(await store.listLeaseKeysOwnedBy('w-a')).toBeUndefined();
  });

  it('writes new leases with exactly the KCL 2.x attribute names and types', async () => {
    const store = freshStore();
    await store.initialize();
    await store.createLeaseIfNotExists(
      newLease({
        leaseKey: 'shardId-000000000004',
        checkpoint: ExtendedSequenceNumber.TRIM_HORIZON,
        parentShardIds: ['shardId-000000000001'],
        hashKeyRange: { startingHashKey: '0', endingHashKey: '170141183460469231731687303715884105727' },
      }),
    );
    const { Item } = await dynamo.send(
      new GetItemCommand({ TableName: store.tableName, Key: { leaseKey: { S: 'shardId-000000000004' } } }),
    );
    expect(Item).toEqual({
      leaseKey: { S: 'shardId-000000000004' },
      leaseCounter: { N: '0' },
      ownerSwitchesSinceCheckpoint: { N: '0' },
      checkpoint: { S: 'TRIM_HORIZON' },
      checkpointSubSequenceNumber: { N: '0' },
      parentShardId: { SS: ['shardId-000000000001'] },
      startingHashKey: { S: '0' },
      endingHashKey: { S: '170141183460469231731687303715884105727' },
    });
  });
});
