import { type CloudWatchClient, type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { type Clock, callWithTimeout, retry } from '@kinesis-kit/core';
import { DEFAULT_REQUEST_TIMEOUT, METRICS_SAMPLE_INTERVAL } from '../defaults.js';
import type { ProducerEventEmitter } from '../events.js';
import type { MetricsGranularity, MetricsLevel } from '../options.js';
import { isUploaded, METRICS } from './metric-definitions.js';
import type { MetricsAccumulator } from './metrics-accumulator.js';
import type { MetricsRecorder } from './metrics-recorder.js';

/** Most datums in one PutMetricData call (the API's limit). */
export const MAX_DATUMS_PER_PUT_METRIC_DATA = 1000;

/** Attempts of one PutMetricData call before its figures wait for the next upload. */
const UPLOAD_ATTEMPTS = 3;

/** The one method the publisher needs; a `CloudWatchClient` satisfies it. */
export interface MetricsCloudWatchClient {
  send(command: PutMetricDataCommand, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/** Options of a {@link CloudWatchPublisher}. */
export interface CloudWatchPublisherOptions {
  readonly client: MetricsCloudWatchClient | CloudWatchClient;
  readonly recorder: MetricsRecorder;
  readonly events: ProducerEventEmitter;
  readonly clock: Clock;
  readonly namespace: string;
  readonly level: MetricsLevel;
  readonly granularity: MetricsGranularity;
  /** Time between uploads in ms (KPL `MetricsUploadDelay`). */
  readonly uploadDelay: number;
  /** Longest one PutMetricData call may take, in ms. @defaultValue {@link DEFAULT_REQUEST_TIMEOUT} */
  readonly requestTimeout?: number;
  /** Samples gauges (`UserRecordsPending`) into the recorder; called every `sampleInterval` ms. */
  readonly sample?: () => void;
  /** Time between samples in ms. @defaultValue {@link METRICS_SAMPLE_INTERVAL} */
  readonly sampleInterval?: number;
}

/**
 * Uploads the recorder's figures to CloudWatch every `uploadDelay` ms as `StatisticValues` (count, sum,
 * min, max per series), in calls of at most 1,000 datums. A failed call is retried with backoff; if it
 * still fails, its figures are merged into the next upload. Nothing here can affect a record.
 */
export class CloudWatchPublisher {
  readonly #options: CloudWatchPublisherOptions;
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;

  constructor(options: CloudWatchPublisherOptions) {
    this.#options = options;
  }

  /** Starts the upload loop and the sampling of gauges. */
  start(): void {
    this.#running ??= Promise.all([this.#uploadLoop(), this.#sampleLoop()]).then(() => {});
  }

  /** Stops the loops, then makes one last upload of what is left. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
    await this.upload();
  }

  async #uploadLoop(): Promise<void> {
    const { clock, uploadDelay } = this.#options;
    for (;;) {
      try {
        await clock.sleep(uploadDelay, this.#stop.signal);
      } catch {
        return;
      }
      await this.upload();
    }
  }

  async #sampleLoop(): Promise<void> {
    const { clock, sample, sampleInterval = METRICS_SAMPLE_INTERVAL } = this.#options;
    if (sample === undefined) return;
    for (;;) {
      try {
        await clock.sleep(sampleInterval, this.#stop.signal);
      } catch {
        return;
      }
      try {
        sample();
      } catch (error) {
        this.#options.events.emit('producer.error', {
          error: error instanceof Error ? error : new Error(String(error)),
          operation: 'metrics sample',
        });
      }
    }
  }

  /** Uploads what was recorded since the previous upload. Never throws. */
  async upload(): Promise<void> {
    const { recorder, clock } = this.#options;
    const window = recorder.takeWindow();
    const datums = this.#datums(window, new Date(clock.now()));
    for (let i = 0; i < datums.length; i += MAX_DATUMS_PER_PUT_METRIC_DATA) {
      const batch = datums.slice(i, i + MAX_DATUMS_PER_PUT_METRIC_DATA);
      try {
        await retry(
          ({ signal }) =>
            callWithTimeout(
              (abortSignal) =>
                this.#options.client.send(
                  new PutMetricDataCommand({ Namespace: this.#options.namespace, MetricData: batch }),
                  { abortSignal },
                ),
              {
                operation: 'PutMetricData',
                timeoutMs: this.#options.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT,
                clock,
                signal,
              },
            ),
          { maxAttempts: UPLOAD_ATTEMPTS, clock, signal: this.#stop.signal.aborted ? undefined : this.#stop.signal },
        );
      } catch (error) {
        this.#options.events.emit('producer.error', {
          error: error instanceof Error ? error : new Error(String(error)),
          operation: 'PutMetricData',
        });
        // The batches already sent must not be sent twice: keep only the series not uploaded yet.
        recorder.restoreWindow(this.#remainder(window, datums.slice(i)));
        return;
      }
    }
  }

  #datums(window: MetricsAccumulator, timestamp: Date): MetricDatum[] {
    const { level, granularity } = this.#options;
    const datums: MetricDatum[] = [];
    for (const series of window.series()) {
      if (series.count === 0) continue;
      if (!isUploaded(METRICS[series.name].level, series.granularity, level, granularity)) continue;
      const dimensions = [];
      if (series.dimensions.ErrorCode !== undefined)
        dimensions.push({ Name: 'ErrorCode', Value: series.dimensions.ErrorCode });
      if (series.dimensions.StreamName !== undefined)
        dimensions.push({ Name: 'StreamName', Value: series.dimensions.StreamName });
      if (series.dimensions.ShardId !== undefined)
        dimensions.push({ Name: 'ShardId', Value: series.dimensions.ShardId });
      datums.push({
        MetricName: series.name,
        Dimensions: dimensions,
        StatisticValues: { SampleCount: series.count, Sum: series.sum, Minimum: series.min, Maximum: series.max },
        Unit: series.unit,
        Timestamp: timestamp,
      });
    }
    return datums;
  }

  /** A window holding only the series of the datums not uploaded. */
  #remainder(window: MetricsAccumulator, notUploaded: readonly MetricDatum[]): MetricsAccumulator {
    const keep = new Set(notUploaded.map((d) => datumKey(d.MetricName, d.Dimensions)));
    return window.filter((series) => {
      const dims = [];
      if (series.dimensions.ErrorCode !== undefined)
        dims.push({ Name: 'ErrorCode', Value: series.dimensions.ErrorCode });
      if (series.dimensions.StreamName !== undefined)
        dims.push({ Name: 'StreamName', Value: series.dimensions.StreamName });
      if (series.dimensions.ShardId !== undefined) dims.push({ Name: 'ShardId', Value: series.dimensions.ShardId });
      // Series not uploadable under the settings are dropped either way.
      return keep.has(datumKey(series.name, dims));
    });
  }
}

function datumKey(
  name: string | undefined,
  dimensions: readonly { Name?: string; Value?: string }[] | undefined,
): string {
  return `${name ?? ''}|${(dimensions ?? []).map((d) => `${d.Name}=${d.Value}`).join(',')}`;
}
