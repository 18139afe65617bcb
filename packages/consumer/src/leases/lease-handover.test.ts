import { ManualClock, TypedEventEmitter } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import type { ConsumerEvents } from '../events.js';
import { ExtendedSequenceNumber } from '../extended-sequence-number.js';
import { InMemoryLeaseStore } from './in-memory-lease-store.js';
import { type Lease, newLease, withLease } from './lease.js';
import { chooseSuccessor, LeaseHandover, liveLeaseCounts } from './lease-handover.js';
import { LeaseRenewer } from './lease-renewer.js';
import type { LeaseScanView, ObservedLease } from './lease-taker.js';

const FAILOVER = 10_000;
const SCANNED_AT = 1_000_000;

/** `owner@age` (age = ms before the scan that the counter last moved), `-` for no owner. */
function observed(spec: string, index: number): ObservedLease {
  const [owner, age] = spec.split('@');
  const lease = withLease(newLease({ leaseKey: `shard-${index}`, checkpoint: ExtendedSequenceNumber.TRIM_HORIZON }), {
    leaseOwner: owner === '-' ? undefined : owner,
    leaseCounter: 5,
  });
  return { lease, lastCounterChangeAt: SCANNED_AT - Number(age ?? 0) };
}

const scan = (specs: string[]): LeaseScanView => ({ leases: specs.map(observed), at: SCANNED_AT });

describe('choosing a successor', () => {
  it.each<[string, string[], string | undefined]>([
    ['nobody else is live: release', ['me@0', '-@0'], undefined],
    ['the only other live worker', ['me@0', 'b@100'], 'b'],
    ['the least loaded live worker', ['b@0', 'b@0', 'c@0', 'me@0'], 'c'],
    ['ties go to the smallest id', ['c@0', 'b@0'], 'b'],
    ['a worker whose counters stood still for the failover time is dead', ['b@10001', 'c@0', 'c@0'], 'c'],
    ['a worker with one live and one expired lease is live with one', ['b@0', 'b@20000', 'c@0', 'c@0'], 'b'],
    ['unowned leases count for nobody', ['-@0', '-@0', 'b@0'], 'b'],
  ])('%s: %j → %s', (_name, specs, expected) => {
    expect(chooseSuccessor(liveLeaseCounts(scan(specs), FAILOVER, 'me'))).toBe(expected);
  });

  it('counts a worker alive by its heartbeat but without leases as live with none: the best successor', () => {
    const view = { ...scan(['b@0', 'me@0']), liveWorkers: ['idle', 'b', 'me'] };
    expect(liveLeaseCounts(view, FAILOVER, 'me')).toEqual(
      new Map([
        ['idle', 0],
        ['b', 1],
      ]),
    );
    expect(chooseSuccessor(liveLeaseCounts(view, FAILOVER, 'me'))).toBe('idle');
  });

  it('prefers Kinesis Kit workers (known by their heartbeat) to lease holders without one (Java KCL 2.x)', () => {
    const view = { ...scan(['java@0', 'b@0', 'b@0', 'b@0']), liveWorkers: ['b'] };
    expect(liveLeaseCounts(view, FAILOVER, 'me')).toEqual(new Map([['b', 3]]));
    expect(chooseSuccessor(liveLeaseCounts(view, FAILOVER, 'me'))).toBe('b');
    // Without heartbeats (KCL 2.x balancing) every live lease holder is a candidate.
    expect(chooseSuccessor(liveLeaseCounts(scan(['java@0', 'b@0', 'b@0']), FAILOVER, 'me'))).toBe('java');
  });

  it('judges liveness at the scan, not now: a long scan interval still tells who was live', () => {
    const view = scan(['b@0']);
    expect(liveLeaseCounts(view, FAILOVER, 'me')).toEqual(new Map([['b', 1]]));
  });
});

