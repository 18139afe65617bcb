import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExample } from './run-example.js';

// Each example starts its own embedded stack, as a user's one command does; runs are kept small.
describe('examples', () => {
  it('producer-sample puts every record and handles results both ways', async () => {
    const run = await runExample('producer-sample.ts', ['--records', '300']);
    expect(run.stderr).not.toMatch(/record failed/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/per shard: shardId-000000000000=\d+ shardId-000000000001=\d+/);
    expect(run.stdout).toMatch(/put 300 of 300 user records in \d+ Kinesis records .*; 0 failed/);
  });

  // Issue 11: the sample's loop (await waitForCapacity(), then add) lost records to BufferFullError once the
  // byte bound was the one that bound. 2 KB records against a 2 MiB bound: the byte bound binds at ~1,000.
  it('producer-sample loses no record when the byte bound binds', async () => {
    const run = await runExample('producer-sample.ts', [
      '--records',
      '3000',
      '--size',
      '2048',
      '--max-outstanding-bytes',
      String(2 * 1024 * 1024),
    ]);
    expect(run.stderr).not.toMatch(/record failed/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/put 3000 of 3000 user records in \d+ Kinesis records .*; 0 failed/);
  });

  it('producer-stream keeps the outstanding records within the bound while piping a faster source', async () => {
    const run = await runExample('producer-stream.ts', ['--records', '3000', '--max-outstanding', '200']);
    expect(run.code).toBe(0);
    const match = /put 3000 of 3000 orders .* at most (\d+) outstanding \(bound 200\)/.exec(run.stdout);
    expect(match).not.toBeNull();
    expect(Number(match?.[1])).toBeLessThanOrEqual(200);
  });

  it('consumer-sample reads every seeded record and checkpoints on shutdown', async () => {
    const run = await runExample('consumer-sample.ts', ['--records', '200']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/shardId-000000000000: checkpointed at \d+\/\d+ on shutdown/);
    expect(run.stdout).toMatch(/processed 200 records with \d+ checkpoints/);
  });

  it('consumer-file-sink writes every record to the file in batches', async () => {
    const out = join(tmpdir(), `file-sink-${process.pid}-${Date.now()}.jsonl`);
    try {
      const run = await runExample('consumer-file-sink.ts', ['--records', '400', '--batch', '50', '--out', out]);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`wrote 400 records to ${out} in \\d+ batches`));
      const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
      const readings = lines.map((line) => (JSON.parse(line) as { reading: number }).reading).sort((a, b) => a - b);
      expect(readings).toEqual(Array.from({ length: 400 }, (_, i) => i));
    } finally {
      await rm(out, { force: true });
    }
  });
});
