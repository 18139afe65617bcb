import { describe, expect, it } from 'vitest';
import { ExtendedSequenceNumber } from '../extended-sequence-number.js';
import { PrefetchingFetcher } from './prefetching-fetcher.js';
import type { RecordsBatch, RecordsFetcher } from './records-fetcher.js';

const batch = (n: number, end = false): RecordsBatch => ({
  records: [
    {
      data: new Uint8Array([n]),
      partitionKey: 'k',
      sequenceNumber: String(n),
      subSequenceNumber: 0,
      approximateArrivalTimestamp: new Date(0),
      aggregated: false,
    },
  ],
  millisBehindLatest: 0,
  isAtShardEnd: end,
  childShards: undefined,
});

/** Serves numbered batches on demand; records how many reads were made. */
class Inner implements RecordsFetcher {
  calls = 0;
  stopped = 0;
  failAt: number | undefined;
  endAt: number | undefined;
  async start(): Promise<void> {}
  async next(): Promise<RecordsBatch> {
    const n = ++this.calls;
    if (n === this.failAt) throw new Error(`read ${n} failed`);
    return batch(n, n === this.endAt);
  }
  stop(): void {
    this.stopped++;
  }
}

const settle = () => new Promise((r) => setImmediate(r));
const seq = (b: RecordsBatch) => b.records[0]?.sequenceNumber;

describe('PrefetchingFetcher', () => {
  it('reads one batch ahead while the caller processes, and hands batches out in order', async () => {
    const inner = new Inner();
    const fetcher = new PrefetchingFetcher(inner, 1);
    await fetcher.start(ExtendedSequenceNumber.TRIM_HORIZON);
    expect(seq(await fetcher.next())).toBe('1');
    await settle();
    expect(inner.calls).toBe(2); // batch 2 read while batch 1 is processed
    expect(seq(await fetcher.next())).toBe('2');
    expect(seq(await fetcher.next())).toBe('3');
    await settle();
    expect(inner.calls).toBe(4);
  });

  it('reads up to maxPending ahead, and nothing past the end of the shard', async () => {
    const inner = new Inner();
    inner.endAt = 3;
    const fetcher = new PrefetchingFetcher(inner, 5);
    await fetcher.start(ExtendedSequenceNumber.TRIM_HORIZON);
    await fetcher.next();
    await settle();
    expect(inner.calls).toBe(3);
    expect(seq(await fetcher.next())).toBe('2');
    const last = await fetcher.next();
    expect(last.isAtShardEnd).toBe(true);
    await settle();
    expect(inner.calls).toBe(3);
  });

  it('delivers a failed read as a rejection of the next call, in order, then reads on', async () => {
    const inner = new Inner();
    inner.failAt = 2;
    const fetcher = new PrefetchingFetcher(inner, 2);
    await fetcher.start(ExtendedSequenceNumber.TRIM_HORIZON);
    expect(seq(await fetcher.next())).toBe('1');
    await expect(fetcher.next()).rejects.toThrow('read 2 failed');
    expect(seq(await fetcher.next())).toBe('3');
  });

  it('drops what was read ahead on stop, and answers an abort at once', async () => {
    const inner = new Inner();
    const fetcher = new PrefetchingFetcher(inner, 1);
    await fetcher.start(ExtendedSequenceNumber.TRIM_HORIZON);
    await fetcher.next();
    fetcher.stop();
    expect(inner.stopped).toBe(1);
    const controller = new AbortController();
    controller.abort();
    await expect(fetcher.next(controller.signal)).rejects.toThrow(/aborted/);
  });
});
