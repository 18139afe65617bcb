import type { FleetEvent, FleetScenario } from './fleet-simulation.js';
import type { SimWorkerKind } from './sim-worker.js';

const id = (prefix: string, i: number): string => `${prefix}-${String(i).padStart(4, '0')}`;

/** Spreads worker starts over `spreadMs`, as a deploy starting many instances does. */
function joins(count: number, spreadMs: number, seed: number, prefix = 'worker', kind?: SimWorkerKind): FleetEvent[] {
  // A small LCG keeps start times independent of the simulation's own random stream.
  let state = seed * 7919 + 17;
  return Array.from({ length: count }, (_, i) => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return { at: Math.floor((state / 2_147_483_648) * spreadMs), type: 'join' as const, worker: id(prefix, i), kind };
  });
}

/** Every worker starts within 5 s on a table of unowned leases. */
export function coldStart(
  leases: number,
  workers: number,
  seed: number,
  horizonMs = 3_600_000,
  kind: SimWorkerKind = 'kinesis-kit',
): FleetScenario {
  return {
    name: `cold start ${leases.toLocaleString('en-US')} × ${workers}`,
    leases,
    events: joins(workers, 5_000, seed, 'worker', kind),
    horizonMs,
    seed,
    sampleMs: leases > 2_000 ? 1_000 : 250,
  };
}

/** A settled fleet of `from` workers; `to − from` more start at 60 s. */
export function scaleOut(
  leases: number,
  from: number,
  to: number,
  seed: number,
  horizonMs = 3_600_000,
  kind: SimWorkerKind = 'kinesis-kit',
): FleetScenario {
  const at = 60_000;
  return {
    name: `scale-out ${leases.toLocaleString('en-US')} leases, ${from} → ${to} workers`,
    leases,
    settled: Array.from({ length: from }, (_, i) => ({ worker: id('worker', i), kind })),
    events: joins(to - from, 5_000, seed, 'new', kind).map((e) => ({ ...e, at: at + e.at })),
    measureFrom: at,
    horizonMs,
    seed,
  };
}

/** A settled fleet of `workers`; one crashes at 60 s. */
export function crashOne(
  leases: number,
  workers: number,
  seed: number,
  kind: SimWorkerKind = 'kinesis-kit',
): FleetScenario {
  return {
    name: `crash of 1 of ${workers} workers (${Math.round(leases / workers)} leases)`,
    leases,
    settled: Array.from({ length: workers }, (_, i) => ({ worker: id('worker', i), kind })),
    events: [{ at: 60_000, type: 'crash', worker: id('worker', 0) }],
    measureFrom: 60_000,
    horizonMs: 600_000,
    seed,
  };
}

/** A settled fleet of `workers`; from 60 s each is shut down gracefully and replaced, one every `everyMs`. */
export function rollingDeploy(leases: number, workers: number, seed: number, everyMs = 30_000): FleetScenario {
  const events: FleetEvent[] = [];
  for (let i = 0; i < workers; i++) {
    const at = 60_000 + i * everyMs;
    events.push({ at, type: 'leave', worker: id('worker', i) });
    events.push({ at, type: 'join', worker: id('next', i) });
  }
  return {
    name: `rolling deploy of ${workers} workers (${leases.toLocaleString('en-US')} leases, one every ${everyMs / 1000} s)`,
    leases,
    settled: Array.from({ length: workers }, (_, i) => ({ worker: id('worker', i) })),
    events,
    measureFrom: 60_000,
    horizonMs: 60_000 + workers * everyMs + 1_800_000,
    seed,
  };
}

/** Half the workers follow the Java KCL 2.x rules, the other half are ours; all start within 5 s. */
export function mixedColdStart(leases: number, workers: number, seed: number, horizonMs = 3_600_000): FleetScenario {
  const half = Math.floor(workers / 2);
  return {
    name: `mixed fleet cold start ${leases.toLocaleString('en-US')} × ${workers} (${half} Java KCL 2.x)`,
    leases,
    events: [...joins(half, 5_000, seed, 'java', 'java-kcl-2x'), ...joins(workers - half, 5_000, seed + 1, 'ours')],
    horizonMs,
    seed,
  };
}
