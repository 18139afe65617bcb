import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { deaggregate, fromSdkRecord, ShardMap } from '@kinesis-kit/core';

/** A user record as read back from one shard, with where it was found. */
export interface ReadRecord {
  readonly shardId: string;
  readonly partitionKey: string;
  readonly data: string;
  readonly sequenceNumber: string;
  readonly subSequenceNumber: number;
}

/** An aggregate the KCL would drop: it holds user records outside the shard's hash key range. */
export interface DroppedAggregateRead {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly data: readonly string[];
}

/**
 * Reads every shard of a stream (open and closed) from the trim horizon with raw GetRecords and
 * deaggregates each Kinesis record with the shard's hash key range, as a KCL consumer would.
 */
export async function readStream(
  kinesis: KinesisClient,
  streamName: string,
): Promise<{ records: ReadRecord[]; dropped: DroppedAggregateRead[]; kinesisRecords: number }> {
  const map = await ShardMap.load(kinesis, { streamName, include: 'all' });
  const records: ReadRecord[] = [];
  const dropped: DroppedAggregateRead[] = [];
  let kinesisRecords = 0;
  for (const shard of map.shards) {
    const { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shard.shardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    let iterator = ShardIterator;
    while (iterator !== undefined) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const raw of page.Records ?? []) {
        kinesisRecords++;
        const result = deaggregate(fromSdkRecord(raw), { hashKeyRange: shard, deliverOutOfRangeRecords: false });
        if (result.status === 'dropped') {
          const all = deaggregate(fromSdkRecord(raw));
          dropped.push({
            shardId: shard.shardId,
            sequenceNumber: result.sequenceNumber,
            data: all.status === 'delivered' ? all.records.map((r) => Buffer.from(r.data).toString('utf8')) : [],
          });
          continue;
        }
        for (const user of result.records) {
          records.push({
            shardId: shard.shardId,
            partitionKey: user.partitionKey,
            data: Buffer.from(user.data).toString('utf8'),
            sequenceNumber: user.sequenceNumber,
            subSequenceNumber: user.subSequenceNumber,
          });
        }
      }
      // An open shard is read to its tip; a closed one to its end (no next iterator).
      if ((page.Records ?? []).length === 0 && (page.MillisBehindLatest ?? 0) === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  return { records, dropped, kinesisRecords };
}
