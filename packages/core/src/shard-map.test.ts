import type { Shard } from '@aws-sdk/client-kinesis';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.js';
import { MAX_HASH_KEY } from './limits.js';
import { formatShardId } from './shard-id.js';
import { type HashKeyRange, ShardMap } from './shard-map.js';

const KEY_SPACE = MAX_HASH_KEY + 1n;

interface ShardSpec {
  n: number;
  start: bigint;
  end: bigint;
  parents?: number[];
  closed?: boolean;
}

function shard({ n, start, end, parents = [], closed = false }: ShardSpec): Shard {
  const [parent, adjacent] = parents;
  return {
    ShardId: formatShardId(n),
    ...(parent === undefined ? {} : { ParentShardId: formatShardId(parent) }),
    ...(adjacent === undefined ? {} : { AdjacentParentShardId: formatShardId(adjacent) }),
    HashKeyRange: { StartingHashKey: start.toString(), EndingHashKey: end.toString() },
    SequenceNumberRange: {
      StartingSequenceNumber: `${n}000`,
      ...(closed ? { EndingSequenceNumber: `${n}999` } : {}),
    },
  };
}

/** The ranges CreateStream gives `count` shards: equal slices, the last one absorbing the remainder. */
function uniformRanges(count: number): HashKeyRange[] {
  return Array.from({ length: count }, (_, i) => ({
    startingHashKey: (KEY_SPACE * BigInt(i)) / BigInt(count),
    endingHashKey: (KEY_SPACE * BigInt(i + 1)) / BigInt(count) - 1n,
  }));
}

function uniformShards(count: number): Shard[] {
  return uniformRanges(count).map((r, n) => shard({ n, start: r.startingHashKey, end: r.endingHashKey }));
}

const Q = KEY_SPACE / 4n; // one quarter of the key space: the width of each shard of a 4-shard stream

/** Shard 0 of a 4-shard stream split in half: 4 takes the lower half, 5 the upper. */
function afterSplit(): Shard[] {
  const mid = Q / 2n;
  return [
    shard({ n: 0, start: 0n, end: Q - 1n, closed: true }),
    shard({ n: 1, start: Q, end: 2n * Q - 1n }),
    shard({ n: 2, start: 2n * Q, end: 3n * Q - 1n }),
    shard({ n: 3, start: 3n * Q, end: MAX_HASH_KEY }),
    shard({ n: 4, start: 0n, end: mid - 1n, parents: [0] }),
    shard({ n: 5, start: mid, end: Q - 1n, parents: [0] }),
  ];
}

/** Shards 1 and 2 of a 4-shard stream merged into 4. */
function afterMerge(): Shard[] {
  return [
    shard({ n: 0, start: 0n, end: Q - 1n }),
    shard({ n: 1, start: Q, end: 2n * Q - 1n, closed: true }),
    shard({ n: 2, start: 2n * Q, end: 3n * Q - 1n, closed: true }),
    shard({ n: 3, start: 3n * Q, end: MAX_HASH_KEY }),
    shard({ n: 4, start: Q, end: 3n * Q - 1n, parents: [1, 2] }),
  ];
}

const id = formatShardId;

function routedTo(map: ShardMap, key: bigint): string | undefined {
  return map.shardFor(key)?.shardId;
}

describe('ShardMap routing on a 4-shard stream', () => {
  const map = new ShardMap(uniformShards(4));

  it.each([
    ['0', 0n, 0],
    ['the last key of shard 0', Q - 1n, 0],
    ['the first key of shard 1', Q, 1],
    ['the middle', 2n * Q, 2],
    ['one below shard 3', 3n * Q - 1n, 2],
    ['the first key of shard 3', 3n * Q, 3],
    ['MAX_HASH_KEY', MAX_HASH_KEY, 3],
  ])('routes %s to its shard', (_label, key, n) => {
    expect(routedTo(map, key)).toBe(id(n));
  });

  it('lists the open shards by ending key and reports full coverage', () => {
    expect(map.openShards.map((s) => s.shardId)).toEqual([0, 1, 2, 3].map(id));
    expect(map.isComplete).toBe(true);
    expect(map.gaps).toEqual([]);
    expect(map.overlaps).toEqual([]);
  });

  it('does not depend on the order ListShards returned the shards in', () => {
    const shuffled = new ShardMap([...uniformShards(4)].reverse());
    for (const key of [0n, Q, 2n * Q + 5n, MAX_HASH_KEY]) expect(routedTo(shuffled, key)).toBe(routedTo(map, key));
    expect(shuffled.openShards.map((s) => s.shardId)).toEqual([0, 1, 2, 3].map(id));
  });

  it('returns the hash key range of a shard and nothing for an unknown one', () => {
    expect(map.hashKeyRange(id(1))).toEqual({ startingHashKey: Q, endingHashKey: 2n * Q - 1n });
    expect(map.hashKeyRange('shardId-000000000099')).toBeUndefined();
  });

  it('checks range membership at both edges', () => {
    expect(map.contains(id(1), Q)).toBe(true);
    expect(map.contains(id(1), 2n * Q - 1n)).toBe(true);
    expect(map.contains(id(1), Q - 1n)).toBe(false);
    expect(map.contains(id(1), 2n * Q)).toBe(false);
    expect(map.contains('shardId-000000000099', 0n)).toBe(false);
  });

  it('agrees with a linear scan for any key (7 uneven shards)', () => {
    const seven = new ShardMap(uniformShards(7));
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_HASH_KEY }), (key) => {
        const expected = seven.openShards.find((s) => s.startingHashKey <= key && key <= s.endingHashKey);
        expect(seven.shardFor(key)).toBe(expected);
        expect(expected).toBeDefined();
      }),
    );
  });
});

