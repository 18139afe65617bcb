/** Where and by whom a user record was delivered. */
interface Delivery {
  readonly position: string;
  readonly worker: string;
}

/** The verification summary printed at the end of the demo. */
export interface Verification {
  readonly produced: number;
  readonly acknowledged: number;
  readonly failed: number;
  readonly consumed: number;
  readonly lost: number;
  readonly lostSample: readonly number[];
  readonly duplicates: number;
  /** Why records were delivered more than once, with a count per reason. */
  readonly duplicateReasons: ReadonlyMap<string, number>;
}

/**
 * Counts what the producer acknowledged and what the consumers delivered, by record id, so the demo can prove
 * that nothing acknowledged went missing — and explain every duplicate, which at-least-once delivery allows.
 */
export class Tally {
  produced = 0;
  acknowledged = 0;
  failed = 0;
  deliveries = 0;
  readonly #acknowledged = new Set<number>();
  readonly #delivered = new Map<number, Delivery>();
  readonly #duplicateReasons = new Map<string, number>();

  recordProduced(): void {
    this.produced++;
  }

  recordAcknowledged(id: number): void {
    this.acknowledged++;
    this.#acknowledged.add(id);
  }

  recordFailed(): void {
    this.failed++;
  }

  recordDelivered(id: number, position: string, worker: string): void {
    this.deliveries++;
    const first = this.#delivered.get(id);
    if (first === undefined) {
      this.#delivered.set(id, { position, worker });
      return;
    }
    const reason =
      first.position !== position
        ? 'written twice by the producer (a PutRecords retry after an attempt that had in fact succeeded)'
        : first.worker !== worker
          ? 'read again by the worker that took over the shard (records after the last checkpoint are re-delivered)'
          : 'read again by the same worker (a batch retried after a failure)';
    this.#duplicateReasons.set(reason, (this.#duplicateReasons.get(reason) ?? 0) + 1);
  }

  /** Distinct user records delivered so far. */
  get consumed(): number {
    return this.#delivered.size;
  }

  /** Acknowledged records not delivered yet. */
  get outstanding(): number {
    let missing = 0;
    for (const id of this.#acknowledged) if (!this.#delivered.has(id)) missing++;
    return missing;
  }

  verify(): Verification {
    const lostIds: number[] = [];
    for (const id of this.#acknowledged) if (!this.#delivered.has(id)) lostIds.push(id);
    let duplicates = 0;
    for (const count of this.#duplicateReasons.values()) duplicates += count;
    return {
      produced: this.produced,
      acknowledged: this.acknowledged,
      failed: this.failed,
      consumed: this.consumed,
      lost: lostIds.length,
      lostSample: lostIds.slice(0, 10),
      duplicates,
      duplicateReasons: new Map(this.#duplicateReasons),
    };
  }
}
