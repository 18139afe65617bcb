import {
  type AttributeValue,
  CreateTableCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { encodeAggregatedRecord } from '@kinesis-kit/core';
import { afterEach, expect, it } from 'vitest';
import { Recorder, recordingProcessor, setupStream } from './support/harness.js';

type Setup = Awaited<ReturnType<typeof setupStream>>;
let env: Setup | undefined;

afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

/** Attribute → DynamoDB type, as the Java KCL 2.x writes lease items (plus KCL 3.x attributes it tolerates). */
const KCL_TYPES: Record<string, keyof AttributeValue> = {
  leaseKey: 'S',
  leaseOwner: 'S',
  leaseCounter: 'N',
  ownerSwitchesSinceCheckpoint: 'N',
  checkpoint: 'S',
  checkpointSubSequenceNumber: 'N',
  pendingCheckpoint: 'S',
  pendingCheckpointSubSequenceNumber: 'N',
  pendingCheckpointState: 'B',
  parentShardId: 'SS',
  childShardIds: 'SS',
  startingHashKey: 'S',
  endingHashKey: 'S',
  throughputKBps: 'N',
};

function expectKclShape(item: Record<string, AttributeValue> | undefined): void {
  expect(item).toBeDefined();
  for (const [name, value] of Object.entries(item ?? {})) {
    const type = KCL_TYPES[name];
    expect(type, `unexpected attribute ${name}`).toBeDefined();
    expect(Object.keys(value), `${name} should be ${type}`).toEqual([type]);
  }
  // Never written empty: the KCL's DynamoUtils rejects empty strings and sets.
  for (const value of Object.values(item ?? {})) {
    if (value.S !== undefined) expect(value.S).not.toBe('');
    if (value.SS !== undefined) expect(value.SS.length).toBeGreaterThan(0);
  }
}

it('resumes at checkpoints written by Java KCL 2.x workers (inside an aggregate too) and keeps their item shapes', async () => {
  env = await setupStream({ shardCount: 2 });
  const { kinesis, dynamo, streamName, applicationName } = env;
  const text = (s: string) => new TextEncoder().encode(s);

  // Shard 0 gets plain records, shard 1 one aggregate then plain records; route by explicit hash keys.
  const { Records: put0 = [] } = await kinesis.send(
    new PutRecordsCommand({
      StreamName: streamName,
      Records: Array.from({ length: 6 }, (_, i) => ({
        PartitionKey: `a${i}`,
        ExplicitHashKey: '1',
        Data: text(`s0-${i}`),
      })),
    }),
  );
  const { Records: put1 = [] } = await kinesis.send(
    new PutRecordsCommand({
      StreamName: streamName,
      Records: [
        {
          PartitionKey: 'agg',
          ExplicitHashKey: '340282366920938463463374607431768211455',
          Data: encodeAggregatedRecord(
            Array.from({ length: 4 }, (_, i) => ({
              partitionKey: `b${i}`,
              explicitHashKey: '340282366920938463463374607431768211455',
              data: text(`s1-agg-${i}`),
            })),
          ),
        },
        { PartitionKey: 'b9', ExplicitHashKey: '340282366920938463463374607431768211455', Data: text('s1-plain') },
      ],
    }),
  );
  const shard0 = put0[0]?.ShardId ?? '';
  const shard1 = put1[0]?.ShardId ?? '';
  expect(shard0).not.toBe(shard1);

  // The lease table as two Java KCL 2.x workers left it (they crashed: their counters will not move),
  // with a KCL 3.x attribute and a non-lease item that must survive untouched.
  await dynamo.send(
    new CreateTableCommand({
      TableName: applicationName,
      KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await expect
    .poll(async () => (await dynamo.send(new DescribeTableCommand({ TableName: applicationName }))).Table?.TableStatus)
    .toBe('ACTIVE');
  const javaItems: Record<string, AttributeValue>[] = [
    {
      leaseKey: { S: shard0 },
      leaseOwner: { S: 'java-host-1:1a2b3c4d' },
      leaseCounter: { N: '1234' },
      ownerSwitchesSinceCheckpoint: { N: '2' },
      checkpoint: { S: put0[2]?.SequenceNumber ?? '' },
      checkpointSubSequenceNumber: { N: '0' },
      startingHashKey: { S: '0' },
      endingHashKey: { S: '170141183460469231731687303715884105727' },
      throughputKBps: { N: '12.5' },
    },
    {
      leaseKey: { S: shard1 },
      leaseOwner: { S: 'java-host-2:5e6f7a8b' },
      leaseCounter: { N: '77' },
      ownerSwitchesSinceCheckpoint: { N: '0' },
      checkpoint: { S: put1[0]?.SequenceNumber ?? '' },
      checkpointSubSequenceNumber: { N: '1' },
      pendingCheckpoint: { S: put1[0]?.SequenceNumber ?? '' },
      pendingCheckpointSubSequenceNumber: { N: '3' },
      pendingCheckpointState: { B: text('app-state') },
    },
    { leaseKey: { S: 'java-host-1:1a2b3c4d' }, entityType: { S: 'WORKER_METRIC_STATS' }, lut: { N: '1700000000' } },
  ];
  for (const Item of javaItems) await dynamo.send(new PutItemCommand({ TableName: applicationName, Item }));

  const recorder = new Recorder();
  const initialized: string[] = [];
  const consumer = env.consumer({
    workerIdentifier: 'ts-worker',
    processor: recordingProcessor(recorder, 'ts'),
    initialPositionInStream: 'LATEST',
  });
  consumer.on('shard.initialized', ({ payload }) => {
    initialized.push(`${payload.shardId}@${payload.checkpoint}`);
  });
  await consumer.start();
  await recorder.until(() => recorder.values().has('s0-5') && recorder.values().has('s1-plain'), 30_000);

  // Shard 0 resumes after record 2; shard 1 after sub-record 1 of the aggregate.
  expect(recorder.delivered.filter((d) => d.shardId === shard0).map((d) => d.value)).toEqual(['s0-3', 's0-4', 's0-5']);
  expect(recorder.delivered.filter((d) => d.shardId === shard1).map((d) => d.value)).toEqual([
    's1-agg-2',
    's1-agg-3',
    's1-plain',
  ]);
  expect(initialized.sort()).toEqual(
    [`${shard0}@${put0[2]?.SequenceNumber}`, `${shard1}@${put1[0]?.SequenceNumber}.1`].sort(),
  );
  await consumer.shutdown();

  // What we wrote back is what a Java KCL 2.x worker reads: same attributes, same types.
  const get = async (leaseKey: string) =>
    (
      await dynamo.send(
        new GetItemCommand({ TableName: applicationName, Key: { leaseKey: { S: leaseKey } }, ConsistentRead: true }),
      )
    ).Item;
  const item0 = await get(shard0);
  const item1 = await get(shard1);
  expectKclShape(item0);
  expectKclShape(item1);
  expect(item0?.checkpoint?.S).toBe(put0[5]?.SequenceNumber);
  expect(item0?.checkpointSubSequenceNumber?.N).toBe('0');
  expect(item0?.ownerSwitchesSinceCheckpoint?.N).toBe('0');
  expect(Number(item0?.leaseCounter?.N)).toBeGreaterThan(1234);
  expect(item0?.leaseOwner).toBeUndefined(); // released on shutdown: free for Java and TS workers alike
  expect(item0?.throughputKBps?.N).toBe('12.5'); // unknown attributes left alone
  expect(item1?.checkpoint?.S).toBe(put1[1]?.SequenceNumber);
  expect(item1?.pendingCheckpoint).toBeUndefined(); // a full checkpoint clears the pending one, as in the KCL
  expect(item1?.pendingCheckpointState).toBeUndefined();
  // The Java item had no hash range (as before KCL 2.3): shard sync filled it in from ListShards.
  expect(item1?.startingHashKey?.S).toMatch(/^\d+$/);
  expect(item1?.endingHashKey?.S).toBe('340282366920938463463374607431768211455');
  const other = await get('java-host-1:1a2b3c4d');
  expect(other).toEqual(javaItems[2]);
  const { Items = [] } = await dynamo.send(new ScanCommand({ TableName: applicationName }));
  expect(Items).toHaveLength(3);
});
