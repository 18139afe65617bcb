import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  type ListShardsCommand,
  type ListShardsCommandOutput,
  PutRecordsCommand,
  type PutRecordsCommandOutput,
  type PutRecordsResultEntry,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { formatShardId, MAX_HASH_KEY, ManualClock } from '@kinesis-kit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { KinesisProducer } from './kinesis-producer.js';
import { Outstanding } from './outstanding.js';
import type { ProducerTime } from './producer-time.js';
import type { ProducerKinesisClient } from './sender.js';
import { UserRecord } from './user-record.js';

// Reachability measured by the collector itself, not by heap sizes: a full GC clears every WeakRef whose
// target nothing reaches any more, so what is still alive after it is exactly what something still holds.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Runs a full GC once the current job's WeakRef targets are no longer kept alive by the job. */
async function collect(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

function aliveBytes(refs: readonly WeakRef<Uint8Array | ArrayBufferLike>[]): number {
  let bytes = 0;
  for (const ref of refs) bytes += ref.deref()?.byteLength ?? 0;
  return bytes;
}

/**
 * Kinesis with shard 0 throttled for good and every other shard taking everything; it watches what it was
 * sent without holding it (a mocking library's call history would).
 */
class ThrottlingKinesis implements ProducerKinesisClient {
  /** The memory behind every entry sent (each ArrayBuffer once), watched without being held. */
  readonly sent: WeakRef<ArrayBufferLike>[] = [];
  readonly #seen = new WeakSet<ArrayBufferLike>();
  readonly #shards: Shard[];
  readonly #width: bigint;
  #sequence = 0;

  constructor(shards: Shard[], width: bigint) {
    this.#shards = shards;
    this.#width = width;
  }

  send(command: PutRecordsCommand, options?: { abortSignal?: AbortSignal }): Promise<PutRecordsCommandOutput>;
  send(command: ListShardsCommand, options?: { abortSignal?: AbortSignal }): Promise<ListShardsCommandOutput>;
  send(command: PutRecordsCommand | ListShardsCommand): Promise<PutRecordsCommandOutput | ListShardsCommandOutput> {
    if (!(command instanceof PutRecordsCommand)) return Promise.resolve({ Shards: this.#shards, $metadata: {} });
    const records = (command.input.Records ?? []).map((entry): PutRecordsResultEntry => {
      const shard = Number(BigInt(entry.ExplicitHashKey ?? '0') / this.#width);
      const memory = entry.Data?.buffer;
      if (memory !== undefined && !this.#seen.has(memory)) {
        this.#seen.add(memory);
        this.sent.push(new WeakRef(memory));
      }
      if (shard === 0) return { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' };
      return { ShardId: formatShardId(shard), SequenceNumber: String(++this.#sequence) };
    });
    const failed = records.filter((r) => r.ErrorCode !== undefined).length;
    return Promise.resolve({ Records: records, FailedRecordCount: failed, $metadata: {} });
  }
}

const PUT = { successful: true, shardId: 'shardId-0', sequenceNumber: '1', subSequenceNumber: 0, attempts: [] };

/**
 * Adds `count` records and settles each one; returns WeakRefs to their data. A plain function, so no local
 * of it outlives the call (an async test's frame would keep its last record alive).
 */
function addAndSettle(outstanding: Outstanding, count: number): WeakRef<Uint8Array>[] {
  const refs: WeakRef<Uint8Array>[] = [];
  for (let i = 0; i < count; i++) {
    const data = new Uint8Array(1024);
    refs.push(new WeakRef(data));
    const at = i as ProducerTime;
    const record = new UserRecord('k', data, undefined, 0n, 1025, at, at, at);
    outstanding.add(record);
    record.settle(PUT);
    outstanding.released(1, 1025);
  }
  return refs;
}

describe('Outstanding: a settled record is unreachable at once, whatever the settle order', () => {
  it('lets go of the records settled behind an unsettled older one', async () => {
    const outstanding = new Outstanding(100_000, 1 << 30);
    const zero = 0 as ProducerTime;
    const stuck = new UserRecord('k', new Uint8Array(1024), undefined, 0n, 1025, zero, zero, zero);
    outstanding.add(stuck);
    const refs = addAndSettle(outstanding, 5000);
    await collect();
    expect(outstanding.count).toBe(1);
    expect(outstanding.referenced).toBe(1);
    expect(aliveBytes(refs)).toBe(0);
    expect(outstanding.oldest()).toBe(stuck);
  });
});

// The scenario: one shard throttled for longer than recordTtl while thousands of 1 KB records settle on
// the others (20,000 a phase: 2.4× the bound they must stay within), added by a waitForCapacity loop.
describe('KinesisProducer: retained data stays within the bound while one shard is throttled', () => {
  let producer: KinesisProducer | undefined;

  afterEach(async () => {
    await producer?.destroy({ timeoutMs: 0 });
  });

  // Bytes: one record for the throttled shard a phase, first. Strings: every 8th record, so that records
  // stuck on it are spread over all the memory records share if they share any (Node's 8 KiB buffer pool:
  // one stuck string pinned its slab and the 7 settled records beside it).
  it.each([
    ['bytes', 20_000, 0, () => new Uint8Array(1000)],
    // 1,500 stuck a phase: two phases' worth (3 MB) stay outstanding at once, within the bound.
    ['strings', 12_000, 8, () => 'x'.repeat(1000)],
  ] as const)(
    'keeps at most maxOutstandingBytes + one aggregate per shard reachable (%s)',
    async (_kind, perPhase, stuckEvery, data) => {
      const SHARDS = 4;
      const MAX_OUTSTANDING_BYTES = 4 * 1024 * 1024;
      const RECORD_TTL = 30_000;
      const width = (MAX_HASH_KEY + 1n) / BigInt(SHARDS);
      const shards = Array.from({ length: SHARDS }, (_, i) => ({
        ShardId: formatShardId(i),
        HashKeyRange: {
          StartingHashKey: (width * BigInt(i)).toString(),
          EndingHashKey: (i === SHARDS - 1 ? MAX_HASH_KEY : width * BigInt(i + 1) - 1n).toString(),
        },
        SequenceNumberRange: { StartingSequenceNumber: '0' },
      }));
      const kinesis = new ThrottlingKinesis(shards, width);
      const sent = kinesis.sent;
      const clock = new ManualClock(0);
      producer = new KinesisProducer({
        kinesisClient: kinesis,
        clock,
        random: () => 0.5,
        metricsLevel: 'none',
        // Unaggregated, so each record's own bytes are what the client sees and the test watches.
        aggregationEnabled: false,
        recordMaxBufferedTime: 0,
        recordTtl: RECORD_TTL,
        rateLimit: 1_000_000,
        maxOutstandingBytes: MAX_OUTSTANDING_BYTES,
      });
      const p = producer;
      const stuck: Promise<unknown>[] = [];
      for (let phase = 0; phase < 3; phase++) {
        // A record for the throttled shard first, then thousands for the others: every one of those
        // settles after it, which is the settle order that pinned them.
        stuck.push(p.addUserRecord('s', 'k', data(), 0n).catch((error: unknown) => error));
        const settled: Promise<unknown>[] = [];
        for (let i = 1; i <= perPhase; i++) {
          await p.waitForCapacity({ bytes: 1024 });
          if (stuckEvery > 0 && i % stuckEvery === 0) {
            stuck.push(p.addUserRecord('s', 'k', data(), BigInt(i)).catch((error: unknown) => error));
            continue;
          }
          const hashKey = width * BigInt(1 + (i % (SHARDS - 1))) + BigInt(i);
          settled.push(p.addUserRecord('s', 'k', data(), hashKey));
        }
        await Promise.all(settled);
        await collect();
        const retained = aliveBytes(sent);
        expect(p.getOutstandingRecordsCount()).toBeGreaterThan(0);
        expect(retained).toBeLessThanOrEqual(MAX_OUTSTANDING_BYTES + SHARDS * 1024 * 1024);
        // Half a TTL a phase: 1.5 TTLs in all, each phase's stuck records still pending when the next is measured.
        await clock.advance(RECORD_TTL / 2);
      }
      await clock.advance(RECORD_TTL);
      await Promise.all(stuck);
    },
    60_000,
  );
});
