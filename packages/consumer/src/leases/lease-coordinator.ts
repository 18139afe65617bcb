import { type Clock, retry } from '@kinesis-kit/core';
import type { CheckpointWriter } from '../checkpointer.js';
import type { ConsumerEventEmitter, LeaseLostReason } from '../events.js';
import type { Lease } from './lease.js';
import { type HeldLease, LeaseRenewer } from './lease-renewer.js';
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
  readonly clock: Clock;
  readonly events: ConsumerEventEmitter;
  readonly onLeaseAcquired: (lease: Lease, token: symbol) => void;
  readonly onLeaseLost: (leaseKey: string, reason: LeaseLostReason) => void;
}

/** The renew period: failover / 3 − epsilon, so two renewals can fail before peers see the lease expire. */
export function renewIntervalMillis(failoverTimeMillis: number, epsilonMillis: number): number {
  return Math.max(1, Math.floor(failoverTimeMillis / 3 - epsilonMillis));
}

/** The taker period: (failover + epsilon) × 2, long enough for an expiry to be observed between scans. */
export function takeIntervalMillis(failoverTimeMillis: number, epsilonMillis: number): number {
  return (failoverTimeMillis + epsilonMillis) * 2;
}

/** Attempts at re-acquiring this worker's own leases when it starts. */
const INITIALIZE_ATTEMPTS = 5;

/**
 * Runs the renewer at a fixed rate and the taker with a fixed delay, with the KCL 2.x periods, on the
 * injected clock. Every loop is cancelled by `stop()`; a failing round is reported as an `error` event and
 * the loop goes on.
 */
export class LeaseCoordinator {
  readonly renewer: LeaseRenewer;
  readonly taker: LeaseTaker;
  readonly #options: LeaseCoordinatorOptions;
  readonly #renewController = new AbortController();
  readonly #takeController = new AbortController();
  #loops: Promise<void>[] = [];

  constructor(options: LeaseCoordinatorOptions) {
    this.#options = options;
    this.renewer = new LeaseRenewer({ ...options, onLeaseLost: options.onLeaseLost });
    this.taker = new LeaseTaker({ ...options, renewer: this.renewer, onLeaseAcquired: options.onLeaseAcquired });
  }

  get renewIntervalMillis(): number {
    return renewIntervalMillis(this.#options.failoverTimeMillis, this.#options.epsilonMillis);
  }

  get takeIntervalMillis(): number {
    return takeIntervalMillis(this.#options.failoverTimeMillis, this.#options.epsilonMillis);
  }

  /** Re-acquires this worker's own leases, then starts the loops (the first take runs at once). */
  async start(): Promise<void> {
    // A transient failure (a throttled or timed-out scan) must not fail the worker's start; a repeat is safe,
    // because renewing a lease renewed by the failed attempt just renews it again.
    const own = await retry(({ signal }) => this.renewer.initialize(signal), {
      maxAttempts: INITIALIZE_ATTEMPTS,
      clock: this.#options.clock,
      signal: this.#renewController.signal,
      onRetry: ({ error }) => this.#options.events.emit('error', { operation: 'InitializeLeases', error }),
    });
    for (const lease of own) {
      const held = this.renewer.held(lease.leaseKey);
      if (held === undefined) continue;
      this.#options.events.emit('lease.acquired', {
        leaseKey: lease.leaseKey,
        workerIdentifier: this.#options.workerIdentifier,
        previousOwner: this.#options.workerIdentifier,
        stolen: false,
      });
      this.#options.onLeaseAcquired(held.lease, held.token);
    }
    this.#loops = [
      this.#fixedRate(this.renewIntervalMillis, this.#renewController.signal, 'RenewAllLeases', (s) =>
        this.renewer.renewLeases(s),
      ),
      this.#fixedDelay(this.takeIntervalMillis, this.#takeController.signal, 'TakeLeases', async (s) => {
        await this.taker.takeLeases(s);
      }),
    ];
  }

  /** Runs a taker round now (besides the schedule); used to pick up released leases quickly. */
  async takeNow(): Promise<void> {
    if (this.#takeController.signal.aborted) return;
    try {
      await this.taker.takeLeases(this.#takeController.signal);
    } catch (error) {
      if (!this.#takeController.signal.aborted) this.#options.events.emit('error', { operation: 'TakeLeases', error });
    }
  }

  /** Stops taking new leases; renewals go on (graceful shutdown still holds its leases). */
  stopTaking(): void {
    this.#takeController.abort();
  }

  /** Stops every loop and waits for the rounds in flight. */
  async stop(): Promise<void> {
    this.#takeController.abort();
    this.#renewController.abort();
    await Promise.all(this.#loops);
  }

  held(leaseKey: string): HeldLease | undefined {
    return this.renewer.held(leaseKey);
  }

  heldLeases(): Lease[] {
    return this.renewer.heldLeases();
  }

  checkpointWriter(leaseKey: string, token: symbol): CheckpointWriter {
    return this.renewer.checkpointWriter(leaseKey, token);
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

  async #fixedDelay(
    interval: number,
    signal: AbortSignal,
    operation: string,
    round: (signal: AbortSignal) => Promise<void>,
  ): Promise<void> {
    while (!signal.aborted) {
      await this.#guard(operation, signal, round);
      if (!(await this.#sleep(interval, signal))) return;
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
