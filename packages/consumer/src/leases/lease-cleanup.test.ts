import { ManualClock, TypedEventEmitter } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import type { ConsumerEvents } from '../events.js';
import { ExtendedSequenceNumber } from '../extended-sequence-number.js';
import { InMemoryLeaseStore } from './in-memory-lease-store.js';
import { type Lease, newLease, withLease } from './lease.js';
import { decideLeaseCleanup, LeaseCleanup, type LeaseCleanupReason } from './lease-cleanup.js';

/** A checkpoint in short: `END`, `TH` (TRIM_HORIZON), `TS` (AT_TIMESTAMP), or a sequence number. */
function checkpoint(short: string): ExtendedSequenceNumber {
  if (short === 'END') return ExtendedSequenceNumber.SHARD_END;
  if (short === 'TH') return ExtendedSequenceNumber.TRIM_HORIZON;
  if (short === 'TS') return ExtendedSequenceNumber.AT_TIMESTAMP;
  return new ExtendedSequenceNumber(short);
}

function lease(key: string, at: string, extra: Partial<Lease> = {}): Lease {
  return withLease(newLease({ leaseKey: key, checkpoint: checkpoint(at) }), extra);
}

describe('decideLeaseCleanup (the KCL LeaseCleanupManager rules)', () => {
  // Children in a small notation: `id@checkpoint`, or `id@-` for a child without a lease.
  it.each<[string, string, string[], boolean, boolean | undefined, LeaseCleanupReason | undefined]>([
    ['finished, children started, no parent lease: completed', 'END', ['c1@5', 'c2@7'], false, undefined, 'completed'],
    ['finished, one child not started yet (TRIM_HORIZON): kept', 'END', ['c1@5', 'c2@TH'], false, undefined, undefined],
    ['finished, a child AT_TIMESTAMP has not started either: kept', 'END', ['c1@TS'], false, undefined, undefined],
    ['finished, a child without a lease: kept', 'END', ['c1@5', 'c2@-'], false, undefined, undefined],
    ['finished, own parent still leased: kept (oldest first)', 'END', ['c1@5'], true, undefined, undefined],
    ['finished, no children known: kept (nothing proves it done)', 'END', [], false, undefined, undefined],
    ['not finished, shard exists: kept', '9', ['c1@5'], false, true, undefined],
    ['gone from the stream, children started: garbage', '9', ['c1@5', 'c2@6'], false, false, 'garbage'],
    ['gone, own parent still leased: garbage all the same', 'END', ['c1@5'], true, false, 'garbage'],
    ['gone, no children at all (a re-created stream): garbage', '9', [], false, false, 'garbage'],
    ['gone, a child not started: kept until it is under way', '9', ['c1@TH'], false, false, undefined],
  ])('%s', (_name, at, children, parentLeaseExists, shardExists, expected) => {
    const childLeases = new Map(
      children.map((c) => {
        const [id = '', cp = ''] = c.split('@');
        return [id, cp === '-' ? undefined : lease(id, cp)] as const;
      }),
    );
    expect(
      decideLeaseCleanup({
        lease: lease('s', at),
        childShardIds: [...childLeases.keys()],
        childLeases,
        parentLeaseExists,
        shardExists,
        cleanupLeasesUponShardCompletion: true,
      }),
    ).toBe(expected);
  });

  it('without cleanupLeasesUponShardCompletion keeps finished leases but still deletes garbage', () => {
    const facts = {
      lease: lease('s', 'END'),
      childShardIds: ['c'],
      childLeases: new Map([['c', lease('c', '5')]]),
      parentLeaseExists: false,
      cleanupLeasesUponShardCompletion: false,
    };
    expect(decideLeaseCleanup({ ...facts, shardExists: undefined })).toBeUndefined();
    expect(decideLeaseCleanup({ ...facts, shardExists: false })).toBe('garbage');
  });
});

