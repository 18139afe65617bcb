import { TypedEventEmitter } from '@kinesis-kit/core';
import type { ConsumerEvents } from '../../src/events.js';
import { ExtendedSequenceNumber } from '../../src/extended-sequence-number.js';
import { newLease, withLease } from '../../src/leases/lease.js';
import { SeededRandom } from './seeded-random.js';
import { SimClock } from './sim-clock.js';
import { SimTable, type SimTableOptions, type WorkerMeter } from './sim-table.js';
import { SimWorker, type SimWorkerKind } from './sim-worker.js';

/** Something that happens to the fleet at a simulated time (ms from the start). */
export type FleetEvent =
  | { readonly at: number; readonly type: 'join'; readonly worker: string; readonly kind?: SimWorkerKind }
  | { readonly at: number; readonly type: 'crash' | 'leave'; readonly worker: string };

/** One simulated scenario. */
export interface FleetScenario {
  readonly name: string;
  readonly leases: number;
  /**
   * Workers running when the scenario starts, already holding the leases round-robin (a settled fleet);
   * they join at time 0 and re-acquire their leases, as a restart with the same id would.
   */
  readonly settled?: readonly { readonly worker: string; readonly kind?: SimWorkerKind }[];
  readonly events: readonly FleetEvent[];
  /** Figures count from this time (ms), e.g. the crash; before it the fleet settles. @defaultValue 0 */
  readonly measureFrom?: number;
  /** The simulation stops at this time (ms) at the latest. */
  readonly horizonMs: number;
  /** …or once the fleet has stayed balanced this long after the last event. @defaultValue 60 000 */
  readonly settleMs?: number;
  readonly seed: number;
  /** How often the true state is sampled for the figures (ms). @defaultValue 250 */
  readonly sampleMs?: number;
  readonly failoverTimeMillis?: number;
  readonly epsilonMillis?: number;
  readonly table?: Omit<SimTableOptions, 'clock' | 'random'>;
  /** Told about every steal, for looking into a scenario. */
  readonly onSteal?: (at: number, thief: string, victim: string | undefined) => void;
}

/** DynamoDB on-demand prices (us-east-1, since the November 2024 price cut): USD per million request units. */
export const ON_DEMAND_USD_PER_MILLION_WRITE_UNITS = 0.625;
export const ON_DEMAND_USD_PER_MILLION_READ_UNITS = 0.125;
const MINUTES_PER_MONTH = 60 * 24 * 30;

/** What a scenario measured. Times are ms after `measureFrom`; `undefined` = not reached before the horizon. */
export interface FleetReport {
  readonly name: string;
  /** Last time every lease became held by its table owner (and stayed so). */
  readonly timeToAllOwnedMs: number | undefined;
  /** Last time the fleet became balanced: all leases held, every live worker within floor/ceil of the mean. */
  readonly timeToBalancedMs: number | undefined;
  /** Sum over leases of the time nobody was processing them, in lease-seconds. */
  readonly unownedLeaseSeconds: number;
  /** The longest time one lease went without a holder. */
  readonly worstGapMs: number;
  readonly steals: number;
  /** Steals that left the victim below floor(leases / live workers), as the table stood at the steal. */
  readonly victimsPushedBelowTarget: number;
  readonly failedConditionalWrites: number;
  readonly throttledCalls: number;
  /** Requests per live worker per minute over the measured time. */
  readonly readsPerWorkerPerMinute: number;
  readonly writesPerWorkerPerMinute: number;
  /** Over the final settled minute: write units per lease per minute and read units per worker per minute. */
  readonly steadyWriteUnitsPerLeasePerMinute: number;
  readonly steadyReadUnitsPerWorkerPerMinute: number;
  /** On-demand cost of the settled fleet, USD per month. */
  readonly steadyOnDemandUsdPerMonth: number;
  /** Time simulated (ms after `measureFrom`). */
  readonly simulatedMs: number;
  readonly finalCounts: readonly number[];
}

type MeterTotals = Omit<WorkerMeter, never>;

function totals(table: SimTable): MeterTotals {
  const sum: MeterTotals = {
    readCalls: 0,
    readUnits: 0,
    writeCalls: 0,
    writeUnits: 0,
    failedConditionalWrites: 0,
    throttledCalls: 0,
  };
  for (const m of table.meters.values()) {
    sum.readCalls += m.readCalls;
    sum.readUnits += m.readUnits;
    sum.writeCalls += m.writeCalls;
    sum.writeUnits += m.writeUnits;
    sum.failedConditionalWrites += m.failedConditionalWrites;
    sum.throttledCalls += m.throttledCalls;
  }
  return sum;
}

