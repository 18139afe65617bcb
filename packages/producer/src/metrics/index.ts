export { CloudWatchPublisher, MAX_DATUMS_PER_PUT_METRIC_DATA } from './cloudwatch-publisher.js';
export { isUploaded, METRICS, type MetricDefinition, type MetricName, type MetricUnit } from './metric-definitions.js';
export { type MetricDimensions, type MetricSeries, MetricsAccumulator } from './metrics-accumulator.js';
export { MetricsRecorder, type ProducerMetricsSnapshot } from './metrics-recorder.js';
