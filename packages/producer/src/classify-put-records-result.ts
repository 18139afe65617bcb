import {
  classifyError,
  type ErrorClass,
  KinesisKitError,
  MAX_RECORD_SIZE_BYTES,
  type ShardMap,
} from '@kinesis-kit/core';
import type { OutgoingRecord } from './outgoing-record.js';
import type { ProducerTime } from './producer-time.js';
import type { PutRecordsOutcome } from './sender.js';

/** What became of one Kinesis record of a PutRecords call. */
export type Verdict =
  /** Written to a shard a consumer reads all its user records from. */
  | { readonly kind: 'put'; readonly shardId: string; readonly sequenceNumber: string }
  /**
   * An aggregate written to a shard that does not own all its user records, or that the map does not know
   * although it was listed after the call was answered (the KPL's "Wrong Shard"): a KCL consumer drops the
   * records outside the shard's range, so they are sent again.
   */
  | { readonly kind: 'wrong-shard'; readonly shardId: string }
  /**
   * An aggregate written to a shard the map does not know, with a map listed before the call was answered (the
   * shard may be a child born since): judged by {@link judgeLanding} with the next map, and only with it.
   */
  | { readonly kind: 'needs-newer-map'; readonly shardId: string; readonly sequenceNumber: string }
  /** Not written: the entry's error, or the whole call's. */
  | {
      readonly kind: 'failed';
      readonly code: string;
      readonly message: string | undefined;
      readonly errorClass: ErrorClass;
    };

/** The verdicts on one PutRecords call, one per Kinesis record in request order, and what they tell about the call. */
export interface PutRecordsVerdicts {
  readonly verdicts: readonly Verdict[];
  /** Kinesis records not written (for the `producer.request` event). */
  readonly failedRecordCount: number;
  /** The error of the whole call, when it failed as a whole (it counts once, not once per record). */
  readonly callError: { readonly code: string; readonly message: string | undefined } | undefined;
  /** Why the shard map looks stale (a record landed on a shard other than predicted), if it does. */
  readonly staleMap: string | undefined;
}

/**
 * Judges each Kinesis record of a PutRecords call from the call's outcome and the shard map in use.
 *
 * A record sent alone always lands where its hash key belongs, so it is put wherever it lands. An aggregate
 * lands where its first user record's hash key belongs, and is good only if that shard owns every user record
 * in it. A shard the map does not know counts as the wrong shard (as in the KPL), unless the map is older
 * than the call's answer: then the shard may be new, and the next listing decides.
 */
export function classifyPutRecordsResult(
  outcome: PutRecordsOutcome,
  records: readonly OutgoingRecord[],
  map: ShardMap | undefined,
): PutRecordsVerdicts {
  if (!outcome.ok) {
    const { code, message } = describeError(outcome.error);
    const errorClass = classifyError(outcome.error);
    const verdict: Verdict = { kind: 'failed', code, message, errorClass };
    return {
      verdicts: errorClass === 'client' ? blameOversized(records, verdict) : records.map(() => verdict),
      failedRecordCount: records.length,
      callError: { code, message },
      staleMap: undefined,
    };
  }
  const results = outcome.output.Records ?? [];
  if (results.length !== records.length) {
    const verdict: Verdict = {
      kind: 'failed',
      code: 'RecordCountMismatch',
      message: `PutRecords answered ${results.length} entries for ${records.length}`,
      errorClass: 'client',
    };
    return {
      verdicts: records.map(() => verdict),
      failedRecordCount: records.length,
      callError: undefined,
      staleMap: undefined,
    };
  }
  const verdicts: Verdict[] = new Array(records.length);
  let failedRecordCount = 0;
  let staleMap: string | undefined;
  for (let i = 0; i < records.length; i++) {
    const out = records[i] as OutgoingRecord;
    const { SequenceNumber: sequenceNumber, ShardId: shardId, ErrorCode, ErrorMessage } = results[i] ?? {};
    if (sequenceNumber === undefined || sequenceNumber === '' || shardId === undefined || shardId === '') {
      failedRecordCount++;
      const code = ErrorCode ?? 'UnknownError';
      verdicts[i] = { kind: 'failed', code, message: ErrorMessage, errorClass: classifyError({ name: code }) };
      continue;
    }
    if (out.predictedShardId !== undefined && shardId !== out.predictedShardId) {
      staleMap ??= `a record landed on ${shardId}, not ${out.predictedShardId}`;
    }
    verdicts[i] = judgeLanding(out, shardId, sequenceNumber, outcome.end, map);
  }
  return { verdicts, failedRecordCount, callError: undefined, staleMap };
}

/**
 * Judges a Kinesis record written to `shardId` by a call answered at `answeredAt`, with `map` (see
 * {@link classifyPutRecordsResult}). A map listed from `answeredAt` on knew every shard the call could have
 * written to, so with such a map the answer is never `needs-newer-map`: a listing asked for with the answer
 * as evidence always settles the question.
 */
export function judgeLanding(
  out: OutgoingRecord,
  shardId: string,
  sequenceNumber: string,
  answeredAt: ProducerTime,
  map: ShardMap | undefined,
): Verdict {
  if (!out.aggregated || out.predictedShardId === undefined || shardId === out.predictedShardId) {
    return { kind: 'put', shardId, sequenceNumber };
  }
  if (map === undefined || map.shard(shardId) === undefined) {
    return map !== undefined && map.loadedAt >= answeredAt
      ? { kind: 'wrong-shard', shardId }
      : { kind: 'needs-newer-map', shardId, sequenceNumber };
  }
  for (const record of out.records) {
    if (!map.contains(shardId, record.hashKey)) return { kind: 'wrong-shard', shardId };
  }
  return { kind: 'put', shardId, sequenceNumber };
}

/**
 * The verdicts on a call the service refused whole with a client error. If it carried records larger than
 * the service's default record limit (allowed by a raised `maxUserRecordSize`, refused by a stream without
 * the raised limit) beside records within it, only the large ones are to blame: they fail, and the others
 * are sent again without them, rather than failing for another record's size.
 */
function blameOversized(records: readonly OutgoingRecord[], verdict: Verdict): Verdict[] {
  let oversized = 0;
  for (const out of records) if (out.size > MAX_RECORD_SIZE_BYTES) oversized++;
  if (oversized === 0 || oversized === records.length || verdict.kind !== 'failed') return records.map(() => verdict);
  const innocent: Verdict = {
    kind: 'failed',
    code: verdict.code,
    message: `The call was refused for a record over ${MAX_RECORD_SIZE_BYTES} bytes sent with this one: ${verdict.message ?? ''}`,
    errorClass: 'transient',
  };
  return records.map((out) => (out.size > MAX_RECORD_SIZE_BYTES ? verdict : innocent));
}

/** The code and message an error is reported with. */
export function describeError(error: unknown): { code: string; message: string | undefined } {
  if (error instanceof KinesisKitError) return { code: error.code, message: error.message };
  if (error instanceof Error) return { code: error.name, message: error.message };
  return { code: 'UnknownError', message: String(error) };
}
