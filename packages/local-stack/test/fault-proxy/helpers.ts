import { Agent } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../src/index.js';

// One attempt, so a test sees exactly the error the proxy sent rather than the SDK's retry of it.
const config = (endpoint: string) => ({
  endpoint,
  region: LOCAL_REGION,
  credentials: LOCAL_CREDENTIALS,
  maxAttempts: 1,
  requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true }) }),
});

/** A Kinesis client that never retries. */
export const singleShotKinesis = (endpoint: string): KinesisClient => new KinesisClient(config(endpoint));

/** A DynamoDB client that never retries. */
export const singleShotDynamoDB = (endpoint: string): DynamoDBClient => new DynamoDBClient(config(endpoint));

/** Every record of every shard, read straight from the emulator (at most 100 pages a shard). */
export async function readStream(client: KinesisClient, streamName: string): Promise<_Record[]> {
  const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: streamName }));
  const records: _Record[] = [];
  for (const shard of Shards) {
    let { ShardIterator: iterator } = await client.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shard.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    for (let page = 0; page < 100 && iterator !== undefined; page += 1) {
      const out = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      records.push(...(out.Records ?? []));
      if ((out.Records ?? []).length === 0) break;
      iterator = out.NextShardIterator;
    }
  }
  return records;
}
