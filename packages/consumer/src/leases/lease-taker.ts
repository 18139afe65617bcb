import type { Clock } from '@kinesis-kit/core';
import { VERY_OLD_LEASE_MULTIPLIER } from '../defaults.js';
import type { ConsumerEventEmitter } from '../events.js';
import type { Lease } from './lease.js';
import type { LeaseRenewer } from './lease-renewer.js';
import type { LeaseStore } from './lease-store.js';

/**
 * A lease as one worker has observed it. There is no time in the lease table: expiry is judged by how long
 * the counter has stayed the same in this worker's own scans (so clock skew between hosts is irrelevant).
 */
export interface ObservedLease {
  readonly lease: Lease;
  /** Local clock time the counter was last seen to change; `-Infinity` if never (an unowned lease seen first). */
  readonly lastCounterChangeAt: number;
}

/**
 * Folds a fresh scan into what was observed before, as the KCL's `updateAllLeases`: a known lease whose
 * counter has not moved keeps its time; a moved counter, or an owned lease seen for the first time, is
 * stamped `now`; an unowned lease seen for the first time was never seen alive (`-Infinity`). Leases missing
 * from the scan are forgotten.
 */
export function observeLeases(
  previous: ReadonlyMap<string, ObservedLease>,
  scanned: readonly Lease[],
  now: number,
): Map<string, ObservedLease> {
  const next = new Map<string, ObservedLease>();
  for (const lease of scanned) {
    const known = previous.get(lease.leaseKey);
    let lastCounterChangeAt: number;
    if (known !== undefined && known.lease.leaseCounter === lease.leaseCounter) {
      lastCounterChangeAt = known.lastCounterChangeAt;
    } else if (known === undefined && lease.leaseOwner === undefined) {
      lastCounterChangeAt = Number.NEGATIVE_INFINITY;
    } else {
      lastCounterChangeAt = now;
    }
    next.set(lease.leaseKey, { lease, lastCounterChangeAt });
  }
  return next;
}

/** Whether nobody holds the lease or its counter has not moved for longer than `failoverTimeMillis`. */
export function isLeaseAvailable(observed: ObservedLease, now: number, failoverTimeMillis: number): boolean {
  return observed.lease.leaseOwner === undefined || now - observed.lastCounterChangeAt > failoverTimeMillis;
}

/** What {@link decideLeasesToTake} needs to know. */
export interface TakeDecisionInput {
  readonly leases: readonly ObservedLease[];
  readonly now: number;
  readonly workerIdentifier: string;
  readonly failoverTimeMillis: number;
  readonly maxLeasesForWorker: number;
  readonly maxLeasesToStealAtOneTime: number;
  readonly enablePriorityLeaseAssignment: boolean;
  /** Reorders candidates; the KCL shuffles so workers don't all go for the same lease. @defaultValue random */
  readonly shuffle?: <T>(items: readonly T[]) => T[];
}

/** What one taker round decided, with the figures the KCL reports as `TakeLeases` metrics. */
export interface TakeDecision {
  /** Free or expired leases to take. */
  readonly toTake: readonly Lease[];
  /** Live leases of the most loaded worker to steal. */
  readonly toSteal: readonly Lease[];
  readonly target: number;
  readonly numWorkers: number;
  readonly totalLeases: number;
  readonly expiredLeases: number;
  readonly veryOldLeases: number;
  /** How far the balance target exceeded `maxLeasesForWorker` (then some shards may go unprocessed). */
  readonly leaseSpillover: number;
  /** Live leases per worker (this one included). */
  readonly leaseCounts: ReadonlyMap<string, number>;
}

