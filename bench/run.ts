/**
 * Runs the benchmark suites and prints one table per suite: `pnpm bench [--suite codec]
 * [--time ms] [--warmup ms] [--rounds n] [--json file] [--report file] [--no-report]`. A run of every suite
 * also writes `docs/benchmarks.md` and `docs/benchmarks.json` (a run of some suites only when `--report` names
 * the page, so a partial run never overwrites the full report). Each suite measures its baseline in the same run, on
 * the same inputs, because on shared machines only ratios measured together mean anything.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { consumerSuite } from '../packages/consumer/test/bench/consumer-suite.js';
import { fleetSuite } from '../packages/consumer/test/bench/fleet-suite.js';
import { codecSuite } from './codec.js';
import { producerSuite } from './producer.js';
import {
  type BenchmarkRun,
  decimal,
  findResult,
  integer,
  renderBenchmarkReport,
  type SuiteReport,
  targetRatio,
} from './report-writer.js';
import type { BenchmarkResult, BenchmarkSettings, BenchmarkSuite, BenchmarkTarget } from './suite.js';

/** Every suite `pnpm bench` knows. */
const SUITES: readonly BenchmarkSuite[] = [codecSuite, producerSuite, consumerSuite, fleetSuite];

function environment(): BenchmarkRun['environment'] {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  };
}

function table(rows: readonly string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  const numeric = (column: number) => column >= 3;
  return rows
    .map((row) =>
      row
        .map((cell, column) =>
          numeric(column) ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function report(
  suite: string,
  description: string,
  results: readonly BenchmarkResult[],
  targets: readonly BenchmarkTarget[],
): string {
  const rows = [['operation', 'input', 'implementation', 'records/s', 'MB/s', 'spread %', 'ours/theirs']];
  for (const result of results) {
    const target = targets.find(
      (t) => t.operation === result.operation && t.input === result.input && t.ours === result.implementation,
    );
    const r = target === undefined ? undefined : targetRatio(results, target);
    rows.push([
      result.operation,
      result.input,
      result.implementation,
      integer.format(result.recordsPerSecond),
      decimal.format(result.megabytesPerSecond),
      decimal.format(result.spreadPercent),
      r === undefined ? '' : `${r.toFixed(2)}×`,
    ]);
  }
  const verdicts = targets.map((target) => {
    const r = targetRatio(results, target);
    const met = r !== undefined && r >= target.atLeast;
    const floor =
      target.floor && findResult(results, target.floor.operation, target.input, target.floor.implementation);
    const baseline = findResult(results, target.operation, target.input, target.baseline);
    const ceiling =
      floor && baseline ? `, at most ${(floor.recordsPerSecond / baseline.recordsPerSecond).toFixed(2)}× possible` : '';
    return `  ${met ? 'met ' : 'MISS'}  ${target.operation} ${target.input}: ${target.ours} / ${target.baseline} = ${r === undefined ? '?' : r.toFixed(2)}× (target ≥ ${target.atLeast}×${ceiling})`;
  });
  return [`## ${suite}`, description, '', table(rows), '', 'Targets:', ...verdicts].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      suite: { type: 'string', multiple: true },
      time: { type: 'string', default: '1000' },
      warmup: { type: 'string', default: '300' },
      rounds: { type: 'string', default: '3' },
      json: { type: 'string' },
      report: { type: 'string' },
      'no-report': { type: 'boolean', default: false },
    },
  });
  const settings: BenchmarkSettings = {
    timeMs: Number(values.time),
    warmupMs: Number(values.warmup),
    rounds: Number(values.rounds),
  };
  if (
    !(settings.timeMs > 0) ||
    !(settings.warmupMs >= 0) ||
    !Number.isInteger(settings.rounds) ||
    settings.rounds < 1
  ) {
    throw new Error(
      `--time must be > 0, --warmup >= 0 (ms) and --rounds a positive integer, got ${values.time}, ${values.warmup}, ${values.rounds}`,
    );
  }
  const selected = values.suite === undefined ? SUITES : SUITES.filter((s) => values.suite?.includes(s.name));
  if (selected.length === 0) {
    throw new Error(`No suite named ${values.suite?.join(', ')}; known: ${SUITES.map((s) => s.name).join(', ')}`);
  }

  const env = environment();
  console.log(`Kinesis Kit benchmarks, ${new Date().toISOString()}`);
  console.log(`node ${env.node} (V8 ${env.v8}), ${env.platform}`);
  console.log(`${env.cpu}, ${env.cores} cores, ${env.memoryGiB} GiB\n`);

  const results: BenchmarkResult[] = [];
  const suites: SuiteReport[] = [];
  for (const suite of selected) {
    const output = await suite.run(settings);
    results.push(...output.results);
    suites.push({ name: suite.name, ...output });
    const figures = (output.figures ?? []).map((f) => `  ${f.name}: ${f.value}`);
    console.log(`${[report(suite.name, output.description, output.results, output.targets), ...figures].join('\n')}\n`);
  }

  const run: BenchmarkRun = {
    generatedAt: new Date().toISOString(),
    environment: env,
    settings,
    command: `pnpm bench${process.argv.slice(2).length > 0 ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
    ...gitCommit(),
    suites,
  };
  // `results` stays a flat list beside the suites, the shape --json has always written.
  const json = `${JSON.stringify({ ...run, results }, null, 2)}\n`;
  if (values.json !== undefined) {
    await writeFile(values.json, json);
    console.log(`Results written to ${values.json}`);
  }
  const page = values['no-report']
    ? undefined
    : (values.report ?? (values.suite === undefined ? DEFAULT_REPORT : undefined));
  if (page !== undefined) {
    await mkdir(dirname(page), { recursive: true });
    await writeFile(page, renderBenchmarkReport(run));
    const raw = `${page.replace(/\.md$/, '')}.json`;
    if (raw !== values.json) await writeFile(raw, json);
    console.log(`Report written to ${page} and ${raw}`);
  }
}

/**
 * The tree measured, so a report names what it measured; nothing when git is missing or this is no repository.
 * "-dirty" when anything but the reports themselves has uncommitted changes (a run rewrites them, so they
 * are always changed after the first run).
 */
function gitCommit(): { commit?: string } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const changed = execFileSync('git', ['status', '--porcelain', '--', '.', ':!docs/benchmarks.*'], {
      encoding: 'utf8',
    }).trim();
    return { commit: changed === '' ? commit : `${commit}-dirty` };
  } catch {
    return {};
  }
}

/** Where a full run writes its report, relative to the repository root `pnpm bench` runs in. */
const DEFAULT_REPORT = 'docs/benchmarks.md';

await main();
