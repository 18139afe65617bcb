import { randomUUID } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKinesisClient } from '../clients.js';
import { contentType, errorMessage, errorResponse, type ProxyResponse, parseTarget } from './aws-error-response.js';
import { decideFaults, type FaultRule, validateFaultRule } from './fault-rule.js';
import { type FaultProxyStats, FaultStats } from './fault-stats.js';
import {
  base64Length,
  entryBytes,
  type InjectedEntryFailure,
  type PutRecordsRequestEntryJson,
  type PutRecordsResponseJson,
  spliceFailures,
} from './put-records-rewrite.js';
import { type RandomSource, seededRandom } from './seeded-random.js';
import { ShardLimits, type ShardLimitsOptions } from './shard-limits.js';
import { ShardRouter, type StreamRef } from './shard-router.js';

/** The error codes the service puts on failed PutRecords entries. */
export type PutRecordsEntryErrorCode = 'ProvisionedThroughputExceededException' | 'InternalFailure';

/** What a test may change while the proxy runs; {@link FaultProxy.configure} replaces the fields it is given. */
export interface FaultProxyConfig {
  /** Whole-call faults, applied in order (see {@link FaultRule}). @defaultValue none */
  readonly rules?: readonly FaultRule[];
  /**
   * Fraction of PutRecords entries to fail, 0 to 1. Failed entries are not forwarded, so the emulator never
   * stores them. @defaultValue 0
   */
  readonly putRecordsFailureRate?: number;
  /** Codes given to failed entries, drawn evenly. @defaultValue `['ProvisionedThroughputExceededException']` */
  readonly putRecordsFailureCodes?: readonly PutRecordsEntryErrorCode[];
  /**
   * Enforce the per-shard limits: `true` for the service's (1,000 records and 1 MiB written, 5 GetRecords calls
   * and 2 MiB read per shard per second), or an object to change them. @defaultValue false
   */
  readonly shardLimits?: boolean | ShardLimitsOptions;
}

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions extends FaultProxyConfig {
  /** The emulator the proxy stands in front of, e.g. `http://127.0.0.1:4567`. */
  readonly target: string;
  /** Port on 127.0.0.1. @defaultValue a free port */
  readonly port?: number;
  /** Seed of the random source, so a run's faults can be replayed. @defaultValue 1 */
  readonly seed?: number;
  /** Or a random source of your own (wins over `seed`). */
  readonly random?: RandomSource;
  /** How long a stream's shard map is trusted before it is listed again. @defaultValue 2000 */
  readonly shardMapRefreshMs?: number;
}

/** A running proxy. */
export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: give it to the SDK client instead of the emulator's endpoint. */
  readonly endpoint: string;
  /** Changes the faults from the next call on; fields not given keep their value. */
  configure(config: FaultProxyConfig): void;
  /** Counters of calls seen and faults injected. */
  stats(): FaultProxyStats;
  /** Zeroes the counters. */
  resetStats(): void;
  /** Closes the server and every connection, including calls held by `timeout`. Idempotent. */
  stop(): Promise<void>;
}