describe('ShardMap with a single shard', () => {
  const map = new ShardMap([shard({ n: 0, start: 0n, end: MAX_HASH_KEY })]);

  it.each([0n, 1n, KEY_SPACE / 2n, MAX_HASH_KEY])('routes %s to it', (key) => {
    expect(routedTo(map, key)).toBe(id(0));
  });

  it('is complete and has no lineage', () => {
    expect(map.isComplete).toBe(true);
    expect(map.parentsOf(id(0))).toEqual([]);
    expect(map.childrenOf(id(0))).toEqual([]);
  });
});

describe('ShardMap after a split', () => {
  const map = new ShardMap(afterSplit());
  const mid = Q / 2n;

  it('routes the parent range to the children and never to the closed parent', () => {
    expect(routedTo(map, 0n)).toBe(id(4));
    expect(routedTo(map, mid - 1n)).toBe(id(4));
    expect(routedTo(map, mid)).toBe(id(5));
    expect(routedTo(map, Q - 1n)).toBe(id(5));
    expect(routedTo(map, Q)).toBe(id(1));
  });

  it('classifies shards by EndingSequenceNumber', () => {
    expect(map.isOpen(id(0))).toBe(false);
    expect(map.isOpen(id(4))).toBe(true);
    expect(map.isOpen('shardId-000000000099')).toBe(false);
    expect(map.openShards.map((s) => s.shardId)).toEqual([4, 5, 1, 2, 3].map(id));
    expect(map.shards.map((s) => s.shardId)).toEqual([0, 1, 2, 3, 4, 5].map(id));
    expect(map.isComplete).toBe(true);
  });

  it('links the parent and its children', () => {
    expect(map.parentsOf(id(4))).toEqual([id(0)]);
    expect(map.parentsOf(id(5))).toEqual([id(0)]);
    expect(map.childrenOf(id(0))).toEqual([id(4), id(5)]);
    expect(map.childrenOf(id(4))).toEqual([]);
    expect(map.parentsOf('shardId-000000000099')).toEqual([]);
  });

  it('still knows the closed parent’s range', () => {
    expect(map.hashKeyRange(id(0))).toEqual({ startingHashKey: 0n, endingHashKey: Q - 1n });
    expect(map.contains(id(0), 5n)).toBe(true);
  });
});

describe('ShardMap after a merge', () => {
  const map = new ShardMap(afterMerge());

  it('routes both parents’ ranges to the merged child', () => {
    expect(routedTo(map, Q)).toBe(id(4));
    expect(routedTo(map, 2n * Q)).toBe(id(4));
    expect(routedTo(map, 3n * Q - 1n)).toBe(id(4));
    expect(routedTo(map, 3n * Q)).toBe(id(3));
    expect(map.isComplete).toBe(true);
  });

  it('gives the child both parents, parent first, and each parent the child', () => {
    expect(map.parentsOf(id(4))).toEqual([id(1), id(2)]);
    expect(map.childrenOf(id(1))).toEqual([id(4)]);
    expect(map.childrenOf(id(2))).toEqual([id(4)]);
  });
});

describe('ShardMap from an open-only (AT_LATEST) listing', () => {
  const map = new ShardMap(afterSplit().filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined));

  it('routes like the full listing and keeps the parent ids the children name', () => {
    const full = new ShardMap(afterSplit());
    for (const key of [0n, Q / 2n, Q, MAX_HASH_KEY]) expect(routedTo(map, key)).toBe(routedTo(full, key));
    expect(map.parentsOf(id(4))).toEqual([id(0)]);
    expect(map.childrenOf(id(0))).toEqual([id(4), id(5)]);
  });

  it('knows nothing about the closed parent itself', () => {
    expect(map.shard(id(0))).toBeUndefined();
    expect(map.hashKeyRange(id(0))).toBeUndefined();
    expect(map.isOpen(id(0))).toBe(false);
  });
});

