import type { MetricsGranularity, MetricsLevel } from '../options.js';

/** CloudWatch units the producer's metrics use. */
export type MetricUnit = 'Count' | 'Bytes' | 'Milliseconds';

/** One of the KPL's metrics: its unit, the level that uploads it, and the finest dimension it has. */
export interface MetricDefinition {
  readonly unit: MetricUnit;
  readonly level: Exclude<MetricsLevel, 'none'>;
  readonly finest: MetricsGranularity;
}

/** The KPL's metrics, under its names, units, levels and finest dimensions (KPL `metrics_constants`). */
export const METRICS = {
  UserRecordsReceived: { unit: 'Count', level: 'detailed', finest: 'stream' },
  UserRecordsPending: { unit: 'Count', level: 'detailed', finest: 'stream' },
  UserRecordsPut: { unit: 'Count', level: 'summary', finest: 'shard' },
  UserRecordsDataPut: { unit: 'Bytes', level: 'detailed', finest: 'shard' },
  UserRecordExpired: { unit: 'Count', level: 'summary', finest: 'shard' },
  KinesisRecordsPut: { unit: 'Count', level: 'summary', finest: 'shard' },
  KinesisRecordsDataPut: { unit: 'Bytes', level: 'detailed', finest: 'shard' },
  ErrorsByCode: { unit: 'Count', level: 'summary', finest: 'shard' },
  AllErrors: { unit: 'Count', level: 'summary', finest: 'shard' },
  RetriesPerRecord: { unit: 'Count', level: 'detailed', finest: 'shard' },
  BufferingTime: { unit: 'Milliseconds', level: 'summary', finest: 'shard' },
  RequestTime: { unit: 'Milliseconds', level: 'detailed', finest: 'stream' },
  UserRecordsPerKinesisRecord: { unit: 'Count', level: 'detailed', finest: 'shard' },
  KinesisRecordsPerPutRecordsRequest: { unit: 'Count', level: 'detailed', finest: 'stream' },
  UserRecordsPerPutRecordsRequest: { unit: 'Count', level: 'detailed', finest: 'stream' },
} as const satisfies Record<string, MetricDefinition>;

/** The name of one of the producer's metrics. */
export type MetricName = keyof typeof METRICS;

const LEVEL_RANK: Readonly<Record<MetricsLevel, number>> = { none: 0, summary: 1, detailed: 2 };
const GRANULARITY_RANK: Readonly<Record<MetricsGranularity, number>> = { global: 0, stream: 1, shard: 2 };

/** Whether a metric of `level` at `granularity` is uploaded under the given settings (the KPL's filter). */
export function isUploaded(
  level: Exclude<MetricsLevel, 'none'>,
  granularity: MetricsGranularity,
  metricsLevel: MetricsLevel,
  metricsGranularity: MetricsGranularity,
): boolean {
  return (
    metricsLevel !== 'none' &&
    LEVEL_RANK[level] <= LEVEL_RANK[metricsLevel] &&
    GRANULARITY_RANK[granularity] <= GRANULARITY_RANK[metricsGranularity]
  );
}
