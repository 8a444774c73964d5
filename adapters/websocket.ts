/**
 * A WebSocket as an endpoint, for the browser's `WebSocket` and `ws` in Node
 * alike: a text wire with backpressure, a CONNECTING queue and a payload limit;
 * and `serveWebSocket`, one session per client of a `ws` server.
 *
 * @module
 */
import type { Endpoint, EndpointListener } from '../src/endpoint.ts';
import { ConnectionClosedError, LimitExceededError, ProtocolError } from '../src/errors.ts';
import { closeLatch } from './close-latch.ts';
import { truncateUtf8, utf8Length } from './utf8.ts';

export { serveWebSocket, type ServeWebSocketOptions, type ServedWebSocket, type WebSocketServerLike } from './websocket-server.ts';

/**
 * The members of a socket this adapter uses; the browser's `WebSocket` and `ws`'s both fit.
 * @example const socket: WebSocketLike = new WebSocket('ws://127.0.0.1:8080');
 */
export interface WebSocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  /** `ws` calls `callback` once the frame is written; browsers ignore it. */
  send(data: string, callback?: (error?: Error) => void): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: any) => void): void;
}

/**
 * Options of {@link webSocketEndpoint}.
 * @example webSocketEndpoint(socket, { maxPayload: 1_048_576, drainPollMs: 5 });
 */
export interface WebSocketEndpointOptions {
  /**
   * Largest incoming message in UTF-8 bytes (default {@link DEFAULT_MAX_PAYLOAD}); bigger closes with
   * 1009 and `LimitExceededError`. Stops a peer from making this side hold and decode one giant frame.
   */
  maxPayload?: number;
  /** How often `whenDrained` re-reads `bufferedAmount`, in ms (browsers give no drain event). Default 10. */
  drainPollMs?: number;
}

/** Default `maxPayload`: 16 MiB. @example webSocketEndpoint(socket, { maxPayload: DEFAULT_MAX_PAYLOAD / 4 }); */
export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024;

/**
 * The endpoint {@link webSocketEndpoint} returns: every optional member of `Endpoint` is there.
 * @example if (endpoint.bufferedAmount > 1_000_000) await endpoint.whenDrained(250_000);
 */
