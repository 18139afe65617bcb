import { shuffled } from '../../src/leases/lease-taker.js';
/**
 * Seeded randomness for the fleet simulator (mulberry32): the same seed gives the same run, so a CI bound
 * that fails can be replayed exactly.
 */
export class SeededRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** A shuffled copy (Fisher–Yates), the shape the lease taker's `shuffle` takes. */
  shuffle<T>(items: readonly T[]): T[] {
    return shuffled(items, () => this.next());
  }
}
