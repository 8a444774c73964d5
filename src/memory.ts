/**
 * An in-memory endpoint pair with a hand on the wire: delay, hold back, cut.
 * For tests of code that uses the bridge, and for the bridge's own tests.
 *
 * @module
 */
import type { Endpoint, EndpointListener } from './endpoint.ts';
import { ConnectionClosedError } from './errors.ts';

/**
 * Options of {@link memoryEndpointPair}.
 *
 * @example
 * ```ts
 * const [a, b] = memoryEndpointPair({ delayMs: 5, wire: 'text' });
 * ```
 */
export interface MemoryEndpointOptions {
  /** Delivery delay in ms (0: next macrotask). Default 0. */
  delayMs?: number;
  /** `'text'` makes both ends text wires (the session then uses superjson), `'clone'` copies with structuredClone. */
  wire?: 'clone' | 'text';
}

/**
 * One end of a memory pair, with the controls.
 *
 * @example
 * ```ts
 * const [a, b]: [MemoryEndpoint, MemoryEndpoint] = memoryEndpointPair();
 * a.hold(); // queue a's messages
 * a.release(); // deliver them, in order
 * ```
 */
export interface MemoryEndpoint extends Endpoint {
  /** Messages this end has sent. */
  readonly sent: number;
  /** Holds back delivery to the peer until `release()`. */
  hold(): void;
  /** Delivers what was held, in order. */
  release(): void;
  /** Cuts the wire: both ends report loss (`onClose`) and drop everything after. */
  cut(reason?: Error): void;
  /** Sends raw data to the peer, bypassing everything (hostile frames in tests). */
  inject(data: unknown): void;
}

/**
 * Two connected endpoints that copy (structured clone) or pass strings, with
 * controls to delay, hold back and cut delivery.
 *
 * @example
 * ```ts
 * const [a, b] = memoryEndpointPair();
 * expose(handlers, a);
 * const remote = wrap<typeof handlers>(b);
 * b.cut(); // every open stream on both sides fails with ConnectionClosedError
 * ```
 */
export function memoryEndpointPair(options: MemoryEndpointOptions = {}): [MemoryEndpoint, MemoryEndpoint] {
  const delay = options.delayMs ?? 0;
  const wire = options.wire ?? 'clone';
  let cutReason: Error | null = null;
  const ends: MemoryEndpoint[] = [];
  const make = (index: number): MemoryEndpoint => {
    const listeners = new Set<EndpointListener>();
    const closeListeners = new Set<(reason: Error) => void>();
    let held: unknown[] | null = null;
    let sent = 0;
    // eslint-disable-next-line prefer-const
    let end: MemoryEndpoint & { listenersRef: Set<EndpointListener>; closeRef: Set<(r: Error) => void> };
    const deliver = (data: unknown): void => {
      setTimeout(() => {
        if (cutReason !== null) return;
        for (const listener of (ends[1 - index] as typeof end).listenersRef) listener({ data });
      }, delay);
    };
    const send = (data: unknown): void => {
      if (cutReason !== null) return;
      sent++;
      if (held !== null) held.push(data);
      else deliver(data);
    };
    end = {
      wire,
      listenersRef: listeners,
      closeRef: closeListeners,
      get sent() {
        return sent;
      },
      postMessage(message: unknown, transfer?: Transferable[]) {
        if (wire === 'text' && typeof message !== 'string') throw new TypeError('a text wire carries strings');
        send(wire === 'text' ? message : structuredClone(message, { transfer: transfer ?? [] }));
      },
      addEventListener: (_type, listener) => void listeners.add(listener),
      removeEventListener: (_type, listener) => void listeners.delete(listener),
      onClose(listener) {
        closeListeners.add(listener);
        return () => closeListeners.delete(listener);
      },
      close() {
        // Like a real port: what was posted before close is still delivered, then the wire goes.
        setTimeout(() => end.cut(new ConnectionClosedError('the memory endpoint was closed')), delay);
      },
      hold() {
        held ??= [];
      },
      release() {
        const queue = held ?? [];
        held = null;
        for (const data of queue) deliver(data);
      },
      cut(reason = new ConnectionClosedError('the memory wire was cut')) {
        if (cutReason !== null) return;
        cutReason = reason;
        for (const e of ends as Array<typeof end>) for (const l of [...e.closeRef]) l(reason);
      },
      inject(data: unknown) {
        deliver(data);
      },
    };
    return end;
  };
  ends.push(make(0), make(1));
  return [ends[0]!, ends[1]!];
}
