import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { putPlain, Recorder, recordingProcessor, setupStream } from './support/harness.js';

type Setup = Awaited<ReturnType<typeof setupStream>>;
let env: Setup | undefined;
let child: ChildProcess | undefined;

afterEach(async () => {
  child?.kill('SIGKILL');
  child = undefined;
  await env?.cleanup();
  env = undefined;
});

const FAILOVER_TIME_MILLIS = 1_500;

it('a worker killed with SIGKILL has its shards taken over and every record is still processed, at least once', async () => {
  env = await setupStream({ shardCount: 4 });
  const { kinesis, streamName } = env;
  const recorder = new Recorder();
  const childLeases = new Set<string>();

  // Worker A in its own process: it starts first and takes every lease.
  const script = fileURLToPath(new URL('./support/worker-process.ts', import.meta.url));
  child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script], {
    env: {
      ...process.env,
      WORKER_ID: 'child-a',
      STREAM_NAME: streamName,
      APPLICATION_NAME: env.applicationName,
      KINESIS_ENDPOINT: env.kinesisEndpoint,
      DYNAMODB_ENDPOINT: env.dynamoDBEndpoint,
      FAILOVER_TIME_MILLIS: String(FAILOVER_TIME_MILLIS),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stdout = child.stdout;
  if (stdout === null) throw new Error('no stdout');
  createInterface({ input: stdout }).on('line', (line) => {
    let message: { type?: string; shardId?: string; leaseKey?: string; value?: string };
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (message.type === 'acquired' && message.leaseKey !== undefined) childLeases.add(message.leaseKey);
    if (message.type === 'record' && message.value !== undefined) {
      recorder.record('child-a', message.shardId ?? '?', [
        {
          data: new TextEncoder().encode(message.value),
          partitionKey: '',
          sequenceNumber: '0',
          subSequenceNumber: 0,
          approximateArrivalTimestamp: new Date(0),
          aggregated: false,
        },
      ]);
    }
    recorder.note(line);
  });
  await recorder.until(() => childLeases.size === 4, 30_000);

  // Worker B in this process.
  const b = env.consumer({
    workerIdentifier: 'worker-b',
    processor: recordingProcessor(recorder, 'b'),
    failoverTimeMillis: FAILOVER_TIME_MILLIS,
  });
  await b.start();
  const first = Array.from({ length: 80 }, (_, i) => ({ partitionKey: `k${i}`, value: `first-${i}` }));
  await putPlain(kinesis, streamName, first);
  await recorder.until(() => first.every((r) => recorder.values().has(r.value)), 30_000);

  // Kill A without warning: no release, no checkpoint; B must wait for A's leases to expire, then take them.
  const killedAt = Date.now();
  child.kill('SIGKILL');
  const second = Array.from({ length: 80 }, (_, i) => ({ partitionKey: `k${i}`, value: `second-${i}` }));
  await putPlain(kinesis, streamName, second);
  await expect.poll(() => b.leasedShardIds.length, { timeout: 30_000, interval: 100 }).toBe(4);
  const failoverMs = Date.now() - killedAt;
  await recorder.until(() => second.every((r) => recorder.values().has(r.value)), 30_000);
  const all = [...first, ...second].map((r) => r.value);
  for (const value of all) expect(recorder.values().has(value)).toBe(true);
  // Expiry is observed, not timestamped: at least one failover time, at most about two taker rounds more.
  expect(failoverMs).toBeGreaterThanOrEqual(FAILOVER_TIME_MILLIS);
  console.info(`SIGKILL failover: shards processed elsewhere ${failoverMs} ms after the kill`);
});
