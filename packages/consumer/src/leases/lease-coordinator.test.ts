import { ManualClock, ShutdownError, TypedEventEmitter } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../checkpoint-error.js';
import type { ConsumerEvents } from '../events.js';
import { ExtendedSequenceNumber } from '../extended-sequence-number.js';
import { InMemoryLeaseStore } from './in-memory-lease-store.js';
import { type Lease, newLease } from './lease.js';
import { LeaseCoordinator } from './lease-coordinator.js';
import type { LeaseHandle } from './lease-handle.js';
import type { LeaseStore } from './lease-store.js';

// Defect 1 of issue 12: a slow lease table must never let two workers process one shard. Each test drives a
// coordinator on a ManualClock against a store whose calls can be made to hang (never answer, ignore the
// abort, like a half-open connection) or to be throttled.

const FAILOVER = 10_000;
const RENEW = 3_308; // failover / 3 − epsilon
const WATCHDOG = 1_000; // the check period, and the margin before failover

const never = <T>(): Promise<T> => new Promise<T>(() => {});
const throttled = () => Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' });

/** The in-memory store, with per-lease switches that make renewals hang or checkpoints throttle. */
class FaultyStore extends InMemoryLeaseStore {
  readonly hangRenewals = new Set<string>();
  throttleCheckpoints = false;
  renewCalls = 0;
  override renewLease(lease: Lease): Promise<Lease | undefined> {
    this.renewCalls++;
    return this.hangRenewals.has(lease.leaseKey) ? never() : super.renewLease(lease);
  }
  override updateCheckpoint(lease: Lease, state: Parameters<LeaseStore['updateCheckpoint']>[1]) {
    return this.throttleCheckpoints ? Promise.reject(throttled()) : super.updateCheckpoint(lease, state);
  }
}

async function setup(leaseKeys: string[]) {
  const clock = new ManualClock(0);
  const store = new FaultyStore();
  for (const leaseKey of leaseKeys) {
    await store.createLeaseIfNotExists(newLease({ leaseKey, checkpoint: ExtendedSequenceNumber.TRIM_HORIZON }));
  }
  const events = new TypedEventEmitter<ConsumerEvents>({ clock });
  const handles = new Map<string, LeaseHandle>();
  const lost: string[] = [];
  events.on('lease.lost', ({ payload, timestamp }) => {
    lost.push(`${timestamp}:${payload.leaseKey}:${payload.reason}`);
  });
  const revokedAt = new Map<string, number>();
  const coordinator = new LeaseCoordinator({
    store,
    workerIdentifier: 'me',
    failoverTimeMillis: FAILOVER,
    epsilonMillis: 25,
    maxLeasesForWorker: Number.POSITIVE_INFINITY,
    maxLeasesToStealAtOneTime: 1,
    enablePriorityLeaseAssignment: true,
    clock,
    events,
    onLeaseAcquired: (handle) => {
      handles.set(handle.leaseKey, handle);
      handle.lost.addEventListener('abort', () => revokedAt.set(handle.leaseKey, clock.now()), { once: true });
    },
  });
  await coordinator.start();
  await clock.whenSleeping(3);
  expect([...handles.keys()].sort()).toEqual([...leaseKeys].sort());
  return { clock, store, coordinator, handles, lost, revokedAt, events };
}

