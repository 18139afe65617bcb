import { ManualClock, ShutdownError, TypedEventEmitter } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import type { ConsumerEvents } from '../events.js';
import { ExtendedSequenceNumber } from '../extended-sequence-number.js';
import { InMemoryLeaseStore } from './in-memory-lease-store.js';
import { type Lease, newLease } from './lease.js';
import { LeaseCoordinator } from './lease-coordinator.js';
import type { LeaseHandle } from './lease-handle.js';
import { LeaseRenewer } from './lease-renewer.js';
import type { LeaseStore } from './lease-store.js';

const FAILOVER = 10_000;

async function setup() {
  const clock = new ManualClock(5_000);
  const store = new InMemoryLeaseStore();
  const events = new TypedEventEmitter<ConsumerEvents>({ clock });
  const lost: string[] = [];
  const renewer = new LeaseRenewer({
    store,
    workerIdentifier: 'me',
    failoverTimeMillis: FAILOVER,
    clock,
    events,
    onLeaseLost: (key, reason) => lost.push(`${key}:${reason}`),
  });
  await store.createLeaseIfNotExists(newLease({ leaseKey: 's-1', checkpoint: ExtendedSequenceNumber.TRIM_HORIZON }));
  const fresh = (await store.getLease('s-1')) as Lease;
  const taken = (await store.takeLease(fresh, 'me')) as Lease;
  const token = renewer.add(taken);
  return { clock, store, events, renewer, lost, token, taken };
}

const write = (sequenceNumber: string) => ({
  checkpoint: new ExtendedSequenceNumber(sequenceNumber),
  pendingCheckpoint: undefined,
  pendingCheckpointState: undefined,
});

