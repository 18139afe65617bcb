import { beforeEach, describe, expect, it } from 'vitest';
import type { WorkerHeartbeatStore } from '../../src/leases/lease-store.js';

/**
 * The behaviour every {@link WorkerHeartbeatStore} must have, run against memory (unit) and dynalite
 * (integration): what the taker's liveness judgement relies on.
 */
export function describeWorkerHeartbeatStoreBehaviour(
  name: string,
  makeStore: () => Promise<WorkerHeartbeatStore>,
): void {
  describe(`${name} worker heartbeat store behaviour`, () => {
    let store: WorkerHeartbeatStore;
    const counters = async () =>
      Object.fromEntries((await store.listHeartbeats()).map((h) => [h.workerIdentifier, h.heartbeatCounter]));

    beforeEach(async () => {
      store = await makeStore();
      await store.initialize?.();
    });

    it('lists nothing before any worker has beaten', async () => {
      expect(await store.listHeartbeats()).toEqual([]);
    });

    it('creates a row on the first heartbeat and moves its counter on every later one', async () => {
      await store.heartbeat('worker-a');
      const first = (await counters())['worker-a'];
      expect(first).toBeTypeOf('number');
      await store.heartbeat('worker-a');
      expect((await counters())['worker-a']).toBeGreaterThan(first ?? Number.POSITIVE_INFINITY);
    });

    it('keeps one row per worker, each moved only by its own heartbeat', async () => {
      await store.heartbeat('worker-a');
      await store.heartbeat('worker-b');
      const before = await counters();
      await store.heartbeat('worker-b');
      const after = await counters();
      expect(Object.keys(after).sort()).toEqual(['worker-a', 'worker-b']);
      expect(after['worker-a']).toBe(before['worker-a']);
      expect(after['worker-b']).not.toBe(before['worker-b']);
    });

    it('removes a worker at once, leaves the others, and removing twice is harmless', async () => {
      await store.heartbeat('worker-a');
      await store.heartbeat('worker-b');
      await store.removeHeartbeat('worker-a');
      await store.removeHeartbeat('worker-a');
      expect(Object.keys(await counters())).toEqual(['worker-b']);
    });

    it('lists every worker of a fleet', async () => {
      const ids = Array.from({ length: 40 }, (_, i) => `host-${String(i).padStart(3, '0')}:worker`);
      await Promise.all(ids.map((id) => store.heartbeat(id)));
      expect(Object.keys(await counters()).sort()).toEqual(ids);
    });

    it('initializes repeatably', async () => {
      await store.heartbeat('worker-a');
      await store.initialize?.();
      expect(Object.keys(await counters())).toEqual(['worker-a']);
    });
  });
}
