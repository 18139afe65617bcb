import { setMaxListeners } from 'node:events';
import type { TypedEventEmitter } from '@kinesis-kit/core';
import type { ConsumerEvents } from '../../src/events.js';
import { renewIntervalMillis, takeIntervalMillis } from '../../src/leases/lease-coordinator.js';
import { LeaseRenewer } from '../../src/leases/lease-renewer.js';
import { LeaseTaker } from '../../src/leases/lease-taker.js';
import type { SeededRandom } from './seeded-random.js';
import type { SimClock } from './sim-clock.js';
import type { SimTable } from './sim-table.js';

/**
 * `kinesis-kit`: this project's lease code with its defaults. `java-kcl-2x`: a worker following the Java KCL
 * 2.x rules (the same decision code in its KCL 2.x mode, takes one at a time, keeps its leases on shutdown),
 * to check that a mixed fleet still converges.
 */
export type SimWorkerKind = 'kinesis-kit' | 'java-kcl-2x';

export interface SimWorkerOptions {
  readonly workerIdentifier: string;
  readonly kind: SimWorkerKind;
  readonly clock: SimClock;
  readonly table: SimTable;
  readonly random: SeededRandom;
  readonly events: TypedEventEmitter<ConsumerEvents>;
  readonly failoverTimeMillis: number;
  readonly epsilonMillis: number;
}

/**
 * One simulated worker: the consumer's real {@link LeaseRenewer} and {@link LeaseTaker} on the simulated
 * clock and table, driven by the KCL's two timers (renew at a fixed rate of failover / 3 − ε, take with a
 * fixed delay of (failover + ε) × 2, the first take at once). Shard consumers are not simulated: a lease
 * counts as served while its worker holds it.
 */
export class SimWorker {
  readonly workerIdentifier: string;
  readonly kind: SimWorkerKind;
  readonly renewer: LeaseRenewer;
  readonly taker: LeaseTaker;
  readonly #options: SimWorkerOptions;
  readonly #renewing = new AbortController();
  readonly #taking = new AbortController();
  #state: 'new' | 'running' | 'gone' = 'new';

  constructor(options: SimWorkerOptions) {
    this.#options = options;
    // Every lease call in flight listens on these signals: thousands at once is expected, not a leak.
    setMaxListeners(0, this.#renewing.signal, this.#taking.signal);
    this.workerIdentifier = options.workerIdentifier;
    this.kind = options.kind;
    const store = options.table.storeFor(options.workerIdentifier);
    const common = {
      store,
      workerIdentifier: options.workerIdentifier,
      failoverTimeMillis: options.failoverTimeMillis,
      clock: options.clock,
      events: options.events,
    };
    this.renewer = new LeaseRenewer({ ...common, onLeaseLost: () => {} });
    this.taker = new LeaseTaker({
      ...common,
      renewer: this.renewer,
      maxLeasesForWorker: Number.POSITIVE_INFINITY,
      maxLeasesToStealAtOneTime: 1,
      enablePriorityLeaseAssignment: true,
      balancing: options.kind === 'java-kcl-2x' ? 'kcl-2x' : 'fair-share',
      onLeaseAcquired: () => {},
      shuffle: (items) => options.random.shuffle(items),
      random: () => options.random.next(),
    });
  }

  get alive(): boolean {
    return this.#state === 'running';
  }

  /** Re-acquires leases already owned under this id, then starts both timers. */
  async start(): Promise<void> {
    this.#state = 'running';
    try {
      await this.renewer.initialize(this.#renewing.signal);
    } catch {
      // A throttled start scan: the taker picks the leases up instead.
    }
    const { failoverTimeMillis, epsilonMillis } = this.#options;
    void this.#fixedRate(renewIntervalMillis(failoverTimeMillis, epsilonMillis), this.#renewing.signal, (s) =>
      this.renewer.renewLeases(s),
    );
    void this.#fixedDelay(takeIntervalMillis(failoverTimeMillis, epsilonMillis), this.#taking.signal, async (s) => {
      await this.taker.takeLeases(s);
    });
  }

  /** The process dies: timers stop, nothing is written, its leases expire in the table. */
  crash(): void {
    this.#state = 'gone';
    this.#taking.abort();
    this.#renewing.abort();
    this.renewer.clear();
  }

  /**
   * Graceful shutdown. Ours stops taking and hands every lease back (free at once for peers); a Java KCL 2.x
   * worker just stops, and its leases expire.
   */
  async leave(): Promise<void> {
    this.#taking.abort();
    if (this.kind === 'kinesis-kit') {
      // As the consumer's shutdown: hand the leases back, then stop being counted.
      await Promise.all(
        this.renewer.heldLeases().map((lease) => this.renewer.release(lease.leaseKey).catch(() => false)),
      );
      await this.taker.removeHeartbeat().catch(() => undefined);
    }
    this.crash();
  }

  async #fixedRate(interval: number, signal: AbortSignal, round: (signal: AbortSignal) => Promise<void>) {
    const clock = this.#options.clock;
    let next = clock.now() + interval;
    while (!signal.aborted) {
      if (!(await sleep(clock, next - clock.now(), signal))) return;
      await round(signal).catch(() => undefined);
      next = Math.max(next + interval, clock.now());
    }
  }

  async #fixedDelay(interval: number, signal: AbortSignal, round: (signal: AbortSignal) => Promise<void>) {
    const clock = this.#options.clock;
    while (!signal.aborted) {
      await round(signal).catch(() => undefined);
      if (!(await sleep(clock, interval, signal))) return;
    }
  }
}

async function sleep(clock: SimClock, ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await clock.sleep(Math.max(0, ms), signal);
    return true;
  } catch {
    return false;
  }
}
