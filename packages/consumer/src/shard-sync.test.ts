import type { Shard } from '@aws-sdk/client-kinesis';
import { ShardMap } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import type { InitialPositionInStream } from './options.js';
import { computeLeasesToCreate } from './shard-sync.js';

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
      'empty table, AT_TIMESTAMP: like TRIM_HORIZON with the timestamp sentinel',
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

  it('keeps hash ranges and parents on the planned leases', () => {
    const [first] = computeLeasesToCreate(resharded, new Set(), 'LATEST');
    expect(first).toMatchObject({
      leaseKey: 'shardId-000000000002',
      parentShardIds: ['shardId-000000000000'],
      hashKeyRange: { startingHashKey: '0', endingHashKey: String(Q) },
    });
  });
});
