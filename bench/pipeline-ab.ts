/**
 * In-process A/B of the producer pipeline (the no-op-sender task of bench/producer.ts): two source trees loaded
 * side by side in one process, their runs alternating A, B, B, A… so both see the same outside load. On a
 * shared machine that is what makes a few-percent difference visible: separate runs of `pnpm bench` swing by
 * ±20 % there, interleaved runs of one tree against itself by about ±4 %.
 *
 * ```sh
 * git worktree add --detach /tmp/base main && (cd /tmp/base && pnpm install --offline)
 * pnpm tsx --conditions=source bench/pipeline-ab.ts /tmp/base . [pairs]
 * ```
 *
 * This is how the "for speed" choices of the pipeline were measured: B is the tree with the choice undone.
 * Prints each tree's median records/s and the median of the per-pair ratios B/A.
 */
import { resolve } from 'node:path';

type ProducerModule = typeof import('../packages/producer/src/index.js');
type BenchModule = typeof import('./producer.js');

const RECORDS = 50_000;
const WARMUP_PAIRS = 20;

const [treeA = '', treeB = '', pairsArg = '40'] = process.argv.slice(2);
if (treeA === '' || treeB === '') throw new Error('usage: pipeline-ab.ts <tree A> <tree B> [pairs]');
const pairs = Number(pairsArg);

const distinct = Array.from({ length: 1000 }, (_, i) => `customer-${(i * 2654435761) % 4294967296}-${i}`);
const keys = Array.from({ length: RECORDS }, (_, i) => distinct[i % distinct.length] ?? 'customer');
const data = Array.from({ length: RECORDS }, (_, i) => Buffer.alloc(100, i % 251));

/** One tree's pipeline, as bench/producer.ts sets it up; returns a run measuring records/s. */
async function pipelineOf(tree: string): Promise<() => Promise<number>> {
  const root = resolve(tree);
  const { KinesisProducer } = (await import(`${root}/packages/producer/src/index.ts`)) as ProducerModule;
  const { NoOpKinesis } = (await import(`${root}/bench/producer.ts`)) as BenchModule;
  const producer = new KinesisProducer({
    kinesisClient: new NoOpKinesis(),
    metricsLevel: 'none',
    maxOutstandingRecords: 1_000_000,
    maxOutstandingBytes: 1024 * 1024 * 1024,
    rateLimit: 1_000_000,
  });
  return async () => {
    const start = performance.now();
    let failures = 0;
    const onFailure = (): void => {
      failures++;
    };
    for (let i = 0; i < RECORDS; i++) {
      producer.addUserRecord('bench', keys[i] ?? '', data[i] ?? Buffer.alloc(0)).then(undefined, onFailure);
    }
    await producer.flushSync();
    if (failures > 0) throw new Error(`${failures} records failed`);
    return RECORDS / ((performance.now() - start) / 1000);
  };
}

const median = (values: readonly number[]): number =>
  [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? 0;

const a = await pipelineOf(treeA);
const b = await pipelineOf(treeB);
for (let i = 0; i < WARMUP_PAIRS; i++) {
  await a();
  await b();
}
const ratesA: number[] = [];
const ratesB: number[] = [];
const ratios: number[] = [];
for (let i = 0; i < pairs; i++) {
  // Alternate which goes first, so neither always runs right after the other's garbage.
  let rateA: number;
  let rateB: number;
  if (i % 2 === 0) {
    rateA = await a();
    rateB = await b();
  } else {
    rateB = await b();
    rateA = await a();
  }
  ratesA.push(rateA);
  ratesB.push(rateB);
  ratios.push(rateB / rateA);
}
console.log(
  JSON.stringify({
    a: treeA,
    b: treeB,
    aRecordsPerSecond: Math.round(median(ratesA)),
    bRecordsPerSecond: Math.round(median(ratesB)),
    ratioBA: Number(median(ratios).toFixed(3)),
  }),
);
process.exit(0);