describe('ShardMap with incomplete coverage', () => {
  it('reports a hole left by a missing shard and routes around it', () => {
    const map = new ShardMap(uniformShards(4).filter((s) => s.ShardId !== id(2)));
    expect(map.isComplete).toBe(false);
    expect(map.gaps).toEqual([{ startingHashKey: 2n * Q, endingHashKey: 3n * Q - 1n }]);
    expect(routedTo(map, 2n * Q)).toBeUndefined();
    expect(routedTo(map, 3n * Q - 1n)).toBeUndefined();
    expect(routedTo(map, 2n * Q - 1n)).toBe(id(1));
    expect(routedTo(map, 3n * Q)).toBe(id(3));
  });

  it('reports holes at both ends of the key space', () => {
    const map = new ShardMap([shard({ n: 0, start: 10n, end: MAX_HASH_KEY - 10n })]);
    expect(map.gaps).toEqual([
      { startingHashKey: 0n, endingHashKey: 9n },
      { startingHashKey: MAX_HASH_KEY - 9n, endingHashKey: MAX_HASH_KEY },
    ]);
    expect(routedTo(map, 0n)).toBeUndefined();
    expect(routedTo(map, MAX_HASH_KEY)).toBeUndefined();
    expect(routedTo(map, 10n)).toBe(id(0));
  });

  it('treats an empty listing as one hole', () => {
    const map = new ShardMap([]);
    expect(map.gaps).toEqual([{ startingHashKey: 0n, endingHashKey: MAX_HASH_KEY }]);
    expect(routedTo(map, 0n)).toBeUndefined();
    expect(map.openShards).toEqual([]);
  });

  it('reports a parent still open next to its children (a listing taken mid-reshard)', () => {
    const shards = afterSplit().map((s) => (s.ShardId === id(0) ? shard({ n: 0, start: 0n, end: Q - 1n }) : s));
    const map = new ShardMap(shards);
    expect(map.isComplete).toBe(false);
    expect(map.gaps).toEqual([]);
    expect(map.overlaps.map((o) => o.shardIds)).toEqual([
      [id(0), id(4)],
      [id(0), id(5)],
    ]);
    expect(map.overlaps[0]?.range).toEqual({ startingHashKey: 0n, endingHashKey: Q / 2n - 1n });
    // Every answer is still a shard that really contains the key.
    for (const key of [0n, Q / 2n, Q - 1n]) {
      const found = map.shardFor(key);
      if (found !== undefined) expect(found.startingHashKey <= key && key <= found.endingHashKey).toBe(true);
    }
  });
});

describe('ShardMap validation', () => {
  const good = (): Shard => shard({ n: 0, start: 0n, end: MAX_HASH_KEY });

  it.each<[string, Shard]>([
    ['a missing ShardId', { ...good(), ShardId: undefined }],
    ['a missing HashKeyRange', { ...good(), HashKeyRange: undefined }],
    ['a non-decimal key', { ...good(), HashKeyRange: { StartingHashKey: '0x0', EndingHashKey: '1' } }],
    ['a negative key', { ...good(), HashKeyRange: { StartingHashKey: '-1', EndingHashKey: '1' } }],
    ['a key above 2^128-1', { ...good(), HashKeyRange: { StartingHashKey: '0', EndingHashKey: KEY_SPACE.toString() } }],
    ['a start above its end', { ...good(), HashKeyRange: { StartingHashKey: '5', EndingHashKey: '4' } }],
  ])('rejects a shard with %s', (_label, bad) => {
    expect(() => new ShardMap([bad])).toThrow(ValidationError);
  });

  it('rejects a shard listed twice', () => {
    expect(() => new ShardMap([good(), good()])).toThrow(/listed twice/);
  });
});

describe('ShardMap metadata', () => {
  it('keeps the stream name, the load time and the sequence number range', () => {
    const map = new ShardMap(afterSplit(), { streamName: 's', loadedAt: 1234 });
    expect(map.streamName).toBe('s');
    expect(map.loadedAt).toBe(1234);
    expect(map.shard(id(0))).toMatchObject({ startingSequenceNumber: '0000', endingSequenceNumber: '0999' });
  });

  it('hands out frozen shard infos', () => {
    const info = new ShardMap(uniformShards(1)).shard(id(0));
    expect(Object.isFrozen(info)).toBe(true);
    expect(Object.isFrozen(info?.parentShardIds)).toBe(true);
  });
});
