import type { Shard } from '@aws-sdk/client-kinesis';
import { type HashKeyRange, ManualClock, ShardMap, TypedEventEmitter } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import type { ConsumerEvents } from './events.js';
import { ExtendedSequenceNumber } from './extended-sequence-number.js';
import { InMemoryLeaseStore } from './leases/in-memory-lease-store.js';
import { newLease } from './leases/lease.js';
import type { InitialPositionInStream } from './options.js';
import { computeLeasesAtTimestamp, computeLeasesToCreate, hashRangeGaps, ShardSyncer } from './shard-sync.js';

const MAX = (1n << 128n) - 1n;

/** `id[:parent[+adjacent]][!closed]` over an even split of the key space by the listed order of open shards. */
function shard(id: number, range: [bigint, bigint], parents: number[] = [], closed = false): Shard {
  const name = (n: number) => `shardId-${String(n).padStart(12, '0')}`;
  return {
    ShardId: name(id),
    ...(parents[0] === undefined ? {} : { ParentShardId: name(parents[0]) }),
    ...(parents[1] === undefined ? {} : { AdjacentParentShardId: name(parents[1]) }),
    HashKeyRange: { StartingHashKey: String(range[0]), EndingHashKey: String(range[1]) },
    SequenceNumberRange: { StartingSequenceNumber: '1', ...(closed ? { EndingSequenceNumber: '2' } : {}) },
  };
}

const H = MAX / 2n;
const Q = MAX / 4n;
// 0 and 1 split the space; 0 was split into 2 and 3; 3 and 1 were merged into 4.
const resharded = new ShardMap([
  shard(0, [0n, H], [], true),
  shard(1, [H + 1n, MAX], [], true),
  shard(2, [0n, Q], [0]),
  shard(3, [Q + 1n, H], [0], true),
  shard(4, [Q + 1n, MAX], [3, 1]),
]).shards;

function plan(leases: number[], position: InitialPositionInStream) {
  const keys = new Set(leases.map((n) => `shardId-${String(n).padStart(12, '0')}`));
  return computeLeasesToCreate(resharded, keys, position).map(
    (l) => `${Number(l.leaseKey.slice(8))}@${l.checkpoint.sequenceNumber}`,
  );
}

describe('computeLeasesToCreate', () => {
  it.each<[string, number[], InitialPositionInStream, string[]]>([
    [
      'empty table, TRIM_HORIZON: the oldest shards only; children come at their parents’ end',
      [],
      'TRIM_HORIZON',
      ['0@TRIM_HORIZON', '1@TRIM_HORIZON'],
    ],
    ['empty table, LATEST: the open shards only', [], 'LATEST', ['2@LATEST', '4@LATEST']],
    [
      // A first sync AT_TIMESTAMP uses the filtered listing (computeLeasesAtTimestamp); this full-listing plan
      // is only its fallback when no listed shard was open at the timestamp, i.e. every shard began after it.
      'empty table, AT_TIMESTAMP, no shard open at the timestamp: like TRIM_HORIZON with the timestamp sentinel',
      [],
      { timestamp: new Date(0) },
      ['0@AT_TIMESTAMP', '1@AT_TIMESTAMP'],
    ],
    ['everything leased: nothing', [0, 1, 2, 3, 4], 'TRIM_HORIZON', []],
    [
      'open children of leased parents get no lease; a parent between them is created ahead (KCL)',
      [0, 1],
      'LATEST',
      ['3@TRIM_HORIZON'],
    ],
    ['split children of a leased parent: nothing', [0, 1, 3], 'TRIM_HORIZON', []],
    ['finished parents deleted, children leased: parents are not recreated', [2, 4], 'TRIM_HORIZON', []],
    [
      'a merge whose one parent descends from a lease and the other has none: the other is covered (LATEST)',
      [0],
      'LATEST',
      ['1@LATEST', '3@TRIM_HORIZON'],
    ],
    ['same under TRIM_HORIZON', [0], 'TRIM_HORIZON', ['1@TRIM_HORIZON', '3@TRIM_HORIZON']],
    ['a merge parent without lease or leased ancestor starts at the initial position', [1, 2], 'LATEST', ['3@LATEST']],
  ])('%s', (_name, leases, position, expected) => {
    expect(plan(leases, position)).toEqual(expected);
  });

  it.each<[string, InitialPositionInStream, string[]]>([
    // Shard 0 is past retention (no longer listed) but its lease is still there, checkpointed inside it.
    ['LATEST', 'LATEST', ['1@LATEST', '3@TRIM_HORIZON']],
    ['TRIM_HORIZON', 'TRIM_HORIZON', ['1@TRIM_HORIZON', '3@TRIM_HORIZON']],
  ])(
    'a leased parent past retention still counts as an ancestor (%s): its children wait for its end',
    (_n, position, expected) => {
      const listed = resharded.filter((s) => s.shardId !== 'shardId-000000000000');
      const planned = computeLeasesToCreate(listed, new Set(['shardId-000000000000']), position).map(
        (l) => `${Number(l.leaseKey.slice(8))}@${l.checkpoint.sequenceNumber}`,
      );
      expect(planned).toEqual(expected);
    },
  );

  it('keeps hash ranges and parents on the planned leases', () => {
    const [first] = computeLeasesToCreate(resharded, new Set(), 'LATEST');
    expect(first).toMatchObject({
      leaseKey: 'shardId-000000000002',
      parentShardIds: ['shardId-000000000000'],
      hashKeyRange: { startingHashKey: '0', endingHashKey: String(Q) },
    });
  });
});

