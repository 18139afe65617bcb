import { type Clock, systemClock } from './clock.js';
import { ListenerError } from './errors.js';

/**
 * The one envelope every event travels in (after KafkaJS instrumentation events). For a map of event types
 * to payloads, `EventEnvelope<Events>` is the union over all types, discriminated by `type`;
 * `EventEnvelope<Events, 'x'>` is the envelope of `x` alone.
 */
export type EventEnvelope<Events, Type extends EventType<Events> = EventType<Events>> = {
  [K in Type]: {
    /** Increases by one with every event of the emitter that sent it. */
    readonly id: number;
    readonly type: K;
    /** Epoch ms, from the emitter's clock. */
    readonly timestamp: number;
    readonly payload: Events[K];
  };
}[Type];

/** The event type names of an event map. */
export type EventType<Events> = keyof Events & string;

/**
 * A listener. It may be async; a rejection is reported like a throw. Its return value is otherwise ignored:
 * `emit` never waits for listeners.
 */
export type EventListener<Envelope> = (event: Envelope) => void | Promise<void>;

/** Removes the listener it was returned for. Calling it again does nothing. */
export type Unsubscribe = () => void;

/** Options of a {@link TypedEventEmitter}. */
export interface TypedEventEmitterOptions {
  /** Stamps envelopes. @defaultValue {@link systemClock} */
  readonly clock?: Pick<Clock, 'now'>;
  /**
   * Receives every {@link ListenerError} (a listener threw or rejected).
   * @defaultValue report it with `process.emitWarning`, which prints it to stderr and lets an application
   * route it through `process.on('warning')`.
   */
  readonly onListenerError?: (error: ListenerError) => void;
}

interface Registration<Envelope> {
  readonly listener: EventListener<Envelope>;
  readonly once: boolean;
  /** Set when a `once` registration has fired, so a nested emit of the same type cannot fire it twice. */
  spent: boolean;
}

/**
 * A small typed event emitter with one envelope for all events, a wildcard subscription for metrics sinks,
 * and listener isolation: a listener that throws (or rejects) never reaches the emitting code, never stops
 * the other listeners, and is never silently dropped; it is handed to `onListenerError`.
 *
 * Not built on `node:events`: its `'error'` event throws when nobody listens, which would turn a user's
 * event named `error` into a crash, and its listener signatures are untyped.
 *
 * @typeParam Events - event type name → payload type, e.g. `{ 'producer.request': { records: number } }`; an
 * interface or a type alias, without an index signature (that would let any string through as a type).
 */
export class TypedEventEmitter<Events extends Record<keyof Events, unknown>> {
  #nextId = 1;
  readonly #clock: Pick<Clock, 'now'>;
  readonly #onListenerError: (error: ListenerError) => void;
  // Copy-on-write arrays: emit iterates the array it found, so listeners added or removed during an emit
  // take effect from the next one.
  #listeners = new Map<string, readonly Registration<EventEnvelope<Events>>[]>();
  #anyListeners: readonly Registration<EventEnvelope<Events>>[] = [];

  constructor(options: TypedEventEmitterOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#onListenerError = options.onListenerError ?? warnListenerError;
  }

  /** Calls `listener` for every event of `type` until unsubscribed. */
  on<K extends EventType<Events>>(type: K, listener: EventListener<EventEnvelope<Events, K>>): Unsubscribe {
    return this.#add(type, listener, false);
  }

  /** Calls `listener` for the next event of `type` only. */
  once<K extends EventType<Events>>(type: K, listener: EventListener<EventEnvelope<Events, K>>): Unsubscribe {
    return this.#add(type, listener, true);
  }

