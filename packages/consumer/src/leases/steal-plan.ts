/**
 * The fleet-wide steal plan for fair-share balancing: thief → victim → how many. Every worker computes it
 * from its own scan and carries out only its own line, so workers with the same view never go for the same
 * lease and no victim is planned below its share. With L leases on W workers every worker should end with
 * floor(L / W) or ceil(L / W) (the `target`, when below `maxLeasesForWorker`):
 * 1. supply: each worker's leases above the target, taken round-robin across victims (so every victim above
 *    the target gives in proportion to its surplus); then, only for thieves below floor, one lease from each
 *    worker sitting exactly at the target (it stays at floor);
 * 2. demand: each worker's shortfall below floor first, round-robin across thieves, then up to the target;
 * 3. supply and demand are matched in order, worker ids breaking every tie, so all views agree.
 * The KCL's "steal one from a worker exactly at target when needing more than one" is not used: a worker at
 * floor already has its share, and moving a lease there just moves the imbalance.
 */
export function planSteals(
  leaseCounts: ReadonlyMap<string, number>,
  totalLeases: number,
  target: number,
): Map<string, Map<string, number>> {
  const workers = [...leaseCounts.keys()].sort();
  const floor = Math.min(target, Math.floor(totalLeases / Math.max(1, workers.length)));
  const count = (w: string) => leaseCounts.get(w) ?? 0;
  const overTarget = roundRobin(workers.map((w) => [w, Math.max(0, count(w) - target)] as const));
  const atTarget = floor < target ? workers.filter((w) => count(w) === target) : [];
  const belowFloor = roundRobin(workers.map((w) => [w, Math.max(0, floor - count(w))] as const));
  const upToTarget = roundRobin(
    workers.map((w) => [w, Math.min(target - floor, target - Math.max(floor, count(w)))] as const),
  );

  const plan = new Map<string, Map<string, number>>();
  const move = (thief: string, victim: string) => {
    const line = plan.get(thief) ?? new Map<string, number>();
    line.set(victim, (line.get(victim) ?? 0) + 1);
    plan.set(thief, line);
  };
  let supply = 0;
  let demand = 0;
  // Shortfalls below floor are served by surplus above the target, then by workers at the target.
  for (; demand < belowFloor.length; demand++) {
    const thief = belowFloor[demand] as string;
    if (supply < overTarget.length) move(thief, overTarget[supply++] as string);
    else {
      const victim = atTarget.shift();
      if (victim === undefined) break;
      move(thief, victim);
    }
  }
  // What surplus remains lifts thieves from floor towards the target.
  for (const thief of upToTarget) {
    if (supply >= overTarget.length) break;
    move(thief, overTarget[supply++] as string);
  }
  return plan;
}

/** Units of each worker, interleaved: a, b, c, a, b, a … (the order workers were given in). */
function roundRobin(amounts: readonly (readonly [string, number])[]): string[] {
  const left = amounts.filter(([, n]) => n > 0).map(([w, n]) => ({ w, n }));
  const out: string[] = [];
  while (left.length > 0) {
    for (const unit of left) {
      out.push(unit.w);
      unit.n--;
    }
    for (let i = left.length - 1; i >= 0; i--) if ((left[i]?.n ?? 0) <= 0) left.splice(i, 1);
  }
  return out;
}
