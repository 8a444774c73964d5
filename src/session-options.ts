/**
 * The options and public types of a bridge session, apart from the session itself.
 *
 * @module
 */
import type { Codec, RegisteredClass } from './codec.ts';
import type { BridgeLimits, FlowOptions } from './limits.ts';
import type { Session } from './session.ts';

/**
 * Options of a {@link Session} (and of `expose` / `wrap`).
 *
 * @example
 * ```ts
 * expose(handlers, endpoint, { flow: { windowItems: 2_048 }, limits: { maxOpenStreams: 1_000 }, peerTimeoutMs: 10_000 });
 * ```
 */
export interface SessionOptions {
  /** Functions the peer may call. A handler's `this` is a {@link CallContext}. */
  handlers?: object;
  /** The codec; by default structured clone, or superjson when the endpoint's `wire` is `'text'`. */
  codec?: Codec;
  /** Limits on what the peer may make this side hold ({@link DEFAULT_LIMITS}). */
  limits?: Partial<BridgeLimits>;
  /** Credit windows ({@link DEFAULT_FLOW}). */
  flow?: Partial<FlowOptions>;
  /** Send error stacks to the peer. Default: true over postMessage, false over text wires (sockets). */
  keepStacks?: boolean;
  /** Custom error classes revived as themselves, matched by `name`. */
  errorClasses?: RegisteredClass[];
  /** Transfer ArrayBuffers found in values instead of copying them (clone wires). Default true. */
  transfer?: boolean;
  /** Fail everything if the peer has not answered the handshake by then. Default 30,000 ms; 0 waits forever. */
  handshakeTimeoutMs?: number;
  /**
   * Close the session with `PeerTimeoutError` (failing every open stream and
   * call with it) when the peer has sent nothing for this long while work is
   * outstanding: a call either way or an open stream either way. After a third
   * of it without a word a probe goes out (a `hello`, which every v1 peer
   * answers with a `welcome`), so a live peer that is merely idle, slow to
   * produce or not reading always answers in time; a hung peer (a blocked event
   * loop, a frozen worker) or one that vanished without the transport noticing
   * (a cut network link, a half-open TCP connection) does not. It fires between
   * this and 4/3 of it after the last message. An idle session is never probed.
   * Costs one counter increment per message and one timer per session. Raise it
   * for peers that block their event loop for long stretches.
   * Default {@link DEFAULT_PEER_TIMEOUT_MS} (30,000 ms); 0 turns it off.
   */
  peerTimeoutMs?: number;
  /** Call `endpoint.close()` when the session closes. Default true. */
  closeEndpoint?: boolean;
  /** This side's name in the peer's traces (`startTrace`). Default: `worker <threadId>` in a worker thread, `process <pid>` in Node. */
  name?: string;
  /** The peer's name in this side's traces. Default: the name the peer reports. */
  peerName?: string;
}

/**
 * What a handler sees as `this`.
 *
 * @example
 * ```ts
 * expose({
 *   async *ticks(this: CallContext) {
 *     while (!this.signal.aborted) yield Date.now();
 *   },
 * }, endpoint);
 * ```
 */
export interface CallContext {
  /** Aborts when the caller cancels a stream of this call's result, or the session closes. */
  readonly signal: AbortSignal;
  /** The session the call came in on (to call the caller back). */
  readonly session: Session;
}

/**
 * Counts that return to zero when everything has ended: for tests and monitoring.
 *
 * @example
 * ```ts
 * const { incomingStreams, outgoingStreams, inflightBytes } = session.stats();
 * ```
 */
export interface SessionStats {
  state: 'connecting' | 'open' | 'closed';
  incomingStreams: number;
  outgoingStreams: number;
  pendingCalls: number;
  servingCalls: number;
  inflightBytes: number;
}

type Fn = (...args: never[]) => unknown;
/**
 * The remote face of a handlers object: every method returns a promise of its awaited result.
 *
 * @example
 * ```ts
 * const handlers = { async *count(n: number) { yield n; } };
 * const remote: Remote<typeof handlers> = wrap<typeof handlers>(port); // remote.count(3): Promise<AsyncGenerator<number>>
 * ```
 */
export type Remote<T> = {
  readonly [K in keyof T as T[K] extends Fn ? K : never]: T[K] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
};

/**
 * Default {@link SessionOptions.peerTimeoutMs}: 30 s, like the handshake timeout.
 *
 * @example
 * ```ts
 * new Session(endpoint, { peerTimeoutMs: DEFAULT_PEER_TIMEOUT_MS * 4 }); // for peers that block for long
 * ```
 */
export const DEFAULT_PEER_TIMEOUT_MS = 30_000;
