import type { Clock } from '@kinesis-kit/core';
import type { ConsumerEventEmitter } from '../events.js';
import type { Lease } from './lease.js';
import type { LeaseRenewer } from './lease-renewer.js';
import type { LeaseStore } from './lease-store.js';
import { isLeaseAvailable, type LeaseScanView } from './lease-taker.js';

/**
 * Live leases per worker other than `me`, from this worker's last scan: a worker is live if a lease it owns had
 * its counter move within the failover time before that scan (the taker's own notion of "not expired", judged at
 * the scan, so a long scan interval still tells who was live). A worker with no lease is live only by its
 * heartbeat (fair-share balancing keeps them); without one it is invisible and never chosen. When heartbeats
 * are known, only workers with one count: a Java KCL 2.x worker (no heartbeat) does not adopt.
 */
export function liveLeaseCounts(scan: LeaseScanView, failoverTimeMillis: number, me: string): Map<string, number> {
  const counts = new Map<string, number>();
  // Workers alive by their heartbeat are live even without a lease (an idle worker is the best successor).
  const beating = new Set((scan.liveWorkers ?? []).filter((worker) => worker !== me));
  for (const worker of beating) counts.set(worker, 0);
  for (const o of scan.leases) {
    const owner = o.lease.leaseOwner;
    if (owner === undefined || owner === me || isLeaseAvailable(o, scan.at, failoverTimeMillis)) continue;
    // Only Kinesis Kit workers write heartbeats, and only they adopt within a second: when some are known, a
    // worker without one (a Java KCL 2.x worker, which would let the lease expire) is not a candidate.
    if (beating.size > 0 && !beating.has(owner)) continue;
    counts.set(owner, (counts.get(owner) ?? 0) + 1);
  }
  return counts;
}

/**
 * The worker to hand a lease to: the live worker with the fewest leases (`counts`, which already include the
 * leases handed over so far), ties to the smallest id so the choice is reproducible; `undefined` if no other
 * worker is live (then the lease is released for anyone to take).
 */
export function chooseSuccessor(counts: ReadonlyMap<string, number>): string | undefined {
  let best: string | undefined;
  let bestCount = Number.POSITIVE_INFINITY;
  for (const [worker, count] of counts) {
    if (count < bestCount || (count === bestCount && best !== undefined && worker < best)) {
      best = worker;
      bestCount = count;
    }
  }
  return best;
}

/** Options of a {@link LeaseHandover}. */
export interface LeaseHandoverOptions {
  readonly store: LeaseStore;
  readonly renewer: LeaseRenewer;
  readonly workerIdentifier: string;
  readonly failoverTimeMillis: number;
  readonly maxLeasesForWorker: number;
  readonly clock: Clock;
  readonly events: ConsumerEventEmitter;
  /** The taker's latest view of the lease table (who is live, with how many leases). */
  readonly lastScan: () => LeaseScanView;
  /** Whether this worker is leaving (shutting down): it then passes on what it is given instead of adopting. */
  readonly isLeaving: () => boolean;
  /** Called for each lease adopted, after the renewer holds it. */
  readonly onLeaseAcquired: (lease: Lease, token: symbol) => void;
}

/**
 * Fast hand-over of leases between live workers, both ends of it:
 *
 * - **giving** ({@link LeaseHandover.successorFor}): a worker handing a lease back (graceful shutdown, a processor
 *   that cannot be built) assigns it to the least-loaded live worker instead of releasing it: `leaseOwner` set to
 *   the successor, counter bumped, owner switches + 1, conditional on its own counter (KCL 3.x's `assignLease`);
 * - **receiving** ({@link LeaseHandover.discover}): every worker asks the owner index which leases are its own on a
 *   short cadence, and adopts those it does not hold with a take conditional on the counter it just read.
 *
 * Safety rests on the counter, as everywhere in the lease table: the assignment succeeds only if nothing moved the
 * lease since the leaving worker's last write, and the adoption only if nothing moved it since the successor read
 * it, so at most one of any racing takers (a Java worker that saw it expire, this worker's own taker) wins. The
 * leaving worker ends its tenure before it writes the assignment, as before a release.
 *
 * Without the owner index (a table a Java KCL 2.x made) nobody could discover an assignment, so leases are
 * released, as before. A Java KCL 2.x worker chosen as successor does not know it owns the lease: it renews
 * nothing, the lease expires after the failover time and is taken as after a crash — slower, never doubled.
 */
