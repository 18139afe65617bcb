import { type Clock, isRetriable, isThrottlingError, KinesisKitError, retry, ShutdownError } from '@kinesis-kit/core';
import type { CheckpointState, CheckpointWriter } from '../checkpointer.js';
import { RENEWAL_RETRIES } from '../defaults.js';
import type { ConsumerEventEmitter, LeaseLostReason } from '../events.js';
import type { Lease } from './lease.js';
import { withLease } from './lease.js';
import type { LeaseStore } from './lease-store.js';

/** A lease this worker holds, with the local time of its last successful write. */
export interface HeldLease {
  readonly lease: Lease;
  /** Clock time of the last write that bumped the counter (renewal, take or checkpoint). */
  readonly lastRenewedAt: number;
  /**
   * Identifies this tenure: a lease lost and taken again gets a new token, so a checkpointer of the old
   * tenure cannot write through the new one (the KCL's concurrency token).
   */
  readonly token: symbol;
}

/** Options of a {@link LeaseRenewer}. */
export interface LeaseRenewerOptions {
  readonly store: LeaseStore;
  readonly workerIdentifier: string;
  readonly failoverTimeMillis: number;
  readonly clock: Clock;
  readonly events: ConsumerEventEmitter;
  /** Called once per lease that stops being held, after it left the held set. */
  readonly onLeaseLost: (leaseKey: string, reason: LeaseLostReason) => void;
}

/**
 * Keeps this worker's leases alive: renews them all on a fixed rate, drops any whose renewal fails (someone
 * took it) or that has not been renewed for `failoverTimeMillis`, and performs the lease's own writes
 * (checkpoints, release). Writes to one lease are serialized, because a renewal and a checkpoint racing on
 * the same counter would make one of them look like a lost lease.
 */
export class LeaseRenewer {
  readonly #options: LeaseRenewerOptions;
  readonly #held = new Map<string, HeldLease>();
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(options: LeaseRenewerOptions) {
    this.#options = options;
  }

  /**
   * Re-acquires leases this worker id already owns (a fast restart with the same id) by renewing them, even
   * if they look expired, as the KCL's renewer does on start.
   */
  async initialize(signal?: AbortSignal): Promise<Lease[]> {
    const { store, workerIdentifier } = this.#options;
    const mine = (await store.listLeases(signal)).filter(
      (l) => l.leaseOwner === workerIdentifier && l.checkpointOwner === undefined,
    );
    const renewed: Lease[] = [];
    for (const lease of mine) {
      const next = await store.renewLease(lease, signal);
      if (next !== undefined) {
        this.add(next);
        renewed.push(next);
      }
    }
    return renewed;
  }

  /** Starts holding a lease just taken. Returns its tenure token. */
  add(lease: Lease): symbol {
    const token = Symbol(lease.leaseKey);
    this.#held.set(lease.leaseKey, { lease, lastRenewedAt: this.#options.clock.now(), token });
    return token;
  }

