import { EXPIRED, RecordExpiredError, UserRecordFailedError } from './errors.js';
import type { ProducerEventEmitter, Stats } from './events.js';
import { StatsBuilder } from './events.js';
import type { OutgoingRecord } from './outgoing-record.js';
import type { Outstanding } from './outstanding.js';
import type { ProducerTime } from './producer-time.js';
import { rejectRecord, type UserRecord } from './user-record.js';
import type { Attempt, UserRecordResult } from './user-record-result.js';

/**
 * The one place a stream's user records settle: it resolves or rejects each caller's promise exactly once,
 * releases the record's room in the memory bound, keeps the stream's count of unsettled records, and emits
 * the events metrics are made of (`producer.record.put`, `producer.record.failed`).
 */
export class Settlement {
  readonly #streamName: string;
  readonly #events: ProducerEventEmitter;
  readonly #outstanding: Outstanding;
  #pending = 0;

  constructor(streamName: string, events: ProducerEventEmitter, outstanding: Outstanding) {
    this.#streamName = streamName;
    this.#events = events;
    this.#outstanding = outstanding;
  }

  /** User records of the stream accepted and not yet settled. */
  get pending(): number {
    return this.#pending;
  }

  /** A user record was accepted; it settles later through {@link succeed} or {@link fail}. */
  accepted(): void {
    this.#pending++;
  }

  /**
   * The Kinesis record `out` was written to `shardId` and that shard owns its user records: resolves every
   * user record of it not settled already.
   */
  succeed(out: OutgoingRecord, shardId: string, sequenceNumber: string, start: ProducerTime, end: ProducerTime): void {
    const outstanding = this.#outstanding;
    const events = this.#events;
    const wantStats = events.hasListeners('producer.record.put');
    const retries = wantStats ? new StatsBuilder() : undefined;
    const buffering = wantStats ? new StatsBuilder() : undefined;
    const records = out.records;
    const durationMs = end - start;
    const aggregated = out.aggregated;
    // Records settled already (expired or failed while this aggregate was in flight); rare.
    let skipped: number[] | undefined;
    // Records of one aggregate mostly arrived in the same millisecond: share their (frozen) first and only
    // attempt instead of allocating it per record. For speed: ~9 % of the pipeline bench (bench/pipeline-ab.ts
    // allocating per record, 2026-12-04: 0.92 of the rate, median of 4 × 40 pairs, noise ±4 %).
    let sharedDelay = -1;
    let sharedAttempts: readonly Attempt[] = [];
    // Accounted for once per aggregate rather than per record: this loop is the hot half of the pipeline.
    // (Not measured on its own: one call per aggregate instead of per record costs nothing in clarity.)
    let settledCount = 0;
    let settledBytes = 0;
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      if (record === undefined || record.settled) {
        if (skipped === undefined) skipped = [i];
        else skipped.push(i);
        continue;
      }
      settledCount++;
      settledBytes += record.size;
      const history = record.history;
      const delayMs = start - record.lastAttemptEnd;
      let attempts: readonly Attempt[];
      if (history === undefined) {
        if (delayMs !== sharedDelay) {
          sharedDelay = delayMs;
          sharedAttempts = Object.freeze([Object.freeze({ delayMs, durationMs, successful: true })]);
        }
        attempts = sharedAttempts;
        if (retries !== undefined && buffering !== undefined) {
          retries.add(0);
          buffering.add(delayMs);
        }
      } else {
        const previous = history.attempts;
        attempts = [...previous, { delayMs, durationMs, successful: true }];
        if (retries !== undefined && buffering !== undefined) {
          retries.add(previous.length);
          for (const a of previous) buffering.add(a.delayMs);
          buffering.add(delayMs);
        }
      }
      record.settle({ successful: true, shardId, sequenceNumber, subSequenceNumber: aggregated ? i : 0, attempts });
    }
    if (settledCount > 0) {
      this.#pending -= settledCount;
      outstanding.released(settledCount, settledBytes);
    }
    if (retries !== undefined && buffering !== undefined) {
      events.emit('producer.record.put', {
        streamName: this.#streamName,
        shardId,
        predictedShardId: out.predictedShardId,
        sequenceNumber,
        bytes: out.size,
        userRecords: records.length,
        userDataBytes: userDataStats(out, skipped),
        retries: retries.build(),
        bufferingTimeMs: buffering.build(),
      });
    }
  }

  /**
   * An attempt of `out` failed (`final`: and its records are failed next); an event for the metrics.
   * `callFailed`: because the whole call failed, an error the call's `producer.request` event counts once.
   */
  attemptFailed(
    out: OutgoingRecord,
    errorCode: string,
    errorMessage: string | undefined,
    final: boolean,
    shardId: string | undefined,
    callFailed = false,
  ): void {
    this.#events.emit('producer.record.failed', {
      streamName: this.#streamName,
      shardId,
      errorCode,
      errorMessage,
      userRecords: out.records.length,
      attempt: true,
      final,
      ...(callFailed ? { callFailed } : {}),
    });
  }

  /** Fails every user record of `out` for good. */
  failAll(
    out: OutgoingRecord,
    code: string,
    message: string | undefined,
    start: ProducerTime,
    end: ProducerTime,
  ): void {
    for (const record of out.records) this.fail(record, out.predictedShardId, code, message, start, end);
  }

  /**
   * Fails one user record for good after a last attempt from `start` to `end`; `shardId` is the shard it was
   * meant for, when known (for the error and the event).
   */
  fail(
    record: UserRecord,
    shardId: string | undefined,
    code: string,
    message: string | undefined,
    start: ProducerTime,
    end: ProducerTime,
  ): void {
    if (record.settled) return;
    record.addFailedAttempt(start, end, code, message);
    const attempts = record.failedAttempts ?? [];
    const result: UserRecordResult = {
      successful: false,
      shardId: undefined,
      sequenceNumber: undefined,
      subSequenceNumber: undefined,
      attempts,
    };
    const error =
      code === EXPIRED
        ? new RecordExpiredError(result, { streamName: this.#streamName, shardId })
        : new UserRecordFailedError(result, { streamName: this.#streamName, shardId });
    // Settled before anything else runs, so a listener of the event below cannot fail it a second time.
    rejectRecord(record, error);
    this.#pending--;
    this.#outstanding.released(1, record.size);
    const events = this.#events;
    if (events.hasListeners('producer.record.failed')) {
      const buffering = new StatsBuilder();
      for (const a of attempts) buffering.add(a.delayMs);
      events.emit('producer.record.failed', {
        streamName: this.#streamName,
        shardId,
        errorCode: code,
        errorMessage: message,
        userRecords: 1,
        attempt: false,
        final: true,
        bufferingTimeMs: buffering.build(),
        retries: { count: 1, sum: attempts.length - 1, min: attempts.length - 1, max: attempts.length - 1 },
      });
    }
  }
}

/**
 * Data bytes of the user records of `out` that were put now: the aggregate's own figures, gathered while its
 * records were added (reading each record's data again here would touch memory long gone from the cache),
 * unless some records had settled before.
 */
function userDataStats(out: OutgoingRecord, skipped: readonly number[] | undefined): Stats {
  if (skipped === undefined) {
    return out.records.length === 0
      ? { count: 0, sum: 0, min: 0, max: 0 }
      : { count: out.records.length, sum: out.userDataBytes, min: out.userDataMinBytes, max: out.userDataMaxBytes };
  }
  const stats = new StatsBuilder();
  for (const [i, record] of out.records.entries()) if (!skipped.includes(i)) stats.add(record.dataLength);
  return stats.build();
}