export interface WebSocketEndpoint extends Endpoint {
  readonly wire: 'text';
  /** Bytes queued while CONNECTING plus the socket's own `bufferedAmount`. */
  readonly bufferedAmount: number;
  /** Resolves once `bufferedAmount <= lowWaterMark`; rejects with the close reason if the socket closes first. */
  whenDrained(lowWaterMark: number): Promise<void>;
  onClose(listener: (reason: Error) => void): () => void;
  /** Closes the socket with `code` (default 1000) and `reason` trimmed to 123 UTF-8 bytes (RFC 6455 5.5). */
  close(code?: number, reason?: string): void;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

/**
 * Wraps one WebSocket, open or still connecting, as a text-wire `Endpoint`.
 *
 * `postMessage(string)` sends a text frame (strings only: the session encodes
 * frames with a text codec because `wire` is `'text'`); sends made while
 * CONNECTING are queued and flushed in order on open. Incoming text frames are
 * delivered as `{ data: string }` to listeners attached at that moment. A binary
 * frame breaks the text wire: the socket is closed with 1003 and `onClose`
 * fires with `ProtocolError`. An oversize frame closes with 1009 and
 * `LimitExceededError`. A `close` or `error` event fires `onClose` with
 * `ConnectionClosedError` (close code and reason in the message); after that,
 * sends are dropped. Browsers refuse to send 1003 and 1009 from script; there
 * the close code falls back to 1000 with the same reason text.
 *
 * @example
 * ```ts
 * import { wrap } from 'stream-weaver';
 * import { webSocketEndpoint } from 'stream-weaver/adapters/websocket';
 * const remote = wrap<Api>(webSocketEndpoint(new WebSocket('wss://example.com/weave')));
 * for await (const item of await remote.feed()) console.log(item);
 * ```
 */
export function webSocketEndpoint(socket: WebSocketLike, options: WebSocketEndpointOptions = {}): WebSocketEndpoint {
  const { maxPayload = DEFAULT_MAX_PAYLOAD, drainPollMs = 10 } = options;
  if (!(maxPayload > 0)) throw new RangeError(`maxPayload must be a positive number of bytes, got ${maxPayload}`);
  const latch = closeLatch();
  const listeners = new Set<EndpointListener>();
  let queue: string[] = []; // sends made while CONNECTING, flushed in order on open
  let queuedBytes = 0;
  const drainChecks = new Set<() => void>(); // pending whenDrained calls; ws's send callbacks re-run them
  const runDrainChecks = (): void => drainChecks.forEach((check) => check());
  const buffered = (): number => socket.bufferedAmount + queuedBytes;
  const flush = (): void => {
    const pending = queue;
    queue = [];
    queuedBytes = 0;
    for (const data of pending) socket.send(data, runDrainChecks);
  };
  const shut = (code: number, reason: string, error: Error): void => {
    if (!latch.fire(error) || socket.readyState > OPEN) return;
    const trimmed = truncateUtf8(reason, 123); // RFC 6455 5.5: at most 123 bytes of reason
    try {
      socket.close(code, trimmed);
    } catch {
      socket.close(1000, trimmed); // browsers allow only 1000 and 3000-4999 from script
    }
  };
  latch.onClose(() => {
    queue = [];
    queuedBytes = 0;
    listeners.clear();
    runDrainChecks(); // they see the latch and reject
  });

  // Listeners stay attached for the socket's life and check the latch: removing
  // ws's 'error' listener would turn a late socket error into an uncaught throw.
  socket.addEventListener('open', () => {
    if (latch.reason === undefined && socket.readyState === OPEN) flush();
  });
  socket.addEventListener('message', ({ data }: { data: unknown }) => {
    if (latch.reason !== undefined) return;
    if (typeof data !== 'string') {
      return shut(1003, 'text frames only', new ProtocolError('a binary WebSocket message arrived on a text wire'));
    }
    // UTF-8 takes one to three bytes per UTF-16 unit: count only when it matters.
    if (data.length > maxPayload || (data.length * 3 > maxPayload && utf8Length(data) > maxPayload)) {
      return shut(1009, 'message too big', new LimitExceededError('maxPayload', utf8Length(data), maxPayload));
    }
    for (const listener of listeners) listener({ data });
  });
  socket.addEventListener('close', ({ code, reason }: { code: number; reason: string }) => {
    latch.fire(new ConnectionClosedError(`the WebSocket closed with code ${code}${reason ? `: ${reason}` : ''}`));
  });
  socket.addEventListener('error', (event: { error?: unknown; message?: string }) => {
    const detail = event.message ? `: ${event.message}` : '';
    latch.fire(new ConnectionClosedError(`the WebSocket failed${detail}`, { cause: event.error ?? event }));
  });
  if (socket.readyState === CLOSED) latch.fire(new ConnectionClosedError('the WebSocket was already closed'));

  return {
    wire: 'text',
    get bufferedAmount() {
      return buffered();
    },
    postMessage(message) {
      if (typeof message !== 'string') throw new TypeError(`webSocketEndpoint sends strings only, got ${typeof message}`);
      if (latch.reason !== undefined) return;
      if (socket.readyState === CONNECTING) {
        queue.push(message);
        queuedBytes += utf8Length(message);
      } else if (socket.readyState === OPEN) {
        if (queue.length > 0) flush(); // the socket opened but our 'open' listener has not run yet
        socket.send(message, runDrainChecks);
      }
    },
    addEventListener(_type, listener) {
      if (latch.reason === undefined) listeners.add(listener);
    },
    removeEventListener(_type, listener) {
      listeners.delete(listener);
    },
    whenDrained(lowWaterMark) {
      return new Promise<void>((resolve, reject) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const check = (): void => {
          clearTimeout(timer);
          if (latch.reason === undefined && buffered() > lowWaterMark) {
            drainChecks.add(check);
            timer = setTimeout(check, drainPollMs); // browsers have no drain event: poll
            return;
          }
          drainChecks.delete(check);
          if (latch.reason === undefined) resolve();
          else reject(latch.reason);
        };
        check();
      });
    },
    onClose: latch.onClose,
    close(code = 1000, reason = '') {
      shut(code, reason, new ConnectionClosedError(`the endpoint was closed with code ${code}`));
    },
  };
}