describe('LeaseRenewer', () => {
  it('renews by bumping the counter', async () => {
    const { store, renewer } = await setup();
    await renewer.renewLeases();
    await renewer.renewLeases();
    expect((await store.getLease('s-1'))?.leaseCounter).toBe(3);
    expect(renewer.heldLeases()).toHaveLength(1);
  });

  it('drops a lease another worker took, and tells once', async () => {
    const { store, renewer, lost, taken } = await setup();
    await store.takeLease(taken, 'thief');
    await renewer.renewLeases();
    await renewer.renewLeases();
    expect(lost).toEqual(['s-1:renewal-failed']);
    expect(renewer.heldLeases()).toEqual([]);
  });

  it('gives up a lease it could not renew for failoverTimeMillis instead of resurrecting it', async () => {
    const { store, renewer, lost, clock } = await setup();
    await clock.advance(FAILOVER + 1);
    expect(renewer.heldLeases()).toEqual([]);
    await renewer.renewLeases();
    expect(lost).toEqual(['s-1:expired']);
    expect((await store.getLease('s-1'))?.leaseCounter).toBe(1);
  });

  it('retries throttled renewals within the round', async () => {
    const { store, renewer, clock } = await setup();
    const renew = store.renewLease.bind(store);
    let calls = 0;
    store.renewLease = async (lease) => {
      calls++;
      if (calls === 1) throw Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' });
      return renew(lease);
    };
    let done = false;
    const round = renewer.renewLeases().then(() => {
      done = true;
    });
    // Step the clock rather than wait for a sleeper: the jittered backoff can be 0 ms, which never sleeps.
    for (let step = 0; step < 20 && !done; step++) await clock.advance(100);
    await round;
    expect(calls).toBe(2);
    expect(renewer.heldLeases()).toHaveLength(1);
  });

  it('writes checkpoints through the current tenure only; a checkpoint also renews', async () => {
    const { store, renewer, token, clock } = await setup();
    await clock.advance(FAILOVER - 1);
    await renewer.handle('s-1', token).checkpoint(write('42'));
    expect((await store.getLease('s-1'))?.checkpoint.sequenceNumber).toBe('42');
    await clock.advance(FAILOVER - 1);
    expect(renewer.heldLeases()).toHaveLength(1);
    expect(() => renewer.handle('s-1', Symbol('old tenure'))).toThrow(ShutdownError);
  });

  it('a checkpoint write that fails for another reason rejects with CHECKPOINT_FAILED and keeps the lease', async () => {
    const { store, renewer, token, lost } = await setup();
    store.updateCheckpoint = async () => {
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    };
    const attempt = renewer.handle('s-1', token).checkpoint(write('42'));
    await expect(attempt).rejects.toMatchObject({ code: 'CHECKPOINT_FAILED', retriable: true });
    expect(lost).toEqual([]);
    expect(renewer.heldLeases()).toHaveLength(1);
  });

  it('a checkpoint after a steal fails with ShutdownError and drops the lease', async () => {
    const { store, renewer, token, lost } = await setup();
    const current = (await store.getLease('s-1')) as Lease;
    await store.takeLease(current, 'thief');
    await expect(renewer.handle('s-1', token).checkpoint(write('42'))).rejects.toThrow(ShutdownError);
    expect(lost).toEqual(['s-1:checkpoint-failed']);
    expect((await store.getLease('s-1'))?.checkpoint.sequenceNumber).toBe('TRIM_HORIZON');
  });

  it('releases: owner removed, counter bumped, no longer held', async () => {
    const { store, renewer, lost } = await setup();
    expect(await renewer.release('s-1')).toBe(true);
    expect(await store.getLease('s-1')).toMatchObject({ leaseOwner: undefined, leaseCounter: 2 });
    expect(renewer.heldLeases()).toEqual([]);
    expect(lost).toEqual([]);
  });

  it('a release asked for during a renewal is written after it, at the counter it left', async () => {
    const { store, renewer, token, lost } = await setup();
    const renew = store.renewLease.bind(store);
    let finishRenewal: (() => void) | undefined;
    store.renewLease = async (lease) => {
      await new Promise<void>((resolve) => {
        finishRenewal = resolve;
      });
      return renew(lease);
    };
    const round = renewer.renewLeases();
    for (let i = 0; i < 5 && finishRenewal === undefined; i++) await new Promise((r) => setImmediate(r));
    const handle = renewer.handle('s-1', token);
    const released = handle.release();
    expect(handle.isHeld).toBe(false);
    await expect(handle.checkpoint(write('1'))).rejects.toThrow(ShutdownError);
    finishRenewal?.();
    await round;
    expect(await released).toBe(true);
    expect(await store.getLease('s-1')).toMatchObject({ leaseOwner: undefined, leaseCounter: 3 });
    expect(lost).toEqual([]);
  });

  it('serializes a renewal and a checkpoint on the same lease so neither looks like a lost lease', async () => {
    const { store, renewer, token, lost } = await setup();
    await Promise.all([
      renewer.renewLeases(),
      renewer.handle('s-1', token).checkpoint(write('7')),
      renewer.renewLeases(),
    ]);
    expect(lost).toEqual([]);
    // Take, one renewal, the checkpoint: the second round skips the lease, whose renewal is still in flight.
    expect((await store.getLease('s-1'))?.leaseCounter).toBe(3);
  });
});

/** A coordinator with the test's failover time, 25 ms epsilon and no lease limits. */
function newCoordinator(
  store: LeaseStore,
  workerIdentifier: string,
  clock: ManualClock,
  events: TypedEventEmitter<ConsumerEvents>,
  onLeaseAcquired: (handle: LeaseHandle) => void = () => {},
): LeaseCoordinator {
  return new LeaseCoordinator({
    store,
    workerIdentifier,
    failoverTimeMillis: FAILOVER,
    epsilonMillis: 25,
    maxLeasesForWorker: Number.POSITIVE_INFINITY,
    maxLeasesToStealAtOneTime: 1,
    enablePriorityLeaseAssignment: true,
    clock,
    events,
    onLeaseAcquired,
  });
}