describe('LeaseCleanup', () => {
  async function setup(leases: Lease[], options: { listed: string[]; existing: string[]; processing?: string[] }) {
    const store = new InMemoryLeaseStore();
    for (const l of leases) await store.createLeaseIfNotExists(l);
    const clock = new ManualClock(0);
    const events = new TypedEventEmitter<ConsumerEvents>({ clock });
    const deletedEvents: ConsumerEvents['lease.deleted'][] = [];
    events.on('lease.deleted', (e) => {
      deletedEvents.push(e.payload);
    });
    const forgotten: string[] = [];
    const asked: string[] = [];
    const held = leases.filter((l) => l.leaseOwner === 'me');
    const cleanup = new LeaseCleanup({
      store,
      heldLeases: () => held,
      isProcessing: (key) => options.processing?.includes(key) ?? false,
      forget: (key) => forgotten.push(key),
      listing: () => ({
        has: (id) => options.listed.includes(id),
        // The children still name their parent after it is gone.
        childrenOf: (id) => leases.filter((l) => l.parentShardIds.includes(id)).map((l) => l.leaseKey),
      }),
      shardExists: async (id) => {
        asked.push(id);
        return options.existing.includes(id);
      },
      cleanupLeasesUponShardCompletion: true,
      events,
    });
    const keys = async () => (await store.listLeases()).map((l) => l.leaseKey).sort();
    return { cleanup, store, deletedEvents, forgotten, asked, keys };
  }

  it('deletes a held lease of a shard gone from the stream once its children have started, and says why', async () => {
    // Shard p is past retention; its lease ended (ResourceNotFound is its end) without writing child ids.
    const { cleanup, deletedEvents, forgotten, asked, keys } = await setup(
      [
        lease('p', 'END', { leaseOwner: 'me' }),
        lease('c1', '5', { leaseOwner: 'me', parentShardIds: ['p'] }),
        lease('c2', '6', { leaseOwner: 'other', parentShardIds: ['p'] }),
        lease('q', '9', { leaseOwner: 'me' }), // open and listed: not even read
      ],
      { listed: ['c1', 'c2', 'q'], existing: ['c1', 'c2', 'q'] },
    );
    expect(await cleanup.run(new AbortController().signal)).toEqual(['p']);
    expect(deletedEvents).toEqual([{ leaseKey: 'p', reason: 'garbage' }]);
    expect(forgotten).toEqual(['p']);
    expect(asked).toEqual(['p']);
    expect(await keys()).toEqual(['c1', 'c2', 'q']);
  });

  it('keeps a gone shard’s lease while a child has not started, and never touches a lease still being processed', async () => {
    const { cleanup, keys } = await setup(
      [
        lease('p', 'END', { leaseOwner: 'me' }),
        lease('c1', 'TH', { leaseOwner: 'me', parentShardIds: ['p'] }),
        lease('g', '9', { leaseOwner: 'me' }),
      ],
      { listed: ['c1'], existing: ['c1'], processing: ['g'] },
    );
    expect(await cleanup.run(new AbortController().signal)).toEqual([]);
    expect(await keys()).toEqual(['c1', 'g', 'p']);
  });

  it('asks Kinesis before calling an unlisted shard gone: a listing can lag behind a new child', async () => {
    const { cleanup, asked, keys } = await setup([lease('new', 'TH', { leaseOwner: 'me' })], {
      listed: [],
      existing: ['new'],
    });
    expect(await cleanup.run(new AbortController().signal)).toEqual([]);
    expect(asked).toEqual(['new']);
    expect(await keys()).toEqual(['new']);
  });

  it('deletes completed leases as before (children started, own parents gone), parents first', async () => {
    const { cleanup, deletedEvents } = await setup(
      [
        lease('a', 'END', { leaseOwner: 'me', childShardIds: ['b'] }),
        lease('b', 'END', { leaseOwner: 'me', parentShardIds: ['a'], childShardIds: ['c'] }),
        lease('c', '3', { leaseOwner: 'me', parentShardIds: ['b'] }),
      ],
      { listed: ['a', 'b', 'c'], existing: ['a', 'b', 'c'] },
    );
    // b's parent lease goes first in the same pass, which then lets b go; c is open.
    expect(await cleanup.run(new AbortController().signal)).toEqual(['a', 'b']);
    expect(deletedEvents).toEqual([
      { leaseKey: 'a', reason: 'completed' },
      { leaseKey: 'b', reason: 'completed' },
    ]);
  });
});
