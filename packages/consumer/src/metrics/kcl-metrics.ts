import type { EventEnvelope } from '@kinesis-kit/core';
import type { ConsumerEvents } from '../events.js';
import type { MetricsLevel } from '../options.js';

/** CloudWatch units the KCL's metrics use. */
export type MetricUnit = 'Count' | 'Milliseconds' | 'Bytes';

/** One KCL-style metric value, before aggregation. */
export interface MetricDatum {
  readonly name: string;
  readonly unit: MetricUnit;
  readonly value: number;
  /** Always `Operation`; `ShardId` for per-shard operations, `WorkerIdentifier` for lease operations. */
  readonly dimensions: Readonly<Record<string, string>>;
  /** The least detailed level that publishes it. */
  readonly level: Exclude<MetricsLevel, 'NONE'>;
}

const RANK: Readonly<Record<MetricsLevel, number>> = { DETAILED: 0, SUMMARY: 1, NONE: 2 };

/** Whether a datum of `datumLevel` is published under the configured `level` (the KCL's rule). */
export function isPublished(datumLevel: MetricDatum['level'], level: MetricsLevel): boolean {
  return level !== 'NONE' && RANK[datumLevel] >= RANK[level];
}

/**
 * Maps one consumer event to the KCL's CloudWatch metrics (names, units, dimensions and levels of the Java
 * KCL 2.x where it has them). Pure; a Prometheus or OpenTelemetry bridge can use it too.
 */
export function toKclMetrics(event: EventEnvelope<ConsumerEvents>, workerIdentifier: string): MetricDatum[] {
  const shard = (operation: string, shardId: string) => ({ Operation: operation, ShardId: shardId });
  const worker = (operation: string) => ({ Operation: operation, WorkerIdentifier: workerIdentifier });
  const d = (
    name: string,
    unit: MetricUnit,
    value: number,
    dimensions: Record<string, string>,
    level: MetricDatum['level'] = 'SUMMARY',
  ): MetricDatum => ({ name, unit, value, dimensions, level });
  switch (event.type) {
    case 'records.processed': {
      const p = event.payload;
      const dims = shard('ProcessTask', p.shardId);
      // Unknown lag is left out rather than sent as 0, which would read as "caught up".
      const lag = p.millisBehindLatest;
      return [
        d('RecordsProcessed', 'Count', p.records, dims),
        d('DataBytesProcessed', 'Bytes', p.bytes, dims),
        ...(lag === undefined ? [] : [d('MillisBehindLatest', 'Milliseconds', lag, dims)]),
        d('RecordProcessor.processRecords.Time', 'Milliseconds', p.durationMs, dims),
        d('Success', 'Count', p.success ? 1 : 0, dims),
        // Per worker, no ShardId: the statistic set's Maximum is the most lagging shard.
        ...(lag === undefined
          ? []
          : [d('MillisBehindLatest', 'Milliseconds', lag, { Operation: 'ApplicationTracker' })]),
      ];
    }
    case 'records.fetched': {
      const p = event.payload;
      const dims = shard('ProcessTask', p.shardId);
      return [
        d('KinesisDataFetcher.getRecords.Success', 'Count', 1, dims, 'DETAILED'),
        d('KinesisDataFetcher.getRecords.Time', 'Milliseconds', p.durationMs, dims, 'DETAILED'),
      ];
    }
    case 'records.iteratorExpired':
      return [d('ExpiredIterator', 'Count', 1, shard('ProcessTask', event.payload.shardId))];
    case 'records.throttled':
      return [d('KinesisDataFetcher.getRecords.Throttled', 'Count', 1, shard('ProcessTask', event.payload.shardId))];
    case 'records.aggregateDropped':
      return [d('DroppedAggregatedRecords', 'Count', 1, shard('ProcessTask', event.payload.shardId))];
    case 'processor.error':
      return [
        d(`RecordProcessor.${event.payload.method}.Failure`, 'Count', 1, shard('ProcessTask', event.payload.shardId)),
      ];
    case 'checkpoint.written': {
      const dims = shard('ProcessTask', event.payload.shardId);
      return [
        d('UpdateLease.Success', 'Count', 1, dims, 'DETAILED'),
        d('UpdateLease.Time', 'Milliseconds', event.payload.durationMs, dims, 'DETAILED'),
      ];
    }
    case 'shard.initialized':
      return [
        d(
          'RecordProcessor.initialize.Time',
          'Milliseconds',
          event.payload.durationMs,
          shard('InitializeTask', event.payload.shardId),
        ),
      ];
    case 'shard.endNotCheckpointed':
      return [d('ShardEndNotCheckpointed', 'Count', 1, shard('ShutdownTask', event.payload.shardId))];
    case 'lease.renewal': {
      const p = event.payload;
      const dims = worker('RenewAllLeases');
      return [
        d('CurrentLeases', 'Count', p.currentLeases, dims),
        d('LostLeases', 'Count', p.lostLeases, dims),
        d('Success', 'Count', p.success ? 1 : 0, dims),
        d('Time', 'Milliseconds', p.durationMs, dims),
      ];
    }
    case 'lease.taking': {
      const p = event.payload;
      const dims = worker('TakeLeases');
      return [
        d('TakenLeases', 'Count', p.takenLeases, dims),
        d('UntakenLeases', 'Count', p.untakenLeases, dims),
        d('ExpiredLeases', 'Count', p.expiredLeases, dims),
        d('VeryOldLeases', 'Count', p.veryOldLeases, dims),
        d('LeaseSpillover', 'Count', p.leaseSpillover, dims),
        d('NumWorkers', 'Count', p.numWorkers, dims),
        d('TotalLeases', 'Count', p.totalLeases, dims, 'DETAILED'),
        d('Success', 'Count', p.success ? 1 : 0, dims),
        d('Time', 'Milliseconds', p.durationMs, dims),
      ];
    }
    case 'shardSync.completed': {
      const p = event.payload;
      const dims = { Operation: 'ShardSyncTask' };
      return [
        d('SyncShards.Success', 'Count', p.success ? 1 : 0, dims, 'DETAILED'),
        d('CreateLease.Success', 'Count', p.leasesCreated, dims, 'DETAILED'),
        d('Time', 'Milliseconds', p.durationMs, dims),
      ];
    }
    default:
      return [];
  }
}
