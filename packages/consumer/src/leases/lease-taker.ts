import { type Clock, isThrottlingError, retry } from '@kinesis-kit/core';
import {
  DEFAULT_LEASE_BALANCING,
  DEFAULT_TAKE_CONCURRENCY,
  MAX_STEAL_PASSES,
  SCAN_ATTEMPTS,
  STEAL_DAMPING,
  TAKE_RETRIES,
  VERY_OLD_LEASE_MULTIPLIER,
} from '../defaults.js';
import type { ConsumerEventEmitter } from '../events.js';
import type { Lease } from './lease.js';
import type { LeaseRenewer } from './lease-renewer.js';
import type { LeaseStore, WorkerHeartbeatStore } from './lease-store.js';
import { planSteals } from './steal-plan.js';
import { heartbeatExpiryMillis, liveWorkers, type ObservedWorker, observeWorkers } from './worker-heartbeat.js';

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

/** How a worker balances leases; see `DEFAULT_LEASE_BALANCING`. */
export type LeaseBalancing = 'fair-share' | 'kcl-2x';

/** What {@link decideLeasesToTake} needs to know. */
export interface TakeDecisionInput {
  readonly leases: readonly ObservedLease[];
  readonly now: number;
  readonly workerIdentifier: string;
  readonly failoverTimeMillis: number;
  readonly maxLeasesForWorker: number;
  /** Caps steals per round in the `kcl-2x` mode only; fair-share steals what its plan gives it. */
  readonly maxLeasesToStealAtOneTime: number;
  readonly enablePriorityLeaseAssignment: boolean;
  /** @defaultValue 'fair-share' */
  readonly balancing?: LeaseBalancing;
  /** Workers seen alive by their heartbeats (fair-share only), counted even before they hold a lease. */
  readonly liveWorkers?: readonly string[];
  /** Reorders candidates; the KCL shuffles so workers don't all go for the same lease. @defaultValue random */
  readonly shuffle?: <T>(items: readonly T[]) => T[];
}

