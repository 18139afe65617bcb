export {
  type AwsService,
  INJECTED_ERROR_CODES,
  type InjectedErrorCode,
} from './aws-error-response.js';
export {
  type FaultProxy,
  type FaultProxyConfig,
  type FaultProxyOptions,
  type PutRecordsEntryErrorCode,
  startFaultProxy,
} from './fault-proxy.js';
export { FAULT_KINDS, type FaultKind, type FaultRule } from './fault-rule.js';
export type { FaultProxyStats } from './fault-stats.js';
export { type RandomSource, seededRandom } from './seeded-random.js';
export type { ShardLimitsOptions } from './shard-limits.js';
