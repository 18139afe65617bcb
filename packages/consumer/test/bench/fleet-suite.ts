/**
 * The fleet suite, for `pnpm bench --suite fleet` (bench/run.ts lists it): the deterministic fleet simulator
 * (packages/consumer/test/fleet-sim) on the scenarios of issue 18, at the KCL's default timings (failover 10 s,
 * take round ≈ 20 s), 5–20 ms per lease-table call, a new on-demand table's throttling limits. Our fair-share
 * balancing on every scenario; the KCL 2.x rules ("today") on the 1,000-lease ones (at 10,000 leases they
 * take tens of simulated minutes, see docs/operations.md for those figures). Figures are simulated time and
 * counts, not throughputs: they do not depend on this machine.
 */
import type { BenchmarkSuite } from '../../../../bench/suite.js';
import { type FleetReport, type FleetScenario, runFleetScenario } from '../fleet-sim/fleet-simulation.js';
import { coldStart, crashOne, mixedColdStart, rollingDeploy, scaleOut } from '../fleet-sim/scenarios.js';

const seconds = (ms: number | undefined) => (ms === undefined ? 'not reached' : `${(ms / 1000).toFixed(1)} s`);
const count = (n: number) => Math.round(n).toLocaleString('en-US');

function figures(label: string, r: FleetReport): { name: string; value: string }[] {
  return [
    {
      name: `${r.name} (${label})`,
      value: [
        `all owned ${seconds(r.timeToAllOwnedMs)}`,
        `balanced ${seconds(r.timeToBalancedMs)}`,
        `unowned ${count(r.unownedLeaseSeconds)} lease-s`,
        `worst gap ${seconds(r.worstGapMs)}`,
        `steals ${count(r.steals)} (${r.victimsPushedBelowTarget} below share)`,
        `failed writes ${count(r.failedConditionalWrites)}`,
        `throttled ${count(r.throttledCalls)}`,
        `per worker/min ${r.readsPerWorkerPerMinute.toFixed(1)} reads, ${count(r.writesPerWorkerPerMinute)} writes`,
        `steady ${r.steadyWriteUnitsPerLeasePerMinute.toFixed(1)} WRU/lease/min, ${count(r.steadyReadUnitsPerWorkerPerMinute)} RRU/worker/min, $${r.steadyOnDemandUsdPerMonth.toFixed(2)}/month on demand`,
      ].join('; '),
    },
  ];
}

export const fleetSuite: BenchmarkSuite = {
  name: 'fleet',
  async run() {
    const ours: FleetScenario[] = [
      coldStart(100, 4, 1),
      coldStart(1_000, 10, 1),
      coldStart(10_000, 100, 1),
      coldStart(10_000, 500, 1),
      scaleOut(1_000, 10, 20, 1),
      crashOne(1_000, 20, 1),
      rollingDeploy(1_000, 20, 1),
      mixedColdStart(1_000, 10, 1),
    ];
    const today: FleetScenario[] = [
      coldStart(100, 4, 1, 3_600_000, 'java-kcl-2x'),
      coldStart(1_000, 10, 1, 3_600_000, 'java-kcl-2x'),
      scaleOut(1_000, 10, 20, 1, 3_600_000, 'java-kcl-2x'),
      crashOne(1_000, 20, 1, 'java-kcl-2x'),
    ];
    const out: { name: string; value: string }[] = [];
    for (const s of ours) out.push(...figures('fair-share', await runFleetScenario(s)));
    for (const s of today) out.push(...figures('KCL 2.x rules', await runFleetScenario(s)));
    return {
      description:
        'Deterministic fleet simulation (seed 1), KCL default timings, 5–20 ms lease-table calls: fair-share balancing against the KCL 2.x rules.',
      results: [],
      targets: [],
      figures: out,
    };
  },
};