describe('computeLeasesAtTimestamp', () => {
  const only = (ids: number[]) => resharded.filter((s) => ids.includes(Number(s.shardId.slice(8))));
  it.each<[string, number[], string[]]>([
    ['timestamp before any reshard: the original shards', [0, 1], ['0@AT_TIMESTAMP', '1@AT_TIMESTAMP']],
    [
      'timestamp after the split, before the merge: the split children, never their parent',
      [1, 2, 3],
      ['1@AT_TIMESTAMP', '2@AT_TIMESTAMP', '3@AT_TIMESTAMP'],
    ],
    ['timestamp after the merge: the open shards', [2, 4], ['2@AT_TIMESTAMP', '4@AT_TIMESTAMP']],
    [
      'a server that ignores the filter (kinesalite): every shard, each read from the timestamp',
      [4, 3, 2, 1, 0],
      ['0@AT_TIMESTAMP', '1@AT_TIMESTAMP', '2@AT_TIMESTAMP', '3@AT_TIMESTAMP', '4@AT_TIMESTAMP'],
    ],
  ])('%s', (_name, listed, expected) => {
    expect(
      computeLeasesAtTimestamp(only(listed)).map(
        (l) => `${Number(l.leaseKey.slice(8))}@${l.checkpoint.sequenceNumber}`,
      ),
    ).toEqual(expected);
  });

  it('keeps parents and hash ranges', () => {
    expect(computeLeasesAtTimestamp(only([4]))[0]).toMatchObject({
      parentShardIds: ['shardId-000000000003', 'shardId-000000000001'],
      hashKeyRange: { startingHashKey: String(Q + 1n), endingHashKey: String(MAX) },
    });
  });
});

describe('hashRangeGaps', () => {
  const r = (a: bigint, b: bigint): HashKeyRange => ({ startingHashKey: a, endingHashKey: b });
  it.each<[string, HashKeyRange[], HashKeyRange[]]>([
    ['whole space', [r(0n, H), r(H + 1n, MAX)], []],
    ['overlaps are not gaps (parent and child listed together)', [r(0n, H), r(0n, Q), r(Q + 1n, MAX)], []],
    ['a hole in the middle', [r(0n, Q), r(H + 1n, MAX)], [r(Q + 1n, H)]],
    ['a hole at each end', [r(Q, H)], [r(0n, Q - 1n), r(H + 1n, MAX)]],
    ['nothing listed', [], [r(0n, MAX)]],
  ])('%s', (_name, ranges, gaps) => {
    expect(hashRangeGaps(ranges)).toEqual(gaps);
  });
});

