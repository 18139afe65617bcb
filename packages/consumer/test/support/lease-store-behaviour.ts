import { beforeEach, describe, expect, it } from 'vitest';
import { ExtendedSequenceNumber } from '../../src/extended-sequence-number.js';
import { type Lease, newLease } from '../../src/leases/lease.js';
import type { LeaseStore } from '../../src/leases/lease-store.js';

/**
 * The behaviour every {@link LeaseStore} must have, run against memory (unit) and dynalite (integration):
 * the conditional semantics the lease coordination relies on.
 */
export function describeLeaseStoreBehaviour(name: string, makeStore: () => Promise<LeaseStore>): void {
  describe(`${name} lease store behaviour`, () => {
    let store: LeaseStore;
    const seq = (n: number, sub = 0) => new ExtendedSequenceNumber(String(49_000_000_000n + BigInt(n)), sub);
    const shard = (id: string, parents: string[] = []): Lease =>
      newLease({
        leaseKey: id,
        checkpoint: ExtendedSequenceNumber.TRIM_HORIZON,
        parentShardIds: parents,
        hashKeyRange: { startingHashKey: '0', endingHashKey: '340282366920938463463374607431768211455' },
      });

    beforeEach(async () => {
      store = await makeStore();
      await store.initialize();
    });

    it('creates a lease only if none exists, and reads it back as created', async () => {
      expect(
        await store.createLeaseIfNotExists(
          shard('shardId-000000000002', ['shardId-000000000000', 'shardId-000000000001']),
        ),
      ).toBe(true);
      const again = { ...shard('shardId-000000000002'), checkpoint: ExtendedSequenceNumber.LATEST };
      expect(await store.createLeaseIfNotExists(again)).toBe(false);
      const read = await store.getLease('shardId-000000000002');
      expect(read).toMatchObject({
        leaseKey: 'shardId-000000000002',
        leaseOwner: undefined,
        leaseCounter: 0,
        ownerSwitchesSinceCheckpoint: 0,
        parentShardIds: ['shardId-000000000000', 'shardId-000000000001'],
        childShardIds: [],
        hashKeyRange: { startingHashKey: '0', endingHashKey: '340282366920938463463374607431768211455' },
        pendingCheckpoint: undefined,
      });
      expect(read?.checkpoint.equals(ExtendedSequenceNumber.TRIM_HORIZON)).toBe(true);
      expect(await store.getLease('shardId-missing')).toBeUndefined();
    });

    it('lists every lease', async () => {
      for (let i = 0; i < 30; i++) await store.createLeaseIfNotExists(shard(`shardId-${String(i).padStart(12, '0')}`));
      const keys = (await store.listLeases()).map((l) => l.leaseKey).sort();
      expect(keys).toHaveLength(30);
      expect(keys[0]).toBe('shardId-000000000000');
    });

    it('takes a lease only at the counter it was read with, counting owner switches', async () => {
      await store.createLeaseIfNotExists(shard('s-1'));
      const fresh = await store.getLease('s-1');
      if (fresh === undefined) throw new Error('missing');
      const taken = await store.takeLease(fresh, 'worker-a');
      expect(taken).toMatchObject({ leaseOwner: 'worker-a', leaseCounter: 1, ownerSwitchesSinceCheckpoint: 0 });
      // A second taker that read the same version loses.
      expect(await store.takeLease(fresh, 'worker-b')).toBeUndefined();
      if (taken === undefined) throw new Error('not taken');
      const stolen = await store.takeLease(taken, 'worker-b');
      expect(stolen).toMatchObject({ leaseOwner: 'worker-b', leaseCounter: 2, ownerSwitchesSinceCheckpoint: 1 });
      expect(await store.getLease('s-1')).toMatchObject({
        leaseOwner: 'worker-b',
        leaseCounter: 2,
        ownerSwitchesSinceCheckpoint: 1,
      });
    });

    it('lists the keys of the leases a worker owns (the owner index), following the owner as it changes', async () => {
      for (const id of ['s-1', 's-2', 's-3']) await store.createLeaseIfNotExists(shard(id));
      for (const [id, owner] of [
        ['s-1', 'w-a'],
        ['s-2', 'w-b'],
        ['s-3', 'w-a'],
      ] as const) {
        const fresh = await store.getLease(id);
        if (fresh === undefined) throw new Error('missing');
        await store.takeLease(fresh, owner);
      }
      // The index is eventually consistent in DynamoDB: wait for it rather than assume.
      const ownedBy = async (owner: string, expected: string[]) => {
        for (let i = 0; i < 100; i++) {
          const keys = (await store.listLeaseKeysOwnedBy(owner))?.sort();
          if (JSON.stringify(keys) === JSON.stringify(expected)) return keys;
          await new Promise((r) => setTimeout(r, 50));
        }
        return (await store.listLeaseKeysOwnedBy(owner))?.sort();
      };
      expect(await ownedBy('w-a', ['s-1', 's-3'])).toEqual(['s-1', 's-3']);
      const s1 = await store.getLease('s-1');
      if (s1 === undefined) throw new Error('missing');
      // Assigning (the leaving worker's write) moves the key to the new owner's query.
      const assigned = await store.takeLease(s1, 'w-b');
      expect(assigned).toMatchObject({ leaseOwner: 'w-b', ownerSwitchesSinceCheckpoint: 1 });
      expect(await ownedBy('w-b', ['s-1', 's-2'])).toEqual(['s-1', 's-2']);
      expect(await ownedBy('w-a', ['s-3'])).toEqual(['s-3']);
      expect(await ownedBy('nobody', [])).toEqual([]);
    });

    it('renews by bumping the counter and fails once someone else moved it', async () => {
      await store.createLeaseIfNotExists(shard('s-1'));
      const fresh = await store.getLease('s-1');
      if (fresh === undefined) throw new Error('missing');
      const mine = await store.takeLease(fresh, 'worker-a');
      if (mine === undefined) throw new Error('not taken');
      const renewed = await store.renewLease(mine);
      expect(renewed).toMatchObject({ leaseOwner: 'worker-a', leaseCounter: 2 });
      if (renewed === undefined) throw new Error('not renewed');
      const stolen = await store.takeLease(renewed, 'worker-b');
      expect(stolen?.leaseCounter).toBe(3);
      expect(await store.renewLease(renewed)).toBeUndefined();
    });

    it('releases: no owner, counter bumped, and the old holder can no longer write', async () => {
      await store.createLeaseIfNotExists(shard('s-1'));
      const fresh = await store.getLease('s-1');
      if (fresh === undefined) throw new Error('missing');
      const mine = await store.takeLease(fresh, 'worker-a');
      if (mine === undefined) throw new Error('not taken');
      const released = await store.releaseLease(mine);
      expect(released).toMatchObject({ leaseOwner: undefined, leaseCounter: 2 });
      expect(await store.getLease('s-1')).toMatchObject({ leaseOwner: undefined, leaseCounter: 2 });
      expect(
        await store.updateCheckpoint(mine, {
          checkpoint: seq(1),
          pendingCheckpoint: undefined,
          pendingCheckpointState: undefined,
        }),
      ).toBeUndefined();
    });

    it('writes checkpoints with sub-sequence numbers, pending checkpoints and their state, and clears them', async () => {
      await store.createLeaseIfNotExists(shard('s-1'));
      const fresh = await store.getLease('s-1');
      if (fresh === undefined) throw new Error('missing');
      const stolenOnce = await store.takeLease({ ...fresh }, 'worker-a');
      if (stolenOnce === undefined) throw new Error('not taken');
      const state = new Uint8Array([1, 2, 3]);
      const prepared = await store.updateCheckpoint(stolenOnce, {
        checkpoint: ExtendedSequenceNumber.TRIM_HORIZON,
        pendingCheckpoint: seq(7, 3),
        pendingCheckpointState: state,
      });
      expect(prepared?.leaseCounter).toBe(2);
      let read = await store.getLease('s-1');
      expect(read?.pendingCheckpoint?.equals(seq(7, 3))).toBe(true);
      expect(read?.pendingCheckpointState && [...read.pendingCheckpointState]).toEqual([1, 2, 3]);
      if (prepared === undefined) throw new Error('not written');
      const committed = await store.updateCheckpoint(prepared, {
        checkpoint: seq(7, 3),
        pendingCheckpoint: undefined,
        pendingCheckpointState: undefined,
      });
      expect(committed?.leaseCounter).toBe(3);
      read = await store.getLease('s-1');
      expect(read?.checkpoint.equals(seq(7, 3))).toBe(true);
      expect(read?.pendingCheckpoint).toBeUndefined();
      expect(read?.pendingCheckpointState).toBeUndefined();
      expect(read?.leaseOwner).toBe('worker-a');
    });

    it('resets owner switches on checkpoint', async () => {
      await store.createLeaseIfNotExists(shard('s-1'));
      let lease = await store.getLease('s-1');
      for (const owner of ['a', 'b', 'c']) {
        if (lease === undefined) throw new Error('lost');
        lease = await store.takeLease(lease, owner);
      }
      expect(lease?.ownerSwitchesSinceCheckpoint).toBe(2);
      if (lease === undefined) throw new Error('lost');
      await store.updateCheckpoint(lease, {
        checkpoint: seq(1),
        pendingCheckpoint: undefined,
        pendingCheckpointState: undefined,
      });
      expect((await store.getLease('s-1'))?.ownerSwitchesSinceCheckpoint).toBe(0);
    });

    it('keeps owner switches on a prepared checkpoint (only a full checkpoint resets them, as the KCL)', async () => {
      await store.createLeaseIfNotExists(shard('s-1'));
      let lease = await store.getLease('s-1');
      for (const owner of ['a', 'b', 'c']) {
        if (lease === undefined) throw new Error('lost');
        lease = await store.takeLease(lease, owner);
      }
      if (lease === undefined) throw new Error('lost');
      const prepared = await store.updateCheckpoint(lease, {
        checkpoint: ExtendedSequenceNumber.TRIM_HORIZON,
        pendingCheckpoint: seq(5),
        pendingCheckpointState: undefined,
      });
      expect(prepared?.ownerSwitchesSinceCheckpoint).toBe(2);
      expect((await store.getLease('s-1'))?.ownerSwitchesSinceCheckpoint).toBe(2);
    });

    it('writes child shard ids without touching the counter, only on existing leases', async () => {
      await store.createLeaseIfNotExists(shard('s-1'));
      expect(await store.updateLeaseMetaInfo('s-1', { childShardIds: ['s-3', 's-2'] })).toBe(true);
      const read = await store.getLease('s-1');
      expect(read?.childShardIds).toEqual(['s-2', 's-3']);
      expect(read?.leaseCounter).toBe(0);
      expect(await store.updateLeaseMetaInfo('s-missing', { childShardIds: ['s-2'] })).toBe(false);
      expect(await store.getLease('s-missing')).toBeUndefined();
    });

    it('deletes leases', async () => {
      await store.createLeaseIfNotExists(shard('s-1'));
      await store.deleteLease('s-1');
      expect(await store.getLease('s-1')).toBeUndefined();
      await expect(store.deleteLease('s-1')).resolves.toBeUndefined();
    });

    it('keeps SHARD_END and other sentinels as checkpoints', async () => {
      await store.createLeaseIfNotExists(shard('s-1'));
      const lease = await store.getLease('s-1');
      if (lease === undefined) throw new Error('missing');
      await store.updateCheckpoint(lease, {
        checkpoint: ExtendedSequenceNumber.SHARD_END,
        pendingCheckpoint: undefined,
        pendingCheckpointState: undefined,
      });
      expect((await store.getLease('s-1'))?.checkpoint.isShardEnd).toBe(true);
    });
  });
}
