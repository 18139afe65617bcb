import { ManualClock, TypedEventEmitter } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import type { ConsumerEvents } from '../events.js';
import { ExtendedSequenceNumber } from '../extended-sequence-number.js';
import { InMemoryLeaseStore } from './in-memory-lease-store.js';
import { type Lease, newLease, withLease } from './lease.js';
import { LeaseRenewer } from './lease-renewer.js';
import {
  decideLeasesToTake,
  type LeaseBalancing,
  LeaseTaker,
  type ObservedLease,
  observeLeases,
} from './lease-taker.js';

const FAILOVER = 10_000;
const NOW = 1_000_000;
const identity = <T>(items: readonly T[]): T[] => [...items];

/** `owner@age` (age = ms since the counter last moved), `-` for no owner; `old` = never seen alive. */
function observed(spec: string, index: number): ObservedLease {
  const [owner, age] = spec.split('@');
  const lease = withLease(newLease({ leaseKey: `shard-${index}`, checkpoint: ExtendedSequenceNumber.TRIM_HORIZON }), {
    leaseOwner: owner === '-' ? undefined : owner,
    leaseCounter: 5,
  });
  const ageMs = age === undefined ? 0 : age === 'old' ? Number.POSITIVE_INFINITY : Number(age);
  return { lease, lastCounterChangeAt: NOW - ageMs };
}

interface Overrides {
  maxLeasesForWorker?: number;
  steal?: number;
  priority?: boolean;
  balancing?: LeaseBalancing;
  /** Workers seen by their heartbeats. */
  live?: string[];
}

function decide(specs: string[], overrides: Overrides = {}) {
  const decision = decideLeasesToTake({
    leases: specs.map(observed),
    now: NOW,
    workerIdentifier: 'me',
    failoverTimeMillis: FAILOVER,
    maxLeasesForWorker: overrides.maxLeasesForWorker ?? Number.POSITIVE_INFINITY,
    maxLeasesToStealAtOneTime: overrides.steal ?? 1,
    enablePriorityLeaseAssignment: overrides.priority ?? true,
    balancing: overrides.balancing ?? 'kcl-2x',
    liveWorkers: overrides.live,
    shuffle: identity,
  });
  return {
    take: decision.toTake.map((l) => l.leaseKey),
    spares: decision.spares.map((l) => l.leaseKey),
    steal: decision.toSteal.map((l) => `${l.leaseKey}<-${l.leaseOwner}`),
    target: decision.target,
    workers: decision.numWorkers,
    expired: decision.expiredLeases,
    veryOld: decision.veryOldLeases,
    spillover: decision.leaseSpillover,
  };
}

