import { describe, expect, it } from 'vitest';
import { runExample } from './run-example.js';

describe('pnpm demo', () => {
  it('reshards, moves leases and verifies that nothing acknowledged was lost', async () => {
    const run = await runExample('demo/demo.ts', ['--duration', '6', '--rate', '300'], { timeoutMs: 50_000 });
    expect(run.stderr).not.toMatch(/demo failed/);
    expect(run.code).toBe(0);
    // Plain lines, not cursor movements: stdout is not a TTY here.
    expect(run.stdout).not.toContain('\x1b[');
    expect(run.stdout).toMatch(/split shardId-000000000000 in two/);
    expect(run.stdout).toMatch(/merged shardId-000000000002 and shardId-000000000003/);
    expect(run.stdout).toMatch(/stopping worker-b gracefully[\s\S]*worker-b stopped/);
    expect(run.stdout).toMatch(/produced {6}1800\n/);
    expect(run.stdout).toMatch(/consumed {6}1800 distinct/);
    expect(run.stdout).toMatch(/lost {10}0\n/);
    expect(run.stdout).toContain('result: OK, nothing lost');
  }, 60_000);

  it('rejects a bad flag with exit code 2 and the usage', async () => {
    const run = await runExample('demo/demo.ts', ['--shards', '1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--shards must be a whole number from 3 to 64, got 1');
    expect(run.stderr).toContain('Usage');
  });
});