/** What one taker round decided, with the figures the KCL reports as `TakeLeases` metrics. */
export interface TakeDecision {
  /** Free or expired leases to take. */
  readonly toTake: readonly Lease[];
  /** Further free or expired leases to try, in order, if some of `toTake` are taken by others first. */
  readonly spares: readonly Lease[];
  /** Live leases of workers above their share to steal. */
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
 * Decides what one taker round takes. Two rule sets, both safe on one table (every take is a conditional
 * write), so mixed Java and TypeScript fleets converge:
 *
 * `kcl-2x`, the KCL 2.x taker (`DynamoDBLeaseTaker.takeLeases`) exactly:
 * 1. count live (not available) leases per worker, this worker included even with none;
 * 2. target = 1 if there are at least as many workers as leases, else ceil(leases / workers), capped by
 *    `maxLeasesForWorker`;
 * 3. leases untouched for 3 × failover (including never-owned ones) are taken first, ignoring the target
 *    (up to `maxLeasesForWorker`);
 * 4. otherwise, below target: take available leases up to the target; if none are available, steal from
 *    the single most loaded worker, at most `maxLeasesToStealAtOneTime`, never taking it below the target
 *    (but one lease when this worker needs more than one and the victim sits exactly at the target).
 *
 * `fair-share`, what the fleet simulation showed converges in one or two rounds instead of hundreds:
 * 1. workers = lease holders plus workers alive by their heartbeat ({@link TakeDecisionInput.liveWorkers}),
 *    minus heartbeat-only workers whose leases have all expired (crashed: counting them would leave their
 *    leases to nobody until the heartbeat expires), plus this worker;
 * 2. the same target as the KCL;
 * 3. very old leases first, then other free or expired ones, never beyond the target (the KCL's rule 3 lets
 *    the first worker of a cold start take the whole table);
 * 4. if none are available, {@link planSteals} splits every worker's surplus over every worker's deficit,
 *    the same way on every worker, and this worker steals its part.
 */
export function decideLeasesToTake(input: TakeDecisionInput): TakeDecision {
  const { now, workerIdentifier: me, failoverTimeMillis } = input;
  const fairShare = (input.balancing ?? 'fair-share') === 'fair-share';
  const shuffle = input.shuffle ?? ((items) => shuffled(items));
  const available = input.leases.filter((o) => isLeaseAvailable(o, now, failoverTimeMillis));
  const expiredLeases = available.filter((o) => o.lease.leaseOwner !== undefined).length;

  const leaseCounts = new Map<string, number>([[me, 0]]);
  const withExpired = new Set<string>();
  for (const o of input.leases) {
    const owner = o.lease.leaseOwner;
    if (owner === undefined) continue;
    if (isLeaseAvailable(o, now, failoverTimeMillis)) withExpired.add(owner);
    else leaseCounts.set(owner, (leaseCounts.get(owner) ?? 0) + 1);
  }
  if (fairShare) {
    for (const worker of input.liveWorkers ?? []) {
      if (!leaseCounts.has(worker) && !withExpired.has(worker)) leaseCounts.set(worker, 0);
    }
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
  const isVeryOld = (o: ObservedLease) => now - o.lastCounterChangeAt > VERY_OLD_LEASE_MULTIPLIER * failoverTimeMillis;
  const veryOld = available.filter(isVeryOld);
  const decision = {
    target,
    numWorkers,
    totalLeases,
    expiredLeases,
    veryOldLeases: veryOld.length,
    leaseSpillover,
    leaseCounts,
  };
  const nothing = { ...decision, toTake: [], spares: [], toSteal: [] };

  if (!fairShare && input.enablePriorityLeaseAssignment && veryOld.length > 0) {
    const room = Math.max(0, input.maxLeasesForWorker - myCount);
    return { ...nothing, toTake: shuffle(veryOld.map((o) => o.lease)).slice(0, room) };
  }
  const needed = target - myCount;
  if (needed <= 0) return nothing;
  if (available.length > 0) {
    const ordered =
      fairShare && input.enablePriorityLeaseAssignment
        ? [
            ...shuffle(veryOld.map((o) => o.lease)),
            ...shuffle(available.filter((o) => !isVeryOld(o)).map((o) => o.lease)),
          ]
        : shuffle(available.map((o) => o.lease));
    return { ...nothing, toTake: ordered.slice(0, needed), spares: fairShare ? ordered.slice(needed) : [] };
  }
  if (fairShare) {
    const plan = planSteals(leaseCounts, totalLeases, Math.min(target, input.maxLeasesForWorker)).get(me);
    const toSteal: Lease[] = [];
    if (plan === undefined) return nothing;
    const byOwner = new Map<string, Lease[]>();
    for (const o of input.leases) {
      const owner = o.lease.leaseOwner;
      if (owner === undefined || !plan.has(owner) || isLeaseAvailable(o, now, failoverTimeMillis)) continue;
      const list = byOwner.get(owner) ?? [];
      list.push(o.lease);
      byOwner.set(owner, list);
    }
    for (const [victim, count] of plan) {
      toSteal.push(...shuffle(byOwner.get(victim) ?? []).slice(0, Math.ceil(count * STEAL_DAMPING)));
    }
    return { ...nothing, toSteal };
  }
  return { ...nothing, toSteal: chooseLeasesToSteal(input, leaseCounts, target, needed, shuffle) };
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

/** A shuffled copy of `items` (Fisher–Yates) drawing from `random`; tests and the simulator pass a seeded one. */
export function shuffled<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
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
  /** Workers alive by their heartbeat at that scan, with or without leases (fair-share only). */
  readonly liveWorkers?: readonly string[];
}

/** Options of a {@link LeaseTaker}. */
export interface LeaseTakerOptions {
  readonly store: LeaseStore;
  /** Where taken leases go: the renewer, which keeps them alive. */
  readonly renewer: Pick<LeaseRenewer, 'held' | 'add'>;
  readonly workerIdentifier: string;
  readonly failoverTimeMillis: number;
  readonly maxLeasesForWorker: number;
  readonly maxLeasesToStealAtOneTime: number;
  readonly enablePriorityLeaseAssignment: boolean;
  /** @defaultValue `DEFAULT_LEASE_BALANCING` ('fair-share') */
  readonly balancing?: LeaseBalancing;
  /** Lease writes in flight in a fair-share round. @defaultValue `DEFAULT_TAKE_CONCURRENCY` (10) */
  readonly takeConcurrency?: number;
  /**
   * How often this taker's rounds (and so every worker's heartbeats) run: peers' heartbeats expire after a few
   * of these. @defaultValue 2 × `failoverTimeMillis` (the KCL's round)
   */
  readonly heartbeatIntervalMillis?: number;
  readonly clock: Clock;
  readonly events: ConsumerEventEmitter;
  /** Called for each lease taken, after the renewer holds it. */
  readonly onLeaseAcquired: (lease: Lease, token: symbol) => void;
  /** Reorders candidates (see {@link TakeDecisionInput.shuffle}); the fleet simulator passes a seeded one. */
  readonly shuffle?: <T>(items: readonly T[]) => T[];
  /** Jitter for the backoff after a throttled take. @defaultValue Math.random */
  readonly random?: () => number;
}

/**
 * Runs taker rounds: heartbeat (fair-share, when the store keeps heartbeats), scan, decide
 * ({@link decideLeasesToTake}), take with counter-conditional writes. A fair-share round keeps
 * `takeConcurrency` writes in flight and stops once it holds its target, trying spare candidates when others
 * win a lease first; the KCL 2.x mode writes one at a time, as the KCL does.
 */
export class LeaseTaker {
  readonly #options: LeaseTakerOptions;
  readonly #balancing: LeaseBalancing;
  /** How long a peer's heartbeat may stand still before the peer counts as gone. */
  readonly #heartbeatExpiry: number;
  #observed = new Map<string, ObservedLease>();
  #observedWorkers = new Map<string, ObservedWorker>();
  #firstRound = true;
  #lastScan: LeaseScanView = { leases: [], at: Number.NEGATIVE_INFINITY };

  constructor(options: LeaseTakerOptions) {
    this.#options = options;
    this.#heartbeatExpiry = heartbeatExpiryMillis(
      options.failoverTimeMillis,
      options.heartbeatIntervalMillis ?? 2 * options.failoverTimeMillis,
    );
    this.#balancing = options.balancing ?? DEFAULT_LEASE_BALANCING;
  }

  /** The lease table as of the last scan, and when it was read (the hand-over reads who is live from it). */
  lastScan(): LeaseScanView {
    return this.#lastScan;
  }

  /** Deletes this worker's heartbeat (graceful shutdown) so peers rebalance without waiting for it to expire. */
  async removeHeartbeat(signal?: AbortSignal): Promise<void> {
    await this.#options.store.workerHeartbeats?.removeHeartbeat(this.#options.workerIdentifier, signal);
  }

  /**
   * One round. A failed scan ends the round without taking anything. In fair-share a round that stole and is
   * still short of its target runs further passes (see `MAX_STEAL_PASSES`). Resolves with the leases taken.
   */
  async takeLeases(signal?: AbortSignal): Promise<Lease[]> {
    const taken: Lease[] = [];
    for (let pass = 1; ; pass++) {
      const result = await this.#pass(signal);
      taken.push(...result.taken);
      const again = result.settle || result.stoleAndShort;
      if (this.#balancing !== 'fair-share' || pass >= MAX_STEAL_PASSES || !again) return taken;
      try {
        await this.#options.clock.sleep(this.#options.failoverTimeMillis / (result.settle ? 2 : 3), signal);
      } catch {
        return taken;
      }
    }
  }

  async #pass(signal?: AbortSignal): Promise<{ taken: Lease[]; stoleAndShort: boolean; settle: boolean }> {
    const o = this.#options;
    const started = o.clock.now();
    const fairShare = this.#balancing === 'fair-share';
    const heartbeats = fairShare ? o.store.workerHeartbeats : undefined;
    if (heartbeats !== undefined) {
      try {
        await heartbeats.heartbeat(o.workerIdentifier, signal);
      } catch (error) {
        // Peers count this worker by its leases meanwhile, as the KCL 2.x does: not a reason to skip the round.
        if (!signal?.aborted) o.events.emit('error', { operation: 'WorkerHeartbeat', error });
      }
    }
    const throttlingOnly = (error: unknown) => (isThrottlingError(error) ? 'throttling' : 'client');
    const [scanned, beats] = await Promise.all([
      retry(() => o.store.listLeases(signal), {
        maxAttempts: fairShare ? SCAN_ATTEMPTS : 1,
        classify: throttlingOnly,
        clock: o.clock,
        signal,
        random: o.random,
      }),
      heartbeats?.listHeartbeats(signal).catch((error: unknown) => {
        if (!signal?.aborted) o.events.emit('error', { operation: 'ListWorkerHeartbeats', error });
        return undefined;
      }),
    ]);
    const now = o.clock.now();
    this.#observed = observeLeases(this.#observed, scanned, now);
    if (beats !== undefined) this.#observedWorkers = observeWorkers(this.#observedWorkers, beats, now);
    this.#lastScan = {
      leases: [...this.#observed.values()],
      at: now,
      liveWorkers: liveWorkers(this.#observedWorkers, now, this.#heartbeatExpiry),
    };
    const decision = decideLeasesToTake({
      leases: [...this.#observed.values()],
      now,
      workerIdentifier: o.workerIdentifier,
      failoverTimeMillis: o.failoverTimeMillis,
      maxLeasesForWorker: o.maxLeasesForWorker,
      maxLeasesToStealAtOneTime: o.maxLeasesToStealAtOneTime,
      enablePriorityLeaseAssignment: o.enablePriorityLeaseAssignment,
      balancing: this.#balancing,
      liveWorkers: liveWorkers(this.#observedWorkers, now, this.#heartbeatExpiry),
      shuffle: o.shuffle,
    });
    const taken: Lease[] = [];
    let failed = false;
    let attempted = 0;
    const take = async (lease: Lease, stolen: boolean): Promise<boolean> => {
      attempted++;
      try {
        // A throttled take was not applied, so retrying it is safe; the backoff also slows this lane down,
        // which is what the table asked for (a cold start of 10,000 leases throttled 321,816 calls without).
        const next = await retry(() => o.store.takeLease(lease, o.workerIdentifier, signal), {
          maxAttempts: TAKE_RETRIES,
          classify: throttlingOnly,
          clock: o.clock,
          signal,
          random: o.random,
        });
        if (next === undefined) return false;
        this.#observed.set(next.leaseKey, { lease: next, lastCounterChangeAt: o.clock.now() });
        const token = o.renewer.add(next);
        taken.push(next);
        o.events.emit('lease.acquired', {
          leaseKey: next.leaseKey,
          workerIdentifier: o.workerIdentifier,
          previousOwner: lease.leaseOwner,
          stolen,
        });
        o.onLeaseAcquired(next, token);
        return true;
      } catch (error) {
        failed = true;
        if (!signal?.aborted) o.events.emit('error', { operation: 'TakeLease', error, shardId: lease.leaseKey });
        return false;
      }
    };
    // A lease this worker still holds is renewed by the renewer; taking it too would race its counter.
    const notHeld = (lease: Lease) => o.renewer.held(lease.leaseKey) === undefined;
    const candidates = [...decision.toTake, ...decision.spares].filter(notHeld);
    const steals = decision.toSteal.filter(notHeld);
    const firstRound = this.#firstRound;
    this.#firstRound = false;
    const concurrency = o.takeConcurrency ?? DEFAULT_TAKE_CONCURRENCY;
    // Never-owned leases (counter 0: every take bumps it) mean a cold start, not leases just released.
    const neverOwned = decision.toTake.filter((lease) => lease.leaseCounter === 0).length;
    if (firstRound && heartbeats !== undefined && neverOwned > concurrency) {
      // A cold start: peers starting at about the same time have not written their heartbeats yet, and a
      // target computed now would be far too high. Wait failover / 2 once, then decide on what is visible.
      // Not for a take of one batch or less: over-taking a few leases costs a few steals, not a minute; and
      // not for released leases (a rolling deploy), which should be taken at once.
      // (Cold start of 1,000 x 10 in the simulator, 5 s start spread: 726 steals and 1,982 failed writes
      // without, 12 and 111 with.)
      return { taken: [], stoleAndShort: false, settle: true };
    }
    let wanted = decision.toTake.length;
    if (fairShare) {
      // A long take (a cold start seen by the first worker up) re-reads the heartbeats meanwhile: workers that
      // started since the scan lower the target, and this worker stops at the lower one.
      const refreshing = new AbortController();
      const refresher =
        heartbeats === undefined || wanted <= concurrency
          ? Promise.resolve()
          : this.#refreshTarget(heartbeats, decision, refreshing.signal, (target) => {
              wanted = Math.min(wanted, Math.max(0, target - (decision.leaseCounts.get(o.workerIdentifier) ?? 0)));
            });
      // Stop at the target: start another take only while the ones won and in flight fall short of it.
      await takeBounded(
        candidates,
        concurrency,
        signal,
        (inFlight) => taken.length + inFlight < wanted,
        (lease) => take(lease, false),
      );
      refreshing.abort();
      await refresher;
      await takeBounded(
        [...steals],
        concurrency,
        signal,
        () => true,
        (lease) => take(lease, true),
      );
    } else {
      for (const lease of [...candidates, ...steals]) {
        if (signal?.aborted) break;
        await take(lease, steals.includes(lease));
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
      untakenLeases: Math.max(0, attempted - taken.length),
      leaseSpillover: decision.leaseSpillover,
      success: !failed,
      durationMs: o.clock.now() - started,
    });
    const held = (decision.leaseCounts.get(o.workerIdentifier) ?? 0) + taken.length;
    return { taken, stoleAndShort: steals.length > 0 && held < decision.target, settle: false };
  }

  /** Every failover / 10 until aborted: re-reads the heartbeats and reports the target they give. */
  async #refreshTarget(
    heartbeats: WorkerHeartbeatStore,
    decision: TakeDecision,
    signal: AbortSignal,
    onTarget: (target: number) => void,
  ): Promise<void> {
    const o = this.#options;
    for (;;) {
      try {
        await o.clock.sleep(o.failoverTimeMillis / 10, signal);
        const beats = await heartbeats.listHeartbeats(signal);
        const now = o.clock.now();
        this.#observedWorkers = observeWorkers(this.#observedWorkers, beats, now);
      } catch {
        return;
      }
      const workers = new Set([
        ...decision.leaseCounts.keys(),
        ...liveWorkers(this.#observedWorkers, o.clock.now(), this.#heartbeatExpiry),
      ]);
      const target = workers.size >= decision.totalLeases ? 1 : Math.ceil(decision.totalLeases / workers.size);
      onTarget(Math.min(target, o.maxLeasesForWorker));
    }
  }
}

/**
 * Takes `queue` in order with up to `concurrency` writes in flight, starting another only while `more(inFlight)`
 * says it still pays (a take that fails leaves room for the next candidate). Stops when `signal` aborts.
 */
async function takeBounded(
  queue: Lease[],
  concurrency: number,
  signal: AbortSignal | undefined,
  more: (inFlight: number) => boolean,
  take: (lease: Lease) => Promise<unknown>,
): Promise<void> {
  const running = new Set<Promise<unknown>>();
  while (!signal?.aborted) {
    while (running.size < Math.max(1, concurrency) && queue.length > 0 && more(running.size)) {
      const lease = queue.shift() as Lease;
      const call: Promise<unknown> = take(lease).finally(() => running.delete(call));
      running.add(call);
    }
    if (running.size === 0) return;
    await Promise.race(running);
  }
}
