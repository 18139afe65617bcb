import { WORKER_HEARTBEAT_EXPIRY_ROUNDS } from '../defaults.js';

/**
 * One worker's heartbeat row. Like a lease it carries no time: the counter is bumped by every heartbeat and
 * readers judge liveness by how long it stood still in their own reads, so clock skew between hosts is
 * irrelevant. Kept apart from the lease table, because Java KCL 2.x workers read every item of the lease
 * table as a lease (they have no `entityType` filter) and would try to take a heartbeat row.
 */
export interface WorkerHeartbeat {
  readonly workerIdentifier: string;
  readonly heartbeatCounter: number;
}

/** A heartbeat as one worker has observed it. */
export interface ObservedWorker {
  readonly heartbeat: WorkerHeartbeat;
  /** Local clock time the counter was last seen to change (first sighting counts as a change). */
  readonly lastCounterChangeAt: number;
}

/**
 * Folds fresh heartbeats into what was observed before, as {@link observeLeases} does for leases: an unchanged
 * counter keeps its time, a changed or first-seen one is stamped `now`; rows gone from the read are forgotten.
 */
export function observeWorkers(
  previous: ReadonlyMap<string, ObservedWorker>,
  heartbeats: readonly WorkerHeartbeat[],
  now: number,
): Map<string, ObservedWorker> {
  const next = new Map<string, ObservedWorker>();
  for (const heartbeat of heartbeats) {
    const known = previous.get(heartbeat.workerIdentifier);
    const unchanged = known !== undefined && known.heartbeat.heartbeatCounter === heartbeat.heartbeatCounter;
    next.set(heartbeat.workerIdentifier, {
      heartbeat,
      lastCounterChangeAt: unchanged ? known.lastCounterChangeAt : now,
    });
  }
  return next;
}

/**
 * How long a heartbeat may stand still before its worker counts as gone: `WORKER_HEARTBEAT_EXPIRY_ROUNDS`
 * heartbeat periods, and never less than the failover time (a lease's own expiry).
 */
export function heartbeatExpiryMillis(failoverTimeMillis: number, heartbeatIntervalMillis: number): number {
  return Math.max(failoverTimeMillis, WORKER_HEARTBEAT_EXPIRY_ROUNDS * heartbeatIntervalMillis);
}

/** The workers whose heartbeat moved within `expiryMillis` (see {@link heartbeatExpiryMillis}). */
export function liveWorkers(
  observed: ReadonlyMap<string, ObservedWorker>,
  now: number,
  expiryMillis: number,
): string[] {
  const expiry = expiryMillis;
  return [...observed.values()]
    .filter((o) => now - o.lastCounterChangeAt <= expiry)
    .map((o) => o.heartbeat.workerIdentifier);
}
