import { Readable } from 'node:stream';
import { runCli } from '@kinesis-kit/cli';
import { describe, expect, it, vi } from 'vitest';
import { kinesisKitRaw } from './run-in-process.js';

describe('kinesis-kit local', () => {
  it('prints working endpoints as export lines and stops cleanly when aborted', async () => {
    const stop = new AbortController();
    const lines: string[] = [];
    const notes: string[] = [];
    const running = runCli(['local', '--kinesis', 'kinesalite'], {
      out: (text) => lines.push(text),
      err: (text) => notes.push(text),
      stdin: Readable.from(['']),
      signal: stop.signal,
    });
    await vi.waitFor(() => expect(lines).toHaveLength(6), { timeout: 10_000 });
    const env = Object.fromEntries(lines.map((line) => /^export (\w+)=(.*)$/.exec(line)?.slice(1) ?? []));
    expect(env.AWS_ENDPOINT_URL_KINESIS).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env.AWS_ENDPOINT_URL_DYNAMODB).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // The AWS CLI v1 reads the region from AWS_DEFAULT_REGION only, and ignores the endpoint variables.
    expect(env.AWS_DEFAULT_REGION).toBe(env.AWS_REGION);
    expect(notes).toContain(`#   aws kinesis list-streams --endpoint-url ${env.AWS_ENDPOINT_URL_KINESIS}`);

    // The printed variables are all another command needs.
    vi.stubEnv('AWS_ENDPOINT_URL_KINESIS', env.AWS_ENDPOINT_URL_KINESIS);
    vi.stubEnv('AWS_REGION', env.AWS_REGION);
    vi.stubEnv('AWS_ACCESS_KEY_ID', env.AWS_ACCESS_KEY_ID);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', env.AWS_SECRET_ACCESS_KEY);
    try {
      expect((await kinesisKitRaw(['stream', 'create', 'from-env'])).code).toBe(0);
      expect((await kinesisKitRaw(['stream', 'list'])).stdout).toBe('from-env\n');
    } finally {
      vi.unstubAllEnvs();
      stop.abort();
    }
    expect(await running).toBe(0);
  });

  it('rejects an unknown emulator with exit code 2', async () => {
    const run = await kinesisKitRaw(['local', '--kinesis', 'localstack']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--kinesis must be kinesis-mock or kinesalite');
  });
});
