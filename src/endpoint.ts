/**
 * The endpoint: what a session talks over. Comlink's shape (ports, workers and
 * windows already fit it), plus what Comlink lacks: a way to learn that the
 * other side is gone, and, for sockets, backpressure and a text-only wire.
 *
 * @module
 */

/** A message event as endpoints deliver it: only `data` is read. */
export interface EndpointMessageEvent {
  readonly data: unknown;
}

/** Listener type kept loose on purpose: DOM's and Node's `MessagePort` typings clash. */
export type EndpointListener = (event: EndpointMessageEvent) => void;

/**
 * One side of a two-way message channel.
 *
 * Required members are Comlink's `Endpoint`: `postMessage`, `addEventListener`,
 * `removeEventListener`, optional `start`. The optional members let an adapter
 * report loss, backpressure and a text-only wire to the session.
 *
 * @example
 * ```ts
 * const { port1, port2 } = new MessageChannel();
 * expose({ hello: async () => 'hi' }, port1); // a MessagePort is an Endpoint
 * const remote = wrap<{ hello(): Promise<string> }>(port2);
 * ```
 */
export interface Endpoint {
  /** Sends one message; `transfer` lists objects to move rather than copy (ignored by text wires). */
  postMessage(message: unknown, transfer?: Transferable[]): void;
  /** Subscribes to incoming messages (`type` is always `'message'`). */
  addEventListener(type: 'message', listener: EndpointListener, options?: unknown): void;
  /** Unsubscribes a listener added with `addEventListener`. */
  removeEventListener(type: 'message', listener: EndpointListener, options?: unknown): void;
  /** Starts delivery on endpoints that queue until started (`MessagePort`). */
  start?(): void;
  /**
   * Calls `listener` once when the other side is gone (worker exited, socket
   * closed), with the error that open streams and calls should fail with.
   * Returns a function that unsubscribes.
   */
  onClose?(listener: (reason: Error) => void): () => void;
  /** Closes the underlying channel; called when the session closes, if present. */
  close?(): void;
  /**
   * `'text'` when the wire carries strings only (WebSockets): the session then
   * encodes frames with a text codec (superjson by default). `'clone'`, the
   * default, means structured clone (postMessage).
   */
  readonly wire?: 'clone' | 'text';
  /**
   * Bytes accepted by `postMessage` but not yet sent (a WebSocket's
   * `bufferedAmount`). With `whenDrained`, lets backpressure reach producers.
   */
  readonly bufferedAmount?: number;
  /** Resolves when `bufferedAmount` has fallen below `lowWaterMark` bytes. */
  whenDrained?(lowWaterMark: number): Promise<void>;
}
