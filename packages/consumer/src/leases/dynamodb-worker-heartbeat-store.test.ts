import { ManualClock, TimeoutError } from '@kinesis-kit/core';
import { describe, expect, it, vi } from 'vitest';
import { DynamoDBWorkerHeartbeatStore } from './dynamodb-worker-heartbeat-store.js';

/** A client whose every call fails with an error named `name`, as the SDK throws them. */
function failingClient(name: string) {
  const send = vi.fn(async () => {
    throw Object.assign(new Error(`${name} on the heartbeat table`), { name });
  });
  return { send };
}

describe('DynamoDBWorkerHeartbeatStore error paths', () => {
  it('without permission on its table turns itself off once: one notice, no heartbeats, no further calls', async () => {
    const client = failingClient('AccessDeniedException');
    const onAccessDenied = vi.fn();
    const store = new DynamoDBWorkerHeartbeatStore({ client, tableName: 't-WorkerHeartbeats', onAccessDenied });
    await store.initialize();
    await store.heartbeat('w');
    expect(await store.listHeartbeats()).toEqual([]);
    await store.removeHeartbeat('w');
    expect(onAccessDenied).toHaveBeenCalledTimes(1);
    expect(store.disabled).toBe(true);
    expect(client.send).toHaveBeenCalledTimes(1);
  });

  it('rejects a refused permission when nobody asked to be told (a store used on its own)', async () => {
    const store = new DynamoDBWorkerHeartbeatStore({ client: failingClient('AccessDeniedException'), tableName: 't' });
    await expect(store.heartbeat('w')).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it.each(['ProvisionedThroughputExceededException', 'ThrottlingException', 'InternalServerError'])(
    'rejects %s for the caller to classify and stays on',
    async (name) => {
      const onAccessDenied = vi.fn();
      const store = new DynamoDBWorkerHeartbeatStore({ client: failingClient(name), tableName: 't', onAccessDenied });
      await expect(store.heartbeat('w')).rejects.toMatchObject({ name });
      await expect(store.listHeartbeats()).rejects.toMatchObject({ name });
      expect(store.disabled).toBe(false);
      expect(onAccessDenied).not.toHaveBeenCalled();
    },
  );

  it('abandons a hung call after the request timeout and aborts the request', async () => {
    const clock = new ManualClock();
    let aborted = false;
    const client = {
      send: vi.fn(
        (_command: unknown, options?: { abortSignal?: AbortSignal }) =>
          new Promise<never>(() => {
            options?.abortSignal?.addEventListener('abort', () => {
              aborted = true;
            });
          }),
      ),
    };
    const store = new DynamoDBWorkerHeartbeatStore({ client, tableName: 't', requestTimeoutMillis: 1_000, clock });
    const beat = store.heartbeat('w');
    const settled = expect(beat).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(1_000);
    await settled;
    expect(aborted).toBe(true);
  });
});
