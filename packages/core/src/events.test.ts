import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from './clock.js';
import { ListenerError } from './errors.js';
import { type EventEnvelope, TypedEventEmitter } from './events.js';

interface TestEvents {
  'producer.request': { records: number };
  'consumer.lease.acquired': { shardId: string };
  error: { message: string };
}

function emitter() {
  const clock = new ManualClock(1_000);
  const listenerErrors: ListenerError[] = [];
  const events = new TypedEventEmitter<TestEvents>({ clock, onListenerError: (e) => listenerErrors.push(e) });
  return { events, clock, listenerErrors };
}

describe('TypedEventEmitter', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('delivers one envelope with an increasing id, the type, the clock time and the payload', async () => {
    const { events, clock } = emitter();
    const seen: EventEnvelope<TestEvents, 'producer.request'>[] = [];
    events.on('producer.request', (e) => {
      seen.push(e);
    });
    events.emit('producer.request', { records: 3 });
    await clock.advance(5);
    events.emit('producer.request', { records: 4 });
    expect(seen).toEqual([
      { id: 1, type: 'producer.request', timestamp: 1_000, payload: { records: 3 } },
      { id: 2, type: 'producer.request', timestamp: 1_005, payload: { records: 4 } },
    ]);
  });

  it('delivers only to listeners of the emitted type', () => {
    const { events } = emitter();
    const lease = vi.fn();
    events.on('consumer.lease.acquired', lease);
    events.emit('producer.request', { records: 1 });
    expect(lease).not.toHaveBeenCalled();
  });

  it('spends no id and reads no clock when nobody listens', () => {
    const { events } = emitter();
    expect(events.emit('producer.request', { records: 1 })).toBeUndefined();
    const first = vi.fn();
    events.on('producer.request', first);
    expect(events.emit('producer.request', { records: 1 })?.id).toBe(1);
  });

  it('stops delivering after unsubscribe or off, and unsubscribing twice is harmless', () => {
    const { events } = emitter();
    const a = vi.fn();
    const b = vi.fn();
    const stopA = events.on('producer.request', a);
    events.on('producer.request', b);
    stopA();
    stopA();
    events.off('producer.request', b);
    events.emit('producer.request', { records: 1 });
    expect(a).not.toHaveBeenCalled();
    expect(b).not.toHaveBeenCalled();
    expect(events.listenerCount()).toBe(0);
  });

  it('fires a once listener a single time, even when the event is emitted from inside a listener', () => {
    const { events } = emitter();
    const once = vi.fn();
    events.on('producer.request', (e) => {
      if (e.payload.records === 1) events.emit('producer.request', { records: 2 });
    });
    events.once('producer.request', once);
    events.emit('producer.request', { records: 1 });
    events.emit('producer.request', { records: 3 });
    expect(once).toHaveBeenCalledTimes(1);
    expect(once.mock.calls[0]?.[0]).toMatchObject({ payload: { records: 2 } });
  });

  it('lets a once listener be removed before it fires', () => {
    const { events } = emitter();
    const once = vi.fn();
    const stop = events.once('producer.request', once);
    stop();
    events.emit('producer.request', { records: 1 });
    expect(once).not.toHaveBeenCalled();
  });

  it('applies listeners added during an emit from the next emit on', () => {
    const { events } = emitter();
    const late = vi.fn();
    events.once('producer.request', () => {
      events.on('producer.request', late);
    });
    events.emit('producer.request', { records: 1 });
    expect(late).not.toHaveBeenCalled();
    events.emit('producer.request', { records: 2 });
    expect(late).toHaveBeenCalledTimes(1);
  });

  it('gives wildcard listeners every event, after the type’s own listeners', () => {
    const { events } = emitter();
    const order: string[] = [];
    const stopAny = events.onAny((e) => {
      order.push(`any:${e.type}`);
    });
    events.on('producer.request', () => {
      order.push('typed');
    });
    events.emit('producer.request', { records: 1 });
    events.emit('consumer.lease.acquired', { shardId: 'shardId-000000000001' });
    stopAny();
    events.emit('consumer.lease.acquired', { shardId: 'shardId-000000000002' });
    expect(order).toEqual(['typed', 'any:producer.request', 'any:consumer.lease.acquired']);
  });

  it('removes wildcard listeners with offAny', () => {
    const { events } = emitter();
    const any = vi.fn();
    events.onAny(any);
    events.offAny(any);
    events.emit('producer.request', { records: 1 });
    expect(any).not.toHaveBeenCalled();
  });

  it('isolates a throwing listener: the caller and the other listeners carry on, the error is reported', () => {
    const { events, listenerErrors } = emitter();
    const boom = new Error('boom');
    const after = vi.fn();
    const any = vi.fn();
    events.on('producer.request', () => {
      throw boom;
    });
    events.on('producer.request', after);
    events.onAny(any);
    expect(() => events.emit('producer.request', { records: 1 })).not.toThrow();
    expect(after).toHaveBeenCalledTimes(1);
    expect(any).toHaveBeenCalledTimes(1);
    expect(listenerErrors).toHaveLength(1);
    expect(listenerErrors[0]).toBeInstanceOf(ListenerError);
    expect(listenerErrors[0]).toMatchObject({ eventType: 'producer.request', cause: boom, code: 'LISTENER_FAILED' });
  });

  it('reports a rejected async listener', async () => {
    const { events, listenerErrors } = emitter();
    const boom = new Error('later');
    events.on('producer.request', async () => {
      throw boom;
    });
    events.emit('producer.request', { records: 1 });
    await vi.waitFor(() => expect(listenerErrors).toHaveLength(1));
    expect(listenerErrors[0]?.cause).toBe(boom);
  });

  it('reports listener errors as process warnings by default', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const events = new TypedEventEmitter<TestEvents>();
    events.on('error', () => {
      throw new Error('listener bug');
    });
    events.emit('error', { message: 'user event named error' });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toBeInstanceOf(ListenerError);
  });

  it('falls back to process warnings when the error hook itself throws', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const events = new TypedEventEmitter<TestEvents>({
      onListenerError: () => {
        throw new Error('hook bug');
      },
    });
    events.on('producer.request', () => {
      throw new Error('listener bug');
    });
    expect(() => events.emit('producer.request', { records: 1 })).not.toThrow();
    expect(warn).toHaveBeenCalledTimes(2);
  });

  it('counts listeners and tells whether an emit would reach anyone', () => {
    const { events } = emitter();
    expect(events.hasListeners('producer.request')).toBe(false);
    events.on('producer.request', vi.fn());
    events.on('producer.request', vi.fn());
    expect(events.hasListeners('producer.request')).toBe(true);
    expect(events.hasListeners('consumer.lease.acquired')).toBe(false);
    events.onAny(vi.fn());
    expect(events.hasListeners('consumer.lease.acquired')).toBe(true);
    expect(events.listenerCount('producer.request')).toBe(3);
    expect(events.listenerCount()).toBe(3);
    events.removeAllListeners();
    expect(events.listenerCount()).toBe(0);
  });

  it('types payloads by event name', () => {
    const { events } = emitter();
    events.on('consumer.lease.acquired', (e) => {
      const shardId: string = e.payload.shardId;
      void shardId;
    });
    events.onAny((e) => {
      if (e.type === 'producer.request') {
        const records: number = e.payload.records;
        void records;
      }
    });
    // @ts-expect-error: the payload of producer.request has no shardId
    events.emit('producer.request', { shardId: 'x' });
    // @ts-expect-error: unknown event type
    events.emit('producer.unknown', {});
    expect(events.listenerCount()).toBe(2);
  });
});