describe('decideLeasesToTake (KCL 2.x taker maths)', () => {
  it.each<[string, string[], Parameters<typeof decide>[1], Partial<ReturnType<typeof decide>>]>([
    [
      'brand-new leases are very old: the first worker takes them all',
      ['-@old', '-@old', '-@old', '-@old'],
      {},
      { take: ['shard-0', 'shard-1', 'shard-2', 'shard-3'], target: 4, workers: 1, veryOld: 4 },
    ],
    [
      'very old leases are capped by maxLeasesForWorker',
      ['-@old', '-@old', '-@old'],
      { maxLeasesForWorker: 2 },
      { take: ['shard-0', 'shard-1'], spillover: 1 },
    ],
    [
      'without priority assignment new leases are taken up to the target',
      ['-@old', '-@old', '-@old', '-@old', 'a@0', 'a@0'],
      { priority: false },
      { take: ['shard-0', 'shard-1', 'shard-2'], target: 3, workers: 2 },
    ],
    [
      'a released lease (no owner, counter just moved) is free at once',
      ['-@0', 'a@0', 'a@0'],
      {},
      { take: ['shard-0'], target: 2, workers: 2 },
    ],
    [
      'a lease whose counter stood still for failoverTimeMillis is expired',
      ['b@10001', 'a@0', 'a@0'],
      {},
      { take: ['shard-0'], expired: 1, workers: 2 },
    ],
    [
      'exactly failoverTimeMillis is not yet expired',
      ['b@10000', 'a@0', 'a@0', 'b@0', 'me@0'],
      {},
      { take: [], steal: [], workers: 3, expired: 0 },
    ],
    [
      'expired for 3 × failover is very old and taken first, ignoring the target',
      ['b@30001', 'b@30001', 'a@0', 'me@0', 'me@0'],
      {},
      { take: ['shard-0', 'shard-1'], veryOld: 2 },
    ],
    ['at target: nothing', ['me@0', 'me@0', 'a@0', 'a@0'], {}, { take: [], steal: [], target: 2 }],
    ['more workers than leases: target 1', ['a@0', 'b@0'], {}, { target: 1, workers: 3, steal: [] }],
    [
      'steals one from the most loaded worker towards ceil(leases / workers)',
      ['a@0', 'a@0', 'a@0', 'a@0', 'b@0', 'b@0'],
      {},
      { target: 2, workers: 3, steal: ['shard-0<-a'] },
    ],
    [
      'never more than maxLeasesToStealAtOneTime',
      ['a@0', 'a@0', 'a@0', 'a@0', 'a@0', 'a@0'],
      { steal: 1 },
      { target: 3, steal: ['shard-0<-a'] },
    ],
    [
      'steals several when allowed, down to the target only',
      ['a@0', 'a@0', 'a@0', 'a@0', 'a@0', 'a@0'],
      { steal: 5 },
      { target: 3, steal: ['shard-0<-a', 'shard-1<-a', 'shard-2<-a'] },
    ],
    [
      'needing two while the victim sits at target still steals one',
      ['a@0', 'a@0', 'b@0', 'b@0'],
      {},
      { target: 2, steal: ['shard-0<-a'] },
    ],
    [
      'needing one while the victim sits at target steals none',
      ['a@0', 'a@0', 'b@0', 'me@0'],
      {},
      { target: 2, steal: [] },
    ],
    ['free leases are taken rather than stealing', ['a@0', 'a@0', 'a@0', '-@0'], {}, { take: ['shard-3'], steal: [] }],
    [
      'ties between most loaded workers go to the smallest id',
      ['b@0', 'b@0', 'a@0', 'a@0'],
      {},
      { steal: ['shard-2<-a'] },
    ],
  ])('%s', (_name, specs, overrides, expected) => {
    expect(decide(specs, overrides)).toMatchObject(expected);
  });
});

describe('decideLeasesToTake (fair-share)', () => {
  const fair = (overrides: Overrides = {}): Overrides => ({ balancing: 'fair-share', ...overrides });
  it.each<[string, string[], Overrides, Partial<ReturnType<typeof decide>>]>([
    [
      'brand-new leases are taken only up to the target, the rest kept as spares',
      ['-@old', '-@old', '-@old', '-@old'],
      fair({ live: ['a'] }),
      { take: ['shard-0', 'shard-1'], spares: ['shard-2', 'shard-3'], target: 2, workers: 2, veryOld: 4 },
    ],
    [
      'workers seen by their heartbeat count before they hold a lease',
      ['-@old', '-@old', '-@old', '-@old', '-@old', '-@old'],
      fair({ live: ['a', 'b'] }),
      { take: ['shard-0', 'shard-1'], target: 2, workers: 3 },
    ],
    [
      'a heartbeat-only worker whose leases all expired is not counted (it crashed)',
      ['b@10001', 'b@10001', 'a@0', 'a@0'],
      fair({ live: ['a', 'b'] }),
      { take: ['shard-0', 'shard-1'], target: 2, workers: 2, expired: 2 },
    ],
    [
      'very old leases go before merely expired ones, still within the target',
      ['b@10001', '-@old', 'a@0', 'a@0', 'a@0', 'b@10001'],
      fair(),
      { take: ['shard-1', 'shard-0', 'shard-5'], target: 3 },
    ],
    [
      'steals from every worker above the target in proportion to its surplus, damped by half',
      ['a@0', 'a@0', 'a@0', 'a@0', 'a@0', 'a@0', 'b@0', 'b@0', 'b@0', 'b@0', 'c@0', 'c@0'],
      fair({ live: ['d'] }),
      // 12 leases, 5 workers: target 3, floor 2. a gives 3 and b 1, dealt to d, me, d, me: my line is one
      // from b and one from a (damping rounds a line up, so a line of one stays one).
      { target: 3, workers: 5, steal: ['shard-6<-b', 'shard-0<-a'] },
    ],
    [
      'no fallback steal from a worker exactly at the target: everyone already has floor or ceil',
      ['a@0', 'a@0', 'b@0', 'b@0', 'me@0'],
      fair(),
      { target: 2, steal: [] },
    ],
    [
      'below floor, a worker at the target gives one (it stays at floor)',
      ['a@0', 'a@0', 'b@0', 'b@0', 'c@0', 'c@0'],
      fair(),
      // 6 leases, 4 workers: target 2, floor 1; nobody is above the target.
      { target: 2, steal: ['shard-0<-a'] },
    ],
    [
      'maxLeasesToStealAtOneTime does not cap the plan (it is a KCL 2.x knob)',
      ['a@0', 'a@0', 'a@0', 'a@0', 'a@0', 'a@0', 'a@0', 'a@0'],
      fair({ steal: 1 }),
      { target: 4, steal: ['shard-0<-a', 'shard-1<-a'] },
    ],
  ])('%s', (_name, specs, overrides, expected) => {
    expect(decide(specs, overrides)).toMatchObject(expected);
  });
});

