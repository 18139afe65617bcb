import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListShardsCommand, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { createStreamAndWait, type KinesisEmulator, startLocalStack, uniqueName } from '../src/index.js';

/** Resolves true if a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

const externalAddresses = Object.values(networkInterfaces())
  .flat()
  .flatMap((address) => (address && address.family === 'IPv4' && !address.internal ? [address.address] : []));

const portOf = (endpoint: string) => Number(new URL(endpoint).port);

describe.each<KinesisEmulator>(['kinesis-mock', 'kinesalite'])('startLocalStack with %s', (kinesis) => {
  it('serves Kinesis and DynamoDB on loopback only, and frees everything on stop', async () => {
    const stack = await startLocalStack({ kinesis });
    try {
      expect(stack.kinesisEmulator).toBe(kinesis);
      expect(stack.kinesisEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(stack.dynamoDBEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

      const streamName = uniqueName('local-stack');
      const kinesisClient = stack.kinesisClient();
      await createStreamAndWait(kinesisClient, { streamName, shardCount: 2 });
      const { Shards } = await kinesisClient.send(new ListShardsCommand({ StreamName: streamName }));
      expect(Shards).toHaveLength(2);
      const put = await kinesisClient.send(
        new PutRecordCommand({ StreamName: streamName, PartitionKey: 'pk', Data: new Uint8Array([1, 2, 3]) }),
      );
      expect(put.SequenceNumber).toMatch(/^\d+$/);

      const tables = await stack.dynamoDBClient().send(new ListTablesCommand({}));
      expect(tables.TableNames).toEqual([]);

      for (const endpoint of [stack.kinesisEndpoint, stack.dynamoDBEndpoint]) {
        expect(await accepts('127.0.0.1', portOf(endpoint))).toBe(true);
        for (const address of externalAddresses) expect(await accepts(address, portOf(endpoint))).toBe(false);
      }
    } finally {
      await stack.stop();
    }
    expect(await accepts('127.0.0.1', portOf(stack.kinesisEndpoint))).toBe(false);
    expect(await accepts('127.0.0.1', portOf(stack.dynamoDBEndpoint))).toBe(false);
    // stop() is idempotent.
    await stack.stop();
  });
});

it('stops what it started when the ports are already taken', async () => {
  const first = await startLocalStack({ kinesis: 'kinesalite' });
  try {
    await expect(
      startLocalStack({ kinesis: 'kinesalite', dynamoDBPort: portOf(first.dynamoDBEndpoint) }),
    ).rejects.toThrow(/EADDRINUSE/);
  } finally {
    await first.stop();
  }
});
