/**
 * Dedicated web workers as endpoints: the page's `Worker` and the worker's own
 * global scope. Browsers only; Node's `worker_threads` has its own adapter.
 *
 * @module
 */
import type { Endpoint, EndpointListener } from '../src/endpoint.ts';
import { ConnectionClosedError, ProtocolError } from '../src/errors.ts';
import { closeLatch, type CloseLatch } from './close-latch.ts';

/** Options of {@link workerEndpoint}. @example workerEndpoint(worker, { terminateOnClose: false }); */
export interface WorkerEndpointOptions {
  /** Whether the endpoint's `close()` and an uncaught error in the worker terminate it. Default `true`. */
  terminateOnClose?: boolean;
}

/** What the page's `Worker` and a worker's global scope share (typed loosely: DOM and Node typings clash). */
interface MessageTarget {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: string, listener: (event: any) => void): void;
  removeEventListener(type: string, listener: (event: any) => void): void;
}

/** Passes messages straight through (no per-message wrapper); detaches every listener when the latch fires. */
function targetEndpoint(target: MessageTarget, latch: CloseLatch, close: () => void): Endpoint {
  const listeners = new Set<EndpointListener>();
  // A message that cannot be deserialized is a lost frame: the conversation cannot go on.
  const onMessageError = (event: unknown): void => {
    latch.fire(new ProtocolError('a message from the other side could not be deserialized', { cause: event }));
  };
  target.addEventListener('messageerror', onMessageError);
  latch.onClose(() => {
    for (const listener of listeners) target.removeEventListener('message', listener);
    listeners.clear();
    target.removeEventListener('messageerror', onMessageError);
  });
  return {
    postMessage(message, transfer) {
      if (latch.reason === undefined) target.postMessage(message, transfer ?? []);
    },
    addEventListener(_type, listener) {
      if (latch.reason !== undefined || listeners.has(listener)) return;
      listeners.add(listener);
      target.addEventListener('message', listener);
    },
    removeEventListener(_type, listener) {
      if (listeners.delete(listener)) target.removeEventListener('message', listener);
    },
    onClose: latch.onClose,
    close,
  };
}

/**
 * Wraps a dedicated `Worker` (page side) as an `Endpoint`.
 *
 * Browsers give no event when a worker stops, so this is what `onClose` can see:
 * - `worker.terminate()`: the endpoint replaces `terminate` on this `Worker`
 *   object with one that terminates and then fires `onClose` at once;
 * - `endpoint.close()`: fires `onClose` and terminates (unless `terminateOnClose: false`);
 * - the worker's `error` event (the script failed to load, or threw an uncaught
 *   error): fires `onClose` with the `ErrorEvent` as `cause`, and terminates the
 *   worker, as Node does with a worker that throws;
 * - a `messageerror` (a message that could not be deserialized): `ProtocolError`.
 *
 * Not seen: the worker calling `self.close()` on its own. Close through the
 * endpoint or the session instead; the session's goodbye frame covers orderly ends.
 *
 * @example
 * ```ts
 * import { wrap } from 'stream-weaver';
 * import { workerEndpoint } from 'stream-weaver/adapters/web-worker';
 * const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
 * const remote = wrap<Api>(workerEndpoint(worker));
 * ```
 */
export function workerEndpoint(worker: Worker, options: WorkerEndpointOptions = {}): Endpoint {
  const latch = closeLatch();
  const terminate = worker.terminate.bind(worker);
  const end = (reason: Error): void => {
    if (latch.fire(reason) && options.terminateOnClose !== false) terminate();
  };
  worker.terminate = () => {
    terminate();
    latch.fire(new ConnectionClosedError('the worker was terminated'));
  };
  const onError = (event: ErrorEvent | Event): void => {
    const detail = 'message' in event && event.message ? `: ${event.message}` : '';
    end(new ConnectionClosedError(`the worker failed${detail}`, { cause: event }));
  };
  worker.addEventListener('error', onError);
  latch.onClose(() => worker.removeEventListener('error', onError));
  return targetEndpoint(worker as MessageTarget, latch, () => end(new ConnectionClosedError('the endpoint was closed')));
}

/**
 * Wraps the global scope of a dedicated worker (inside the worker) as an
 * `Endpoint`; throws a `TypeError` anywhere else (the page, a shared worker).
 *
 * The page going away gives the worker no event (the worker dies with it), so
 * `onClose` fires only on `close()`, which also calls `self.close()`, or on a
 * `messageerror` (`ProtocolError`).
 *
 * @example
 * ```ts
 * // worker.ts
 * import { expose } from 'stream-weaver';
 * import { selfEndpoint } from 'stream-weaver/adapters/web-worker';
 * expose({ async *count(n: number) { for (let i = 0; i < n; i++) yield i; } }, selfEndpoint());
 * ```
 */
export function selfEndpoint(): Endpoint {
  const scope = globalThis as unknown as MessageTarget & { close(): void };
  const dedicated = (globalThis as { DedicatedWorkerGlobalScope?: Function }).DedicatedWorkerGlobalScope;
  if (typeof dedicated !== 'function' || !(scope instanceof dedicated)) {
    throw new TypeError('selfEndpoint() must be called inside a dedicated web worker');
  }
  const latch = closeLatch();
  return targetEndpoint(scope, latch, () => {
    if (latch.fire(new ConnectionClosedError('the endpoint was closed'))) scope.close();
  });
}
