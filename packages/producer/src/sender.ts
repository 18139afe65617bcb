import {
  type ListShardsCommand,
  type ListShardsCommandOutput,
  PutRecordsCommand,
  type PutRecordsCommandOutput,
  type PutRecordsRequestEntry,
} from '@aws-sdk/client-kinesis';
import { callWithTimeout, TimeoutError } from '@kinesis-kit/core';
import PQueue from 'p-queue';
import type { OutgoingRecord } from './outgoing-record.js';
import type { ProducerClock, ProducerTime } from './producer-time.js';

/**
 * The two Kinesis calls the producer makes. A `KinesisClient` satisfies it; so does a small fake, which is
 * how the benchmark measures the pipeline without a network.
 */
export interface ProducerKinesisClient {
  send(command: PutRecordsCommand, options?: { abortSignal?: AbortSignal }): Promise<PutRecordsCommandOutput>;
  send(command: ListShardsCommand, options?: { abortSignal?: AbortSignal }): Promise<ListShardsCommandOutput>;
}

/** How one PutRecords call ended; never a rejection, so the caller handles both outcomes in one place. */
export type PutRecordsOutcome =
  | {
      readonly ok: true;
      readonly output: PutRecordsCommandOutput;
      readonly start: ProducerTime;
      readonly end: ProducerTime;
    }
  | { readonly ok: false; readonly error: unknown; readonly start: ProducerTime; readonly end: ProducerTime };

/**
 * Sends PutRecords calls with at most `maxConnections` in flight (p-queue) and a `requestTimeout` per call,
 * enforced with an `AbortSignal` so a hung connection cannot hold a slot forever. No retries here: the
 * pipeline retries per record.
 */
export class Sender {
  readonly #client: ProducerKinesisClient;
  readonly #clock: ProducerClock;
  readonly #requestTimeout: number;
  readonly #queue: PQueue;
  readonly #stop = new AbortController();

  constructor(client: ProducerKinesisClient, clock: ProducerClock, maxConnections: number, requestTimeout: number) {
    this.#client = client;
    this.#clock = clock;
    this.#requestTimeout = requestTimeout;
    this.#queue = new PQueue({ concurrency: maxConnections });
  }

  /** Calls in flight or waiting for a connection. */
  get pending(): number {
    return this.#queue.size + this.#queue.pending;
  }

  /** Sends `records` to `streamName` in one PutRecords call. */
  putRecords(streamName: string, records: readonly OutgoingRecord[]): Promise<PutRecordsOutcome> {
    const entries: PutRecordsRequestEntry[] = new Array(records.length);
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      if (record === undefined) continue;
      entries[i] = { Data: record.data, PartitionKey: record.partitionKey, ExplicitHashKey: record.explicitHashKey };
    }
    const command = new PutRecordsCommand({ StreamName: streamName, Records: entries });
    return this.#queue.add(() => this.#send(command));
  }

  /**
   * Aborts every call in flight; calls not started yet end at once without being made. Each ends as a failed
   * outcome. (The queue is not cleared: p-queue never settles the promise of a task it drops.)
   */
  stop(): void {
    this.#stop.abort();
  }

  async #send(command: PutRecordsCommand): Promise<PutRecordsOutcome> {
    const clock = this.#clock;
    const start = clock.now();
    if (this.#stop.signal.aborted) {
      return { ok: false, error: new TimeoutError('The producer stopped before the call was made'), start, end: start };
    }
    try {
      const output = await callWithTimeout((abortSignal) => this.#client.send(command, { abortSignal }), {
        operation: 'PutRecords',
        timeoutMs: this.#requestTimeout,
        clock,
        signal: this.#stop.signal,
        timeoutError: () => new TimeoutError(`PutRecords took longer than requestTimeout (${this.#requestTimeout} ms)`),
      });
      return { ok: true, output, start, end: clock.now() };
    } catch (error) {
      return { ok: false, error, start, end: clock.now() };
    }
  }
}
