/**
 * A producer fed by a Node stream, with backpressure: `pipeline(source, producer.writable(...))` accepts a
 * chunk only when the producer has room, so a source far faster than Kinesis slows down instead of filling
 * memory. The end of the pipeline means every record has been put.
 *
 *   pnpm --filter @kinesis-kit/examples producer-stream [--records N] [--max-outstanding N]
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KinesisProducer } from '@kinesis-kit/producer';
import { intFlag, openTarget } from './support/target.js';

interface Order {
  readonly id: number;
  readonly customerId: string;
  readonly amount: number;
}

const target = await openTarget(
  { records: { type: 'string' }, 'max-outstanding': { type: 'string' } },
  'producer-stream [--records N (default 20000)] [--max-outstanding N (default 2000)]',
);
const total = intFlag(target, 'records', 20_000);
// A small bound on purpose, so the backpressure is visible: the source is paused whenever it is reached.
const maxOutstandingRecords = intFlag(target, 'max-outstanding', 2_000);
const producer = new KinesisProducer({ kinesisClient: target.kinesis, metricsLevel: 'none', maxOutstandingRecords });

let generated = 0;
let peakOutstanding = 0;
let put = 0;
// A source that could produce millions of orders per second: it yields only as fast as it is read.
const orders = Readable.from(
  (function* () {
    for (; generated < total; generated++) {
      peakOutstanding = Math.max(peakOutstanding, producer.getOutstandingRecordsCount());
      yield {
        id: generated,
        customerId: `customer-${generated % 500}`,
        amount: (generated % 97) + 0.99,
      } satisfies Order;
    }
  })(),
);

try {
  const started = Date.now();
  await pipeline(
    orders,
    producer.writable<Order>({
      streamName: target.streamName,
      partitionKey: (order) => order.customerId,
      onResult: () => {
        put++;
      },
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `put ${put} of ${total} orders in ${seconds.toFixed(1)} s (${Math.round(put / seconds)}/s); ` +
      `at most ${peakOutstanding} outstanding (bound ${maxOutstandingRecords})`,
  );
  process.exitCode = put === total && peakOutstanding <= maxOutstandingRecords ? 0 : 1;
} finally {
  await producer.destroy();
  await target.close();
}