export class LeaseHandover {
  readonly #options: LeaseHandoverOptions;
  /** Whether the table has the owner index; unknown (so: release) until the first discovery answers. */
  #ownerIndex: boolean | undefined;
  /** Leases this worker assigned since the last change of view, per successor, so several spread out. */
  #assigned = new Map<string, number>();
  #assignedView: LeaseScanView | undefined;
  /** Leases this worker must not adopt nor release: a processor stuck at shutdown still runs on them. */
  readonly #ignored = new Set<string>();

  constructor(options: LeaseHandoverOptions) {
    this.#options = options;
  }

  /**
   * The worker to assign `lease` to, or `undefined` to release it: no owner index, or no other live worker in
   * the last scan. Counts the assignment, so the next lease goes to the next least-loaded worker.
   */
  successorFor(_lease: Lease): string | undefined {
    if (this.#ownerIndex !== true) return undefined;
    const o = this.#options;
    const scan = o.lastScan();
    if (scan !== this.#assignedView) {
      // A fresh scan already counts what was assigned before it (or shows it released).
      this.#assigned = new Map();
      this.#assignedView = scan;
    }
    const counts = liveLeaseCounts(scan, o.failoverTimeMillis, o.workerIdentifier);
    for (const [worker, extra] of this.#assigned) {
      const count = counts.get(worker);
      if (count !== undefined) counts.set(worker, count + extra);
    }
    const successor = chooseSuccessor(counts);
    if (successor !== undefined) this.#assigned.set(successor, (this.#assigned.get(successor) ?? 0) + 1);
    return successor;
  }

  /**
   * Never adopts nor releases this lease again: this worker stopped holding it on purpose (deleted, or its
   * processor is stuck at shutdown and the lease must expire as after a crash).
   */
  ignore(leaseKey: string): void {
    this.#ignored.add(leaseKey);
  }

  /**
   * One discovery round: one query of the owner index, then for each lease it names that this worker does not
   * hold, a read and a take conditional on the counter read. A leaving worker (or one at `maxLeasesForWorker`)
   * releases such a lease instead, so two workers leaving at once never pass leases back and forth. Resolves
   * with the leases adopted.
   */
  async discover(signal?: AbortSignal): Promise<Lease[]> {
    const o = this.#options;
    const keys = await o.store.listLeaseKeysOwnedBy(o.workerIdentifier, signal);
    this.#ownerIndex = keys !== undefined;
    const adopted: Lease[] = [];
    for (const leaseKey of keys ?? []) {
      if (signal?.aborted) break;
      if (o.renewer.held(leaseKey) !== undefined || this.#ignored.has(leaseKey)) continue;
      const lease = await o.store.getLease(leaseKey, signal);
      // The index lags the table; and a KCL 3.x hand-off in progress (checkpointOwner set) is not ours yet.
      if (lease === undefined || lease.leaseOwner !== o.workerIdentifier || lease.checkpointOwner !== undefined)
        continue;
      // Re-checked after the read: this worker's taker may have taken it meanwhile.
      if (o.renewer.held(leaseKey) !== undefined || this.#ignored.has(leaseKey)) continue;
      if (o.isLeaving() || o.renewer.heldLeases().length >= o.maxLeasesForWorker) {
        if ((await o.store.releaseLease(lease, signal)) !== undefined) {
          o.events.emit('lease.released', { leaseKey, workerIdentifier: o.workerIdentifier });
        }
        continue;
      }
      const sentAt = o.clock.now();
      const next = await o.store.takeLease(lease, o.workerIdentifier, signal);
      if (next === undefined || o.renewer.held(leaseKey) !== undefined) continue;
      const token = o.renewer.add(next, sentAt);
      adopted.push(next);
      o.events.emit('lease.acquired', {
        leaseKey,
        workerIdentifier: o.workerIdentifier,
        previousOwner: o.workerIdentifier,
        stolen: false,
        assigned: true,
      });
      o.onLeaseAcquired(next, token);
    }
    return adopted;
  }
}
