import { Writable } from 'node:stream';
import type { UserRecordResult } from './user-record-result.js';

/** What the adapter needs from a producer. */
export interface WritableProducer {
  addUserRecord(
    streamName: string,
    partitionKey: string,
    data: Uint8Array | string,
    explicitHashKey?: string | bigint,
  ): Promise<UserRecordResult>;
  waitForCapacity(options?: { records?: number; bytes?: number; signal?: AbortSignal }): Promise<void>;
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
   * `UserRecordFailedError` unless `onError` is given, which then receives it and the chunk instead.
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
 */
export function createProducerWritable<T>(producer: WritableProducer, options: ProducerWritableOptions<T>): Writable {
  const { streamName, partitionKey, explicitHashKey, onResult, onError } = options;
  const data = options.data ?? defaultData;
  const pending = new Set<Promise<unknown>>();
  let failure: unknown;

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
      const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
      producer.waitForCapacity({ records: 1, bytes: bytes + Buffer.byteLength(key) }).then(
        () => {
          const tracked = producer.addUserRecord(streamName, key, payload, hashKey).then(
            (result) => onResult?.(result, chunk),
            (error: unknown) => {
              if (onError !== undefined) {
                onError(error, chunk);
                return;
              }
              failure ??= error;
              writable.destroy(toError(error));
            },
          );
          pending.add(tracked);
          void tracked.finally(() => pending.delete(tracked));
          // Accepted, not yet put: the next chunk may come. The producer's bounds do the pacing.
          callback();
        },
        (error: unknown) => callback(toError(error)),
      );
    },
    final(callback) {
      Promise.all(pending).then(
        () => callback(failure instanceof Error ? failure : undefined),
        (error: unknown) => callback(toError(error)),
      );
    },
  });
  return writable;
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
