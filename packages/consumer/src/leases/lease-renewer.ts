import { type Clock, isRetriable, isThrottlingError, ShutdownError } from '@kinesis-kit/core';
import { CheckpointError } from '../checkpoint-error.js';
import type { CheckpointState } from '../checkpointer.js';
import { RENEWAL_RETRIES } from '../defaults.js';
import type { ConsumerEventEmitter, LeaseLostReason } from '../events.js';
import type { Lease } from './lease.js';
import { withLease } from './lease.js';
import type { LeaseHandle } from './lease-handle.js';
import type { LeaseStore } from './lease-store.js';
import { LeaseWriteLock } from './lease-write-lock.js';

/** A lease this worker holds, with the local time of its last successful write. */
export interface HeldLease {
  readonly lease: Lease;
  /**
   * Clock time at which the last write that bumped the counter (renewal, take or checkpoint) was *sent*: the
   * write reached the table no earlier, so a peer cannot have seen the counter stand still for longer.
   */
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
  /**
   * A held lease counts as lost once its last successful write was sent `failoverTimeMillis` minus this long
   * ago: the watchdog's check period, so a lease is given up before any peer can see it expire.
   * @defaultValue 0
   */
  readonly expiryMarginMillis?: number;
  /**
   * Longest a checkpoint or release may take, waiting for the lease's lock included: well under the failover
   * time, so one hung write never holds up the lease's renewal for long. (A renewal may take until the lease
   * would expire locally: a slow renewal that gets through still counts from when it was sent.)
   * @defaultValue `failoverTimeMillis / 3`
   */
  readonly callTimeoutMillis?: number;
  readonly clock: Clock;
  readonly events: ConsumerEventEmitter;
  /**
   * Whom to hand a lease to instead of releasing it (the lease hand-over of `lease-handover.ts`); `undefined`
   * releases it.
   * @defaultValue always release
   */
  readonly successorFor?: (lease: Lease) => string | undefined;
  /** Called once per lease that stops being held, after it left the held set and its handle was revoked. */
  readonly onLeaseLost?: (leaseKey: string, reason: LeaseLostReason) => void;
}

interface Tenure extends HeldLease {
  readonly revoke: AbortController;
}

/**
 * Keeps this worker's leases alive: renews each on a fixed rate, independently of the others and with a
 * per-call deadline; drops any whose write fails its condition (someone took it) or that has not been renewed
 * for the failover time ({@link LeaseRenewer.expireOverdue}, run by the watchdog); and performs the lease's own
 * writes (checkpoints, child ids, release) through its {@link LeaseHandle}.
 *
 * Writes to one lease are serialized, because a renewal and a checkpoint racing on the same counter would make
 * one of them look like a lost lease. Nothing sleeps while holding that lock: a throttled write is retried
 * at once (renewals) or handed back to the caller (checkpoints), and every write is abandoned at its deadline.
 */
export class LeaseRenewer {
  readonly #options: LeaseRenewerOptions;
  readonly #held = new Map<string, Tenure>();
  readonly #lock: LeaseWriteLock;
  /** Tenures with a renewal in flight: the next round leaves them alone. */
  readonly #renewing = new Set<symbol>();
  /** Tenures being released: held until the release is written, but nothing else may start on them. */
  readonly #releasing = new Set<symbol>();
  readonly #callTimeoutMillis: number;
  readonly #lifetimeMillis: number;

  constructor(options: LeaseRenewerOptions) {
    this.#options = options;
    this.#lock = new LeaseWriteLock(options.clock);
    this.#callTimeoutMillis = options.callTimeoutMillis ?? Math.max(1, Math.floor(options.failoverTimeMillis / 3));
    this.#lifetimeMillis = options.failoverTimeMillis - (options.expiryMarginMillis ?? 0);
  }

