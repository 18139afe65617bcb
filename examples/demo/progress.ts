/** One shard's row in the live display. */
export interface ShardRow {
  readonly shardId: string;
  readonly open: boolean;
  /** The worker holding its lease, `finished` once read to SHARD_END, `-` when nobody holds it. */
  readonly owner: string;
  /** The last `millisBehindLatest` a batch reported (kinesalite always says 0). */
  readonly millisBehindLatest: number | undefined;
  /** Arrival → processing time of the newest record of the last batch. */
  readonly latencyMs: number | undefined;
}

/** Everything the display shows at one moment. */
export interface ProgressSnapshot {
  readonly elapsedSeconds: number;
  readonly phase: string;
  readonly produced: number;
  readonly acknowledged: number;
  readonly consumed: number;
  readonly producedPerSecond: number;
  readonly consumedPerSecond: number;
  /** User records per Kinesis record put so far. */
  readonly aggregationRatio: number;
  readonly shards: readonly ShardRow[];
}

/** The status block: a few lines a person can read at a glance. */
export function formatSnapshot(s: ProgressSnapshot): string[] {
  const lines = [
    `t=${s.elapsedSeconds.toFixed(0).padStart(3)}s  ${s.phase}`,
    `produced ${s.produced}  acknowledged ${s.acknowledged}  consumed ${s.consumed}  ` +
      `(${s.producedPerSecond.toFixed(0)} in/s, ${s.consumedPerSecond.toFixed(0)} out/s, ` +
      `${s.aggregationRatio.toFixed(1)} user records per Kinesis record)`,
    `  shard                  state   lease owner  behind  latency`,
  ];
  for (const shard of s.shards) {
    lines.push(
      `  ${shard.shardId.padEnd(22)} ${(shard.open ? 'open' : 'closed').padEnd(7)} ${shard.owner.padEnd(12)} ` +
        `${ms(shard.millisBehindLatest).padStart(6)}  ${ms(shard.latencyMs).padStart(7)}`,
    );
  }
  return lines;
}

function ms(value: number | undefined): string {
  return value === undefined ? '-' : `${Math.round(value)}ms`;
}

/**
 * On a terminal, redraws the status block in place and prints event lines above it; elsewhere (CI, a pipe),
 * prints the status as one plain line every few seconds, so logs stay readable.
 */
export class ProgressDisplay {
  readonly #live: boolean;
  readonly #out: NodeJS.WriteStream;
  #drawnLines = 0;
  #lastPlain = 0;

  constructor(out: NodeJS.WriteStream, plain: boolean) {
    this.#out = out;
    this.#live = out.isTTY === true && !plain;
  }

  /** A line that stays: a lease moving, a reshard, a worker stopping. */
  event(elapsedSeconds: number, message: string): void {
    this.#erase();
    this.#out.write(`[${elapsedSeconds.toFixed(1).padStart(5)}s] ${message}\n`);
  }

  update(snapshot: ProgressSnapshot, force = false): void {
    if (this.#live) {
      this.#erase();
      const lines = formatSnapshot(snapshot);
      this.#out.write(`${lines.join('\n')}\n`);
      this.#drawnLines = lines.length;
      return;
    }
    if (!force && snapshot.elapsedSeconds - this.#lastPlain < 5) return;
    this.#lastPlain = snapshot.elapsedSeconds;
    const owners = snapshot.shards
      .filter((shard) => shard.owner !== 'finished')
      .map(
        (shard) =>
          `${shard.shardId.replace('shardId-0000000', '')}=${shard.owner}` +
          (shard.latencyMs === undefined ? '' : `(${Math.round(shard.latencyMs)}ms)`),
      )
      .join(' ');
    this.#out.write(
      `[${snapshot.elapsedSeconds.toFixed(1).padStart(5)}s] produced=${snapshot.produced} ` +
        `acknowledged=${snapshot.acknowledged} consumed=${snapshot.consumed} ` +
        `in=${snapshot.producedPerSecond.toFixed(0)}/s out=${snapshot.consumedPerSecond.toFixed(0)}/s ` +
        `aggregation=${snapshot.aggregationRatio.toFixed(1)} leases (latency): ${owners}\n`,
    );
  }

  /** Leaves the last status block on screen. */
  finish(): void {
    this.#drawnLines = 0;
  }

  #erase(): void {
    if (this.#drawnLines === 0) return;
    // Cursor up over the block, then clear to the end of the screen.
    this.#out.write(`\x1b[${this.#drawnLines}A\x1b[0J`);
    this.#drawnLines = 0;
  }
}
