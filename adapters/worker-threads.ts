/**
 * Node `worker_threads` as endpoints: the parent's `Worker` and the worker's
 * `parentPort`, plus `startTsWorker` to run a TypeScript entry on Node 20.
 *
 * @module
 */
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, parentPort, type TransferListItem, type WorkerOptions } from 'node:worker_threads';
import type { Endpoint, EndpointListener } from '../src/endpoint.ts';
import { ConnectionClosedError, ProtocolError } from '../src/errors.ts';
import { closeLatch, type CloseLatch } from './close-latch.ts';

/** Options of {@link nodeWorkerEndpoint}. @example nodeWorkerEndpoint(worker, { terminateOnClose: false }); */
export interface NodeWorkerEndpointOptions {
  /** Whether `endpoint.close()` (called when the session closes) terminates the worker. Default `true`. */
  terminateOnClose?: boolean;
}

/** What Node's `Worker` and `MessagePort` have in common: EventEmitter-style messaging. */
interface EmitterPort {
  postMessage(value: unknown, transferList?: readonly TransferListItem[]): void;
  on(event: 'message' | 'messageerror', listener: (data: unknown) => void): unknown;
  off(event: 'message' | 'messageerror', listener: (data: unknown) => void): unknown;
}

/** Adapts an EventEmitter port to the DOM-style `Endpoint`; listeners detach when the latch fires. */
function emitterEndpoint(port: EmitterPort, latch: CloseLatch, close: () => void): Endpoint {
  // Node calls `on('message')` listeners with the data itself; the Endpoint wants `{ data }`.
  const wrapped = new Map<EndpointListener, (data: unknown) => void>();
  // A message that cannot be deserialized is a lost frame: the conversation cannot go on.
  const onMessageError = (error: unknown): void => {
    latch.fire(new ProtocolError('a message from the other side could not be deserialized', { cause: error }));
  };
  port.on('messageerror', onMessageError);
  latch.onClose(() => {
    for (const fn of wrapped.values()) port.off('message', fn);
    wrapped.clear();
    port.off('messageerror', onMessageError);
  });
  return {
    postMessage(message, transfer) {
      if (latch.reason === undefined) port.postMessage(message, transfer as TransferListItem[] | undefined);
    },
    addEventListener(_type, listener) {
      if (wrapped.has(listener) || latch.reason !== undefined) return;
      const fn = (data: unknown): void => listener({ data });
      wrapped.set(listener, fn);
      port.on('message', fn);
    },
    removeEventListener(_type, listener) {
      const fn = wrapped.get(listener);
      if (fn === undefined) return;
      wrapped.delete(listener);
      port.off('message', fn);
    },
    onClose: latch.onClose,
    close,
  };
}

/**
 * Wraps a `worker_threads` `Worker` (parent side) as an `Endpoint`.
 *
 * `onClose` fires with a `ConnectionClosedError` when the worker exits (the
 * exit code is in the message) or crashes (`cause` is the worker's error), so
 * every open stream and call fails instead of hanging. Listening for `'error'`
 * also means a crashing worker no longer throws in the parent: the error goes
 * to the session. `close()` fires `onClose` and, unless `terminateOnClose` is
 * `false`, terminates the worker. A worker that has already exited closes at once.
 *
 * @example
 * ```ts
 * import { wrap } from 'stream-weaver';
 * import { nodeWorkerEndpoint, startTsWorker } from 'stream-weaver/adapters/worker-threads';
 * const worker = startTsWorker(new URL('./worker.ts', import.meta.url));
 * const remote = wrap<Api>(nodeWorkerEndpoint(worker));
 * for await (const line of await remote.lines()) console.log(line);
 * ```
 */
