import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { createKinesisClient, LOCAL_REGION } from './clients.js';
import { DEFAULT_STATUS_DELAY_MS, type EmulatorOptions, type EmulatorServer } from './emulator-server.js';
import { freePort } from './free-port.js';

const require = createRequire(import.meta.url);
const FORCE_LOOPBACK = fileURLToPath(new URL('../preload/force-loopback.cjs', import.meta.url));

/** Options of {@link startKinesisMock}. */
export interface KinesisMockServerOptions extends EmulatorOptions {
  /** Region the emulator puts in ARNs; clients should sign for the same. @defaultValue `us-east-1` */
  region?: string;
  /** Most shards per account. @defaultValue 10000 */
  shardLimit?: number;
  /** How long to wait for the first successful call. @defaultValue 30000 */
  startTimeoutMs?: number;
}

// Every operation with a simulated duration; kinesis-mock reads them as `<n>ms`.
const DURATION_VARIABLES = [
  'CREATE_STREAM_DURATION',
  'DELETE_STREAM_DURATION',
  'SPLIT_SHARD_DURATION',
  'MERGE_SHARDS_DURATION',
  'UPDATE_SHARD_COUNT_DURATION',
  'UPDATE_STREAM_MODE_DURATION',
  'REGISTER_STREAM_CONSUMER_DURATION',
  'DEREGISTER_STREAM_CONSUMER_DURATION',
  'START_STREAM_ENCRYPTION_DURATION',
  'STOP_STREAM_ENCRYPTION_DURATION',
];

const LOG_TAIL_BYTES = 8192;

/**
 * Starts kinesis-mock (npm `kinesis-local`, the emulator LocalStack uses) as a child process on 127.0.0.1.
 * It is the most faithful emulator on npm — ListShards paging and filters, ChildShards at shard end,
 * UpdateShardCount, stream consumers, a realistic MillisBehindLatest — but slow (about 1k puts/s, falling as
 * shards fill), so tests should use fresh streams and few records. Starting takes about 1.5 s.
 */
export async function startKinesisMock(options: KinesisMockServerOptions = {}): Promise<EmulatorServer> {
  const port = options.port ?? (await freePort());
  // kinesis-mock always opens a TLS listener too; give it a free port so it never clashes.
  const tlsPort = await freePort();
  const delay = `${options.statusDelayMs ?? DEFAULT_STATUS_DELAY_MS}ms`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // The certificate path is resolved against the working directory unless given in full.
    KINESIS_MOCK_CERT_PATH: require.resolve('kinesis-local/server.json'),
    KINESIS_MOCK_PLAIN_PORT: String(port),
    KINESIS_MOCK_TLS_PORT: String(tlsPort),
    SHARD_LIMIT: String(options.shardLimit ?? 10_000),
    ON_DEMAND_STREAM_COUNT_LIMIT: '100',
    AWS_REGION: options.region ?? LOCAL_REGION,
    LOG_LEVEL: 'ERROR',
  };
  for (const variable of DURATION_VARIABLES) env[variable] = delay;

  // Spawn node directly: killing an `npx` or `npm exec` parent would leave the server running.
  const child = spawn(process.execPath, ['-r', FORCE_LOOPBACK, require.resolve('kinesis-local/main.js')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logTail = '';
  const keepTail = (chunk: Buffer) => {
    logTail = (logTail + chunk.toString('utf8')).slice(-LOG_TAIL_BYTES);
  };
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // If this process dies without stopping the stack, take the emulator with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      // The data is in memory only, so there is nothing to lose by not waiting for a graceful shutdown
      // (which waits 30 s for any keep-alive connection still open).
      child.kill('SIGKILL');
    }
    await exited;
  };

  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilServing(endpoint, child, options.startTimeoutMs ?? 30_000);
  } catch (error) {
    await stop();
    throw new Error(`kinesis-mock did not start on ${endpoint}: ${(error as Error).message}\n${logTail}`, {
      cause: error,
    });
  }
  let stopped: Promise<void> | undefined;
  return {
    name: 'kinesis-mock',
    endpoint,
    stop: () => {
      stopped ??= stop();
      return stopped;
    },
  };
}

async function waitUntilServing(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const client = createKinesisClient({ endpoint, maxSockets: 1 });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the process exited (${child.exitCode ?? child.signalCode})`);
      }
      try {
        // Each attempt has its own timeout: an early request can be accepted and never answered.
        await client.send(new ListStreamsCommand({}), { abortSignal: AbortSignal.timeout(2000) });
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    client.destroy();
  }
}
