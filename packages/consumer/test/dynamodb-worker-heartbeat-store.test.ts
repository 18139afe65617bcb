import { DeleteTableCommand, DescribeTableCommand, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { createDynamoDBClient, uniqueName } from '@kinesis-kit/local-stack';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  DynamoDBWorkerHeartbeatStore,
  workerHeartbeatTableName,
} from '../src/leases/dynamodb-worker-heartbeat-store.js';
import { describeWorkerHeartbeatStoreBehaviour } from './support/worker-heartbeat-store-behaviour.js';

let dynamo: DynamoDBClient;
const tables: string[] = [];

beforeAll(() => {
  dynamo = createDynamoDBClient({ endpoint: inject('dynamoDBEndpoint') });
});

afterAll(async () => {
  await Promise.allSettled(tables.map((TableName) => dynamo.send(new DeleteTableCommand({ TableName }))));
  dynamo.destroy();
});

function freshStore(): DynamoDBWorkerHeartbeatStore {
  const tableName = workerHeartbeatTableName(uniqueName('leases'));
  tables.push(tableName);
  return new DynamoDBWorkerHeartbeatStore({ client: dynamo, tableName });
}

describeWorkerHeartbeatStoreBehaviour('DynamoDB (dynalite)', async () => freshStore());

describe('DynamoDB worker heartbeat table', () => {
  it('is created on demand beside the lease table, keyed by worker, and holds only heartbeat rows', async () => {
    const store = freshStore();
    expect(store.tableName).toMatch(/-WorkerHeartbeats$/);
    await Promise.all([store.initialize(), store.initialize()]);
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: store.tableName }));
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'workerIdentifier', KeyType: 'HASH' }]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Table?.TableStatus).toBe('ACTIVE');
    await store.heartbeat('host-1:abc');
    await store.heartbeat('host-1:abc');
    const { Items } = await dynamo.send(new ScanCommand({ TableName: store.tableName }));
    expect(Items).toEqual([{ workerIdentifier: { S: 'host-1:abc' }, heartbeatCounter: { N: '2' } }]);
  });
});
