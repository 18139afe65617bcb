/**
 * Renders a benchmark run as `docs/benchmarks.md`: every suite's rows with the baseline measured in the same
 * run and the ratio, the suite's extra figures (failover times, latency percentiles…), the machine, and the
 * command that reproduces it. Ratios are what the page claims; absolute figures only describe this machine.
 */
import type { BenchmarkResult, BenchmarkSettings, BenchmarkTarget } from './suite.js';

/** One suite's part of a run, as `run.ts` collects it. */
export interface SuiteReport {
  name: string;
  description: string;
  results: readonly BenchmarkResult[];
  targets: readonly BenchmarkTarget[];
  figures?: readonly { name: string; value: string }[];
}

/** What `run.ts` saves as JSON and renders as Markdown. */
export interface BenchmarkRun {
  generatedAt: string;
  environment: { node: string; v8: string; platform: string; cpu: string; cores: number; memoryGiB: number };
  settings: BenchmarkSettings;
  command: string;
  /** The commit measured (with "-dirty" for uncommitted changes besides the reports), when git could tell. */
  commit?: string;
  suites: readonly SuiteReport[];
}

/** How records/s are printed. */
export const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
/** How MB/s and spreads are printed. */
export const decimal = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

const same = (r: BenchmarkResult, operation: string, input: string, implementation: string): boolean =>
  r.operation === operation && r.input === input && r.implementation === implementation;

/** The row of one implementation doing one operation on one input, if it was measured. */
export function findResult(
  results: readonly BenchmarkResult[],
  operation: string,
  input: string,
  implementation: string,
): BenchmarkResult | undefined {
  return results.find((r) => same(r, operation, input, implementation));
}

/** ours / baseline in records per second, when both rows were measured. */
export function targetRatio(results: readonly BenchmarkResult[], target: BenchmarkTarget): number | undefined {
  const ours = findResult(results, target.operation, target.input, target.ours);
  const baseline = findResult(results, target.operation, target.input, target.baseline);
  return ours === undefined || baseline === undefined ? undefined : ours.recordsPerSecond / baseline.recordsPerSecond;
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function row(cells: readonly string[]): string {
  return `| ${cells.map(cell).join(' | ')} |`;
}

function suiteSection(suite: SuiteReport): string[] {
  const lines = [`## ${suite.name}`, '', suite.description, ''];
  // A suite of figures only (the fleet simulation) has no throughput table.
  if (suite.results.length > 0) {
    lines.push(row(['operation', 'input', 'implementation', 'records/s', 'MB/s', 'spread %', 'vs baseline']));
    lines.push('|---|---|---|--:|--:|--:|--:|');
  }
  for (const result of suite.results) {
    const target = suite.targets.find((t) => same(result, t.operation, t.input, t.ours));
    const ratio = target === undefined ? undefined : targetRatio(suite.results, target);
    lines.push(
      row([
        result.operation,
        result.input,
        result.implementation,
        integer.format(result.recordsPerSecond),
        decimal.format(result.megabytesPerSecond),
        decimal.format(result.spreadPercent),
        ratio === undefined ? '' : `${ratio.toFixed(2)}× ${target?.baseline ?? ''}`,
      ]),
    );
  }
  if (suite.targets.length > 0) {
    lines.push('', row(['comparison', 'ratio', 'target', 'met']), '|---|--:|--:|---|');
    for (const target of suite.targets) {
      const ratio = targetRatio(suite.results, target);
      lines.push(
        row([
          `${target.operation} ${target.input}: ${target.ours} / ${target.baseline}`,
          ratio === undefined ? '?' : `${ratio.toFixed(2)}×`,
          `≥ ${target.atLeast}×`,
          ratio !== undefined && ratio >= target.atLeast ? 'yes' : 'no',
        ]),
      );
    }
  }
  if (suite.figures !== undefined && suite.figures.length > 0) {
    lines.push('', row(['figure', 'value']), '|---|--:|');
    for (const figure of suite.figures) lines.push(row([figure.name, figure.value]));
  }
  lines.push('');
  return lines;
}

/** The Markdown page for a run. */
export function renderBenchmarkReport(run: BenchmarkRun): string {
  const env = run.environment;
  const lines = [
    '# Benchmarks',
    '',
    '<!-- Written by `pnpm bench`; edits here are overwritten. The raw figures are in benchmarks.json. -->',
    '',
    `Run ${run.generatedAt} on ${env.cpu}, ${env.cores} cores, ${env.memoryGiB} GiB, ${env.platform};`,
    `Node ${env.node} (V8 ${env.v8}). Each task: ${run.settings.rounds} rounds of ${run.settings.timeMs} ms after`,
    `${run.settings.warmupMs} ms of warm-up, the tasks taking turns; the figure is the median round.`,
    '',
    'Every baseline ran in the same process as the figure it is compared with (rows under other Node flags',
    'ran in a child process of their own, both sides alike), on the same inputs: read the ratios.',
    'The absolute figures describe this machine on this day and nothing else.',
    '',
    '## Reproduce',
    '',
    ...(run.commit === undefined ? [] : [`Measured at commit \`${run.commit}\`.`, '']),
    '```sh',
    'pnpm install',
    '# no build needed: the suites run on the sources (tsx --conditions=source)',
    run.command,
    '```',
    '',
  ];
  for (const suite of run.suites) lines.push(...suiteSection(suite));
  return `${lines.join('\n').trimEnd()}\n`;
}
