import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { DynamoDBLeaseStore } from '../src/leases/dynamodb-lease-store.js';
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

interface ChildWorker {
  readonly process: ChildProcess;
  readonly leases: Set<string>;
  readonly exited: Promise<number | null>;
}

/** Starts a worker in its own process; its records go to `recorder`, its lines to `recorder.note`. */
function spawnWorker(setup: Setup, recorder: Recorder, worker: string): ChildWorker {
  const script = fileURLToPath(new URL('./support/worker-process.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script], {
    env: {
      ...process.env,
      WORKER_ID: worker,
      STREAM_NAME: setup.streamName,
      APPLICATION_NAME: setup.applicationName,
      KINESIS_ENDPOINT: setup.kinesisEndpoint,
      DYNAMODB_ENDPOINT: setup.dynamoDBEndpoint,
      FAILOVER_TIME_MILLIS: String(FAILOVER_TIME_MILLIS),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child = proc;
  const leases = new Set<string>();
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const stdout = proc.stdout;
  if (stdout === null) throw new Error('no stdout');
  createInterface({ input: stdout }).on('line', (line) => {
    let message: { type?: string; shardId?: string; leaseKey?: string; value?: string };
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (message.type === 'acquired' && message.leaseKey !== undefined) leases.add(message.leaseKey);
    if (message.type === 'record' && message.value !== undefined) {
      recorder.record(worker, message.shardId ?? '?', [
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
  return { process: proc, leases, exited };
}

it('a worker killed with SIGKILL has its shards taken over and every record is still processed, at least once', async () => {
  env = await setupStream({ shardCount: 4 });
  const { kinesis, streamName } = env;
  const recorder = new Recorder();

  // Worker A in its own process: it starts first and takes every lease.
  const a = spawnWorker(env, recorder, 'child-a');
  await recorder.until(() => a.leases.size === 4, 30_000);

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
  a.process.kill('SIGKILL');
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

it('SIGTERM shuts a worker down gracefully: its leases are handed over (assigned or free), not left to expire', async () => {
  env = await setupStream({ shardCount: 2 });
  const recorder = new Recorder();
  const a = spawnWorker(env, recorder, 'child-a');
  await recorder.until(() => a.leases.size === 2, 30_000);
  const b = env.consumer({
    workerIdentifier: 'worker-b',
    processor: recordingProcessor(recorder, 'b'),
    failoverTimeMillis: FAILOVER_TIME_MILLIS,
  });
  const acquired: { leaseKey: string; previousOwner: string | undefined; assigned: boolean | undefined }[] = [];
  b.on('lease.acquired', ({ payload }) => {
    acquired.push({ leaseKey: payload.leaseKey, previousOwner: payload.previousOwner, assigned: payload.assigned });
  });
  await b.start();
  // b's first round steals one lease towards the balance target of 1 each.
  await expect.poll(() => b.leasedShardIds.length, { timeout: 10_000, interval: 50 }).toBe(1);
  const signalledAt = Date.now();
  a.process.kill('SIGTERM');
  expect(await a.exited).toBe(0);
  expect(recorder.calls.some((line) => line.includes('"stopped"'))).toBe(true);
  const store = new DynamoDBLeaseStore({ client: env.dynamo, tableName: env.applicationName });
  expect((await store.listLeases()).some((l) => l.leaseOwner === 'child-a')).toBe(false);
  // b gets the other one assigned (if a's last scan showed b live) or takes it as a free lease: either way it
  // was not judged expired (that would name child-a as its previous owner).
  await expect.poll(() => b.leasedShardIds.length, { timeout: 10_000, interval: 50 }).toBe(2);
  expect(acquired[0]?.previousOwner).toBe('child-a');
  const second = acquired[1];
  expect(second?.assigned === true || second?.previousOwner === undefined).toBe(true);
  console.info(`SIGTERM hand-over: processed elsewhere ${Date.now() - signalledAt} ms after the signal`);
});
