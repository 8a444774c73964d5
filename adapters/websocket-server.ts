/**
 * `serveWebSocket`: one bridge session per client of a `ws` `WebSocketServer`.
 * Re-exported by `adapters/websocket.ts`; Node only in practice (browsers have no socket server).
 *
 * @module
 */
import type { Session, SessionOptions } from '../src/session.ts';
import { expose } from '../src/session.ts';
import { webSocketEndpoint, type WebSocketEndpointOptions, type WebSocketLike } from './websocket.ts';

/**
 * The part of a `ws` `WebSocketServer` used here (typed structurally, so the
 * package needs no `@types/ws`).
 * @example const server: WebSocketServerLike = new WebSocketServer({ port: 8080 });
 */
export interface WebSocketServerLike {
  on(event: 'connection', listener: (socket: WebSocketLike, request: any) => void): unknown;
  off(event: 'connection', listener: (socket: WebSocketLike, request: any) => void): unknown;
}

/**
 * Options of {@link serveWebSocket}.
 * @example serveWebSocket(server, handlers, { endpoint: { maxPayload: 1_048_576 }, session: { limits: { maxOpenStreams: 64 } } });
 */
export interface ServeWebSocketOptions {
  /** Options of each connection's `webSocketEndpoint` (`maxPayload`...). */
  endpoint?: WebSocketEndpointOptions;
  /** Options of each connection's session (limits, flow, codec, error classes...). */
  session?: Omit<SessionOptions, 'handlers'>;
  /** Called with each new session, to call the client back (`session.remote<ClientApi>()`). */
  onSession?(session: Session, request: any): void;
}

/** What {@link serveWebSocket} returns. @example for (const session of served.sessions) session.close(); */
export interface ServedWebSocket {
  /** The sessions of the connections open now. */
  readonly sessions: ReadonlySet<Session>;
  /** Stops accepting connections and closes every session (their sockets close with 1000). The server stays up. */
  close(): void;
}

/**
 * Exposes `handlers` to every client of a `ws` `WebSocketServer`, one session
 * per connection. `handlers` may be a factory called per connection with the
 * socket and the HTTP upgrade request (per-client state, authorisation). Each
 * session speaks superjson over text frames, respects `bufferedAmount`, and
 * fails its streams with `ConnectionClosedError` when its client drops; the
 * other sessions go on. Both directions work: a handler's `this.session`, or
 * `onSession`, gives the session whose `remote()` calls the client.
 *
 * @example
 * ```ts
 * import { WebSocketServer } from 'ws';
 * import { serveWebSocket } from 'stream-weaver/adapters/websocket';
 * const server = new WebSocketServer({ port: 8080 });
 * serveWebSocket(server, { async *ticks(n: number) { for (let i = 0; i < n; i++) yield i; } });
 * ```
 */
export function serveWebSocket(
  server: WebSocketServerLike,
  handlers: object | ((socket: WebSocketLike, request: any) => object),
  options: ServeWebSocketOptions = {},
): ServedWebSocket {
  const sessions = new Set<Session>();
  const onConnection = (socket: WebSocketLike, request: unknown): void => {
    const endpoint = webSocketEndpoint(socket, options.endpoint);
    const served = typeof handlers === 'function' ? (handlers as (s: WebSocketLike, r: unknown) => object)(socket, request) : handlers;
    const session = expose(served, endpoint, options.session);
    sessions.add(session);
    void session.closed.then(() => sessions.delete(session));
    options.onSession?.(session, request);
  };
  server.on('connection', onConnection);
  return {
    sessions,
    close() {
      server.off('connection', onConnection);
      for (const session of [...sessions]) session.close();
    },
  };
}
