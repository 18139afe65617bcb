import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import type { EmulatorServer } from './emulator-server.js';
import { startKinesalite } from './kinesalite-server.js';
import { startLocalStack } from './local-stack.js';

declare module 'vitest' {
  /** What the global setup hands every test file through `inject(...)`. */
  export interface ProvidedContext {
    /** kinesis-mock: the faithful emulator (ChildShards, ListShards paging, UpdateShardCount). */
    kinesisEndpoint: string;
    /** kinesalite: the fast emulator with fewer APIs. */
    kinesaliteEndpoint: string;
    /** dynalite. */
    dynamoDBEndpoint: string;
    region: string;
  }
}

/**
 * Vitest global setup: one local stack (kinesis-mock + dynalite) and one kinesalite for the whole run,
 * stopped when the run ends, whatever the outcome. Tests read the endpoints with `inject('kinesisEndpoint')`
 * and use fresh stream and table names (see `uniqueName`).
 *
 * Use it from your own `vitest.config.ts`: `globalSetup: ['@kinesis-kit/local-stack/vitest-global-setup']`.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await startLocalStack();
  let kinesalite: EmulatorServer;
  try {
    kinesalite = await startKinesalite();
  } catch (error) {
    await stack.stop();
    throw error;
  }
  project.provide('kinesisEndpoint', stack.kinesisEndpoint);
  project.provide('kinesaliteEndpoint', kinesalite.endpoint);
  project.provide('dynamoDBEndpoint', stack.dynamoDBEndpoint);
  project.provide('region', stack.region);
  return async () => {
    await Promise.all([stack.stop(), kinesalite.stop()]);
  };
}