/**
 * The KCL 2.x taker's decision (`DynamoDBLeaseTaker.takeLeases`), as a pure function so mixed Java and
 * TypeScript fleets converge on the same balance instead of fighting:
 * 1. count live (not available) leases per worker, this worker included even with none;
 * 2. target = 1 if there are at least as many workers as leases, else ceil(leases / workers), capped by
 *    `maxLeasesForWorker`;
 * 3. leases untouched for 3 × failover (including never-owned ones) are taken first, ignoring the target
 *    (up to `maxLeasesForWorker`);
 * 4. otherwise, below target: take available leases up to the target; if none are available, steal from
 *    the single most loaded worker, at most `maxLeasesToStealAtOneTime`, never taking it below the target
 *    (but one lease when this worker needs more than one and the victim sits exactly at the target).
 */
export function decideLeasesToTake(input: TakeDecisionInput): TakeDecision {
  const { now, workerIdentifier: me, failoverTimeMillis } = input;
  const shuffle = input.shuffle ?? randomShuffle;
  const available = input.leases.filter((o) => isLeaseAvailable(o, now, failoverTimeMillis));
  const expiredLeases = available.filter((o) => o.lease.leaseOwner !== undefined).length;

  const leaseCounts = new Map<string, number>([[me, 0]]);
  for (const o of input.leases) {
    const owner = o.lease.leaseOwner;
    if (owner === undefined || isLeaseAvailable(o, now, failoverTimeMillis)) continue;
    leaseCounts.set(owner, (leaseCounts.get(owner) ?? 0) + 1);
  }
  const numWorkers = leaseCounts.size;
  const totalLeases = input.leases.length;
  let target = numWorkers >= totalLeases ? 1 : Math.ceil(totalLeases / numWorkers);
  let leaseSpillover = 0;
  if (target > input.maxLeasesForWorker) {
    leaseSpillover = target - input.maxLeasesForWorker;
    target = input.maxLeasesForWorker;
  }
  const myCount = leaseCounts.get(me) ?? 0;
  const veryOld = available.filter((o) => now - o.lastCounterChangeAt > VERY_OLD_LEASE_MULTIPLIER * failoverTimeMillis);
  const decision = {
    target,
    numWorkers,
    totalLeases,
    expiredLeases,
    veryOldLeases: veryOld.length,
    leaseSpillover,
    leaseCounts,
  };

  if (input.enablePriorityLeaseAssignment && veryOld.length > 0) {
    const room = Math.max(0, input.maxLeasesForWorker - myCount);
    return { ...decision, toTake: shuffle(veryOld.map((o) => o.lease)).slice(0, room), toSteal: [] };
  }
  const needed = target - myCount;
  if (needed <= 0) return { ...decision, toTake: [], toSteal: [] };
  if (available.length > 0) {
    return { ...decision, toTake: shuffle(available.map((o) => o.lease)).slice(0, needed), toSteal: [] };
  }
  return { ...decision, toTake: [], toSteal: chooseLeasesToSteal(input, leaseCounts, target, needed, shuffle) };
}

function chooseLeasesToSteal(
  input: TakeDecisionInput,
  leaseCounts: ReadonlyMap<string, number>,
  target: number,
  needed: number,
  shuffle: <T>(items: readonly T[]) => T[],
): Lease[] {
  let victim: string | undefined;
  let victimCount = -1;
  // Ties go to the smallest worker id so every worker picks the same victim from the same view.
  for (const [owner, count] of [...leaseCounts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (owner === input.workerIdentifier) continue;
    if (count > victimCount) {
      victim = owner;
      victimCount = count;
    }
  }
  if (victim === undefined || victimCount < target) return [];
  let count = Math.min(needed, victimCount - target);
  // Without this, two workers at target−1 and target+… could wait on each other forever (KCL behaviour).
  if (count === 0 && needed > 1) count = 1;
  count = Math.min(count, input.maxLeasesToStealAtOneTime);
  if (count <= 0) return [];
  const candidates = input.leases.filter((o) => o.lease.leaseOwner === victim).map((o) => o.lease);
  return shuffle(candidates).slice(0, count);
}

function randomShuffle<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    const a = out[i] as T;
    out[i] = out[j] as T;
    out[j] = a;
  }
  return out;
}

