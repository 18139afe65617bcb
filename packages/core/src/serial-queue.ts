/**
 * Runs tasks one at a time, in the order they were given: each starts when the one before it has settled.
 * A task that fails rejects its own promise only; the queue goes on with the next.
 *
 * For writes that must not overtake each other, such as two checkpoints of one shard (the later position must
 * be the one that lands) or the renewal and the release of one lease.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;

  /** Tasks queued or running. */
  get pending(): number {
    return this.#pending;
  }

  /** Queues `task`; resolves or rejects as it does, once every task queued before it has settled. */
  run<T>(task: () => Promise<T> | T): Promise<T> {
    this.#pending++;
    const settled = () => {
      this.#pending--;
    };
    const run = this.#tail.then(() => task());
    run.then(settled, settled);
    this.#tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Resolves once every task queued so far has settled (later ones are not waited for). Never rejects. */
  onIdle(): Promise<void> {
    return this.#tail.then(() => undefined);
  }
}

/**
 * One {@link SerialQueue} per key: tasks of one key run one at a time, tasks of different keys run side by side.
 * A key's queue is dropped once it drains, so keys that come and go (leases, shards) leave nothing behind.
 */
export class KeyedSerialQueue<K> {
  readonly #queues = new Map<K, SerialQueue>();

  /** Keys with a task queued or running. */
  get size(): number {
    return this.#queues.size;
  }

  /** Queues `task` behind the other tasks of `key`. */
  run<T>(key: K, task: () => Promise<T> | T): Promise<T> {
    let queue = this.#queues.get(key);
    if (queue === undefined) {
      queue = new SerialQueue();
      this.#queues.set(key, queue);
    }
    const run = queue.run(task);
    const drop = () => {
      if (this.#queues.get(key) === queue && queue.pending === 0) this.#queues.delete(key);
    };
    run.then(drop, drop);
    return run;
  }
}
