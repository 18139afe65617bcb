import { type Clock, callWithTimeout, retry } from '@kinesis-kit/core';
import { LEASE_WATCHDOG_INTERVAL_MILLIS } from '../defaults.js';
import type { ConsumerEventEmitter } from '../events.js';
import type { Lease } from './lease.js';
import type { LeaseHandle } from './lease-handle.js';
import { LeaseHandover } from './lease-handover.js';
import { LeaseRenewer } from './lease-renewer.js';
import type { LeaseStore } from './lease-store.js';
import { type LeaseBalancing, LeaseTaker } from './lease-taker.js';

/** Options of a {@link LeaseCoordinator}. */
export interface LeaseCoordinatorOptions {
  readonly store: LeaseStore;
  readonly workerIdentifier: string;
  readonly failoverTimeMillis: number;
  readonly epsilonMillis: number;
  readonly maxLeasesForWorker: number;
  readonly maxLeasesToStealAtOneTime: number;
  readonly enablePriorityLeaseAssignment: boolean;
  /** Passed to the {@link LeaseTaker}. @defaultValue 'fair-share' */
  readonly balancing?: LeaseBalancing;
  /** Period of the taker's scan-and-take round. @defaultValue {@link takeIntervalMillis} (the KCL's) */
  readonly leaseScanIntervalMillis?: number;
  /** Period of the owner-index query that finds leases handed over to this worker; 0: no hand-over. @defaultValue 0 */
  readonly leaseDiscoveryIntervalMillis?: number;
  readonly clock: Clock;
  readonly events: ConsumerEventEmitter;
  /**
   * Called with the handle of each lease taken or re-acquired. The handle's `lost` signal aborts when the
   * lease is lost, so whoever processes the shard stops on it.
   */
  readonly onLeaseAcquired: (handle: LeaseHandle) => void;
}

/** The renew period: failover / 3 − epsilon, so two renewals can fail before peers see the lease expire. */
export function renewIntervalMillis(failoverTimeMillis: number, epsilonMillis: number): number {
  return Math.max(1, Math.floor(failoverTimeMillis / 3 - epsilonMillis));
}

/** The taker period: (failover + epsilon) × 2, long enough for an expiry to be observed between scans. */
export function takeIntervalMillis(failoverTimeMillis: number, epsilonMillis: number): number {
  return (failoverTimeMillis + epsilonMillis) * 2;
}

/**
 * The watchdog period, which is also its margin: every second as the KCL's scheduler (at the default failover
 * time of 10 s), but at most a tenth of the failover time, so a short failover time still leaves renewals most
 * of it before the lease is given up.
 */
export function watchdogIntervalMillis(failoverTimeMillis: number): number {
  return Math.max(1, Math.min(LEASE_WATCHDOG_INTERVAL_MILLIS, Math.floor(failoverTimeMillis / 10)));
}

/** Attempts at re-acquiring this worker's own leases when it starts. */
const INITIALIZE_ATTEMPTS = 5;

/**
 * Holds this worker's leases: runs the renewer at a fixed rate, the taker with a fixed delay (one round at a
 * time, whoever asks), with the KCL 2.x periods, and a watchdog that gives up any lease not renewed for the
 * failover time less a margin, whatever call is in flight. Each lease taken is handed out as one
 * {@link LeaseHandle}. Every loop runs on the injected clock and is cancelled by `stop()`; a failing round is
 * reported as an `error` event and the loop goes on.
 */
export class LeaseCoordinator {
  readonly #renewer: LeaseRenewer;
  readonly #taker: LeaseTaker;
  readonly #handover: LeaseHandover | undefined;
  readonly #options: LeaseCoordinatorOptions;
  readonly #renewController = new AbortController();
  readonly #takeController = new AbortController();
  #loops: Promise<void>[] = [];
  readonly #renewRounds = new Set<Promise<void>>();
  /** The last taker round asked for; rounds run one after another, never side by side. */
  #takeQueue: Promise<void> = Promise.resolve();
  /** A round asked for that has not started yet: a further ask joins it. */
  #takePending: Promise<void> | undefined;

