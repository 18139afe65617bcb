import { AbortError } from '@kinesis-kit/core';
import type { ExtendedSequenceNumber } from '../extended-sequence-number.js';
import type { RecordsBatch, RecordsFetcher } from './records-fetcher.js';

type Settled = { readonly ok: true; readonly batch: RecordsBatch } | { readonly ok: false; readonly error: unknown };

/**
 * Reads ahead of the processor, as the KCL's prefetching publisher does: while `processRecords` works on one
 * batch, up to `maxPending` further batches are fetched (the inner fetcher still paces the calls). A batch is
 * only ever handed out in order, through `next()`, so checkpoints and ordering are unaffected; what was
 * fetched ahead is dropped on `stop()` (a lost lease, a shutdown).
 */
export class PrefetchingFetcher implements RecordsFetcher {
  readonly #inner: RecordsFetcher;
  readonly #maxPending: number;
  readonly #queue: Promise<Settled>[] = [];
  #controller = new AbortController();
  #ended = false;

  constructor(inner: RecordsFetcher, maxPending: number) {
    this.#inner = inner;
    this.#maxPending = maxPending;
  }

  async start(checkpoint: ExtendedSequenceNumber, signal?: AbortSignal): Promise<void> {
    this.#reset();
    await this.#inner.start(checkpoint, signal);
  }

  async next(signal?: AbortSignal): Promise<RecordsBatch> {
    if (this.#queue.length === 0) this.#fetchAhead();
    const head = this.#queue.shift();
    if (head === undefined) return this.#inner.next(signal);
    const settled = await raceAbort(head, signal);
    if (!settled.ok) {
      // Whatever was queued behind a failure was read past it: start over from the inner fetcher's position.
      this.#reset();
      throw settled.error;
    }
    if (settled.batch.isAtShardEnd) this.#ended = true;
    // Read ahead while the caller processes this batch.
    while (!this.#ended && this.#queue.length < this.#maxPending) this.#fetchAhead();
    return settled.batch;
  }

  stop(): void {
    this.#reset();
    this.#inner.stop();
  }

  #fetchAhead(): void {
    const signal = this.#controller.signal;
    const previous = this.#queue.at(-1);
    // One inner call at a time, in order: each read waits for the one before it.
    const run = async (): Promise<Settled> => {
      if (previous !== undefined) {
        const before = await previous;
        // Nothing is read past a failure or the end of the shard.
        if (!before.ok || before.batch.isAtShardEnd) return before;
      }
      try {
        return { ok: true, batch: await this.#inner.next(signal) };
      } catch (error) {
        return { ok: false, error };
      }
    };
    this.#queue.push(run());
  }

  #reset(): void {
    this.#controller.abort();
    this.#controller = new AbortController();
    this.#queue.length = 0;
    this.#ended = false;
  }
}

/** `promise`, or an AbortError as soon as `signal` aborts (the promise itself never rejects). */
function raceAbort(promise: Promise<Settled>, signal: AbortSignal | undefined): Promise<Settled> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(new AbortError('Fetching records was aborted'));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(new AbortError('Fetching records was aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then((settled) => {
      signal.removeEventListener('abort', onAbort);
      resolve(settled);
    }, reject);
  });
}
