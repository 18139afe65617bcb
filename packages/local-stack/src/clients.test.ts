import { describe, expect, it } from 'vitest';
import { createDynamoDBClient, createKinesisClient } from './clients.js';

describe('local clients', () => {
  it('make one attempt per call when told, and the SDK default otherwise', async () => {
    const endpoint = 'http://127.0.0.1:9';
    const single = createKinesisClient({ endpoint, maxAttempts: 1 });
    const standard = createKinesisClient({ endpoint });
    const dynamo = createDynamoDBClient({ endpoint, maxAttempts: 2 });
    try {
      expect(await single.config.maxAttempts()).toBe(1);
      expect(await standard.config.maxAttempts()).toBe(3);
      expect(await dynamo.config.maxAttempts()).toBe(2);
      expect(await single.config.region()).toBe('us-east-1');
    } finally {
      for (const client of [single, standard, dynamo]) client.destroy();
    }
  });
});