export function nodeWorkerEndpoint(worker: Worker, options: NodeWorkerEndpointOptions = {}): Endpoint {
  const latch = closeLatch();
  const onExit = (code: number): void => {
    latch.fire(new ConnectionClosedError(`the worker exited with code ${code}`));
  };
  const onError = (error: unknown): void => {
    const message = error instanceof Error ? error.message : String(error);
    latch.fire(new ConnectionClosedError(`the worker crashed: ${message}`, { cause: error }));
  };
  worker.on('exit', onExit);
  worker.on('error', onError);
  latch.onClose(() => {
    worker.off('exit', onExit);
    worker.off('error', onError);
  });
  // threadId is -1 once the worker has stopped: no 'exit' event will come.
  if (worker.threadId < 0) latch.fire(new ConnectionClosedError('the worker had already exited'));
  return emitterEndpoint(worker, latch, () => {
    latch.fire(new ConnectionClosedError('the endpoint was closed'));
    if (options.terminateOnClose !== false) void worker.terminate();
  });
}

/**
 * The worker side: wraps `parentPort` as an `Endpoint`. Call it inside a
 * `worker_threads` worker; it throws a `TypeError` on the main thread.
 *
 * `onClose` fires when the port closes. `close()` fires it and closes the
 * port, which lets the worker exit once nothing else keeps it alive.
 *
 * @example
 * ```ts
 * // worker.ts
 * import { expose } from 'stream-weaver';
 * import { parentPortEndpoint } from 'stream-weaver/adapters/worker-threads';
 * expose({ async *lines() { yield 'a'; yield 'b'; } }, parentPortEndpoint());
 * ```
 */
export function parentPortEndpoint(): Endpoint {
  const port = parentPort;
  if (port === null) throw new TypeError('parentPortEndpoint() must be called inside a worker_threads worker');
  const latch = closeLatch();
  const onPortClose = (): void => {
    latch.fire(new ConnectionClosedError('the parent port closed'));
  };
  port.on('close', onPortClose);
  latch.onClose(() => port.off('close', onPortClose));
  return emitterEndpoint(port, latch, () => {
    latch.fire(new ConnectionClosedError('the endpoint was closed'));
    port.close();
  });
}

/**
 * Starts a `worker_threads` worker whose entry is a TypeScript file, on Node 20
 * and later. Needs the `tsx` package installed (`npm i -D tsx`).
 *
 * Node 20 does not apply `--import tsx` loader hooks to workers, so the worker
 * runs a one-line eval bootstrap that loads the entry with `tsImport` from
 * `tsx/esm/api` (resolved from this module). `workerData`, `argv`,
 * `transferList` and the other `WorkerOptions` pass through. A TypeScript
 * error or a throw at the entry's top level surfaces as the worker's `'error'`.
 *
 * @param entry - the TypeScript entry: a `file:` URL, or a path (relative to the cwd).
 * @throws TypeError when `entry` is a non-`file:` URL; Error when `tsx` cannot be found.
 * @example
 * ```ts
 * const worker = startTsWorker(new URL('./worker.ts', import.meta.url), { workerData: { id: 1 } });
 * const endpoint = nodeWorkerEndpoint(worker);
 * ```
 */
export function startTsWorker(entry: URL | string, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const url = entry instanceof URL ? entry : /^file:/i.test(entry) ? new URL(entry) : pathToFileURL(resolvePath(entry));
  if (url.protocol !== 'file:') throw new TypeError(`startTsWorker: entry must be a file: URL or a path, got ${url.href}`);
  let tsxApi: string;
  try {
    tsxApi = import.meta.resolve('tsx/esm/api');
  } catch (cause) {
    throw new Error('startTsWorker needs the tsx package: npm i -D tsx', { cause });
  }
  // The ESM build of the API: its CommonJS build cannot register tsx's loader (tsx 4.23).
  const href = JSON.stringify(url.href);
  const code = `import(${JSON.stringify(tsxApi)}).then((tsx) => tsx.tsImport(${href}, ${href}));`;
  return new Worker(code, { ...options, eval: true });
}