  /**
   * Re-acquires leases this worker id already owns (a fast restart with the same id) by renewing them, even
   * if they look expired, as the KCL's renewer does on start.
   */
  async initialize(signal?: AbortSignal): Promise<Lease[]> {
    const { store, workerIdentifier, clock } = this.#options;
    const mine = (await store.listLeases(signal)).filter(
      (l) => l.leaseOwner === workerIdentifier && l.checkpointOwner === undefined,
    );
    const renewed: Lease[] = [];
    for (const lease of mine) {
      const sentAt = clock.now();
      const next = await store.renewLease(lease, signal);
      if (next !== undefined) {
        this.add(next, sentAt);
        renewed.push(next);
      }
    }
    return renewed;
  }

  /** Starts holding a lease just taken (with a write sent at `sentAt`). Returns its tenure token. */
  add(lease: Lease, sentAt = this.#options.clock.now()): symbol {
    const token = Symbol(lease.leaseKey);
    this.#held.get(lease.leaseKey)?.revoke.abort('renewal-failed');
    this.#held.set(lease.leaseKey, { lease, lastRenewedAt: sentAt, token, revoke: new AbortController() });
    return token;
  }

  /** The leases held and not locally expired. */
  heldLeases(): Lease[] {
    const now = this.#options.clock.now();
    return [...this.#held.values()]
      .filter((h) => !this.#isExpired(h, now) && !this.#releasing.has(h.token))
      .map((h) => h.lease);
  }

  /** The held lease with this key, if held. */
  held(leaseKey: string): HeldLease | undefined {
    const held = this.#held.get(leaseKey);
    return held === undefined ? undefined : { lease: held.lease, lastRenewedAt: held.lastRenewedAt, token: held.token };
  }

  /**
   * The handle of one tenure (`token` from {@link LeaseRenewer.add}).
   * @throws {@link @kinesis-kit/core!ShutdownError} if that tenure has already ended.
   */
  handle(leaseKey: string, token: symbol): LeaseHandle {
    const tenure = this.#held.get(leaseKey);
    const lease = tenure?.lease;
    if (tenure === undefined || lease === undefined || tenure.token !== token) {
      throw new ShutdownError(`${leaseKey} is no longer held`, { shardId: leaseKey });
    }
    const isCurrent = (): boolean => this.#held.get(leaseKey)?.token === token && !this.#releasing.has(token);
    return Object.freeze({
      leaseKey,
      lease,
      token,
      lost: tenure.revoke.signal,
      get isHeld(): boolean {
        return isCurrent();
      },
      checkpoint: (state: CheckpointState) => this.#writeCheckpoint(leaseKey, token, state),
      recordChildren: (childShardIds: readonly string[], signal?: AbortSignal) =>
        this.#recordChildren(leaseKey, token, childShardIds, signal),
      release: () => this.#release(leaseKey, token),
    });
  }

  /**
   * The watchdog's check: gives up every lease whose last successful write was sent more than the failover
   * time (less the margin) ago, whatever write is in flight for it, so its shard consumer stops before any
   * peer can see the lease expire. Resolves with the keys given up.
   */
  expireOverdue(): string[] {
    const now = this.#options.clock.now();
    const expired = [...this.#held.entries()].filter(([, h]) => this.#isExpired(h, now)).map(([key]) => key);
    for (const leaseKey of expired) this.#drop(leaseKey, 'expired');
    return expired;
  }

  /**
   * Renews every held lease once, each on its own: a lease whose previous renewal is still in flight is skipped,
   * so one hung or slow lease holds up neither the others nor the next round. A renewal is abandoned when it can
   * no longer help, once the lease would be locally expired (and the watchdog gives it up). Leases that fail
   * their condition or expired locally are dropped. Resolves when this round's renewals have settled.
   */
  async renewLeases(signal?: AbortSignal): Promise<void> {
    const { events, workerIdentifier, clock } = this.#options;
    const started = clock.now();
    let lost = 0;
    let failed = false;
    await Promise.all(
      [...this.#held.entries()].map(async ([leaseKey, held]) => {
        if (this.#renewing.has(held.token) || this.#releasing.has(held.token)) return;
        const now = clock.now();
        if (this.#isExpired(held, now)) {
          // Renewing now could resurrect a lease a peer already considers free: give it up instead.
          lost++;
          this.#drop(leaseKey, 'expired');
          return;
        }
        this.#renewing.add(held.token);
        try {
          // Abandoned once the lease would be locally expired: by then it can no longer help.
          const deadline = () => held.lastRenewedAt + this.#lifetimeMillis - clock.now();
          const outcome = await this.#lock.run(leaseKey, {
            operation: 'RenewLease',
            signal,
            timeoutMs: deadline,
            write: (s) => this.#renew(leaseKey, held, s),
          });
          if (outcome === 'lost') lost++;
        } catch (error) {
          // Not a verdict on ownership: keep the lease; if this goes on, the watchdog gives it up.
          failed = true;
          if (!signal?.aborted) events.emit('error', { operation: 'RenewLease', error, shardId: leaseKey });
        } finally {
          this.#renewing.delete(held.token);
        }
      }),
    );
    events.emit('lease.renewal', {
      workerIdentifier,
      currentLeases: this.#held.size,
      lostLeases: lost,
      success: !failed,
      durationMs: clock.now() - started,
    });
  }

  /** Stops holding the lease silently (it was deleted on purpose, or its processor is stuck at shutdown). */
  remove(leaseKey: string): void {
    this.#held.delete(leaseKey);
  }

  /** Stops holding every lease, silently: for shutdown after release, when nobody needs telling. */
  clear(): void {
    this.#held.clear();
  }

  /** Releases the current tenure of a lease (for leases no shard consumer holds a handle of). */
  release(leaseKey: string): Promise<boolean> {
    const held = this.#held.get(leaseKey);
    return held === undefined ? Promise.resolve(false) : this.#release(leaseKey, held.token);
  }

  /**
   * One renewal: a throttled attempt is retried at once (the KCL's `RENEWAL_RETRIES`), without a backoff
   * sleep, since the lease's lock is held.
   */
  async #renew(leaseKey: string, held: Tenure, signal: AbortSignal): Promise<'renewed' | 'lost' | 'gone'> {
    const { store, clock } = this.#options;
    for (let attempt = 0; ; attempt++) {
      const current = this.#held.get(leaseKey);
      if (current?.token !== held.token) return 'gone';
      const sentAt = clock.now();
      let renewed: Lease | undefined;
      try {
        renewed = await store.renewLease(current.lease, signal);
      } catch (error) {
        if (attempt < RENEWAL_RETRIES && isThrottlingError(error) && !signal.aborted) continue;
        throw error;
      }
      if (this.#held.get(leaseKey)?.token !== held.token) return 'gone';
      if (renewed === undefined) {
        this.#drop(leaseKey, 'renewal-failed');
        return 'lost';
      }
      this.#held.set(leaseKey, { ...current, lease: renewed, lastRenewedAt: sentAt });
      return 'renewed';
    }
  }

  async #release(leaseKey: string, token: symbol): Promise<boolean> {
    if (this.#held.get(leaseKey)?.token !== token || this.#releasing.has(token)) return false;
    // No renewal or checkpoint may start after a release, even if its write fails; the one in flight finishes
    // first (the lease's lock), so the release is written at the counter it left.
    this.#releasing.add(token);
    try {
      return await this.#lock.run(leaseKey, {
        operation: 'ReleaseLease',
        timeoutMs: () => this.#callTimeoutMillis,
        write: async (signal) => {
          const held = this.#held.get(leaseKey);
          if (held?.token !== token) return false;
          this.#held.delete(leaseKey);
          return this.#writeRelease(leaseKey, held.lease, signal);
        },
      });
    } finally {
      this.#releasing.delete(token);
      if (this.#held.get(leaseKey)?.token === token) this.#held.delete(leaseKey);
    }
  }