  /** The leases held and not locally expired. */
  heldLeases(): Lease[] {
    const now = this.#options.clock.now();
    return [...this.#held.values()].filter((h) => !this.#isExpired(h, now)).map((h) => h.lease);
  }

  /** The held lease with this key, if held. */
  held(leaseKey: string): HeldLease | undefined {
    return this.#held.get(leaseKey);
  }

  /** Renews every held lease once; leases that fail their condition or expired locally are dropped. */
  async renewLeases(signal?: AbortSignal): Promise<void> {
    const { events, workerIdentifier, clock } = this.#options;
    const started = clock.now();
    let lost = 0;
    let failed = false;
    await Promise.all(
      [...this.#held.keys()].map((leaseKey) =>
        this.#withLock(leaseKey, async () => {
          const held = this.#held.get(leaseKey);
          if (held === undefined) return;
          if (this.#isExpired(held, clock.now())) {
            // Renewing now could resurrect a lease a peer already considers free: give it up instead.
            lost++;
            this.#drop(leaseKey, 'expired');
            return;
          }
          try {
            const renewed = await retry(() => this.#options.store.renewLease(held.lease, signal), {
              maxAttempts: 1 + RENEWAL_RETRIES,
              classify: (error) => (isThrottlingError(error) ? 'throttling' : 'client'),
              clock,
              signal,
            });
            const current = this.#held.get(leaseKey);
            if (current?.token !== held.token) return;
            if (renewed === undefined) {
              lost++;
              this.#drop(leaseKey, 'renewal-failed');
            } else {
              this.#held.set(leaseKey, { ...held, lease: renewed, lastRenewedAt: clock.now() });
            }
          } catch (error) {
            // Not a verdict on ownership: keep the lease; if this goes on it expires locally and is dropped.
            failed = true;
            if (!signal?.aborted) events.emit('error', { operation: 'RenewLease', error, shardId: leaseKey });
          }
        }),
      ),
    );
    events.emit('lease.renewal', {
      workerIdentifier,
      currentLeases: this.#held.size,
      lostLeases: lost,
      success: !failed,
      durationMs: clock.now() - started,
    });
  }

  /** A {@link CheckpointWriter} bound to one tenure of one lease. */
  checkpointWriter(leaseKey: string, token: symbol): CheckpointWriter {
    return { write: (state) => this.#writeCheckpoint(leaseKey, token, state) };
  }

  /** Records child shard ids on the in-memory copy, so the next checkpoint writes them along. */
  setChildShardIds(leaseKey: string, childShardIds: readonly string[]): void {
    const held = this.#held.get(leaseKey);
    if (held !== undefined) {
      this.#held.set(leaseKey, { ...held, lease: withLease(held.lease, { childShardIds: [...childShardIds].sort() }) });
    }
  }

  /**
   * Stops holding the lease and writes it back with no owner and a bumped counter, so any worker may take it
   * at once. Resolves whether the release was written (false if the lease had already moved on).
   */
  release(leaseKey: string, signal?: AbortSignal): Promise<boolean> {
    return this.#withLock(leaseKey, async () => {
      const held = this.#held.get(leaseKey);
      if (held === undefined) return false;
      this.#held.delete(leaseKey);
      const released = await this.#options.store.releaseLease(held.lease, signal);
      return released !== undefined;
    });
  }

  /** Stops holding the lease silently (it was deleted on purpose after its shard finished). */
  remove(leaseKey: string): void {
    this.#held.delete(leaseKey);
  }

  /** Stops holding every lease, silently: for shutdown after release, when nobody needs telling. */
  clear(): void {
    this.#held.clear();
  }

  async #writeCheckpoint(leaseKey: string, token: symbol, state: CheckpointState): Promise<void> {
    const { store, clock, events } = this.#options;
    await this.#withLock(leaseKey, async () => {
      const held = this.#held.get(leaseKey);
      if (held === undefined || held.token !== token) {
        throw new ShutdownError(`Cannot checkpoint ${leaseKey}: this worker no longer holds the lease`, {
          shardId: leaseKey,
        });
      }
      const started = clock.now();
      // Throttling is retried here, inside the lock, so the renewer cannot slip a counter bump in between.
      let updated: Lease | undefined;
      try {
        updated = await retry(() => store.updateCheckpoint(held.lease, state), {
          maxAttempts: 10,
          classify: (error) => (isThrottlingError(error) ? 'throttling' : 'client'),
          clock,
        });
      } catch (error) {
        // Not a verdict on ownership (that is a failed condition, below): the lease is still held.
        throw new KinesisKitError('CHECKPOINT_FAILED', `Writing the checkpoint of ${leaseKey} failed`, {
          retriable: isRetriable(error),
          cause: error,
          shardId: leaseKey,
        });
      }
      if (updated === undefined) {
        this.#drop(leaseKey, 'checkpoint-failed');
        throw new ShutdownError(`Cannot checkpoint ${leaseKey}: the lease was taken by another worker`, {
          shardId: leaseKey,
        });
      }
      this.#held.set(leaseKey, { ...held, lease: updated, lastRenewedAt: clock.now() });
      const written = state.pendingCheckpoint ?? state.checkpoint;
      events.emit('checkpoint.written', {
        shardId: leaseKey,
        sequenceNumber: written.sequenceNumber,
        subSequenceNumber: written.subSequenceNumber,
        pending: state.pendingCheckpoint !== undefined,
        durationMs: clock.now() - started,
      });
    });
  }

  #isExpired(held: HeldLease, now: number): boolean {
    return now - held.lastRenewedAt > this.#options.failoverTimeMillis;
  }

  #drop(leaseKey: string, reason: LeaseLostReason): void {
    if (!this.#held.delete(leaseKey)) return;
    const { events, workerIdentifier, onLeaseLost } = this.#options;
    events.emit('lease.lost', { leaseKey, workerIdentifier, reason });
    onLeaseLost(leaseKey, reason);
  }

  #withLock<T>(leaseKey: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(leaseKey) ?? Promise.resolve();
    const run = previous.then(task, task);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.#locks.set(leaseKey, tail);
    void tail.then(() => {
      if (this.#locks.get(leaseKey) === tail) this.#locks.delete(leaseKey);
    });
    return run;
  }
}