/** The leases as observed by one scan, and the clock time of that scan. */
export interface LeaseScanView {
  readonly leases: readonly ObservedLease[];
  readonly at: number;
}

/** Options of a {@link LeaseTaker}. */
export interface LeaseTakerOptions {
  readonly store: LeaseStore;
  readonly renewer: LeaseRenewer;
  readonly workerIdentifier: string;
  readonly failoverTimeMillis: number;
  readonly maxLeasesForWorker: number;
  readonly maxLeasesToStealAtOneTime: number;
  readonly enablePriorityLeaseAssignment: boolean;
  readonly clock: Clock;
  readonly events: ConsumerEventEmitter;
  /** Called for each lease taken, after the renewer holds it. */
  readonly onLeaseAcquired: (lease: Lease, token: symbol) => void;
}

/** Runs taker rounds: scan, decide ({@link decideLeasesToTake}), take with counter-conditional writes. */
export class LeaseTaker {
  readonly #options: LeaseTakerOptions;
  #observed = new Map<string, ObservedLease>();
  #lastScan: LeaseScanView = { leases: [], at: Number.NEGATIVE_INFINITY };

  constructor(options: LeaseTakerOptions) {
    this.#options = options;
  }

  /** The lease table as of the last scan, and when it was read (the hand-over reads who is live from it). */
  lastScan(): LeaseScanView {
    return this.#lastScan;
  }

  /** One round. A failed scan ends the round without taking anything. Resolves with the leases taken. */
  async takeLeases(signal?: AbortSignal): Promise<Lease[]> {
    const o = this.#options;
    const started = o.clock.now();
    const scanned = await o.store.listLeases(signal);
    const now = o.clock.now();
    this.#observed = observeLeases(this.#observed, scanned, now);
    this.#lastScan = { leases: [...this.#observed.values()], at: now };
    const decision = decideLeasesToTake({
      leases: [...this.#observed.values()],
      now,
      workerIdentifier: o.workerIdentifier,
      failoverTimeMillis: o.failoverTimeMillis,
      maxLeasesForWorker: o.maxLeasesForWorker,
      maxLeasesToStealAtOneTime: o.maxLeasesToStealAtOneTime,
      enablePriorityLeaseAssignment: o.enablePriorityLeaseAssignment,
    });
    const taken: Lease[] = [];
    let failed = false;
    for (const lease of [...decision.toTake, ...decision.toSteal]) {
      if (signal?.aborted) break;
      // A lease this worker still holds is renewed by the renewer; taking it too would race its counter.
      if (o.renewer.held(lease.leaseKey) !== undefined) continue;
      try {
        const next = await o.store.takeLease(lease, o.workerIdentifier, signal);
        if (next === undefined) continue;
        this.#observed.set(next.leaseKey, { lease: next, lastCounterChangeAt: o.clock.now() });
        const token = o.renewer.add(next);
        taken.push(next);
        o.events.emit('lease.acquired', {
          leaseKey: next.leaseKey,
          workerIdentifier: o.workerIdentifier,
          previousOwner: lease.leaseOwner,
          stolen: decision.toSteal.includes(lease),
        });
        o.onLeaseAcquired(next, token);
      } catch (error) {
        failed = true;
        if (!signal?.aborted) o.events.emit('error', { operation: 'TakeLease', error, shardId: lease.leaseKey });
      }
    }
    o.events.emit('lease.taking', {
      workerIdentifier: o.workerIdentifier,
      totalLeases: decision.totalLeases,
      numWorkers: decision.numWorkers,
      target: decision.target,
      expiredLeases: decision.expiredLeases,
      veryOldLeases: decision.veryOldLeases,
      takenLeases: taken.length,
      untakenLeases: decision.toTake.length + decision.toSteal.length - taken.length,
      leaseSpillover: decision.leaseSpillover,
      success: !failed,
      durationMs: o.clock.now() - started,
    });
    return taken;
  }
}
