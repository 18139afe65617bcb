import type { PutRecordsResultEntry } from '@aws-sdk/client-kinesis';
import { formatShardId, MAX_HASH_KEY, ShardMap } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { classifyPutRecordsResult, judgeLanding, type Verdict } from './classify-put-records-result.js';
import type { OutgoingRecord } from './outgoing-record.js';
import type { ProducerTime } from './producer-time.js';
import type { PutRecordsOutcome } from './sender.js';
import type { UserRecord } from './user-record.js';

const HALF = (MAX_HASH_KEY + 1n) / 2n;
const LOW = 1n;
const HIGH = HALF + 1n;

/** Shards 0 and 1 split the key space in halves; listed at time `loadedAt`. */
function map(loadedAt: number, extra: readonly { id: number; from: bigint; to: bigint }[] = []): ShardMap {
  const shard = (id: number, from: bigint, to: bigint) => ({
    ShardId: formatShardId(id),
    HashKeyRange: { StartingHashKey: from.toString(), EndingHashKey: to.toString() },
    SequenceNumberRange: { StartingSequenceNumber: '0' },
  });
  return new ShardMap(
    [shard(0, 0n, HALF - 1n), shard(1, HALF, MAX_HASH_KEY), ...extra.map((s) => shard(s.id, s.from, s.to))],
    {
      loadedAt,
    },
  );
}

/** A Kinesis record predicted for `shard` carrying user records with these hash keys (aggregated if more than one). */
function outgoing(shard: number | undefined, hashKeys: readonly bigint[]): OutgoingRecord {
  return {
    records: hashKeys.map((hashKey) => ({ hashKey }) as UserRecord),
    data: new Uint8Array(0),
    partitionKey: 'a',
    explicitHashKey: String(hashKeys[0] ?? 0n),
    aggregated: hashKeys.length > 1,
    size: 10,
    userDataBytes: 0,
    userDataMinBytes: 0,
    userDataMaxBytes: 0,
    predictedShardId: shard === undefined ? undefined : formatShardId(shard),
    deadline: 0 as ProducerTime,
    expiresAt: 0 as ProducerTime,
  };
}

const landed = (shard: number): PutRecordsResultEntry => ({ ShardId: formatShardId(shard), SequenceNumber: '7' });
const ok = (entries: PutRecordsResultEntry[]): PutRecordsOutcome => ({
  ok: true,
  output: { Records: entries, $metadata: {} },
  start: 100 as ProducerTime,
  end: 200 as ProducerTime,
});

describe('judgeLanding', () => {
  // prediction → landing, with a map listed at `listed`; the call was answered at 200.
  it.each<[string, OutgoingRecord, number, ShardMap | undefined, Verdict['kind']]>([
    ['where predicted', outgoing(0, [LOW, LOW]), 0, map(50), 'put'],
    ['a lone record anywhere (Kinesis routed it by its own key)', outgoing(0, [HIGH]), 1, map(50), 'put'],
    ['an unpredicted record anywhere (sent without a map)', outgoing(undefined, [LOW]), 1, undefined, 'put'],
    [
      'a known shard owning every record (a merge child)',
      outgoing(0, [LOW, LOW]),
      2,
      map(300, [{ id: 2, from: 0n, to: MAX_HASH_KEY }]),
      'put',
    ],
    ['a known shard missing one record (a split child)', outgoing(0, [LOW, HIGH]), 1, map(50), 'wrong-shard'],
    ['an unknown shard, map listed after the answer (KPL)', outgoing(0, [LOW, LOW]), 9, map(300), 'wrong-shard'],
    ['an unknown shard, map listed before the answer', outgoing(0, [LOW, LOW]), 9, map(150), 'needs-newer-map'],
    ['an unknown shard, map listed from the answer on', outgoing(0, [LOW, LOW]), 9, map(200), 'wrong-shard'],
  ])('an aggregate landing %s', (_, out, shard, shardMap, kind) => {
    expect(judgeLanding(out, formatShardId(shard), '7', 200 as ProducerTime, shardMap).kind).toBe(kind);
  });
});

describe('classifyPutRecordsResult', () => {
  it.each<[string, PutRecordsOutcome, OutgoingRecord[], string[], number, string | undefined, boolean]>([
    [
      'every entry written',
      ok([landed(0), landed(1)]),
      [outgoing(0, [LOW, LOW]), outgoing(1, [HIGH])],
      ['put', 'put'],
      0,
      undefined,
      false,
    ],
    [
      'one entry throttled',
      ok([landed(0), { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' }]),
      [outgoing(0, [LOW]), outgoing(1, [HIGH])],
      ['put', 'failed:throttling'],
      1,
      undefined,
      false,
    ],
    [
      'the whole call failed (counted once, as the call)',
      {
        ok: false,
        error: Object.assign(new Error('boom'), { name: 'InternalFailure' }),
        start: 0 as ProducerTime,
        end: 1 as ProducerTime,
      },
      [outgoing(0, [LOW]), outgoing(1, [HIGH])],
      ['failed:server', 'failed:server'],
      2,
      'InternalFailure',
      false,
    ],
    [
      'fewer entries answered than sent',
      ok([landed(0)]),
      [outgoing(0, [LOW]), outgoing(1, [HIGH])],
      ['failed:client', 'failed:client'],
      2,
      undefined,
      false,
    ],
    [
      'a landing elsewhere (stale map)',
      ok([landed(1)]),
      [outgoing(0, [LOW, HIGH])],
      ['wrong-shard'],
      0,
      undefined,
      true,
    ],
  ])('%s', (_, outcome, records, expected, failedRecordCount, callError, stale) => {
    const result = classifyPutRecordsResult(outcome, records, map(50));
    expect(result.verdicts.map((v) => (v.kind === 'failed' ? `failed:${v.errorClass}` : v.kind))).toEqual(expected);
    expect(result.failedRecordCount).toBe(failedRecordCount);
    expect(result.callError?.code).toBe(callError);
    expect(result.staleMap !== undefined).toBe(stale);
  });
});