async function worker(
  store: InMemoryLeaseStore | NoIndexStore,
  id: string,
  clock: ManualClock,
  view: () => LeaseScanView,
) {
  const events = new TypedEventEmitter<ConsumerEvents>({ clock });
  const acquired: string[] = [];
  const released: ConsumerEvents['lease.released'][] = [];
  events.on('lease.released', ({ payload }) => {
    released.push(payload);
  });
  let leaving = false;
  let handover: LeaseHandover | undefined;
  const renewer = new LeaseRenewer({
    store,
    workerIdentifier: id,
    failoverTimeMillis: FAILOVER,
    clock,
    events,
    successorFor: (lease) => handover?.successorFor(lease),
  });
  handover = new LeaseHandover({
    store,
    renewer,
    workerIdentifier: id,
    failoverTimeMillis: FAILOVER,
    maxLeasesForWorker: Number.POSITIVE_INFINITY,
    clock,
    events,
    lastScan: view,
    isLeaving: () => leaving,
    onLeaseAcquired: (lease) => acquired.push(lease.leaseKey),
  });
  return { renewer, handover, acquired, released, leave: () => (leaving = true) };
}

/** A table without the owner index (made by a Java KCL 2.x). */
class NoIndexStore extends InMemoryLeaseStore {
  override async listLeaseKeysOwnedBy(): Promise<string[] | undefined> {
    return undefined;
  }
}

async function seed(store: InMemoryLeaseStore, owners: Record<string, string>): Promise<Record<string, Lease>> {
  const out: Record<string, Lease> = {};
  for (const [key, owner] of Object.entries(owners)) {
    await store.createLeaseIfNotExists(newLease({ leaseKey: key, checkpoint: ExtendedSequenceNumber.TRIM_HORIZON }));
    out[key] = (await store.takeLease((await store.getLease(key)) as Lease, owner)) as Lease;
  }
  return out;
}

