import { silentLogger } from '../../src/logger.js';
import type { KinesisConsumerOptions } from '../../src/options.js';

/**
 * Timers small enough for tests, large enough for two cores under load. Its own module, free of vitest, so
 * the child worker processes can use it too.
 */
export const FAST: Partial<KinesisConsumerOptions> = {
  failoverTimeMillis: 1_500,
  idleTimeBetweenReadsInMillis: 200,
  shardSyncIntervalMillis: 1_000,
  parentShardPollIntervalMillis: 200,
  leaseCleanupIntervalMillis: 500,
  taskBackoffTimeMillis: 50,
  logger: silentLogger,
  metricsLevel: 'NONE',
};
