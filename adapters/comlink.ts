/**
 * Comlink interop: transfer handlers that let a Comlink API return or accept
 * async iterables and ReadableStreams (each carried by this bridge over a
 * private MessageChannel, with credit, cancellation and errors), and a helper
 * to run a conductor in a worker while the main thread pipes through it.
 *
 * @module
 */
import * as Comlink from 'comlink';
import type { TransferHandler } from 'comlink';
import { toReadableStream } from '../src/conductor.ts';
import { Session } from '../src/session.ts';
import { isReadableStream } from '../src/sources.ts';

/**
 * The name the handler is registered under in `Comlink.transferHandlers`.
 *
 * @example
 * ```ts
 * registerComlinkStreams();
 * Comlink.transferHandlers.has(STREAM_HANDLER_NAME); // true
 * ```
 */
export const STREAM_HANDLER_NAME = 'stream-weaver:stream';

interface StreamOpener {
  open(): AsyncIterable<unknown>;
}

function isStreamLike(value: unknown): value is AsyncIterable<unknown> | ReadableStream<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  return isReadableStream(value) || typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/** Closes the private session of a received stream that was dropped without being read to the end. */
const unread =
  typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<Session>((session) => session.close()) : null;

/** Reads a stream served on `port`: the call starts at once (the producer runs ahead under credit). */
function readRemote(port: MessagePort): AsyncGenerator<unknown, void, undefined> {
  const session = new Session(port as never);
  const opened = session.remote<StreamOpener>().open();
  opened.catch(() => {}); // surfaced by the first next(), if anyone reads
  const stream = readToEnd(session, opened);
  unread?.register(stream, session);
  return stream;
}

async function* readToEnd(session: Session, opened: Promise<AsyncIterable<unknown>>): AsyncGenerator<unknown, void, undefined> {
  try {
    yield* await opened;
  } finally {
    session.close();
  }
}

/**
 * The transfer handler: a stream is served on one end of a new MessageChannel
 * by a bridge session; the other end crosses Comlink's message and becomes a
 * local async iterable reading it with credit. Breaking out of it cancels the
 * producer (its `finally` runs); a producer's error is rethrown as itself.
 *
 * @example
 * ```ts
 * Comlink.transferHandlers.set(STREAM_HANDLER_NAME, streamTransferHandler);
 * ```
 */
export const streamTransferHandler: TransferHandler<AsyncIterable<unknown> | ReadableStream<unknown>, MessagePort> = {
  canHandle: isStreamLike,
  serialize(stream) {
    const { port1, port2 } = new MessageChannel();
    const session = new Session(port1 as never, { handlers: { open: () => stream } });
    void session.closed.then(() => port1.close());
    return [port2, [port2 as unknown as Transferable]];
  },
  deserialize: (port) => readRemote(port),
};

/**
 * Registers {@link streamTransferHandler} with Comlink. Call it on both sides
 * (main thread and worker) before using `Comlink.wrap` / `Comlink.expose`.
 *
 * @example
 * ```ts
 * registerComlinkStreams();
 * const api = Comlink.wrap<{ tokens(): AsyncIterable<string> }>(worker);
 * for await (const token of await api.tokens()) console.log(token);
 * ```
 */
export function registerComlinkStreams(): void {
  Comlink.transferHandlers.set(STREAM_HANDLER_NAME, streamTransferHandler as TransferHandler<unknown, unknown>);
}

/**
 * What {@link exposeConductor} serves: run the conductor over an input stream.
 *
 * @example
 * ```ts
 * const api = Comlink.wrap<RemoteConductorApi>(worker);
 * for await (const out of await api.run(input)) console.log(out);
 * ```
 */
export interface RemoteConductorApi {
  run(input: AsyncIterable<unknown>): AsyncIterable<unknown>;
}

/**
 * A conductor-shaped pair: `{ readable, writable }`, like `ConductorStream` and `TransformStream`.
 *
 * @example
 * ```ts
 * const passThrough = (): ConductorPair<string, string> => new TransformStream<string, string>();
 * exposeConductor(passThrough);
 * ```
 */
export interface ConductorPair<I, O> {
  readable: ReadableStream<O>;
  writable: WritableStream<I>;
}

/**
 * In a worker: serves a conductor factory with Comlink. Each `run` builds a
 * fresh conductor, pipes the caller's input into it and returns its output.
 *
 * @example
 * ```ts
 * // worker.ts
 * exposeConductor(() => new ConductorStream<string, string>({ transform: (s, chain) => chain([s.toUpperCase()]) }));
 * ```
 */
export function exposeConductor<I, O>(factory: () => ConductorPair<I, O>, endpoint?: Comlink.Endpoint): void {
  registerComlinkStreams();
  const api: RemoteConductorApi = {
    run(input) {
      const conductor = factory();
      const source = toReadableStream(input as AsyncIterable<I>);
      // A failed or cancelled pipe errors the readable we return, which the caller sees.
      source.pipeTo(conductor.writable).catch(() => {});
      return conductor.readable as unknown as AsyncIterable<unknown>;
    },
  };
  Comlink.expose(api, endpoint);
}

/**
 * In the main thread: a `{ readable, writable }` pair whose work runs in the
 * worker behind `endpoint` (served by {@link exposeConductor}). Pipe through it
 * as through any TransformStream; order, backpressure, errors and cancel cross.
 *
 * @example
 * ```ts
 * const upper = remoteConductor<string, string>(new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' }));
 * const out = source.pipeThrough(upper);
 * ```
 */
export function remoteConductor<I, O>(endpoint: Comlink.Endpoint): ConductorPair<I, O> {
  registerComlinkStreams();
  const api = Comlink.wrap<RemoteConductorApi>(endpoint);
  const input = new TransformStream<I, I>(undefined, { highWaterMark: 1 });
  const output = api.run(input.readable as unknown as AsyncIterable<unknown>) as unknown as Promise<AsyncIterable<O>>;
  // A rejected call errors the readable on its first read; cancel closes the remote stream.
  const readable = toReadableStream(output);
  return { readable, writable: input.writable };
}