/**
 * Runs a scenario on simulated time: a table with real conditional writes and latency, workers running the
 * consumer's lease code, the scenario's joins, crashes and leaves, and a sampler reading the true state.
 * Deterministic for a seed: nothing reads the wall clock.
 */
export async function runFleetScenario(scenario: FleetScenario): Promise<FleetReport> {
  const failoverTimeMillis = scenario.failoverTimeMillis ?? 10_000;
  const epsilonMillis = scenario.epsilonMillis ?? 25;
  const sampleMs = scenario.sampleMs ?? 250;
  const settleMs = scenario.settleMs ?? 60_000;
  const measureFrom = scenario.measureFrom ?? 0;
  const clock = new SimClock(0);
  const random = new SeededRandom(scenario.seed);
  const table = new SimTable({ ...scenario.table, clock, random });
  const events = new TypedEventEmitter<ConsumerEvents>({ clock, onListenerError: () => {} });
  const workers = new Map<string, SimWorker>();

  const settled = scenario.settled ?? [];
  for (let i = 0; i < scenario.leases; i++) {
    const lease = newLease({
      leaseKey: `shardId-${String(i).padStart(12, '0')}`,
      checkpoint: ExtendedSequenceNumber.TRIM_HORIZON,
    });
    const owner = settled.length === 0 ? undefined : settled[i % settled.length]?.worker;
    await table.leases.createLeaseIfNotExists(owner === undefined ? lease : withLease(lease, { leaseOwner: owner }));
  }
  const join = (worker: string, kind: SimWorkerKind = 'kinesis-kit'): void => {
    const w = new SimWorker({
      workerIdentifier: worker,
      kind,
      clock,
      table,
      random,
      events,
      failoverTimeMillis,
      epsilonMillis,
    });
    workers.set(worker, w);
    void w.start();
  };
  for (const s of settled) join(s.worker, s.kind);

  // Steals, and whether the victim ended below the floor (owner counts cached per millisecond).
  let steals = 0;
  let victimsPushedBelowTarget = 0;
  let ownerCountsAt = -1;
  let ownerCounts = new Map<string, number>();
  events.on('lease.acquired', ({ payload }) => {
    if (!payload.stolen || clock.now() < measureFrom) return;
    steals++;
    scenario.onSteal?.(clock.now(), payload.workerIdentifier, payload.previousOwner);
    const victim = payload.previousOwner;
    if (victim === undefined) return;
    if (ownerCountsAt !== clock.now()) {
      ownerCountsAt = clock.now();
      ownerCounts = new Map();
      for (const lease of syncLeases(table)) {
        if (lease.leaseOwner !== undefined)
          ownerCounts.set(lease.leaseOwner, (ownerCounts.get(lease.leaseOwner) ?? 0) + 1);
      }
    } else {
      ownerCounts.set(victim, (ownerCounts.get(victim) ?? 0) - 1);
      ownerCounts.set(payload.workerIdentifier, (ownerCounts.get(payload.workerIdentifier) ?? 0) + 1);
    }
    const live = [...workers.values()].filter((w) => w.alive).length;
    if ((ownerCounts.get(victim) ?? 0) < Math.floor(scenario.leases / Math.max(1, live))) {
      victimsPushedBelowTarget++;
    }
  });

  // The sampler: the true state, every sampleMs.
  const gapStart = new Map<string, number>();
  let worstGapMs = 0;
  let unownedLeaseMs = 0;
  let allOwnedSince: number | undefined;
  let balancedSince: number | undefined;
  let metersAtMeasure: MeterTotals | undefined;
  let workerMinutes = 0;
  let steadyWindow: { at: number; meters: MeterTotals } | undefined;
  const lastEventAt = Math.max(measureFrom, ...scenario.events.map((e) => e.at));
  let stopAt = scenario.horizonMs;
  const sample = (now: number): void => {
    if (now < measureFrom) return;
    metersAtMeasure ??= totals(table);
    const live = [...workers.values()].filter((w) => w.alive);
    workerMinutes += (live.length * sampleMs) / 60_000;
    const counts = new Map<string, number>(live.map((w) => [w.workerIdentifier, 0]));
    let unowned = 0;
    for (const lease of syncLeases(table)) {
      const owner = lease.leaseOwner === undefined ? undefined : workers.get(lease.leaseOwner);
      const served = owner?.alive === true && owner.renewer.held(lease.leaseKey) !== undefined;
      if (served && owner !== undefined) {
        counts.set(owner.workerIdentifier, (counts.get(owner.workerIdentifier) ?? 0) + 1);
        const start = gapStart.get(lease.leaseKey);
        if (start !== undefined) {
          worstGapMs = Math.max(worstGapMs, now - start);
          gapStart.delete(lease.leaseKey);
        }
      } else {
        unowned++;
        if (!gapStart.has(lease.leaseKey)) gapStart.set(lease.leaseKey, Math.max(measureFrom, now - sampleMs));
      }
    }
    unownedLeaseMs += unowned * sampleMs;
    if (unowned === 0) allOwnedSince ??= now;
    else allOwnedSince = undefined;
    const floor = Math.floor(scenario.leases / Math.max(1, live.length));
    const ceil = Math.ceil(scenario.leases / Math.max(1, live.length));
    const balanced = unowned === 0 && [...counts.values()].every((c) => c >= floor && c <= ceil);
    if (balanced) {
      if (balancedSince === undefined) {
        balancedSince = now;
        steadyWindow = undefined;
      }
      if (now >= lastEventAt && now - balancedSince >= settleMs - 60_000 && steadyWindow === undefined) {
        steadyWindow = { at: now, meters: totals(table) };
      }
      if (now >= lastEventAt && now - balancedSince >= settleMs) stopAt = Math.min(stopAt, now);
    } else {
      balancedSince = undefined;
      steadyWindow = undefined;
    }
  };

  const timeline = [...scenario.events].sort((a, b) => a.at - b.at);
  for (const event of timeline) {
    await clock.run(event.at, { everyMs: sampleMs, onTick: sample });
    if (clock.now() >= stopAt) break;
    if (event.type === 'join') join(event.worker, event.kind);
    else if (event.type === 'crash') workers.get(event.worker)?.crash();
    else void workers.get(event.worker)?.leave();
  }
  while (clock.now() < stopAt) {
    await clock.run(Math.min(stopAt, clock.now() + 1_000), { everyMs: sampleMs, onTick: sample });
  }
  const end = clock.now();
  for (const start of gapStart.values()) worstGapMs = Math.max(worstGapMs, end - start);
  const liveAtEnd = [...workers.values()].filter((w) => w.alive);
  const counts = finalCounts(table, liveAtEnd);
  for (const w of workers.values()) w.crash();
  await clock.run(end + 1);

  const all = totals(table);
  const base = metersAtMeasure ?? all;
  const steadyMinutes = steadyWindow === undefined ? 0 : (end - steadyWindow.at) / 60_000;
  const steadyWriteUnits = steadyWindow === undefined ? 0 : all.writeUnits - steadyWindow.meters.writeUnits;
  const steadyReadUnits = steadyWindow === undefined ? 0 : all.readUnits - steadyWindow.meters.readUnits;
  const steadyWorkers = Math.max(1, liveAtEnd.length);
  const relative = (t: number | undefined) => (t === undefined ? undefined : t - measureFrom);
  return {
    name: scenario.name,
    timeToAllOwnedMs: relative(allOwnedSince),
    timeToBalancedMs: relative(balancedSince),
    unownedLeaseSeconds: unownedLeaseMs / 1000,
    worstGapMs,
    steals,
    victimsPushedBelowTarget,
    failedConditionalWrites: all.failedConditionalWrites - base.failedConditionalWrites,
    throttledCalls: all.throttledCalls - base.throttledCalls,
    readsPerWorkerPerMinute: workerMinutes === 0 ? 0 : (all.readCalls - base.readCalls) / workerMinutes,
    writesPerWorkerPerMinute: workerMinutes === 0 ? 0 : (all.writeCalls - base.writeCalls) / workerMinutes,
    steadyWriteUnitsPerLeasePerMinute: steadyMinutes === 0 ? 0 : steadyWriteUnits / steadyMinutes / scenario.leases,
    steadyReadUnitsPerWorkerPerMinute: steadyMinutes === 0 ? 0 : steadyReadUnits / steadyMinutes / steadyWorkers,
    steadyOnDemandUsdPerMonth:
      steadyMinutes === 0
        ? 0
        : ((steadyWriteUnits * ON_DEMAND_USD_PER_MILLION_WRITE_UNITS +
            steadyReadUnits * ON_DEMAND_USD_PER_MILLION_READ_UNITS) /
            1e6 /
            steadyMinutes) *
          MINUTES_PER_MONTH,
    simulatedMs: end - measureFrom,
    finalCounts: counts,
  };
}

/** Leases per live worker at the end, ascending. */
function finalCounts(table: SimTable, live: readonly SimWorker[]): number[] {
  const counts = new Map<string, number>(live.map((w) => [w.workerIdentifier, 0]));
  for (const lease of syncLeases(table)) {
    const owner = lease.leaseOwner;
    if (owner !== undefined && counts.has(owner)) counts.set(owner, (counts.get(owner) ?? 0) + 1);
  }
  return [...counts.values()].sort((a, b) => a - b);
}

/** The table's true content, read without latency or metering (the sampler is not a worker). */
function syncLeases(table: SimTable) {
  return table.leases.snapshot();
}
