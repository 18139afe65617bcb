import type { Stats } from '../events.js';
import type { MetricsGranularity } from '../options.js';
import { METRICS, type MetricName, type MetricUnit } from './metric-definitions.js';

/** The dimensions of one metric series, coarsest first. */
export interface MetricDimensions {
  readonly ErrorCode?: string;
  readonly StreamName?: string;
  readonly ShardId?: string;
}

/** One metric series and its figures over a period. */
export interface MetricSeries {
  readonly name: MetricName;
  readonly unit: MetricUnit;
  readonly dimensions: MetricDimensions;
  readonly granularity: MetricsGranularity;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
}

interface Entry {
  name: MetricName;
  dimensions: MetricDimensions;
  count: number;
  sum: number;
  min: number;
  max: number;
}

/**
 * Count, sum, min and max per metric series. A value put at the shard level is also put at the stream
 * and global levels (and with an error code, at every level with it), as the KPL's metric tree does, so a
 * CloudWatch dashboard can pick its granularity.
 */
export class MetricsAccumulator {
  /** Every entry by its full key, in insertion order (what {@link series} lists and {@link merge} matches). */
  #entries = new Map<string, Entry>();
  /** The same entries by error code, stream, shard and name: the hot path's index. */
  #byDimensions = new Map<
    string | undefined,
    Map<string | undefined, Map<string | undefined, Map<MetricName, Entry>>>
  >();

  get size(): number {
    return this.#entries.size;
  }

  /** Adds `stats` to the series of `name` for the shard, its stream and the whole producer. */
  put(name: MetricName, stats: Stats, streamName?: string, shardId?: string, errorCode?: string): void {
    if (stats.count === 0) return;
    const finest = METRICS[name].finest;
    this.#add(name, stats, errorCode, undefined, undefined);
    if (streamName === undefined) return;
    this.#add(name, stats, errorCode, streamName, undefined);
    if (shardId === undefined || finest !== 'shard') return;
    this.#add(name, stats, errorCode, streamName, shardId);
  }

  /** Adds one value. */
  putValue(name: MetricName, value: number, streamName?: string, shardId?: string, errorCode?: string): void {
    this.put(name, { count: 1, sum: value, min: value, max: value }, streamName, shardId, errorCode);
  }

  /** Every series, in a stable order. */
  series(): MetricSeries[] {
    const out: MetricSeries[] = [];
    for (const entry of this.#entries.values()) {
      const { dimensions } = entry;
      out.push({
        name: entry.name,
        unit: METRICS[entry.name].unit,
        dimensions,
        granularity:
          dimensions.ShardId !== undefined ? 'shard' : dimensions.StreamName !== undefined ? 'stream' : 'global',
        count: entry.count,
        sum: entry.sum,
        min: entry.min,
        max: entry.max,
      });
    }
    return out;
  }

  /** Adds every series of `other` into this one. */
  merge(other: MetricsAccumulator): void {
    for (const [key, entry] of other.#entries) {
      const mine = this.#entries.get(key);
      if (mine === undefined) this.#insert(key, { ...entry });
      else combine(mine, entry);
    }
  }

  /** A new accumulator with only the series `keep` accepts. */
  filter(keep: (series: MetricSeries) => boolean): MetricsAccumulator {
    const out = new MetricsAccumulator();
    const all = this.series();
    let i = 0;
    for (const [key, entry] of this.#entries) {
      const series = all[i++];
      if (series !== undefined && keep(series)) out.#insert(key, { ...entry });
    }
    return out;
  }

  clear(): void {
    this.#entries = new Map();
    this.#byDimensions = new Map();
  }

  #add(
    name: MetricName,
    stats: Stats,
    errorCode: string | undefined,
    streamName: string | undefined,
    shardId: string | undefined,
  ): void {
    // Nested maps on the dimension values as given: looking up strings that already exist allocates nothing,
    // where a composite key string would be built for every put (several per aggregate).
    const byName = this.#series(errorCode, streamName, shardId);
    const entry = byName.get(name);
    if (entry === undefined) {
      const dimensions: { ErrorCode?: string; StreamName?: string; ShardId?: string } = {};
      if (errorCode !== undefined) dimensions.ErrorCode = errorCode;
      if (streamName !== undefined) dimensions.StreamName = streamName;
      if (shardId !== undefined) dimensions.ShardId = shardId;
      const created: Entry = {
        name,
        dimensions: Object.freeze(dimensions),
        count: stats.count,
        sum: stats.sum,
        min: stats.min,
        max: stats.max,
      };
      this.#insert(entryKey(name, errorCode, streamName, shardId), created);
    } else {
      combine(entry, stats);
    }
  }

  #insert(key: string, entry: Entry): void {
    this.#entries.set(key, entry);
    const { ErrorCode, StreamName, ShardId } = entry.dimensions;
    this.#series(ErrorCode, StreamName, ShardId).set(entry.name, entry);
  }

  /** The series of one set of dimensions, by metric name. */
  #series(
    errorCode: string | undefined,
    streamName: string | undefined,
    shardId: string | undefined,
  ): Map<MetricName, Entry> {
    let byStream = this.#byDimensions.get(errorCode);
    if (byStream === undefined) {
      byStream = new Map();
      this.#byDimensions.set(errorCode, byStream);
    }
    let byShard = byStream.get(streamName);
    if (byShard === undefined) {
      byShard = new Map();
      byStream.set(streamName, byShard);
    }
    let byName = byShard.get(shardId);
    if (byName === undefined) {
      byName = new Map();
      byShard.set(shardId, byName);
    }
    return byName;
  }
}

function entryKey(
  name: MetricName,
  errorCode: string | undefined,
  streamName: string | undefined,
  shardId: string | undefined,
): string {
  return `${name}\u0000${errorCode ?? ''}\u0000${streamName ?? ''}\u0000${shardId ?? ''}`;
}

function combine(entry: Entry, stats: Stats): void {
  entry.count += stats.count;
  entry.sum += stats.sum;
  if (stats.min < entry.min) entry.min = stats.min;
  if (stats.max > entry.max) entry.max = stats.max;
}
