/**
 * A token bucket on an injected millisecond clock: `ratePerSecond` tokens flow in, at most `capacity` are
 * kept. {@link TokenBucket.charge} may drive it below zero, which is how a read that returned more than the
 * budget keeps the shard throttled until the debt is paid, as the service does after a large GetRecords.
 */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #capacity: number;
  #tokens: number;
  #updatedAt: number;

  constructor(ratePerSecond: number, capacity: number, now: number) {
    if (!(ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be > 0, got ${ratePerSecond}`);
    if (!(capacity > 0)) throw new RangeError(`capacity must be > 0, got ${capacity}`);
    this.#ratePerMs = ratePerSecond / 1000;
    this.#capacity = capacity;
    this.#tokens = capacity;
    this.#updatedAt = now;
  }

  /** Tokens available at `now` (negative while in debt). */
  available(now: number): number {
    this.#refill(now);
    return this.#tokens;
  }

  /** Takes `amount` tokens if that many are there; otherwise takes nothing and answers false. */
  tryTake(amount: number, now: number): boolean {
    this.#refill(now);
    if (this.#tokens < amount) return false;
    this.#tokens -= amount;
    return true;
  }

  /** Takes `amount` tokens whatever is left, possibly going into debt. */
  charge(amount: number, now: number): void {
    this.#refill(now);
    this.#tokens -= amount;
  }

  #refill(now: number): void {
    const elapsed = now - this.#updatedAt;
    if (elapsed <= 0) return;
    this.#tokens = Math.min(this.#capacity, this.#tokens + elapsed * this.#ratePerMs);
    this.#updatedAt = now;
  }
}
