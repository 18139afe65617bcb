import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { uniqueName } from '@kinesis-kit/local-stack';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { kinesisKit, kinesisKitRaw } from './run-in-process.js';

beforeEach(() => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDLOCALSTACK');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local-stack-secret');
  return () => vi.unstubAllEnvs();
});

describe('kinesis-kit help and errors', () => {
  it('lists every command in the overview and exits 0 for --help', async () => {
    const run = await kinesisKitRaw(['--help']);
    expect(run.code).toBe(0);
    for (const command of [
      'local',
      'stream create',
      'stream split',
      'stream merge',
      'stream scale',
      'put',
      'tail',
      'leases',
    ]) {
      expect(run.stdout).toContain(`  ${command} `);
    }
    expect(run.stdout).toContain('Exit codes');
  });

  it('prints a command’s usage for --help, help <command> and a group name', async () => {
    const split = await kinesisKitRaw(['stream', 'split', '--help']);
    expect(split.code).toBe(0);
    expect(split.stdout).toContain('Usage: kinesis-kit stream split <stream> <shard> [--hash-key K]');
    expect((await kinesisKitRaw(['help', 'tail'])).stdout).toContain('--from P');
    const group = await kinesisKitRaw(['stream', '--help']);
    expect(group.stdout).toContain('kinesis-kit stream merge <stream> <shard> <adjacent-shard>');
  });

  it('exits 2 for an unknown command, an unknown option or a missing argument', async () => {
    const unknown = await kinesisKitRaw(['strem', 'list']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "strem"');
    const option = await kinesisKitRaw(['stream', 'list', '--shardz', '3']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("Unknown option '--shardz'");
    const missing = await kinesisKitRaw(['stream', 'create']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing <stream>');
    expect(missing.stderr).toContain('Usage: kinesis-kit stream create');
  });

  it('exits 2 naming the flag for an endpoint that is not an http(s) URL', async () => {
    const run = await kinesisKitRaw(['stream', 'list', '--endpoint', '127.0.0.1:4567', '--region', 'us-east-1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      '--endpoint must be an http:// or https:// URL such as http://127.0.0.1:4567, got "127.0.0.1:4567"',
    );
  });

  it('exits 3 when the stream or the lease table does not exist', async () => {
    const stream = await kinesisKit(['stream', 'describe', uniqueName('missing')]);
    expect(stream.code).toBe(3);
    expect(stream.stderr).toMatch(/not found/);
    expect((await kinesisKit(['tail', uniqueName('missing')])).code).toBe(3);
    expect((await kinesisKit(['put', uniqueName('missing'), 'x'])).code).toBe(3);
    const leases = await kinesisKit(['leases', uniqueName('no-app')]);
    expect(leases.code).toBe(3);
    expect(leases.stderr).toMatch(/no lease table .*: is .* the application name\?/);
  });

  it('exits 4 with a hint when no credentials can be found', async () => {
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/config');
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/credentials');
    const run = await kinesisKit(['stream', 'list', '--profile', 'no-such-profile']);
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('Set credentials the usual AWS ways');
  });

  it('runs as a process: the bin’s exit code is the command’s', () => {
    const entry = fileURLToPath(new URL('./cli-entry.ts', import.meta.url));
    const tsx = fileURLToPath(new URL('../../../node_modules/tsx/dist/cli.mjs', import.meta.url));
    const run = spawnSync(
      process.execPath,
      [tsx, '--conditions=source', entry, 'stream', 'split', 's', 'not-a-shard'],
      {
        encoding: 'utf8',
      },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('shard must be a shard id like shardId-000000000003');
  });
});