  /** Stops every registration of `listener` for `type`. */
  off<K extends EventType<Events>>(type: K, listener: EventListener<EventEnvelope<Events, K>>): void {
    const current = this.#listeners.get(type);
    if (current === undefined) return;
    this.#setListeners(
      type,
      current.filter((r) => r.listener !== listener),
    );
  }

  /** Calls `listener` for every event of every type (after the type's own listeners): the hook for metrics sinks. */
  onAny(listener: EventListener<EventEnvelope<Events>>): Unsubscribe {
    const registration: Registration<EventEnvelope<Events>> = { listener, once: false, spent: false };
    this.#anyListeners = [...this.#anyListeners, registration];
    return () => {
      this.#anyListeners = this.#anyListeners.filter((r) => r !== registration);
    };
  }

  /** Stops every registration of `listener` made with {@link TypedEventEmitter.onAny}. */
  offAny(listener: EventListener<EventEnvelope<Events>>): void {
    this.#anyListeners = this.#anyListeners.filter((r) => r.listener !== listener);
  }

  /**
   * Whether an `emit(type, …)` would reach anyone; lets hot paths skip building a payload nobody reads.
   */
  hasListeners(type: EventType<Events>): boolean {
    return this.#anyListeners.length > 0 || (this.#listeners.get(type)?.length ?? 0) > 0;
  }

  /** How many registrations would hear `type` (wildcards included), or all registrations without a type. */
  listenerCount(type?: EventType<Events>): number {
    if (type !== undefined) return (this.#listeners.get(type)?.length ?? 0) + this.#anyListeners.length;
    let count = this.#anyListeners.length;
    for (const registrations of this.#listeners.values()) count += registrations.length;
    return count;
  }

  /** Removes every listener, wildcard ones included. */
  removeAllListeners(): void {
    this.#listeners.clear();
    this.#anyListeners = [];
  }

  /**
   * Delivers an event synchronously to the listeners of `type`, then to wildcard listeners, and returns its
   * envelope (or `undefined` when nobody listened, in which case no id is used). Never throws because of a
   * listener.
   */
  emit<K extends EventType<Events>>(type: K, payload: Events[K]): EventEnvelope<Events, K> | undefined {
    const typed = this.#listeners.get(type) ?? [];
    const any = this.#anyListeners;
    if (typed.length === 0 && any.length === 0) return undefined;
    const envelope = { id: this.#nextId++, type, timestamp: this.#clock.now(), payload } as EventEnvelope<Events, K>;
    for (const registration of typed) {
      if (registration.once) {
        if (registration.spent) continue;
        registration.spent = true;
        this.#remove(type, registration);
      }
      this.#deliver(registration.listener, envelope, type);
    }
    for (const registration of any) this.#deliver(registration.listener, envelope, type);
    return envelope;
  }

  #add<K extends EventType<Events>>(
    type: K,
    listener: EventListener<EventEnvelope<Events, K>>,
    once: boolean,
  ): Unsubscribe {
    // Sound because #listeners[type] only ever receives envelopes whose `type` is K.
    const registration = { listener, once, spent: false } as Registration<EventEnvelope<Events>>;
    this.#setListeners(type, [...(this.#listeners.get(type) ?? []), registration]);
    return () => this.#remove(type, registration);
  }

  #remove(type: string, registration: Registration<EventEnvelope<Events>>): void {
    const current = this.#listeners.get(type);
    if (current === undefined) return;
    this.#setListeners(
      type,
      current.filter((r) => r !== registration),
    );
  }

  #setListeners(type: string, registrations: readonly Registration<EventEnvelope<Events>>[]): void {
    if (registrations.length === 0) this.#listeners.delete(type);
    else this.#listeners.set(type, registrations);
  }

  #deliver(listener: EventListener<EventEnvelope<Events>>, envelope: EventEnvelope<Events>, type: string): void {
    try {
      const result = listener(envelope);
      if (isThenable(result)) result.then(undefined, (error: unknown) => this.#report(error, type));
    } catch (error) {
      this.#report(error, type);
    }
  }

  #report(error: unknown, type: string): void {
    const message = error instanceof Error ? error.message : String(error);
    const listenerError = new ListenerError(`A listener of "${type}" failed: ${message}`, {
      eventType: type,
      cause: error,
    });
    try {
      this.#onListenerError(listenerError);
    } catch (hookError) {
      // The error hook itself failed; fall back to the process warning so neither error is lost.
      warnListenerError(listenerError);
      warnListenerError(
        new ListenerError(`The onListenerError hook failed: ${String(hookError)}`, {
          eventType: type,
          cause: hookError,
        }),
      );
    }
  }
}

function warnListenerError(error: ListenerError): void {
  process.emitWarning(error);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
