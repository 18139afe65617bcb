export * from './defaults.js';
export * from './errors.js';
export type { MetricsGranularity, MetricsLevel, ProducerCredentials, ProducerOptions } from './options.js';
export type { UserRecordInput } from './user-record.js';
export type { Attempt, UserRecordResult } from './user-record-result.js';
