import { Readable } from 'node:stream';
import { runCli } from '@kinesis-kit/cli';
import { inject } from 'vitest';

/** What one in-process `kinesis-kit` run printed, and its exit code. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout's lines parsed as JSON (for `--json` runs). */
  json<T = Record<string, unknown>>(): T[];
}

/** Runs `kinesis-kit` in this process, against kinesalite + dynalite unless `args` name another endpoint. */
export async function kinesisKit(
  args: readonly string[],
  options: {
    stdin?: string;
    signal?: AbortSignal;
    onOut?: (text: string) => void;
    onErr?: (text: string) => void;
    endpoint?: string;
  } = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(
    [
      ...args,
      '--endpoint',
      options.endpoint ?? inject('kinesaliteEndpoint'),
      '--dynamodb-endpoint',
      inject('dynamoDBEndpoint'),
      '--region',
      inject('region'),
    ],
    {
      out: (text) => {
        stdout += `${text}\n`;
        options.onOut?.(text);
      },
      err: (text) => {
        stderr += `${text}\n`;
        options.onErr?.(text);
      },
      stdin: Readable.from([options.stdin ?? '']),
      signal: options.signal,
    },
  );
  return {
    code,
    stdout,
    stderr,
    json: <T>() =>
      stdout
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as T),
  };
}

/** Runs `kinesis-kit` with exactly `argv`: for help and usage errors, which need no endpoint. */
export async function kinesisKitRaw(
  argv: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    out: (text) => {
      stdout += `${text}\n`;
    },
    err: (text) => {
      stderr += `${text}\n`;
    },
    stdin: Readable.from(['']),
  });
  return { code, stdout, stderr };
}
