/**
 * A `MessagePort` as an endpoint that knows when the other side is gone.
 * Internal to the adapters (the iframe adapter hands one over); not a package export.
 *
 * @module
 */
import type { Endpoint, EndpointListener } from '../src/endpoint.ts';
import { ConnectionClosedError, ProtocolError } from '../src/errors.ts';
import { closeLatch } from './close-latch.ts';

/** The goodbye each side posts on its way out; a key no session frame has. */
const GOODBYE_TAG = 'stream-weaver/port-closed';
const isGoodbye = (data: unknown): boolean =>
  typeof data === 'object' && data !== null && (data as Record<string, unknown>)[GOODBYE_TAG] === 1;

/**
 * Wraps one end of a private `MessageChannel` (both ends should be wrapped).
 * Like a bare port, it queues messages until the first listener (or `start()`),
 * so none is lost to a session that attaches late (and a goodbye is seen once
 * started). Ports give no event when
 * the other side goes (Chromium 156 fires no `close`), so each side posts a
 * goodbye on its way out: on `close()`, and, in a window, on `pagehide`
 * (unload, navigation, its iframe removed). `onClose` fires on either; a
 * `messageerror` (a message that could not be deserialized) fires it with `ProtocolError`.
 *
 * @example
 * ```ts
 * const { port1, port2 } = new MessageChannel();
 * const a = messagePortEndpoint(port1);
 * const b = messagePortEndpoint(port2);
 * b.onClose!((reason) => console.log(reason.code)); // 'ERR_CONNECTION_CLOSED' after a.close()
 * ```
 */
export function messagePortEndpoint(port: MessagePort): Endpoint {
  const latch = closeLatch();
  const listeners = new Set<EndpointListener>();
  const onMessage = (event: MessageEvent): void => {
    if (isGoodbye(event.data)) latch.fire(new ConnectionClosedError('the other side closed the channel'));
    else for (const listener of listeners) listener(event);
  };
  const onMessageError = (event: MessageEvent): void => {
    latch.fire(new ProtocolError('a message from the other side could not be deserialized', { cause: event }));
  };
  const onPageHide = (): void => {
    latch.fire(new ConnectionClosedError('this page is going away'));
  };
  // Attached on first use: Node starts a port as soon as a 'message' listener is added,
  // and messages dispatched before the session listens would be lost.
  let attached = false;
  const attach = (): void => {
    if (attached || latch.reason !== undefined) return;
    attached = true;
    port.addEventListener('message', onMessage);
    port.start();
  };
  port.addEventListener('messageerror', onMessageError);
  const page = typeof window === 'undefined' ? undefined : window;
  page?.addEventListener('pagehide', onPageHide);
  latch.onClose(() => {
    port.postMessage({ [GOODBYE_TAG]: 1 }); // harmless if the other side is already gone
    port.close();
    listeners.clear();
    page?.removeEventListener('pagehide', onPageHide);
  });
  return {
    postMessage(message, transfer) {
      if (latch.reason === undefined) port.postMessage(message, transfer ?? []);
    },
    addEventListener(_type, listener) {
      if (latch.reason !== undefined) return;
      listeners.add(listener);
      attach(); // as assigning `onmessage` would
    },
    removeEventListener(_type, listener) {
      listeners.delete(listener);
    },
    start: attach,
    onClose: latch.onClose,
    close() {
      latch.fire(new ConnectionClosedError('the endpoint was closed'));
    },
  };
}
