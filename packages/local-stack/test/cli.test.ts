import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { expect, it } from 'vitest';
import { runLocalStackCli } from '../src/cli.js';
import { createKinesisClient, createStreamAndWait, uniqueName } from '../src/index.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) } };
}

it('prints the endpoints as environment variables and stops when aborted', async () => {
  const { out, io } = capture();
  const abort = new AbortController();
  const exit = runLocalStackCli(['--kinesis', 'kinesalite'], io, abort.signal);
  await expect.poll(() => out.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(5);

  const env = Object.fromEntries(
    out.map((line) => {
      const match = /^export (\w+)=(.*)$/.exec(line);
      expect(match).not.toBeNull();
      return [match?.[1], match?.[2]];
    }),
  );
  expect(env.AWS_ENDPOINT_URL_KINESIS).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(env.AWS_ENDPOINT_URL_DYNAMODB).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(env.AWS_REGION).toBe('us-east-1');

  const client = createKinesisClient({ endpoint: String(env.AWS_ENDPOINT_URL_KINESIS) });
  const streamName = uniqueName('cli');
  await createStreamAndWait(client, { streamName, shardCount: 1 });
  const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
  expect(summary.StreamDescriptionSummary?.OpenShardCount).toBe(1);
  client.destroy();

  abort.abort();
  await expect(exit).resolves.toBe(0);
});

it.each([
  [['--kinesis', 'dynamo'], /--kinesis must be kinesis-mock or kinesalite/],
  [['--kinesis-port', '70000'], /--kinesis-port must be a port/],
  [['--bogus'], /Unknown option/],
])('rejects %j with usage and exit code 2', async (argv, message) => {
  const { err, io } = capture();
  await expect(runLocalStackCli(argv, io)).resolves.toBe(2);
  expect(err.join('\n')).toMatch(message);
  expect(err.join('\n')).toContain('Usage: kinesis-kit-local');
});

it('prints help', async () => {
  const { out, io } = capture();
  await expect(runLocalStackCli(['--help'], io)).resolves.toBe(0);
  expect(out.join('\n')).toContain('--kinesis <kinesis-mock|kinesalite>');
});
