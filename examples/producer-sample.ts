/**
 * The classic KPL sample: add records in a loop, handle each result asynchronously as it settles, then wait
 * for all of them synchronously and look at the whole set.
 *
 *   pnpm --filter @kinesis-kit/examples producer [--records N] [--size B] [--max-outstanding-bytes B]
 *                                                                            # embedded local stack
 *   pnpm --filter @kinesis-kit/examples producer --aws --region eu-west-1 --stream orders
 */
import { KinesisProducer, UserRecordFailedError, type UserRecordResult } from '@kinesis-kit/producer';
import { intFlag, openTarget } from './support/target.js';

const target = await openTarget(
  { records: { type: 'string' }, size: { type: 'string' }, 'max-outstanding-bytes': { type: 'string' } },
  'producer-sample [--records N] [--size B] [--max-outstanding-bytes B]  (defaults 1000, 0: no padding, 64 MiB)',
);
const maxOutstandingBytes = intFlag(target, 'max-outstanding-bytes', 64 * 1024 * 1024);
const producer = new KinesisProducer(
  target.local
    ? // No CloudWatch on the local stack.
      { kinesisClient: target.kinesis, metricsLevel: 'none', maxOutstandingBytes }
    : // On AWS the producer makes its own clients (single-attempt Kinesis calls: it retries per record) and
      // uploads the KPL's metrics to the same region.
      {
        ...(target.region === undefined ? {} : { region: target.region }),
        metricsLevel: 'detailed',
        maxOutstandingBytes,
      },
);

try {
  const total = intFlag(target, 'records', 1000);
  // Padding to make records of about this many bytes, so the byte bound can be the one that binds.
  const padding = 'x'.repeat(intFlag(target, 'size', 0));
  const pending: Promise<UserRecordResult>[] = [];
  const perShard = new Map<string, number>();
  let failedAsync = 0;

  for (let i = 0; i < total; i++) {
    // Bounded memory however fast this loop runs: wait while the producer holds too much (room for one
    // more record of any size, whichever bound binds), then add at once.
    await producer.waitForCapacity();
    const put = producer.addUserRecord(
      target.streamName,
      `customer-${i % 100}`,
      JSON.stringify({ order: i, at: Date.now(), padding }),
    );
    // Asynchronously: react to each record as it settles (the KPL's FutureCallback).
    put.then(
      (result) => {
        const shard = result.shardId ?? 'unknown';
        perShard.set(shard, (perShard.get(shard) ?? 0) + 1);
      },
      (error: unknown) => {
        failedAsync++;
        if (error instanceof UserRecordFailedError) {
          console.error(
            `record failed after ${error.result.attempts.length} attempt(s): ${error.code} ${error.message}`,
          );
        } else {
          console.error(`record failed: ${String(error)}`);
        }
      },
    );
    pending.push(put);
  }

  // Synchronously: wait for every result, then look at the set (the KPL's Future.get()).
  const results = await Promise.allSettled(pending);
  const put = results.filter((r) => r.status === 'fulfilled');
  const kinesisRecords = new Set(put.map((r) => r.value.sequenceNumber)).size;
  console.log(`per shard: ${[...perShard].map(([shard, n]) => `${shard}=${n}`).join(' ')}`);
  console.log(
    `put ${put.length} of ${results.length} user records in ${kinesisRecords} Kinesis records ` +
      `(${(put.length / Math.max(kinesisRecords, 1)).toFixed(1)} per aggregate); ${failedAsync} failed`,
  );
  process.exitCode = put.length === results.length ? 0 : 1;
} finally {
  // Waits for outstanding records, stops timers; the clients belong to the target.
  await producer.destroy();
  await target.close();
}
