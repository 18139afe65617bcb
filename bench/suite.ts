/**
 * What every benchmark suite shares: how it is run and the flat result rows `run.ts` prints and
 * saves. A suite is a module exporting a {@link BenchmarkSuite}; add it to the list in `run.ts`.
 */

/** Settings every suite receives from the command line. */
export interface BenchmarkSettings {
  /** Time budget per task and round in milliseconds (tinybench `time`). */
  timeMs: number;
  /** Warm-up budget per task and round in milliseconds. */
  warmupMs: number;
  /**
   * How many times every task is measured, the tasks taking turns. Results are the median round,
   * so a burst of load from elsewhere on a shared machine skews one round, not the comparison.
   */
  rounds: number;
}

/** One measured task: one implementation doing one operation on one input. */
export interface BenchmarkResult {
  suite: string;
  /** What was done, e.g. `encode`. */
  operation: string;
  /** The input, e.g. `10,000 × 100 B`. */
  input: string;
  /** Whose code ran, e.g. `kinesis-kit` or `aws-kinesis-agg`. */
  implementation: string;
  /** User records per second, from the median round's mean latency. */
  recordsPerSecond: number;
  /** User-data megabytes (10^6 bytes) per second, likewise. */
  megabytesPerSecond: number;
  /** Spread of the rounds' throughputs, (max − min) / median, in percent. */
  spreadPercent: number;
  /** Timed runs over all rounds. */
  samples: number;
}

/** A comparison to print under the table: ours against a baseline, with the target ratio. */
export interface BenchmarkTarget {
  operation: string;
  input: string;
  ours: string;
  baseline: string;
  /** The ratio ours/baseline we aim for. */
  atLeast: number;
  /**
   * A row (same input) for work ours cannot avoid, such as hashing; its ratio to the baseline is
   * the most any implementation could reach, and is printed beside the target.
   */
  floor?: { operation: string; implementation: string };
}

export interface BenchmarkSuiteOutput {
  /** A line or two describing the inputs, printed above the table. */
  description: string;
  results: BenchmarkResult[];
  targets: BenchmarkTarget[];
  /**
   * Figures that are not throughputs, such as failover times or latency percentiles, printed under the table
   * and in `docs/benchmarks.md` as name and value.
   */
  figures?: { name: string; value: string }[];
}

export interface BenchmarkSuite {
  name: string;
  run(settings: BenchmarkSettings): Promise<BenchmarkSuiteOutput>;
}