  async #writeRelease(leaseKey: string, lease: Lease, signal: AbortSignal): Promise<boolean> {
    const { store, events, workerIdentifier, successorFor } = this.#options;
    const assignedTo = successorFor?.(lease);
    // Assigning is the release's write with an owner: conditional on this tenure's counter just the same.
    const written =
      assignedTo === undefined
        ? await store.releaseLease(lease, signal)
        : await store.takeLease(lease, assignedTo, signal);
    if (written !== undefined) {
      events.emit('lease.released', {
        leaseKey,
        workerIdentifier,
        ...(assignedTo === undefined ? {} : { assignedTo }),
      });
    }
    return written !== undefined;
  }

  async #recordChildren(
    leaseKey: string,
    token: symbol,
    childShardIds: readonly string[],
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const sorted = [...childShardIds].sort();
    await this.#options.store.updateLeaseMetaInfo(leaseKey, { childShardIds: sorted }, signal);
    const held = this.#held.get(leaseKey);
    if (held !== undefined && held.token === token) {
      this.#held.set(leaseKey, { ...held, lease: withLease(held.lease, { childShardIds: sorted }) });
    }
  }

  async #writeCheckpoint(leaseKey: string, token: symbol, state: CheckpointState): Promise<void> {
    const { store, clock, events } = this.#options;
    const notHeld = () =>
      new ShutdownError(`Cannot checkpoint ${leaseKey}: this worker no longer holds the lease`, { shardId: leaseKey });
    const tenure = this.#held.get(leaseKey);
    if (tenure?.token !== token || this.#releasing.has(token)) throw notHeld();
    const started = clock.now();
    try {
      // Revoking the tenure (the watchdog, a failed renewal) abandons the write in flight: the processor hears
      // at once that its lease is gone instead of waiting out the write's deadline.
      await this.#lock.run(leaseKey, {
        operation: 'UpdateLease',
        signal: tenure.revoke.signal,
        timeoutMs: () => this.#callTimeoutMillis,
        write: async (signal) => {
          const held = this.#held.get(leaseKey);
          if (held === undefined || held.token !== token) throw notHeld();
          const sentAt = clock.now();
          const next = await store.updateCheckpoint(held.lease, state, signal);
          if (this.#held.get(leaseKey)?.token !== token) throw notHeld();
          if (next === undefined) {
            this.#drop(leaseKey, 'checkpoint-failed');
            throw new ShutdownError(`Cannot checkpoint ${leaseKey}: the lease was taken by another worker`, {
              shardId: leaseKey,
            });
          }
          this.#held.set(leaseKey, { ...held, lease: next, lastRenewedAt: sentAt });
        },
      });
    } catch (error) {
      if (error instanceof ShutdownError) throw error;
      if (tenure.revoke.signal.aborted) throw notHeld();
      // Not a verdict on ownership (that is a failed condition, above): the lease is still held. Handed back
      // at once, not retried here: a retry would keep the lease's renewal waiting behind it.
      const throttled = isThrottlingError(error);
      throw new CheckpointError(
        throttled ? 'CHECKPOINT_THROTTLED' : 'CHECKPOINT_FAILED',
        throttled
          ? `Writing the checkpoint of ${leaseKey} was throttled; checkpoint again later`
          : `Writing the checkpoint of ${leaseKey} failed`,
        { retriable: isRetriable(error), cause: error, shardId: leaseKey },
      );
    }
    const written = state.pendingCheckpoint ?? state.checkpoint;
    events.emit('checkpoint.written', {
      shardId: leaseKey,
      sequenceNumber: written.sequenceNumber,
      subSequenceNumber: written.subSequenceNumber,
      pending: state.pendingCheckpoint !== undefined,
      durationMs: clock.now() - started,
    });
  }

  #isExpired(held: HeldLease, now: number): boolean {
    return now - held.lastRenewedAt >= this.#lifetimeMillis;
  }

  #drop(leaseKey: string, reason: LeaseLostReason): void {
    const held = this.#held.get(leaseKey);
    if (held === undefined) return;
    this.#held.delete(leaseKey);
    held.revoke.abort(reason);
    const { events, workerIdentifier, onLeaseLost } = this.#options;
    events.emit('lease.lost', { leaseKey, workerIdentifier, reason });
    onLeaseLost?.(leaseKey, reason);
  }
}
