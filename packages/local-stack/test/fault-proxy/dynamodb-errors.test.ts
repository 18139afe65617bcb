import {
  DynamoDBServiceException,
  InternalServerError,
  ListTablesCommand,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../../src/index.js';
import { singleShotDynamoDB } from './helpers.js';

describe('fault proxy: DynamoDB errors and latency', () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy({ target: inject('dynamoDBEndpoint') });
  });
  afterAll(() => proxy.stop());

  it.each([
    [
      'ProvisionedThroughputExceededException',
      ProvisionedThroughputExceededException,
      'ProvisionedThroughputExceededException',
      400,
    ],
    ['ThrottlingException', DynamoDBServiceException, 'ThrottlingException', 400],
    ['InternalFailure', InternalServerError, 'InternalServerError', 500],
  ] as const)(
    'answers %s in the awsJson1_0 shape, which the SDK reads as %s',
    async (fault, errorClass, name, status) => {
      const client = singleShotDynamoDB(proxy.endpoint);
      try {
        proxy.configure({ rules: [{ fault, rate: 1, service: 'dynamodb' }] });
        const error = await client.send(new ListTablesCommand({})).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(errorClass);
        expect(error).toMatchObject({ name });
        expect((error as DynamoDBServiceException).$metadata.httpStatusCode).toBe(status);
      } finally {
        client.destroy();
      }
    },
  );

  it('delays calls by the configured latency and leaves Kinesis-only rules out', async () => {
    const client = singleShotDynamoDB(proxy.endpoint);
    try {
      proxy.configure({
        rules: [
          { fault: 'InternalFailure', rate: 1, service: 'kinesis' },
          { fault: 'latency', rate: 1, latencyMs: 150, service: 'dynamodb' },
        ],
      });
      const started = performance.now();
      await expect(client.send(new ListTablesCommand({}))).resolves.toHaveProperty('TableNames');
      expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    } finally {
      client.destroy();
    }
  });
});
