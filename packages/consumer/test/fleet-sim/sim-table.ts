import type { Clock } from '@kinesis-kit/core';
import type { CheckpointState } from '../../src/checkpointer.js';
import { InMemoryLeaseStore } from '../../src/leases/in-memory-lease-store.js';
import type { Lease } from '../../src/leases/lease.js';
import type { LeaseMetaInfo, LeaseStore } from '../../src/leases/lease-store.js';
import type { SeededRandom } from './seeded-random.js';

/** How the simulated DynamoDB table answers. */
export interface SimTableOptions {
  readonly clock: Clock;
  readonly random: SeededRandom;
  /** Each call takes a uniformly drawn latency in this range (ms). @defaultValue [5, 20] */
  readonly latencyMs?: readonly [number, number];
  /**
   * Table-wide write request units per second before calls are throttled. A new on-demand table serves up to
   * 4,000 WRU/s and 12,000 RRU/s at once (AWS "initial throughput for on-demand capacity mode").
   * @defaultValue 4000
   */
  readonly writeUnitsPerSecond?: number;
  /** @defaultValue 12000 */
  readonly readUnitsPerSecond?: number;
  /** Bytes of one lease item, for scan pages and read units. @defaultValue 300 */
  readonly itemBytes?: number;
  /** Whether the store keeps worker heartbeats (the DynamoDB store does not yet). @defaultValue true */
  readonly workerHeartbeats?: boolean;
}

/** What one worker cost the table. Units are DynamoDB request units; calls are requests. */
export interface WorkerMeter {
  readCalls: number;
  readUnits: number;
  writeCalls: number;
  writeUnits: number;
  failedConditionalWrites: number;
  throttledCalls: number;
}

const SCAN_PAGE_BYTES = 1_048_576;
/** A heartbeat row: worker id and counter. */
const HEARTBEAT_ITEM_BYTES = 80;

/** The error DynamoDB returns when a table is throttled; core's classifier treats it as throttling. */
export class SimThrottlingError extends Error {
  override readonly name = 'ProvisionedThroughputExceededException';
}

/**
 * A simulated lease table: the project's {@link InMemoryLeaseStore} (the real conditional-write semantics)
 * behind per-call latency drawn from a seeded generator, a paginated scan (1 MB pages, each page a call that
 * sees the table as it is when that page is read), table-wide throttling per second, and a meter per worker.
 * Each worker gets its own {@link LeaseStore} view from {@link storeFor}, so calls are charged to it.
 */
export class SimTable {
  readonly leases = new InMemoryLeaseStore();
  readonly #options: Required<SimTableOptions>;
  readonly #meters = new Map<string, WorkerMeter>();
  #second = -1;
  #writeUnitsThisSecond = 0;
  #readUnitsThisSecond = 0;

