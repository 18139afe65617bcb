import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ValidationError } from './errors.js';
import {
  createCloudWatchClient,
  createDynamoDBClient,
  createKinesisClient,
  type SdkClientOptions,
} from './sdk-clients.js';

/** What one fake service saw: the HTTP version and the target of each request. */
interface Seen {
  httpVersion: string;
  target: string | undefined;
}

/** A server that records each request and answers `{}` (or never, when `hang`). */
async function fakeService(hang = false): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    seen.push({ httpVersion: request.httpVersion, target: request.headers['x-amz-target'] as string | undefined });
    request.resume();
    if (hang) return;
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    response.end('{}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const servers: Server[] = [];
const base: SdkClientOptions = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
  maxAttempts: 1,
};

beforeEach(() => {
  // The variables a developer's shell may hold must not leak into the cases that set none.
  for (const name of ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_KINESIS', 'AWS_ENDPOINT_URL_DYNAMODB']) {
    vi.stubEnv(name, undefined);
  }
  vi.stubEnv('AWS_ENDPOINT_URL_CLOUDWATCH', undefined);
});

afterEach(() => {
  vi.unstubAllEnvs();
  for (const server of servers.splice(0)) server.close();
});

async function started(hang = false) {
  const service = await fakeService(hang);
  servers.push(service.server);
  return service;
}

describe('createKinesisClient / createDynamoDBClient / createCloudWatchClient', () => {
  it('speaks HTTP/1.1 to the endpoint given, for each service (the SDK default for Kinesis is HTTP/2)', async () => {
    const kinesis = await started();
    const dynamodb = await started();
    const options = { ...base, kinesisEndpoint: kinesis.url, dynamoDbEndpoint: dynamodb.url };
    const kinesisClient = createKinesisClient(options);
    const dynamoDBClient = createDynamoDBClient(options);
    await kinesisClient.send(new ListStreamsCommand({}));
    await dynamoDBClient.send(new ListTablesCommand({}));
    kinesisClient.destroy();
    dynamoDBClient.destroy();
    expect(kinesis.seen).toEqual([{ httpVersion: '1.1', target: 'Kinesis_20131202.ListStreams' }]);
    expect(dynamodb.seen).toEqual([{ httpVersion: '1.1', target: 'DynamoDB_20120810.ListTables' }]);
  });

  it.each([
    ['AWS_ENDPOINT_URL_KINESIS', () => createKinesisClient(base), () => new ListStreamsCommand({})],
    ['AWS_ENDPOINT_URL_DYNAMODB', () => createDynamoDBClient(base), () => new ListTablesCommand({})],
  ] as const)('honours the SDK variable %s when no endpoint option is given', async (variable, create, command) => {
    const service = await started();
    vi.stubEnv(variable, service.url);
    const client = create();
    // biome-ignore lint/suspicious/noExplicitAny: the two clients take different command unions
    await (client.send as (c: any) => Promise<unknown>)(command());
    client.destroy();
    expect(service.seen).toHaveLength(1);
  });

  it('honours AWS_ENDPOINT_URL_CLOUDWATCH when no endpoint option is given', async () => {
    const service = await started();
    vi.stubEnv('AWS_ENDPOINT_URL_CLOUDWATCH', service.url);
    const client = createCloudWatchClient(base);
    // CloudWatch answers in its own protocol; the request reaching the server is what this test is about.
    await client.send(new ListMetricsCommand({})).catch(() => undefined);
    client.destroy();
    expect(service.seen).toHaveLength(1);
    expect(service.seen[0]?.httpVersion).toBe('1.1');
  });

  it('prefers the endpoint option over the variable', async () => {
    const fromOption = await started();
    const fromVariable = await started();
    vi.stubEnv('AWS_ENDPOINT_URL_KINESIS', fromVariable.url);
    const client = createKinesisClient({ ...base, kinesisEndpoint: fromOption.url });
    await client.send(new ListStreamsCommand({}));
    client.destroy();
    expect(fromOption.seen).toHaveLength(1);
    expect(fromVariable.seen).toHaveLength(0);
  });

  it('fails a request whose answer never comes after requestTimeout, with a retriable TimeoutError', async () => {
    const service = await started(true);
    const client = createKinesisClient({ ...base, kinesisEndpoint: service.url, requestTimeout: 50 });
    await expect(client.send(new ListStreamsCommand({}))).rejects.toMatchObject({ name: 'TimeoutError' });
    client.destroy();
  });

  it.each([
    ['127.0.0.1:4567', { kinesisEndpoint: '127.0.0.1:4567' }, /kinesisEndpoint must be an http/],
    ['ftp://host', { kinesisEndpoint: 'ftp://host' }, /kinesisEndpoint must be an http/],
    ['requestTimeout 0', { requestTimeout: 0 }, /requestTimeout must be a finite number of ms > 0, got 0/],
    ['maxSockets 0', { maxSockets: 0 }, /maxSockets must be a whole number ≥ 1, got 0/],
  ])('rejects %s with a ValidationError naming the option', (_, options, message) => {
    expect(() => createKinesisClient(options)).toThrow(ValidationError);
    expect(() => createKinesisClient(options)).toThrow(message);
  });

  it('checks only the endpoint of the client it builds: a bad Kinesis endpoint does not stop a DynamoDB client', () => {
    expect(() => createDynamoDBClient({ kinesisEndpoint: 'nope' }).destroy()).not.toThrow();
  });
});
