import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { KinesisProducer } from '@kinesis-kit/producer';

/** Puts `count` JSON records so a consumer example has something to read on a fresh local stream. */
export async function seedRecords(kinesis: KinesisClient, streamName: string, count: number): Promise<void> {
  const producer = new KinesisProducer({ kinesisClient: kinesis, metricsLevel: 'none' });
  try {
    const puts: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      await producer.waitForCapacity();
      puts.push(producer.addUserRecord(streamName, `device-${i % 50}`, JSON.stringify({ reading: i, at: Date.now() })));
    }
    await Promise.all(puts);
  } finally {
    await producer.destroy();
  }
}