  constructor(options: SimTableOptions) {
    this.#options = {
      latencyMs: [5, 20],
      writeUnitsPerSecond: 4_000,
      readUnitsPerSecond: 12_000,
      itemBytes: 300,
      workerHeartbeats: true,
      ...options,
    };
  }

  /** Every worker's meter, by worker id. */
  get meters(): ReadonlyMap<string, WorkerMeter> {
    return this.#meters;
  }

  meter(workerIdentifier: string): WorkerMeter {
    let meter = this.#meters.get(workerIdentifier);
    if (meter === undefined) {
      meter = {
        readCalls: 0,
        readUnits: 0,
        writeCalls: 0,
        writeUnits: 0,
        failedConditionalWrites: 0,
        throttledCalls: 0,
      };
      this.#meters.set(workerIdentifier, meter);
    }
    return meter;
  }

  /** The table as the given worker sees it: every call metered and delayed. */
  storeFor(workerIdentifier: string): LeaseStore {
    const meter = this.meter(workerIdentifier);
    const leases = this.leases;
    const heartbeats = this.leases.workerHeartbeats;
    const write = <T>(op: () => Promise<T>, conditional: (result: T) => boolean, signal?: AbortSignal) =>
      this.#call(meter, 'write', 1, signal, async () => {
        const result = await op();
        if (!conditional(result)) meter.failedConditionalWrites++;
        return result;
      });
    const changed = (lease: Lease | undefined): boolean => lease !== undefined;
    return {
      initialize: async () => {},
      listLeases: (signal) => this.#scan(meter, signal),
      getLease: (leaseKey, signal) => this.#call(meter, 'read', 0.5, signal, () => leases.getLease(leaseKey)),
      createLeaseIfNotExists: (lease, signal) => write(() => leases.createLeaseIfNotExists(lease), Boolean, signal),
      renewLease: (lease, signal) => write(() => leases.renewLease(lease), changed, signal),
      takeLease: (lease, owner, signal) => write(() => leases.takeLease(lease, owner), changed, signal),
      releaseLease: (lease, signal) => write(() => leases.releaseLease(lease), changed, signal),
      updateCheckpoint: (lease: Lease, state: CheckpointState, signal?: AbortSignal) =>
        write(() => leases.updateCheckpoint(lease, state), changed, signal),
      updateLeaseMetaInfo: (leaseKey: string, info: LeaseMetaInfo, signal?: AbortSignal) =>
        write(
          () => leases.updateLeaseMetaInfo(leaseKey, info),
          () => true,
          signal,
        ),
      // A separate table in DynamoDB (see WorkerHeartbeat); simulated beside the leases, metered alike.
      workerHeartbeats: !this.#options.workerHeartbeats
        ? undefined
        : {
            heartbeat: (workerIdentifier, signal) =>
              this.#call(meter, 'write', 1, signal, () => heartbeats.heartbeat(workerIdentifier)),
            listHeartbeats: async (signal) => {
              const rows = await heartbeats.listHeartbeats();
              const units = Math.max(0.5, Math.ceil((rows.length * HEARTBEAT_ITEM_BYTES) / 4096) / 2);
              return this.#call(meter, 'read', units, signal, () => heartbeats.listHeartbeats());
            },
            removeHeartbeat: (workerIdentifier, signal) =>
              this.#call(meter, 'write', 1, signal, () => heartbeats.removeHeartbeat(workerIdentifier)),
          },
      deleteLease: (leaseKey, signal) =>
        write(
          () => leases.deleteLease(leaseKey),
          () => true,
          signal,
        ),
    };
  }

  async #scan(meter: WorkerMeter, signal?: AbortSignal): Promise<Lease[]> {
    const perPage = Math.max(1, Math.floor(SCAN_PAGE_BYTES / this.#options.itemBytes));
    const out: Lease[] = [];
    // Pages follow the key order the scan started with, as DynamoDB pages by key; each page shows the table
    // as it is when that page is read.
    const keys = (await this.leases.listLeases()).map((l) => l.leaseKey);
    for (let page = 0; page === 0 || page * perPage < keys.length; page++) {
      const slice = keys.slice(page * perPage, (page + 1) * perPage);
      // Eventually consistent reads: half a unit per 4 KB read.
      const units = Math.max(0.5, Math.ceil((slice.length * this.#options.itemBytes) / 4096) / 2);
      await this.#call(meter, 'read', units, signal, async () => {
        for (const key of slice) {
          const lease = await this.leases.getLease(key);
          if (lease !== undefined) out.push(lease);
        }
      });
    }
    return out;
  }

  async #call<T>(
    meter: WorkerMeter,
    kind: 'read' | 'write',
    units: number,
    signal: AbortSignal | undefined,
    op: () => Promise<T>,
  ): Promise<T> {
    const [min, max] = this.#options.latencyMs;
    await this.#options.clock.sleep(this.#options.random.int(min, max), signal);
    const second = Math.floor(this.#options.clock.now() / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#writeUnitsThisSecond = 0;
      this.#readUnitsThisSecond = 0;
    }
    if (kind === 'write') {
      meter.writeCalls++;
      // Throttled requests are not charged.
      if (this.#writeUnitsThisSecond + units > this.#options.writeUnitsPerSecond) {
        meter.throttledCalls++;
        throw new SimThrottlingError('The level of configured provisioned throughput for the table was exceeded');
      }
      meter.writeUnits += units;
      this.#writeUnitsThisSecond += units;
    } else {
      meter.readCalls++;
      if (this.#readUnitsThisSecond + units > this.#options.readUnitsPerSecond) {
        meter.throttledCalls++;
        throw new SimThrottlingError('The level of configured provisioned throughput for the table was exceeded');
      }
      meter.readUnits += units;
      this.#readUnitsThisSecond += units;
    }
    return op();
  }
}