  constructor(options: LeaseCoordinatorOptions) {
    this.#options = options;
    const { failoverTimeMillis, epsilonMillis } = options;
    this.#renewer = new LeaseRenewer({
      ...options,
      expiryMarginMillis: watchdogIntervalMillis(failoverTimeMillis),
      // A checkpoint or release may take up to one renew interval: a hung one delays the lease's renewal by at most that.
      callTimeoutMillis: renewIntervalMillis(failoverTimeMillis, epsilonMillis),
      successorFor: (lease) => this.#handover?.successorFor(lease),
    });
    this.#taker = new LeaseTaker({
      ...options,
      // Each taker round writes this worker's heartbeat, so peers' heartbeats are judged against the round.
      heartbeatIntervalMillis: options.leaseScanIntervalMillis ?? takeIntervalMillis(failoverTimeMillis, epsilonMillis),
      renewer: this.#renewer,
      onLeaseAcquired: (lease, token) => options.onLeaseAcquired(this.#renewer.handle(lease.leaseKey, token)),
    });
    this.#handover =
      (options.leaseDiscoveryIntervalMillis ?? 0) > 0
        ? new LeaseHandover({
            ...options,
            renewer: this.#renewer,
            lastScan: () => this.#taker.lastScan(),
            isLeaving: () => this.#takeController.signal.aborted,
            onLeaseAcquired: (lease, token) => options.onLeaseAcquired(this.#renewer.handle(lease.leaseKey, token)),
          })
        : undefined;
  }

  get renewIntervalMillis(): number {
    return renewIntervalMillis(this.#options.failoverTimeMillis, this.#options.epsilonMillis);
  }

  get takeIntervalMillis(): number {
    return (
      this.#options.leaseScanIntervalMillis ??
      takeIntervalMillis(this.#options.failoverTimeMillis, this.#options.epsilonMillis)
    );
  }

  get watchdogIntervalMillis(): number {
    return watchdogIntervalMillis(this.#options.failoverTimeMillis);
  }

  /** Re-acquires this worker's own leases, then starts the loops (the first take runs at once). */
  async start(): Promise<void> {
    // A transient failure (a throttled or timed-out scan) must not fail the worker's start; a repeat is safe,
    // because renewing a lease renewed by the failed attempt just renews it again.
    const own = await retry(({ signal }) => this.#renewer.initialize(signal), {
      maxAttempts: INITIALIZE_ATTEMPTS,
      clock: this.#options.clock,
      signal: this.#renewController.signal,
      onRetry: ({ error }) => this.#options.events.emit('error', { operation: 'InitializeLeases', error }),
    });
    for (const lease of own) {
      const held = this.#renewer.held(lease.leaseKey);
      if (held === undefined) continue;
      this.#options.events.emit('lease.acquired', {
        leaseKey: lease.leaseKey,
        workerIdentifier: this.#options.workerIdentifier,
        previousOwner: this.#options.workerIdentifier,
        stolen: false,
      });
      this.#options.onLeaseAcquired(this.#renewer.handle(lease.leaseKey, held.token));
    }
    const renewSignal = this.#renewController.signal;
    this.#loops = [
      // Not awaited: a round whose renewals are slow must not hold up the next (the renewer skips leases whose
      // renewal is still in flight).
      this.#fixedRate(this.renewIntervalMillis, renewSignal, 'RenewAllLeases', async (s) => {
        const round = this.#guard('RenewAllLeases', s, (signal) => this.#renewer.renewLeases(signal));
        this.#renewRounds.add(round);
        void round.then(() => this.#renewRounds.delete(round));
      }),
      this.#fixedRate(this.watchdogIntervalMillis, renewSignal, 'LeaseWatchdog', async () => {
        this.#renewer.expireOverdue();
      }),
      this.#takeLoop(),
    ];
    const handover = this.#handover;
    if (handover !== undefined) {
      // Bounded by the renew interval: a hung call must not stop this worker finding leases for a minute (the
      // DynamoDB request timeout). An adoption abandoned after its write landed is found and adopted again.
      const discover = async (s: AbortSignal) => {
        await callWithTimeout((signal) => handover.discover(signal), {
          operation: 'DiscoverLeases',
          timeoutMs: this.renewIntervalMillis,
          clock: this.#options.clock,
          signal: s,
        });
      };
      // At once (a worker leaving soon after it started must know whether the table has the owner index), then on
      // the cadence; under the renew signal, not the take one: a leaving worker still passes on what it is given.
      this.#loops.push(
        this.#guard('DiscoverLeases', renewSignal, discover).then(() =>
          this.#fixedRate(this.#options.leaseDiscoveryIntervalMillis ?? 0, renewSignal, 'DiscoverLeases', discover),
        ),
      );
    }
  }

  /**
   * Runs a taker round soon (besides the schedule), to pick up released or new leases quickly. Rounds never run
   * side by side: this one runs after the round in progress, and joins a round already waiting to start, so
   * no two rounds decide on the same scan and steal past `maxLeasesToStealAtOneTime`.
   */
  takeNow(): Promise<void> {
    return this.#takeRound();
  }

  /** Stops taking new leases; renewals go on (graceful shutdown still holds its leases). */
  stopTaking(): void {
    this.#takeController.abort();
  }

  /**
   * Stops taking, waits for a round in flight (so it cannot write the heartbeat again) and deletes this worker's
   * heartbeat, so peers stop counting it at their next round instead of after the heartbeat expiry. Bounded by
   * one renew interval, as a release is: a hung delete must not hold up a shutdown; the heartbeat then expires.
   * A failure is reported as an `error` event, never thrown.
   */
  async removeHeartbeat(): Promise<void> {
    this.#takeController.abort();
    await this.#takeQueue;
    try {
      await callWithTimeout((signal) => this.#taker.removeHeartbeat(signal), {
        operation: 'RemoveWorkerHeartbeat',
        timeoutMs: this.renewIntervalMillis,
        clock: this.#options.clock,
      });
    } catch (error) {
      this.#options.events.emit('error', { operation: 'RemoveWorkerHeartbeat', error });
    }
  }

  /** Stops every loop, waits for the rounds in flight, and stops holding every lease (silently). */
  async stop(): Promise<void> {
    this.#takeController.abort();
    this.#renewController.abort();
    await Promise.all([...this.#loops, this.#takeQueue]);
    await Promise.all(this.#renewRounds);
    this.#renewer.clear();
  }

  /** The leases held and not locally expired. */
  heldLeases(): Lease[] {
    return this.#renewer.heldLeases();
  }

  /** Hands a held lease back (graceful shutdown of a lease no shard consumer holds a handle of). */
  release(leaseKey: string): Promise<boolean> {
    return this.#renewer.release(leaseKey);
  }

  /**
   * Stops holding a lease without a write and without telling anyone: it was deleted on purpose, or its
   * processor is stuck at shutdown and the lease must expire as after a crash.
   */
  forget(leaseKey: string): void {
    this.#handover?.ignore(leaseKey);
    this.#renewer.remove(leaseKey);
  }

  async #takeLoop(): Promise<void> {
    const signal = this.#takeController.signal;
    while (!signal.aborted) {
      await this.#takeRound();
      if (!(await this.#sleep(this.takeIntervalMillis, signal))) return;
    }
  }

  #takeRound(): Promise<void> {
    if (this.#takePending !== undefined) return this.#takePending;
    const signal = this.#takeController.signal;
    const round = this.#takeQueue.then(async () => {
      this.#takePending = undefined;
      if (signal.aborted) return;
      await this.#guard('TakeLeases', signal, async (s) => {
        await this.#taker.takeLeases(s);
      });
    });
    this.#takePending = round;
    this.#takeQueue = round;
    return round;
  }

  async #fixedRate(
    interval: number,
    signal: AbortSignal,
    operation: string,
    round: (signal: AbortSignal) => Promise<void>,
  ): Promise<void> {
    const { clock } = this.#options;
    let next = clock.now() + interval;
    while (!signal.aborted) {
      if (!(await this.#sleep(next - clock.now(), signal))) return;
      await this.#guard(operation, signal, round);
      // Fixed rate, but never a burst of catch-up rounds after a stall.
      next = Math.max(next + interval, clock.now());
    }
  }

  async #guard(operation: string, signal: AbortSignal, round: (signal: AbortSignal) => Promise<void>): Promise<void> {
    try {
      await round(signal);
    } catch (error) {
      if (!signal.aborted) this.#options.events.emit('error', { operation, error });
    }
  }

  /** Sleeps; resolves false if aborted instead of rejecting, so loops end without unhandled rejections. */
  async #sleep(ms: number, signal: AbortSignal): Promise<boolean> {
    try {
      await this.#options.clock.sleep(Math.max(0, ms), signal);
      return true;
    } catch {
      return false;
    }
  }
}