/** Moves the clock in small steps, as real time would, so every loop gets its turns. */
async function runFor(clock: ManualClock, ms: number): Promise<void> {
  const end = clock.now() + ms;
  while (clock.now() < end) await clock.advance(Math.min(100, end - clock.now()));
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('LeaseCoordinator with a slow lease table', () => {
  it('a hung renewal of one lease does not delay noticing that another was stolen', async () => {
    const { clock, store, coordinator, lost } = await setup(['s-1', 's-2']);
    store.hangRenewals.add('s-1');
    await runFor(clock, RENEW + 100); // the first round: s-1's renewal hangs, s-2's goes through
    const current = (await store.getLease('s-2')) as Lease;
    const stolenAt = clock.now();
    await store.takeLease(current, 'thief');
    await runFor(clock, 2 * RENEW);
    // The next round still runs, one renew interval after the last: s-2's renewal fails its condition there.
    expect(lost).toContainEqual(expect.stringMatching(/:s-2:renewal-failed$/));
    const at = Number(lost.find((l) => l.includes(':s-2:'))?.split(':')[0]);
    expect(at - stolenAt).toBeLessThanOrEqual(RENEW);
    await coordinator.stop();
  });

  it('a lease whose renewals hang is given up by the watchdog before failover, whatever call is in flight', async () => {
    const { clock, store, coordinator, handles, lost, revokedAt } = await setup(['s-1']);
    await runFor(clock, RENEW + 100); // one renewal that got through, sent at RENEW
    const lastRenewalSentAt = RENEW;
    store.hangRenewals.add('s-1');
    const handle = handles.get('s-1');
    expect(handle?.isHeld).toBe(true);
    await runFor(clock, FAILOVER);
    const at = revokedAt.get('s-1');
    expect(at).toBeDefined();
    // Given up once the last renewal is older than failover − margin (checked every WATCHDOG ms), so before
    // a peer, which needs to see the counter stand still for longer than the failover time, can take it.
    expect(at).toBeGreaterThanOrEqual(lastRenewalSentAt + FAILOVER - WATCHDOG);
    expect(at).toBeLessThan(lastRenewalSentAt + FAILOVER);
    expect(handle?.isHeld).toBe(false);
    expect(handle?.lost.reason).toBe('expired');
    expect(lost).toEqual([`${at}:s-1:expired`]);
    expect(coordinator.heldLeases()).toEqual([]);
    await expect(handle?.checkpoint(write('1'))).rejects.toThrow(ShutdownError);
    await coordinator.stop();
  });

  it('a throttled checkpoint goes back to the application at once, and the lease keeps being renewed', async () => {
    const { clock, store, coordinator, handles, lost } = await setup(['s-1']);
    store.throttleCheckpoints = true;
    const handle = handles.get('s-1');
    let outcome: unknown = 'pending';
    handle?.checkpoint(write('1')).then(
      () => {
        outcome = 'written';
      },
      (error: unknown) => {
        outcome = error;
      },
    );
    for (let i = 0; i < 5; i++) await settle();
    // No clock time passed: nothing slept on a backoff while holding the lease's lock.
    expect(outcome).toBeInstanceOf(CheckpointError);
    expect(outcome).toMatchObject({ code: 'CHECKPOINT_THROTTLED', retriable: true });
    const before = (await store.getLease('s-1'))?.leaseCounter ?? 0;
    await runFor(clock, 3 * RENEW + 100);
    expect((await store.getLease('s-1'))?.leaseCounter).toBe(before + 3);
    expect(lost).toEqual([]);
    expect(handle?.isHeld).toBe(true);
    store.throttleCheckpoints = false;
    await handle?.checkpoint(write('1'));
    expect((await store.getLease('s-1'))?.checkpoint.sequenceNumber).toBe('1');
    await coordinator.stop();
  });

  it('a checkpoint hanging when the watchdog gives the lease up is abandoned at once with ShutdownError', async () => {
    const { clock, store, coordinator, handles, revokedAt } = await setup(['s-1']);
    store.hangRenewals.add('s-1');
    await runFor(clock, FAILOVER - WATCHDOG - 300);
    store.updateCheckpoint = () => never();
    let outcome: unknown = 'pending';
    handles
      .get('s-1')
      ?.checkpoint(write('1'))
      .catch((error: unknown) => {
        outcome = error;
      });
    await runFor(clock, 1_000);
    expect(revokedAt.get('s-1')).toBeDefined();
    await settle();
    expect(outcome).toBeInstanceOf(ShutdownError);
    await coordinator.stop();
  });

  it('a renewal queued behind a hung checkpoint still gets its turn within the call timeout', async () => {
    const { clock, store, coordinator, handles, lost } = await setup(['s-1']);
    const update = store.updateCheckpoint.bind(store);
    let hang = true;
    store.updateCheckpoint = (lease, state) => (hang ? never() : update(lease, state));
    const handle = handles.get('s-1');
    const checkpoint = handle?.checkpoint(write('1')).catch((error: unknown) => error);
    await runFor(clock, FAILOVER * 2);
    expect(await checkpoint).toMatchObject({ code: 'CHECKPOINT_FAILED', retriable: true });
    expect(lost).toEqual([]);
    expect(handle?.isHeld).toBe(true);
    hang = false;
    await coordinator.stop();
  });
});

describe('LeaseCoordinator heartbeat removal (graceful shutdown)', () => {
  it("deletes this worker's heartbeat after the round in flight, so that round cannot write it back", async () => {
    const { clock, store, coordinator } = await setup(['s-1']);
    expect((await store.workerHeartbeats.listHeartbeats()).map((h) => h.workerIdentifier)).toEqual(['me']);
    void coordinator.takeNow();
    await coordinator.removeHeartbeat();
    expect(await store.workerHeartbeats.listHeartbeats()).toEqual([]);
    await runFor(clock, 3 * FAILOVER);
    expect(await store.workerHeartbeats.listHeartbeats()).toEqual([]);
    await coordinator.stop();
  });

  it('gives up a hung delete after one renew interval and reports it, so shutdown goes on', async () => {
    const { clock, store, coordinator, events } = await setup(['s-1']);
    const errors: string[] = [];
    events.on('error', ({ payload }) => {
      errors.push(payload.operation);
    });
    store.workerHeartbeats.removeHeartbeat = () => never();
    let done = false;
    const removal = coordinator.removeHeartbeat().then(() => {
      done = true;
    });
    await runFor(clock, RENEW - 100);
    expect(done).toBe(false);
    await runFor(clock, 200);
    await removal;
    expect(done).toBe(true);
    expect(errors).toContain('RemoveWorkerHeartbeat');
    await coordinator.stop();
  });
});

describe('LeaseCoordinator taker rounds', () => {
  it('runs one round at a time: an extra round asked for during a round waits for it', async () => {
    const clock = new ManualClock(0);
    const store = new InMemoryLeaseStore();
    for (const leaseKey of ['a', 'b', 'c', 'd']) {
      await store.createLeaseIfNotExists(newLease({ leaseKey, checkpoint: ExtendedSequenceNumber.TRIM_HORIZON }));
    }
    const list = store.listLeases.bind(store);
    let inFlight = 0;
    let most = 0;
    let release: (() => void) | undefined;
    store.listLeases = async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      inFlight--;
      return list();
    };
    const events = new TypedEventEmitter<ConsumerEvents>({ clock });
    const coordinator = new LeaseCoordinator({
      store,
      workerIdentifier: 'me',
      failoverTimeMillis: FAILOVER,
      epsilonMillis: 25,
      maxLeasesForWorker: Number.POSITIVE_INFINITY,
      maxLeasesToStealAtOneTime: 1,
      enablePriorityLeaseAssignment: false,
      clock,
      events,
      onLeaseAcquired: () => {},
    });
    const starting = coordinator.start();
    // start() scans once for own leases; let it through, then the first scheduled round scans and waits.
    for (let i = 0; i < 5 && release === undefined; i++) await settle();
    release?.();
    await starting;
    await settle();
    const extra = [coordinator.takeNow(), coordinator.takeNow()];
    for (let i = 0; i < 5; i++) {
      await settle();
      release?.();
    }
    await Promise.all(extra);
    expect(most).toBe(1);
    await coordinator.stop();
  });
});