/** Largest request body read; bigger than any valid Kinesis or DynamoDB call. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host']);

interface State {
  rules: readonly FaultRule[];
  failureRate: number;
  failureCodes: readonly PutRecordsEntryErrorCode[];
  limits: ShardLimits | undefined;
}

function validateConfig(config: FaultProxyConfig): void {
  config.rules?.forEach(validateFaultRule);
  const rate = config.putRecordsFailureRate;
  if (rate !== undefined && !(rate >= 0 && rate <= 1)) {
    throw new RangeError(`putRecordsFailureRate must be between 0 and 1, got ${rate}`);
  }
  const codes = config.putRecordsFailureCodes;
  if (codes !== undefined && codes.length === 0) {
    throw new RangeError('putRecordsFailureCodes must name at least one code, got none');
  }
}

/**
 * Starts a fault-injecting HTTP proxy on 127.0.0.1 in front of a Kinesis or DynamoDB emulator (or both: it
 * tells the services apart by `X-Amz-Target`). Calls it leaves alone are forwarded unchanged.
 *
 * Injected errors are shaped exactly as the real services send them (JSON `__type` and `message`, HTTP 400, or
 * 500 for internal failures), so the SDK raises the same exception classes it would raise in production.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  if (target.protocol !== 'http:') throw new RangeError(`target must be an http:// URL, got ${options.target}`);
  validateConfig(options);
  const random = options.random ?? seededRandom(options.seed ?? 1);
  const state: State = {
    rules: [],
    failureRate: 0,
    failureCodes: ['ProvisionedThroughputExceededException'],
    limits: undefined,
  };
  const configure = (config: FaultProxyConfig): void => {
    validateConfig(config);
    if (config.rules !== undefined) state.rules = [...config.rules];
    if (config.putRecordsFailureRate !== undefined) state.failureRate = config.putRecordsFailureRate;
    if (config.putRecordsFailureCodes !== undefined) state.failureCodes = [...config.putRecordsFailureCodes];
    if (config.shardLimits !== undefined) {
      const limits = config.shardLimits;
      state.limits = limits === false ? undefined : new ShardLimits(limits === true ? {} : limits);
    }
  };
  configure(options);

  const stats = new FaultStats();
  const fired = new Map<FaultRule, number>();
  const agent = new Agent({ keepAlive: true, maxSockets: 128 });
  const lister = createKinesisClient({ endpoint: options.target, maxSockets: 4 });
  const router = new ShardRouter(lister, options.shardMapRefreshMs ?? 2000);
  const sockets = new Set<Socket>();
  const stopping = new AbortController();

  const forward = (req: IncomingMessage, body: Buffer): Promise<ProxyResponse> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
      }
      headers['content-length'] = String(body.length);
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers,
          agent,
          signal: stopping.signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            stats.forwarded();
            resolve({ status: res.statusCode ?? 502, headers: copyHeaders(res.headers), body: Buffer.concat(chunks) });
          });
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });

  const send = (res: ServerResponse, response: ProxyResponse): void => {
    const headers = { ...response.headers, 'content-length': String(response.body.length) };
    res.writeHead(response.status, headers);
    res.end(response.body);
  };

  const putRecords = async (req: IncomingMessage, body: Buffer): Promise<ProxyResponse> => {
    const input = JSON.parse(body.toString('utf8')) as { Records?: PutRecordsRequestEntryJson[] } & Record<
      string,
      unknown
    >;
    const entries = Array.isArray(input.Records) ? input.Records : [];
    const stream = streamRefOf(input);
    const failures: (InjectedEntryFailure | undefined)[] = entries.map(() => undefined);
    let injected = 0;
    if (state.failureRate > 0) {
      entries.forEach((_entry, i) => {
        if (random() < state.failureRate) {
          const code = state.failureCodes[Math.floor(random() * state.failureCodes.length)] ?? 'InternalFailure';
          failures[i] = { errorCode: code, errorMessage: errorMessage('kinesis', code) };
          injected += 1;
        }
      });
      stats.failedEntries(injected);
    }
    const limits = state.limits;
    if (limits !== undefined) {
      const now = Date.now();
      const shards = await router.shardsOf(stream, entries, now);
      let throttled = 0;
      entries.forEach((entry, i) => {
        const shard = shards[i];
        if (failures[i] !== undefined || shard === undefined) return;
        if (!limits.admitWrite(shard, entryBytes(entry), now)) {
          const shardId = shard.slice(shard.lastIndexOf('/') + 1);
          failures[i] = {
            errorCode: 'ProvisionedThroughputExceededException',
            errorMessage: errorMessage('kinesis', 'ProvisionedThroughputExceededException', shardId),
          };
          throttled += 1;
        }
      });
      stats.writeThrottled(throttled);
    }
    if (failures.every((f) => f === undefined)) return forward(req, body);
    const accepted = entries.filter((_entry, i) => failures[i] === undefined);
    let upstream: PutRecordsResponseJson | undefined;
    if (accepted.length > 0) {
      const response = await forward(req, Buffer.from(JSON.stringify({ ...input, Records: accepted })));
      // The emulator refused the whole call (unknown stream, bad key…): that is the caller's answer.
      if (response.status !== 200) return response;
      upstream = JSON.parse(response.body.toString('utf8')) as PutRecordsResponseJson;
    }
    const spliced = Buffer.from(JSON.stringify(spliceFailures(failures, upstream)));
    return {
      status: 200,
      headers: { 'content-type': contentType('kinesis'), 'x-amzn-requestid': randomUUID() },
      body: spliced,
    };
  };

  const putRecord = async (req: IncomingMessage, body: Buffer): Promise<ProxyResponse> => {
    const limits = state.limits;
    if (limits === undefined) return forward(req, body);
    const input = JSON.parse(body.toString('utf8')) as PutRecordsRequestEntryJson & Record<string, unknown>;
    const now = Date.now();
    const [shard] = await router.shardsOf(streamRefOf(input), [input], now);
    if (shard !== undefined && typeof input.Data === 'string' && !limits.admitWrite(shard, entryBytes(input), now)) {
      stats.writeThrottled(1);
      const shardId = shard.slice(shard.lastIndexOf('/') + 1);
      return errorResponse('kinesis', 'ProvisionedThroughputExceededException', randomUUID(), { shardId });
    }
    return forward(req, body);
  };

  const getShardIterator = async (req: IncomingMessage, body: Buffer): Promise<ProxyResponse> => {
    const response = await forward(req, body);
    if (response.status === 200) {
      const input = JSON.parse(body.toString('utf8')) as { ShardId?: string } & Record<string, unknown>;
      const output = JSON.parse(response.body.toString('utf8')) as { ShardIterator?: string };
      const key = streamKeyOf(streamRefOf(input));
      if (key !== undefined && input.ShardId !== undefined && output.ShardIterator !== undefined) {
        router.rememberIterator(output.ShardIterator, `${key}/${input.ShardId}`);
      }
    }
    return response;
  };

  const getRecords = async (req: IncomingMessage, body: Buffer): Promise<ProxyResponse> => {
    const input = JSON.parse(body.toString('utf8')) as { ShardIterator?: string };
    const shard = input.ShardIterator === undefined ? undefined : router.shardOfIterator(input.ShardIterator);
    const limits = state.limits;
    if (limits !== undefined && shard !== undefined && !limits.admitRead(shard, Date.now())) {
      stats.readThrottled();
      const shardId = shard.slice(shard.lastIndexOf('/') + 1);
      return errorResponse('kinesis', 'ProvisionedThroughputExceededException', randomUUID(), { shardId });
    }
    const response = await forward(req, body);
    if (response.status === 200 && shard !== undefined) {
      const output = JSON.parse(response.body.toString('utf8')) as {
        NextShardIterator?: string;
        Records?: { Data?: string }[];
      };
      if (output.NextShardIterator !== undefined) router.rememberIterator(output.NextShardIterator, shard);
      if (limits !== undefined) {
        const bytes = (output.Records ?? []).reduce((sum, r) => sum + base64Length(r.Data ?? ''), 0);
        limits.chargeRead(shard, bytes, Date.now());
      }
    }
    return response;
  };

  const handleKinesis = async (
    operation: string,
    req: IncomingMessage,
    body: Buffer,
  ): Promise<ProxyResponse | undefined> => {
    switch (operation) {
      case 'PutRecords':
        return state.failureRate > 0 || state.limits !== undefined ? putRecords(req, body) : undefined;
      case 'PutRecord':
        return putRecord(req, body);
      case 'GetShardIterator':
        return getShardIterator(req, body);
      case 'GetRecords':
        return getRecords(req, body);
      case 'SplitShard':
      case 'MergeShards':
      case 'UpdateShardCount': {
        const response = await forward(req, body);
        router.invalidate(streamRefOf(JSON.parse(body.toString('utf8')) as Record<string, unknown>));
        return response;
      }
      default:
        return undefined;
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const { service, operation } = parseTarget(header(req.headers, 'x-amz-target'));
    stats.request(operation);
    const decision = decideFaults(state.rules, service, operation, random, fired);
    if (decision.latencyMs > 0) {
      stats.injected('latency');
      await sleep(decision.latencyMs, undefined, { signal: stopping.signal });
    }
    const fault = decision.fault;
    if (fault !== undefined) stats.injected(fault);
    switch (fault) {
      case 'timeout':
        // Never answer: the socket stays open until the caller gives up or the proxy stops.
        return;
      case 'drop-request':
        req.socket.destroy();
        return;
      case 'drop-response':
        await forward(req, body);
        req.socket.destroy();
        return;
      case undefined:
        break;
      default:
        send(res, errorResponse(service ?? 'kinesis', fault, randomUUID()));
        return;
    }
    const rewritten = service === 'kinesis' ? await handleKinesis(operation, req, body) : undefined;
    send(res, rewritten ?? (await forward(req, body)));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (stopping.signal.aborted || res.destroyed) return;
      stats.upstreamError();
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const { service } = parseTarget(header(req.headers, 'x-amz-target'));
      send(res, errorResponse(service ?? 'kinesis', 'InternalFailure', randomUUID(), { message: describe(error) }));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    configure,
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    stop: () => {
      stopped ??= (async () => {
        stopping.abort();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await closed;
        agent.destroy();
        lister.destroy();
      })();
      return stopped;
    },
  };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function copyHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const copy: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    copy[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return copy;
}

function streamRefOf(input: Record<string, unknown>): StreamRef {
  const name = input.StreamName;
  const arn = input.StreamARN;
  return {
    ...(typeof name === 'string' ? { streamName: name } : {}),
    ...(typeof arn === 'string' ? { streamARN: arn } : {}),
  };
}

function streamKeyOf(stream: StreamRef): string | undefined {
  if (stream.streamName !== undefined) return stream.streamName;
  if (stream.streamARN !== undefined) return stream.streamARN.slice(stream.streamARN.lastIndexOf('/') + 1);
  return undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? `fault proxy: ${error.message}` : 'fault proxy: upstream failed';
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new RangeError(`request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}
