import { afterEach, expect, it } from 'vitest';
import { DynamoDBLeaseStore } from '../src/leases/dynamodb-lease-store.js';
import { putPlain, Recorder, recordingProcessor, setupStream } from './support/harness.js';

type Setup = Awaited<ReturnType<typeof setupStream>>;
let env: Setup | undefined;

afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

it('three consumers in one process balance 6 shards to within one lease, and a graceful shutdown hands its leases to the live workers', async () => {
  env = await setupStream({ shardCount: 6 });
  const { kinesis, streamName } = env;
  const recorder = new Recorder();
  const workers = ['a', 'b', 'c'].map((id) =>
    env?.consumer({ workerIdentifier: `worker-${id}`, processor: recordingProcessor(recorder, id) }),
  );
  const [a, b, c] = workers;
  if (a === undefined || b === undefined || c === undefined) throw new Error('setup');
  const acquisitions: {
    leaseKey: string;
    by: string;
    previousOwner: string | undefined;
    assigned: boolean | undefined;
    at: number;
  }[] = [];
  for (const w of workers) {
    w?.on('lease.acquired', ({ payload, timestamp }) => {
      acquisitions.push({
        leaseKey: payload.leaseKey,
        by: payload.workerIdentifier,
        previousOwner: payload.previousOwner,
        assigned: payload.assigned,
        at: timestamp,
      });
    });
  }
  await Promise.all(workers.map((w) => w?.start()));
  await expect
    .poll(
      () => {
        const counts = [a, b, c].map((w) => w.leasedShardIds.length);
        return counts.reduce((x, y) => x + y) === 6 && Math.max(...counts) - Math.min(...counts) <= 1;
      },
      { timeout: 40_000, interval: 200 },
    )
    .toBe(true);

  const records = Array.from({ length: 60 }, (_, i) => ({ partitionKey: `k${i}`, value: `r${i}` }));
  await putPlain(kinesis, streamName, records);
  await recorder.until(() => recorder.values().size === records.length);

  // Graceful shutdown of a: its processors are asked to checkpoint, its leases are assigned to b and c.
  const handedOver = a.leasedShardIds;
  expect(handedOver.length).toBeGreaterThan(0);
  const stoppedAt = Date.now();
  await a.shutdown();
  expect(a.leasedShardIds).toEqual([]);
  for (const shardId of handedOver) expect(recorder.calls).toContain(`a:shutdownRequested:${shardId}`);
  const store = new DynamoDBLeaseStore({ client: env.dynamo, tableName: env.applicationName });
  const right = await store.listLeases();
  for (const shardId of handedOver) {
    expect(right.find((l) => l.leaseKey === shardId)?.leaseOwner).toMatch(/^worker-[bc]$/);
  }
  // b and c adopt them through the owner index (not judged expired, not stolen).
  await expect
    .poll(() => b.leasedShardIds.length + c.leasedShardIds.length, { timeout: 20_000, interval: 100 })
    .toBe(6);
  const takeovers = acquisitions.filter((x) => handedOver.includes(x.leaseKey) && x.at >= stoppedAt);
  expect(takeovers).toHaveLength(handedOver.length);
  for (const t of takeovers) expect(t.assigned).toBe(true);

  // Nothing is delivered twice after the hand-over: the new owners start at a's checkpoints.
  const more = Array.from({ length: 30 }, (_, i) => ({ partitionKey: `k${i}`, value: `s${i}` }));
  await putPlain(kinesis, streamName, more);
  await recorder.until(() => recorder.values().size === records.length + more.length);
  expect(recorder.delivered).toHaveLength(records.length + more.length);
});
