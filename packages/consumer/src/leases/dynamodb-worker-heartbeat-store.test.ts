import { DynamoDBClient, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ManualClock, TimeoutError } from '@kinesis-kit/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DynamoDBWorkerHeartbeatStore,
  type DynamoDBWorkerHeartbeatStoreOptions,
} from './dynamodb-worker-heartbeat-store.js';

const dynamo = mockClient(DynamoDBClient);
afterEach(() => dynamo.reset());

const store = (options: Partial<DynamoDBWorkerHeartbeatStoreOptions> = {}) =>
  new DynamoDBWorkerHeartbeatStore({
    client: new DynamoDBClient({ region: 'us-east-1' }),
    tableName: 'app-WorkerHeartbeats',
    ...options,
  });

/** An error as the SDK throws it for a service exception named `name`. */
const serviceError = (name: string) => Object.assign(new Error(`${name} on the heartbeat table`), { name });

describe('DynamoDBWorkerHeartbeatStore error paths', () => {
  it('without permission on its table turns itself off once: one notice, no heartbeats, no further calls', async () => {
    dynamo.onAnyCommand().rejects(serviceError('AccessDeniedException'));
    const onAccessDenied = vi.fn();
    const s = store({ onAccessDenied });
    await s.initialize();
    await s.heartbeat('w');
    expect(await s.listHeartbeats()).toEqual([]);
    await s.removeHeartbeat('w');
    expect(onAccessDenied).toHaveBeenCalledTimes(1);
    expect(s.disabled).toBe(true);
    expect(dynamo.calls()).toHaveLength(1);
  });

  it('rejects a refused permission when nobody asked to be told (a store used on its own)', async () => {
    dynamo.onAnyCommand().rejects(serviceError('AccessDeniedException'));
    await expect(store().heartbeat('w')).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it.each(['ProvisionedThroughputExceededException', 'ThrottlingException', 'InternalServerError'])(
    'rejects %s for the caller to classify and stays on',
    async (name) => {
      dynamo.onAnyCommand().rejects(serviceError(name));
      const onAccessDenied = vi.fn();
      const s = store({ onAccessDenied });
      await expect(s.heartbeat('w')).rejects.toMatchObject({ name });
      await expect(s.listHeartbeats()).rejects.toMatchObject({ name });
      expect(s.disabled).toBe(false);
      expect(onAccessDenied).not.toHaveBeenCalled();
    },
  );

  it('abandons a hung call after the request timeout', async () => {
    const clock = new ManualClock();
    dynamo.on(UpdateItemCommand).callsFake(() => new Promise(() => undefined));
    const beat = store({ requestTimeoutMillis: 1_000, clock }).heartbeat('w');
    const settled = expect(beat).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(1_000);
    await settled;
  });

  it('skips rows that are not heartbeats', async () => {
    dynamo.on(ScanCommand).resolves({
      Items: [
        { workerIdentifier: { S: 'a' }, heartbeatCounter: { N: '3' } },
        { workerIdentifier: { S: 'b' } },
        { other: { S: 'x' }, heartbeatCounter: { N: '1' } },
      ],
    });
    expect(await store().listHeartbeats()).toEqual([{ workerIdentifier: 'a', heartbeatCounter: 3 }]);
  });
});
