import { AbortError, type Clock } from '@kinesis-kit/core';

interface Timer {
  readonly dueAt: number;
  readonly order: number;
  readonly wake: () => void;
  cancelled: boolean;
}

/**
 * Simulated time for the fleet simulator: a {@link Clock} whose `sleep` only resolves when {@link run} moves
 * time forward. Unlike core's `ManualClock` (a list scanned per wake-up, fine for a few sleepers) it keeps
 * timers in a binary heap, because a fleet of 500 workers renewing 10,000 leases has tens of thousands of
 * sleepers at once. Timers due at the same millisecond wake in the order they were set.
 */
export class SimClock implements Clock {
  #now: number;
  #nextOrder = 0;
  readonly #heap: Timer[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new AbortError('The wait was aborted', { cause: signal.reason }));
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        timer.cancelled = true;
        reject(new AbortError('The wait was aborted', { cause: signal?.reason }));
      };
      const timer: Timer = {
        dueAt: this.#now + ms,
        order: this.#nextOrder++,
        wake: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        cancelled: false,
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#push(timer);
    });
  }

  /**
   * Moves time to `until`, waking timers earliest first; after each millisecond's timers it lets every
   * continuation they started run (one macrotask turn drains the microtask queue), so code reacting to a
   * wake-up acts before later timers fire. `onTick` runs whenever time moves past a multiple of `tickMs`.
   */
  async run(until: number, tick?: { everyMs: number; onTick: (now: number) => void }): Promise<void> {
    let nextTick = tick === undefined ? Number.POSITIVE_INFINITY : Math.ceil(this.#now / tick.everyMs) * tick.everyMs;
    for (;;) {
      // Code started since the last wake-up may be a few promise turns away from its first sleep.
      if (this.#peek() === undefined) await drain();
      const head = this.#peek();
      const dueAt = head === undefined ? until : Math.min(head.dueAt, until);
      while (tick !== undefined && nextTick <= dueAt) {
        this.#now = Math.max(this.#now, nextTick);
        tick.onTick(nextTick);
        nextTick += tick.everyMs;
      }
      if (head === undefined || head.dueAt > until) break;
      this.#now = Math.max(this.#now, head.dueAt);
      while (this.#peek()?.dueAt === head.dueAt) {
        const timer = this.#pop();
        if (timer !== undefined && !timer.cancelled) timer.wake();
      }
      await drain();
    }
    this.#now = Math.max(this.#now, until);
  }

  #peek(): Timer | undefined {
    for (;;) {
      const head = this.#heap[0];
      if (head === undefined || !head.cancelled) return head;
      this.#pop();
    }
  }

  #push(timer: Timer): void {
    const heap = this.#heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(timer, heap[parent] as Timer)) break;
      heap[i] = heap[parent] as Timer;
      i = parent;
    }
    heap[i] = timer;
  }

  #pop(): Timer | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right] as Timer, heap[left] as Timer) ? right : left;
      if (!before(heap[child] as Timer, last)) break;
      heap[i] = heap[child] as Timer;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.order < b.order);
}

function drain(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