describe('LeaseCoordinator timers', () => {
  it('takes at once, renews every failover/3 − epsilon, takes every (failover + epsilon) × 2, and stops cleanly', async () => {
    const clock = new ManualClock(0);
    const store = new InMemoryLeaseStore();
    await store.createLeaseIfNotExists(newLease({ leaseKey: 's-1', checkpoint: ExtendedSequenceNumber.TRIM_HORIZON }));
    const events = new TypedEventEmitter<ConsumerEvents>({ clock });
    const seen: string[] = [];
    events.onAny((e) => {
      if (e.type === 'lease.renewal' || e.type === 'lease.taking' || e.type === 'lease.acquired')
        seen.push(`${e.timestamp}:${e.type}`);
    });
    const acquired: string[] = [];
    const coordinator = newCoordinator(store, 'me', clock, events, (handle) => acquired.push(handle.leaseKey));
    expect(coordinator.renewIntervalMillis).toBe(3_308);
    expect(coordinator.takeIntervalMillis).toBe(20_050);
    await coordinator.start();
    // The renewer, the watchdog and the taker (after its first round) all sleep.
    await clock.whenSleeping(3);
    await clock.advance(20_050);
    expect(acquired).toEqual(['s-1']);
    expect(seen).toEqual([
      '0:lease.acquired',
      '0:lease.taking',
      '3308:lease.renewal',
      '6616:lease.renewal',
      '9924:lease.renewal',
      '13232:lease.renewal',
      '16540:lease.renewal',
      '19848:lease.renewal',
      '20050:lease.taking',
    ]);
    await coordinator.stop();
    expect(clock.sleeperCount).toBe(0);
    expect((await store.getLease('s-1'))?.leaseCounter).toBe(7);
  });
});

describe('exclusivity', () => {
  it('a worker cut off from the table gives its lease up before a peer can take it', async () => {
    const clock = new ManualClock(0);
    const store = new InMemoryLeaseStore();
    await store.createLeaseIfNotExists(newLease({ leaseKey: 's-1', checkpoint: ExtendedSequenceNumber.TRIM_HORIZON }));
    const events = new TypedEventEmitter<ConsumerEvents>({ clock });
    const timeline: string[] = [];
    let lostAt = Number.NaN;
    let takenAt = Number.NaN;
    events.on('lease.lost', ({ payload, timestamp }) => {
      timeline.push(`${timestamp}:${payload.workerIdentifier}:lost:${payload.reason}`);
      if (payload.workerIdentifier === 'a') lostAt = timestamp;
    });
    events.on('lease.acquired', ({ payload, timestamp }) => {
      timeline.push(`${timestamp}:${payload.workerIdentifier}:acquired`);
      if (payload.workerIdentifier === 'b') takenAt = timestamp;
    });
    // a is cut off from the table (a network partition): every call fails, none reaches the table.
    let partitioned = false;
    const cut = <T>(call: () => Promise<T>): Promise<T> =>
      partitioned ? Promise.reject(Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' })) : call();
    const aStore: LeaseStore = {
      initialize: () => cut(() => store.initialize()),
      listLeases: () => cut(() => store.listLeases()),
      getLease: (key) => cut(() => store.getLease(key)),
      listLeaseKeysOwnedBy: (owner) => cut(() => store.listLeaseKeysOwnedBy(owner)),
      createLeaseIfNotExists: (lease) => cut(() => store.createLeaseIfNotExists(lease)),
      renewLease: (lease) => cut(() => store.renewLease(lease)),
      takeLease: (lease, owner) => cut(() => store.takeLease(lease, owner)),
      releaseLease: (lease) => cut(() => store.releaseLease(lease)),
      updateCheckpoint: (lease, state) => cut(() => store.updateCheckpoint(lease, state)),
      updateLeaseMetaInfo: (key, info) => cut(() => store.updateLeaseMetaInfo(key, info)),
      deleteLease: (key) => cut(() => store.deleteLease(key)),
    };
    const a = newCoordinator(aStore, 'a', clock, events);
    await a.start();
    await clock.advance(7_000);
    const b = newCoordinator(store, 'b', clock, events);
    await b.start();
    await clock.advance(5_000);
    partitioned = true;
    for (let t = 0; t < 80_000; t += 500) await clock.advance(500);
    await Promise.all([a.stop(), b.stop()]);
    expect(Number.isFinite(takenAt)).toBe(true);
    // Expiry is judged from both sides with the same failover time: a gives up (its own last success +
    // failover, checked every renew interval) before b can see the counter stand still for failover.
    expect(lostAt).toBeLessThan(takenAt);
    expect(timeline.filter((e) => e.includes(':a:lost:'))).toEqual([expect.stringContaining('expired')]);
  });
});
