import { Writable } from 'node:stream';
import { AbortError } from '@kinesis-kit/core';
import type { UserRecordResult } from './user-record-result.js';

/** What the adapter needs from a producer. */
export interface WritableProducer {
  addUserRecord(
    streamName: string,
    partitionKey: string,
    data: Uint8Array | string,
    explicitHashKey?: string | bigint | null,
  ): Promise<UserRecordResult>;
  waitForCapacity(options?: { records?: number; bytes?: number; signal?: AbortSignal }): Promise<void>;
  getOutstandingRecordsCount(): number;
  getOutstandingBytes(): number;
  readonly options: { readonly maxOutstandingRecords: number; readonly maxOutstandingBytes: number };
}

/** Options of {@link KinesisProducer.writable}. */
export interface ProducerWritableOptions<T> {
  streamName: string;
  /** The partition key of a chunk. */
  partitionKey: (chunk: T) => string;
  /**
   * The payload of a chunk. @defaultValue the chunk itself if it is a `Uint8Array` or a string, else its
   * JSON text
   */
  data?: (chunk: T) => Uint8Array | string;
  /** An explicit hash key for a chunk, or `undefined` to route by its partition key. */
  explicitHashKey?: (chunk: T) => string | bigint | undefined;
  /**
   * Called with each record's result once it is put. A record that fails destroys the stream with its
   * `UserRecordFailedError` unless `onError` is given, which then receives it and the chunk instead. A
   * callback that throws destroys the stream with what it threw.
   */
  onResult?: (result: UserRecordResult, chunk: T) => void;
  onError?: (error: unknown, chunk: T) => void;
  /** Chunks the stream buffers before `write()` returns false. @defaultValue 16 */
  highWaterMark?: number;
}

function defaultData(chunk: unknown): Uint8Array | string {
  if (chunk instanceof Uint8Array || typeof chunk === 'string') return chunk;
  return JSON.stringify(chunk);
}

/**
 * A Node `Writable` (object mode) that adds every chunk as a user record. It accepts a chunk only once the
 * producer has room for it (`waitForCapacity`), so `pipeline(source, writable)` slows the source down instead
 * of filling memory or failing with `BufferFullError`. `final` (the end of the stream) waits until every
 * record written has settled, so `await pipeline(...)` means "all put".
 *
 * Room is not reserved by `waitForCapacity`: another writer (a second writable, a loop) may take it between
 * the wake-up and the add, so the adapter checks again and waits again rather than meet a `BufferFullError`.
 * Destroying the stream abandons the chunk it was waiting to add. A throwing `onResult`/`onError` destroys
 * the stream with the error instead of escaping as an unhandled rejection.
 */
export function createProducerWritable<T>(producer: WritableProducer, options: ProducerWritableOptions<T>): Writable {
  const { streamName, partitionKey, explicitHashKey, onResult, onError } = options;
  const data = options.data ?? defaultData;
  const { maxOutstandingRecords, maxOutstandingBytes } = producer.options;
  const pending = new Set<Promise<void>>();
  // Aborted when the stream is destroyed, so a chunk waiting for room is dropped, not sent.
  const destroyed = new AbortController();
  let failure: unknown;

  const fail = (error: unknown): void => {
    failure ??= error;
    writable.destroy(toError(error));
  };

  const hasRoom = (bytes: number): boolean =>
    producer.getOutstandingRecordsCount() < maxOutstandingRecords &&
    producer.getOutstandingBytes() + bytes <= maxOutstandingBytes;

  const add = (chunk: T, key: string, payload: Uint8Array | string, hashKey: string | bigint | undefined): void => {
    const tracked = producer.addUserRecord(streamName, key, payload, hashKey).then(
      (result) => {
        try {
          onResult?.(result, chunk);
        } catch (error) {
          fail(error);
        }
      },
      (error: unknown) => {
        if (onError === undefined) {
          fail(error);
          return;
        }
        try {
          onError(error, chunk);
        } catch (thrown) {
          fail(thrown);
        }
      },
    );
    pending.add(tracked);
    void tracked.then(() => pending.delete(tracked));
  };

  const writable: Writable = new Writable({
    objectMode: true,
    highWaterMark: options.highWaterMark ?? 16,
    write(chunk: T, _encoding, callback) {
      let key: string;
      let payload: Uint8Array | string;
      let hashKey: string | bigint | undefined;
      try {
        key = partitionKey(chunk);
        payload = data(chunk);
        hashKey = explicitHashKey?.(chunk);
      } catch (error) {
        callback(toError(error));
        return;
      }
      const bytes =
        (typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length) + Buffer.byteLength(key);
      const waitAndAdd = async (): Promise<void> => {
        do {
          await producer.waitForCapacity({ records: 1, bytes, signal: destroyed.signal });
          if (destroyed.signal.aborted) return;
        } while (!hasRoom(bytes));
        add(chunk, key, payload, hashKey);
      };
      waitAndAdd().then(
        // Accepted, not yet put: the next chunk may come. The producer's bounds do the pacing.
        () => callback(),
        (error: unknown) => callback(destroyed.signal.aborted ? undefined : toError(error)),
      );
    },
    final(callback) {
      // The tracked promises never reject: failures went to onError or to `failure`.
      Promise.all(pending).then(() => callback(failure instanceof Error ? failure : undefined));
    },
    destroy(error, callback) {
      destroyed.abort(error ?? new AbortError('The producer writable was destroyed'));
      callback(error);
    },
  });
  return writable;
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
