// Consumers without worker heartbeats: no permission on their table, or turned off.
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { createDynamoDBClient } from '@kinesis-kit/local-stack';
import { afterEach, expect, inject, it } from 'vitest';
import type { Logger } from '../src/logger.js';
import { Recorder, recordingProcessor, setupStream } from './support/harness.js';

// The heartbeat table needs IAM permissions of its own. A policy written for the lease table alone must not
// break a consumer: it warns once, balances by lease holders (as the KCL 2.x) and shuts down cleanly.

type Setup = Awaited<ReturnType<typeof setupStream>>;
let env: Setup | undefined;

afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

/** A real SDK client on dynalite that refuses every call on a heartbeat table, as IAM would. */
function clientWithoutHeartbeatPermission() {
  const client = createDynamoDBClient({ endpoint: inject('dynamoDBEndpoint') });
  client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { TableName?: string };
      if (input.TableName?.endsWith('-WorkerHeartbeats')) {
        throw Object.assign(new Error(`not authorized to perform this action on ${input.TableName}`), {
          name: 'AccessDeniedException',
        });
      }
      return next(args);
    },
    { step: 'initialize', name: 'denyHeartbeatTable' },
  );
  return client;
}

it('without permission on the heartbeat table, workers warn once each and still balance and hand over', async () => {
  env = await setupStream({ shardCount: 4 });
  const setup = env;
  const warnings: string[] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (message) => warnings.push(message),
    error: () => undefined,
  };
  const recorder = new Recorder();
  const clients = [clientWithoutHeartbeatPermission(), clientWithoutHeartbeatPermission()];
  try {
    const [a, b] = clients.map((dynamoDBClient, i) =>
      setup.consumer({
        workerIdentifier: `worker-${i}`,
        processor: recordingProcessor(recorder, `worker-${i}`),
        dynamoDBClient,
        logger,
      }),
    );
    if (a === undefined || b === undefined) throw new Error('setup');
    await a.start();
    await expect.poll(() => a.leasedShardIds.length, { timeout: 20_000, interval: 100 }).toBe(4);
    await b.start();
    // Balanced by lease holders (b steals until 2 / 2), which takes several taker rounds.
    await expect
      .poll(() => [a.leasedShardIds.length, b.leasedShardIds.length], { timeout: 30_000, interval: 100 })
      .toEqual([2, 2]);
    await a.shutdown();
    await expect.poll(() => b.leasedShardIds.length, { timeout: 20_000, interval: 100 }).toBe(4);
    const heartbeatWarnings = warnings.filter((w) => w.includes('-WorkerHeartbeats'));
    expect(heartbeatWarnings).toHaveLength(2);
    expect(heartbeatWarnings[0]).toMatch(/No permission on the worker heartbeat table .*workerHeartbeats: false/);
  } finally {
    await env?.cleanup();
    env = undefined;
    for (const c of clients) c.destroy();
  }
});

it('workerHeartbeats: false creates no heartbeat table', async () => {
  env = await setupStream({ shardCount: 2 });
  const recorder = new Recorder();
  const consumer = env.consumer({
    workerIdentifier: 'worker-off',
    processor: recordingProcessor(recorder, 'off'),
    workerHeartbeats: false,
  });
  await consumer.start();
  await expect.poll(() => consumer.leasedShardIds.length, { timeout: 20_000, interval: 100 }).toBe(2);
  await consumer.shutdown();
  await expect(
    env.dynamo.send(new DescribeTableCommand({ TableName: `${env.applicationName}-WorkerHeartbeats` })),
  ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
});