describe('observeLeases', () => {
  const lease = (counter: number, owner?: string): Lease =>
    withLease(newLease({ leaseKey: 'k', checkpoint: ExtendedSequenceNumber.LATEST }), {
      leaseCounter: counter,
      leaseOwner: owner,
    });

  it('keeps the time of an unchanged counter, stamps a changed one, and marks unowned first sightings never-alive', () => {
    const first = observeLeases(new Map(), [lease(1, 'a')], 100);
    expect(first.get('k')?.lastCounterChangeAt).toBe(100);
    expect(observeLeases(first, [lease(1, 'a')], 200).get('k')?.lastCounterChangeAt).toBe(100);
    expect(observeLeases(first, [lease(2, 'a')], 300).get('k')?.lastCounterChangeAt).toBe(300);
    expect(observeLeases(new Map(), [lease(0)], 400).get('k')?.lastCounterChangeAt).toBe(Number.NEGATIVE_INFINITY);
    expect(observeLeases(first, [], 500).size).toBe(0);
  });
});

describe('LeaseTaker with a store and a clock', () => {
  async function setup(workers: string[], leaseCount: number, balancing: LeaseBalancing = 'kcl-2x') {
    const clock = new ManualClock(1_000);
    const store = new InMemoryLeaseStore();
    for (let i = 0; i < leaseCount; i++) {
      await store.createLeaseIfNotExists(
        newLease({ leaseKey: `shard-${i}`, checkpoint: ExtendedSequenceNumber.TRIM_HORIZON }),
      );
    }
    const events = new TypedEventEmitter<ConsumerEvents>({ clock });
    const lost: string[] = [];
    const parts = workers.map((workerIdentifier) => {
      const renewer = new LeaseRenewer({
        store,
        workerIdentifier,
        failoverTimeMillis: FAILOVER,
        clock,
        events,
        onLeaseLost: (key) => lost.push(`${workerIdentifier}:${key}`),
      });
      const taker = new LeaseTaker({
        store,
        renewer,
        workerIdentifier,
        failoverTimeMillis: FAILOVER,
        maxLeasesForWorker: Number.POSITIVE_INFINITY,
        maxLeasesToStealAtOneTime: 1,
        enablePriorityLeaseAssignment: true,
        balancing,
        clock,
        events,
        onLeaseAcquired: () => {},
        shuffle: identity,
      });
      return { workerIdentifier, renewer, taker };
    });
    return { clock, store, parts, lost };
  }

  it('a crashed worker’s leases are taken only after its counters stood still for failoverTimeMillis', async () => {
    const { clock, store, parts } = await setup(['a', 'b'], 1);
    const [a, b] = parts;
    if (a === undefined || b === undefined) throw new Error('setup');
    await a.taker.takeLeases();
    expect(a.renewer.heldLeases()).toHaveLength(1);
    // b sees a's lease for the first time: alive, and a sits at the target of 1, so nothing to steal.
    expect(await b.taker.takeLeases()).toHaveLength(0);
    // a dies (stops renewing). Just under failover: still nothing.
    await clock.advance(FAILOVER);
    expect(await b.taker.takeLeases()).toHaveLength(0);
    await clock.advance(1);
    expect((await b.taker.takeLeases()).map((l) => l.leaseKey)).toEqual(['shard-0']);
    expect((await store.listLeases()).every((l) => l.leaseOwner === 'b')).toBe(true);
  });

  it('renewals keep leases alive for peers, and a stolen lease is lost at the victim’s next renewal', async () => {
    const { clock, parts, lost } = await setup(['a', 'b'], 4);
    const [a, b] = parts;
    if (a === undefined || b === undefined) throw new Error('setup');
    await a.taker.takeLeases();
    expect(a.renewer.heldLeases()).toHaveLength(4);
    for (let i = 0; i < 5; i++) {
      await clock.advance(3_000);
      await a.renewer.renewLeases();
      await b.renewer.renewLeases();
    }
    // a kept renewing: b finds nothing expired and steals exactly one towards the target of 2.
    const stolen = await b.taker.takeLeases();
    expect(stolen).toHaveLength(1);
    await a.renewer.renewLeases();
    expect(lost).toEqual([`a:${stolen[0]?.leaseKey}`]);
    expect(a.renewer.heldLeases()).toHaveLength(3);
    // The next round steals one more (a: 3 > target 2), then the workers are balanced and it stops.
    await clock.advance(3_000);
    expect(await b.taker.takeLeases()).toHaveLength(1);
    await a.renewer.renewLeases();
    await b.renewer.renewLeases();
    expect(await b.taker.takeLeases()).toHaveLength(0);
    expect([a.renewer.heldLeases().length, b.renewer.heldLeases().length]).toEqual([2, 2]);
  });

  it('three workers converge to within one lease of each other', async () => {
    const { clock, parts } = await setup(['a', 'b', 'c'], 10);
    for (let round = 0; round < 12; round++) {
      for (const p of parts) {
        await p.renewer.renewLeases();
        await p.taker.takeLeases();
      }
      await clock.advance(1_000);
    }
    const counts = parts.map((p) => p.renewer.heldLeases().length);
    expect(counts.reduce((x, y) => x + y)).toBe(10);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });

  /** Runs a round, moving the clock whenever the round sleeps (a cold start's settle, follow-up passes). */
  async function round(clock: ManualClock, taker: LeaseTaker): Promise<Lease[]> {
    const done = taker.takeLeases();
    for (;;) {
      const next = await Promise.race([done.then(() => 'done'), clock.whenSleeping().then(() => 'sleeping')]);
      if (next === 'done') return done;
      await clock.advance(FAILOVER / 2);
    }
  }

  it('fair-share: a worker seen by its heartbeat counts, and a round stops at the target', async () => {
    const { clock, store, parts } = await setup(['a', 'b'], 10, 'fair-share');
    const [a, b] = parts;
    if (a === undefined || b === undefined) throw new Error('setup');
    await store.workerHeartbeats.heartbeat('b');
    // Under kcl-2x, a would take all 10 (very old, target ignored) — the first test of the KCL table.
    expect(await round(clock, a.taker)).toHaveLength(5);
    expect(await round(clock, b.taker)).toHaveLength(5);
  });

  it('fair-share: a cold start of more than one batch waits failover / 2 once, and counts who started meanwhile', async () => {
    const { clock, parts } = await setup(['a', 'b'], 30, 'fair-share');
    const [a, b] = parts;
    if (a === undefined || b === undefined) throw new Error('setup');
    const first = a.taker.takeLeases();
    await clock.whenSleeping();
    // b starts while a settles: its heartbeat is what a sees when it decides.
    const second = b.taker.takeLeases();
    await clock.whenSleeping(2);
    await clock.advance(FAILOVER / 2);
    expect((await first).length + (await second).length).toBe(30);
    expect(a.renewer.heldLeases()).toHaveLength(15);
  });

  it('fair-share: spare candidates replace leases another worker won first', async () => {
    const { clock, store, parts } = await setup(['a', 'b'], 4, 'fair-share');
    const [a] = parts;
    if (a === undefined) throw new Error('setup');
    await store.workerHeartbeats.heartbeat('b');
    const first = await store.getLease('shard-0');
    if (first === undefined) throw new Error('setup');
    // b wins shard-0 between a's scan and its write: a's write fails its condition, a takes a spare instead.
    const original = store.takeLease.bind(store);
    store.takeLease = async (lease, owner) => {
      if (lease.leaseKey === 'shard-0' && owner === 'a') await original(first, 'b');
      return original(lease, owner);
    };
    const taken = await round(clock, a.taker);
    expect(taken).toHaveLength(2);
    expect(taken.map((l) => l.leaseKey)).not.toContain('shard-0');
  });

  it('fair-share: a throttled scan is retried with backoff instead of losing the round', async () => {
    const { clock, store, parts } = await setup(['a'], 4, 'fair-share');
    const [a] = parts;
    if (a === undefined) throw new Error('setup');
    const original = store.listLeases.bind(store);
    let calls = 0;
    store.listLeases = async () => {
      calls++;
      if (calls === 1) throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
      return original();
    };
    expect(await round(clock, a.taker)).toHaveLength(4);
    expect(calls).toBe(2);
  });
});
