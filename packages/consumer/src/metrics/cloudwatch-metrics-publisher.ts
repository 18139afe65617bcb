import {
  type CloudWatchClient,
  type MetricDatum as CloudWatchDatum,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import { type Clock, callWithTimeout, type EventEnvelope } from '@kinesis-kit/core';
import type { ConsumerEvents } from '../events.js';
import type { MetricsLevel } from '../options.js';
import { isPublished, type MetricDatum, toKclMetrics } from './kcl-metrics.js';

/** Options of a {@link CloudWatchMetricsPublisher}. */
export interface CloudWatchMetricsPublisherOptions {
  readonly client: Pick<CloudWatchClient, 'send'>;
  readonly namespace: string;
  readonly level: MetricsLevel;
  readonly workerIdentifier: string;
  readonly clock: Clock;
  /** How long values are aggregated before they are sent. @defaultValue 10 000 (the KCL's `metricsBufferTimeMillis`) */
  readonly bufferTimeMillis?: number;
  /** Told about a failed PutMetricData; metrics never stop the consumer. */
  readonly onError: (error: unknown) => void;
}

/** Data points per PutMetricData call (the KCL's batch size). */
export const METRICS_BATCH_SIZE = 20;

/** Longest one PutMetricData call may take (the KCL's 5 s put timeout). */
export const PUT_METRIC_DATA_TIMEOUT_MILLIS = 5_000;

interface Aggregate {
  readonly datum: MetricDatum;
  count: number;
  sum: number;
  min: number;
  max: number;
}

/**
 * Publishes the KCL's metrics to CloudWatch from the consumer's events: values with the same name, unit and
 * dimensions are aggregated into statistic sets for `bufferTimeMillis`, then sent in batches of 20.
 */
export class CloudWatchMetricsPublisher {
  readonly #o: CloudWatchMetricsPublisherOptions;
  #buffer = new Map<string, Aggregate>();
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(options: CloudWatchMetricsPublisherOptions) {
    this.#o = options;
  }

  /** The listener to pass to `consumer.onAny`. */
  readonly listener = (event: EventEnvelope<ConsumerEvents>): void => {
    if (this.#o.level === 'NONE') return;
    for (const datum of toKclMetrics(event, this.#o.workerIdentifier)) {
      if (!isPublished(datum.level, this.#o.level)) continue;
      const key = `${datum.name}|${datum.unit}|${Object.entries(datum.dimensions).sort().join(',')}`;
      const current = this.#buffer.get(key);
      if (current === undefined) {
        this.#buffer.set(key, { datum, count: 1, sum: datum.value, min: datum.value, max: datum.value });
      } else {
        current.count++;
        current.sum += datum.value;
        current.min = Math.min(current.min, datum.value);
        current.max = Math.max(current.max, datum.value);
      }
    }
  };

  /** How many distinct metrics are waiting to be sent. */
  get pending(): number {
    return this.#buffer.size;
  }

  /** Starts the flush timer. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Sends everything buffered now. Never rejects: failures go to `onError`. */
  async flush(): Promise<void> {
    const aggregates = [...this.#buffer.values()];
    this.#buffer = new Map();
    const timestamp = new Date(this.#o.clock.now());
    const data: CloudWatchDatum[] = aggregates.map((a) => ({
      MetricName: a.datum.name,
      Unit: a.datum.unit,
      Timestamp: timestamp,
      Dimensions: Object.entries(a.datum.dimensions).map(([Name, Value]) => ({ Name, Value })),
      StatisticValues: { SampleCount: a.count, Sum: a.sum, Minimum: a.min, Maximum: a.max },
    }));
    for (let i = 0; i < data.length; i += METRICS_BATCH_SIZE) {
      try {
        const command = new PutMetricDataCommand({
          Namespace: this.#o.namespace,
          MetricData: data.slice(i, i + METRICS_BATCH_SIZE),
        });
        // The KCL gives a put 5 s; a hung one must not hold back the next flush or shutdown.
        await callWithTimeout((abortSignal) => this.#o.client.send(command, { abortSignal }), {
          operation: 'PutMetricData',
          timeoutMs: PUT_METRIC_DATA_TIMEOUT_MILLIS,
          clock: this.#o.clock,
        });
      } catch (error) {
        this.#o.onError(error);
      }
    }
  }

  /** Stops the timer and sends what is left. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    await this.flush();
  }

  async #run(): Promise<void> {
    const interval = this.#o.bufferTimeMillis ?? 10_000;
    for (;;) {
      try {
        await this.#o.clock.sleep(interval, this.#stop.signal);
      } catch {
        return;
      }
      await this.flush();
    }
  }
}