describe('LeaseHandover', () => {
  it('assigns a leaving lease to the least-loaded live worker, which adopts it without a steal', async () => {
    const clock = new ManualClock(SCANNED_AT);
    const store = new InMemoryLeaseStore();
    const leases = await seed(store, { 's-a1': 'a', 's-a2': 'a', 's-b': 'b', 's-c1': 'c', 's-c2': 'c' });
    const view = async () => ({
      leases: (await store.listLeases()).map((lease) => ({ lease, lastCounterChangeAt: SCANNED_AT })),
      at: SCANNED_AT,
    });
    const snapshot = await view();
    const a = await worker(store, 'a', clock, () => snapshot);
    const b = await worker(store, 'b', clock, () => snapshot);
    const c = await worker(store, 'c', clock, () => snapshot);
    const tA1 = a.renewer.add(leases['s-a1'] as Lease);
    const tA2 = a.renewer.add(leases['s-a2'] as Lease);
    b.renewer.add(leases['s-b'] as Lease);
    c.renewer.add(leases['s-c1'] as Lease);
    c.renewer.add(leases['s-c2'] as Lease);
    await a.handover.discover(); // learns the table has the owner index

    await a.renewer.handle('s-a1', tA1).release();
    await a.renewer.handle('s-a2', tA2).release();
    // b had 1, c had 2: the first goes to b; then both have 2 (the first assignment counted) and the tie goes to b.
    expect(a.released.map((r) => `${r.leaseKey}->${r.assignedTo}`)).toEqual(['s-a1->b', 's-a2->b']);
    const assigned = await store.getLease('s-a1');
    expect(assigned).toMatchObject({ leaseOwner: 'b', ownerSwitchesSinceCheckpoint: 1 });

    await c.handover.discover();
    expect(c.acquired).toEqual([]);
    expect(await b.handover.discover()).toHaveLength(2);
    expect(b.acquired.sort()).toEqual(['s-a1', 's-a2']);
    expect(b.renewer.held('s-a1')?.lease.leaseCounter).toBe((assigned?.leaseCounter ?? 0) + 1);
    // Adopting is not an owner switch.
    expect((await store.getLease('s-a1'))?.ownerSwitchesSinceCheckpoint).toBe(1);
    // Held now: a second round neither re-adopts nor writes.
    expect(await b.handover.discover()).toEqual([]);
    expect(b.renewer.held('s-b')).toBeDefined();
  });

  it('spreads several leases over the live workers by count', async () => {
    const clock = new ManualClock(SCANNED_AT);
    const store = new InMemoryLeaseStore();
    const leases = await seed(store, { x1: 'a', x2: 'a', x3: 'a', x4: 'a', b1: 'b', c1: 'c' });
    const snapshot = {
      leases: (await store.listLeases()).map((lease) => ({ lease, lastCounterChangeAt: SCANNED_AT })),
      at: SCANNED_AT,
    };
    const a = await worker(store, 'a', clock, () => snapshot);
    const keys = ['x1', 'x2', 'x3', 'x4'];
    const tokens = keys.map((key) => a.renewer.add(leases[key] as Lease));
    await a.handover.discover();
    for (const [i, key] of keys.entries()) await a.renewer.handle(key, tokens[i] as symbol).release();
    expect(a.released.map((r) => r.assignedTo)).toEqual(['b', 'c', 'b', 'c']);
  });

  it('is safe against a racing take: the adoption is conditional on the counter it read', async () => {
    const clock = new ManualClock(SCANNED_AT);
    const store = new InMemoryLeaseStore();
    await seed(store, { s: 'b' });
    const b = await worker(store, 'b', clock, () => ({ leases: [], at: SCANNED_AT }));
    // Another worker (a Java KCL that saw the lease expire) takes it between b's query and b's take.
    const original = store.getLease.bind(store);
    store.getLease = async (key: string) => {
      const read = await original(key);
      if (read !== undefined) await store.takeLease(read, 'java');
      return read;
    };
    expect(await b.handover.discover()).toEqual([]);
    expect(b.acquired).toEqual([]);
    expect((await original('s'))?.leaseOwner).toBe('java');
  });

  it('releases instead of assigning when the table has no owner index, or nobody else is live', async () => {
    const clock = new ManualClock(SCANNED_AT);
    const noIndex = new NoIndexStore();
    const [l] = Object.values(await seed(noIndex, { s: 'a', t: 'b' }));
    const snapshot = {
      leases: (await noIndex.listLeases()).map((lease) => ({ lease, lastCounterChangeAt: SCANNED_AT })),
      at: SCANNED_AT,
    };
    const a = await worker(noIndex, 'a', clock, () => snapshot);
    const token = a.renewer.add(l as Lease);
    await a.handover.discover();
    await a.renewer.handle('s', token).release();
    expect(a.released).toEqual([{ leaseKey: 's', workerIdentifier: 'a' }]);
    expect((await noIndex.getLease('s'))?.leaseOwner).toBeUndefined();

    const store = new InMemoryLeaseStore();
    const [alone] = Object.values(await seed(store, { s: 'a' }));
    const lonely = await worker(store, 'a', clock, () => ({
      leases: [{ lease: alone as Lease, lastCounterChangeAt: SCANNED_AT }],
      at: SCANNED_AT,
    }));
    const lonelyToken = lonely.renewer.add(alone as Lease);
    await lonely.handover.discover();
    await lonely.renewer.handle('s', lonelyToken).release();
    expect((await store.getLease('s'))?.leaseOwner).toBeUndefined();
  });

  it('never touches a lease it was told to leave alone (a processor stuck at shutdown: the lease must expire)', async () => {
    const clock = new ManualClock(SCANNED_AT);
    const store = new InMemoryLeaseStore();
    const { s } = await seed(store, { s: 'b' });
    const b = await worker(store, 'b', clock, () => ({ leases: [], at: SCANNED_AT }));
    b.handover.ignore('s');
    b.leave();
    await b.handover.discover();
    expect(await store.getLease('s')).toEqual(s);
  });

  it('a leaving worker releases what it is assigned instead of adopting it (no ping-pong between leavers)', async () => {
    const clock = new ManualClock(SCANNED_AT);
    const store = new InMemoryLeaseStore();
    await seed(store, { s: 'b' });
    const b = await worker(store, 'b', clock, () => ({ leases: [], at: SCANNED_AT }));
    b.leave();
    expect(await b.handover.discover()).toEqual([]);
    expect(b.acquired).toEqual([]);
    expect((await store.getLease('s'))?.leaseOwner).toBeUndefined();
  });
});