describe('ShardSyncer.syncShards AT_TIMESTAMP', () => {
  const at = new Date(1_700_000_000_000);

  /** A ListShards server answering `filtered` to an AT_TIMESTAMP filter and every shard otherwise. */
  function setup(filtered: Shard[]) {
    const inputs: unknown[] = [];
    const all = [
      shard(0, [0n, H], [], true),
      shard(1, [H + 1n, MAX], [], true),
      shard(2, [0n, Q], [0]),
      shard(3, [Q + 1n, H], [0], true),
      shard(4, [Q + 1n, MAX], [3, 1]),
    ];
    const kinesis = {
      async send(command: { input: { ShardFilter?: { Type?: string } } }) {
        inputs.push(command.input);
        return { Shards: command.input.ShardFilter?.Type === 'AT_TIMESTAMP' ? filtered : all, $metadata: {} };
      },
    };
    const clock = new ManualClock(0);
    const store = new InMemoryLeaseStore();
    const syncer = new ShardSyncer({
      kinesis: kinesis as unknown as ConstructorParameters<typeof ShardSyncer>[0]['kinesis'],
      store,
      streamName: 's',
      initialPositionInStream: { timestamp: at },
      clock,
      events: new TypedEventEmitter<ConsumerEvents>({ clock }),
    });
    const leases = async () =>
      (await store.listLeases()).map((l) => `${Number(l.leaseKey.slice(8))}@${l.checkpoint.sequenceNumber}`).sort();
    return { syncer, store, inputs, leases };
  }

  it('on an empty table lists with ShardFilter AT_TIMESTAMP and leases the shards open then (not the oldest ancestors)', async () => {
    // Split of 0 into 2 and 3 before the timestamp: 2, 3 and 1 were open at it.
    const { syncer, inputs, leases } = setup([
      shard(1, [H + 1n, MAX], [], true),
      shard(2, [0n, Q], [0]),
      shard(3, [Q + 1n, H], [0], true),
    ]);
    expect(await syncer.syncShards()).toBe(3);
    expect(inputs[0]).toMatchObject({ ShardFilter: { Type: 'AT_TIMESTAMP', Timestamp: at } });
    expect(await leases()).toEqual(['1@AT_TIMESTAMP', '2@AT_TIMESTAMP', '3@AT_TIMESTAMP']);
    // A later sync before any lease moved asks the same question and gets the same answer: nothing new.
    expect(await syncer.syncShards()).toBe(0);
  });

  it('a second worker arriving part-way through the first sync (all leases still AT_TIMESTAMP) finishes the same plan', async () => {
    const { syncer, store, inputs, leases } = setup([
      shard(1, [H + 1n, MAX], [], true),
      shard(2, [0n, Q], [0]),
      shard(3, [Q + 1n, H], [0], true),
    ]);
    await store.createLeaseIfNotExists(
      newLease({ leaseKey: 'shardId-000000000001', checkpoint: ExtendedSequenceNumber.AT_TIMESTAMP }),
    );
    expect(await syncer.syncShards()).toBe(2);
    expect(inputs[0]).toMatchObject({ ShardFilter: { Type: 'AT_TIMESTAMP' } });
    expect(await leases()).toEqual(['1@AT_TIMESTAMP', '2@AT_TIMESTAMP', '3@AT_TIMESTAMP']);
  });

  it('once a lease has moved past AT_TIMESTAMP, lists everything (a hole then is no reason to fail)', async () => {
    const { syncer, store, inputs } = setup([shard(2, [0n, Q], [0])]);
    await store.createLeaseIfNotExists(
      newLease({ leaseKey: 'shardId-000000000002', checkpoint: new ExtendedSequenceNumber('7') }),
    );
    await syncer.syncShards();
    expect(inputs).toHaveLength(1);
    expect(inputs[0]).not.toHaveProperty('ShardFilter');
  });

  it('refuses a filtered listing with a hole (KCL) and creates nothing', async () => {
    const { syncer, leases } = setup([shard(2, [0n, Q], [0])]);
    await expect(syncer.syncShards()).rejects.toMatchObject({ code: 'SHARD_LISTING_INCOMPLETE', retriable: true });
    expect(await leases()).toEqual([]);
  });

  it('with no shard open at the timestamp (all began after it) falls back to the full listing', async () => {
    const { syncer, inputs, leases } = setup([]);
    expect(await syncer.syncShards()).toBe(2);
    expect(inputs).toHaveLength(2);
    expect(await leases()).toEqual(['0@AT_TIMESTAMP', '1@AT_TIMESTAMP']);
  });
});

describe('ShardSyncer.createChildLeases of a shard past retention', () => {
  function syncer(shards: Shard[]) {
    const clock = new ManualClock(0);
    const store = new InMemoryLeaseStore();
    const kinesis = { send: async () => ({ Shards: shards, $metadata: {} }) };
    return new ShardSyncer({
      kinesis: kinesis as unknown as ConstructorParameters<typeof ShardSyncer>[0]['kinesis'],
      store,
      streamName: 's',
      initialPositionInStream: 'TRIM_HORIZON',
      clock,
      events: new TypedEventEmitter<ConsumerEvents>({ clock }),
    });
  }
  const gone = newLease({ leaseKey: 'shardId-000000000000', checkpoint: new ExtendedSequenceNumber('42') });

  it('finds its children by the parent id they still carry', async () => {
    const result = await syncer([shard(2, [0n, Q], [0]), shard(3, [Q + 1n, H], [0])]).createChildLeases(
      gone,
      undefined,
    );
    expect(result).toEqual({ status: 'created', childShardIds: ['shardId-000000000002', 'shardId-000000000003'] });
  });

  it('with no child listed either, ends with none instead of deferring forever', async () => {
    expect(await syncer([shard(7, [0n, MAX])]).createChildLeases(gone, undefined)).toEqual({
      status: 'created',
      childShardIds: [],
    });
  });

  it('a listed parent whose children are not listed yet is deferred (a listing that lags)', async () => {
    const result = await syncer([shard(0, [0n, MAX], [], true)]).createChildLeases(gone, undefined);
    expect(result.status).toBe('deferred');
  });
});