function write(sequenceNumber: string) {
  return {
    checkpoint: new ExtendedSequenceNumber(sequenceNumber),
    pendingCheckpoint: undefined,
    pendingCheckpointState: undefined,
  };
}

describe('LeaseCoordinator hand-over discovery', () => {
  it('a hung discovery call is abandoned after one renew interval, and the next round adopts the lease', async () => {
    const clock = new ManualClock(0);
    const store = new (class extends InMemoryLeaseStore {
      hangReads = true;
      override getLease(leaseKey: string): Promise<Lease | undefined> {
        return this.hangReads ? never() : super.getLease(leaseKey);
      }
    })();
    await store.createLeaseIfNotExists(newLease({ leaseKey: 's-1', checkpoint: ExtendedSequenceNumber.TRIM_HORIZON }));
    const events = new TypedEventEmitter<ConsumerEvents>({ clock });
    const errors: string[] = [];
    events.on('error', ({ payload }) => {
      errors.push(payload.operation);
    });
    const acquired: string[] = [];
    const coordinator = new LeaseCoordinator({
      store,
      workerIdentifier: 'me',
      failoverTimeMillis: FAILOVER,
      epsilonMillis: 25,
      maxLeasesForWorker: Number.POSITIVE_INFINITY,
      maxLeasesToStealAtOneTime: 1,
      enablePriorityLeaseAssignment: true,
      // No taker round in this test: only discovery can find the lease.
      leaseScanIntervalMillis: 3_600_000,
      leaseDiscoveryIntervalMillis: 1_000,
      clock,
      events,
      onLeaseAcquired: (handle) => acquired.push(handle.leaseKey),
    });
    // The first taker round (at start) must not take it: assign it to 'me' only after the start.
    store.hangReads = false;
    const lease = (await store.getLease('s-1')) as Lease;
    await store.takeLease(lease, 'someone-else');
    store.hangReads = true;
    await coordinator.start();
    // A leaving worker assigns the lease to this one.
    store.hangReads = false;
    await store.takeLease((await store.getLease('s-1')) as Lease, 'me');
    store.hangReads = true;
    for (let t = 0; t < RENEW + 1_500; t += 100) await clock.advance(100);
    expect(errors).toContain('DiscoverLeases');
    expect(acquired).toEqual([]);
    store.hangReads = false;
    // A round that started while reads hung is abandoned too; the next one (within a renew interval) adopts.
    for (let t = 0; t < RENEW + 1_500 && acquired.length === 0; t += 100) await clock.advance(100);
    expect(acquired).toEqual(['s-1']);
    await coordinator.stop();
  });
});
