import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ExtendedSequenceNumber } from '../extended-sequence-number.js';
import { DynamoDBLeaseStore } from './dynamodb-lease-store.js';
import { newLease, withLease } from './lease.js';

const dynamo = mockClient(DynamoDBClient);
afterEach(() => dynamo.reset());

const store = () => new DynamoDBLeaseStore({ client: new DynamoDBClient({ region: 'us-east-1' }), tableName: 'app' });
const held = withLease(newLease({ leaseKey: 's-1', checkpoint: ExtendedSequenceNumber.TRIM_HORIZON }), {
  leaseOwner: 'me',
  leaseCounter: 7,
});
const conditionalFailure = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

describe('DynamoDBLeaseStore writes (as the KCL makes them)', () => {
  it('renews with a counter condition and nothing else', async () => {
    dynamo.on(UpdateItemCommand).resolves({});
    expect((await store().renewLease(held))?.leaseCounter).toBe(8);
    const input = dynamo.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe('#counter = :expectedCounter');
    expect(input?.ExpressionAttributeValues?.[':expectedCounter']).toEqual({ N: '7' });
    expect(Object.values(input?.ExpressionAttributeNames ?? {}).sort()).toEqual(['leaseCounter', 'leaseCounter']);
  });

  it('treats a failed condition after a lost reply as success when the item shows exactly our bump (the KCL’s spurious-retry check)', async () => {
    dynamo.on(UpdateItemCommand).rejects(conditionalFailure());
    dynamo.on(GetItemCommand).resolves({
      Item: {
        leaseKey: { S: 's-1' },
        leaseOwner: { S: 'me' },
        leaseCounter: { N: '8' },
        checkpoint: { S: 'TRIM_HORIZON' },
      },
    });
    expect((await store().renewLease(held))?.leaseCounter).toBe(8);
    expect(dynamo.commandCalls(GetItemCommand)[0]?.args[0].input.ConsistentRead).toBe(true);
  });

  it('reports a lost lease when the item moved on otherwise', async () => {
    dynamo.on(UpdateItemCommand).rejects(conditionalFailure());
    dynamo.on(GetItemCommand).resolves({
      Item: {
        leaseKey: { S: 's-1' },
        leaseOwner: { S: 'thief' },
        leaseCounter: { N: '8' },
        checkpoint: { S: 'TRIM_HORIZON' },
      },
    });
    expect(await store().renewLease(held)).toBeUndefined();
  });

  it('passes throttling through unwrapped, for the caller to classify and retry', async () => {
    dynamo
      .on(UpdateItemCommand)
      .rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
    await expect(store().renewLease(held)).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
  });

  it('takes with ADD 1 to ownerSwitchesSinceCheckpoint only when the owner changes', async () => {
    dynamo.on(UpdateItemCommand).resolves({});
    await store().takeLease(held, 'other');
    await store().takeLease(held, 'me');
    const [steal, retake] = dynamo.commandCalls(UpdateItemCommand).map((c) => c.args[0].input.UpdateExpression ?? '');
    expect(steal).toMatch(/ADD #a\d+ :v\d+/);
    expect(retake).not.toMatch(/ADD/);
  });

  it('pages through scans and skips items that are not leases', async () => {
    dynamo
      .on(ScanCommand)
      .resolvesOnce({
        Items: [{ leaseKey: { S: 'a' }, leaseCounter: { N: '1' }, checkpoint: { S: 'LATEST' } }],
        LastEvaluatedKey: { leaseKey: { S: 'a' } },
      })
      .resolvesOnce({
        Items: [
          { leaseKey: { S: 'worker-1' }, entityType: { S: 'WORKER_METRIC_STATS' } },
          { leaseKey: { S: 'b' }, leaseCounter: { N: '2' }, checkpoint: { S: 'not a checkpoint' } },
          {
            leaseKey: { S: 'c' },
            leaseCounter: { N: '3' },
            checkpoint: { S: '123' },
            pendingCheckpointState: { N: '0' },
          },
        ],
      });
    const skipped: string[] = [];
    const s = new DynamoDBLeaseStore({
      client: new DynamoDBClient({ region: 'us-east-1' }),
      tableName: 'app',
      onSkippedItem: (key, reason) => skipped.push(`${key}:${reason}`),
    });
    expect((await s.listLeases()).map((l) => l.leaseKey)).toEqual(['a', 'c']);
    expect(skipped).toEqual(['worker-1:not-a-lease', 'b:unreadable']);
  });
});
