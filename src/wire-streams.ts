/**
 * The serializer and deserializer as conductors: `{ readable, writable }`
 * pairs for users who bring their own one-way transport (a file, an HTTP
 * body, a queue). Values written to a `SerializerConductor` come out of a
 * `DeserializerConductor` with their nested streams live again, in order.
 *
 * A one-way transport cannot carry credit back: the serializer is paced by
 * its readable's backpressure instead (it pulls sources only while the
 * readable wants more), and the deserializer buffers what arrives.
 *
 * @module
 */
import { structuredCloneCodec, type Codec, type ErrorPolicy, type RegisteredClass } from './codec.ts';
import { Deserializer } from './deserializer.ts';
import type { Incoming } from './incoming.ts';
import { ConnectionClosedError, ProtocolError } from './errors.ts';
import { DEFAULT_LIMITS, resolveOptions, type BridgeLimits } from './limits.ts';
import { decodeMessage, PROTOCOL_VERSION, type Frame } from './protocol.ts';
import { Outbox } from './outbox.ts';
import { Serializer, type FrameSink } from './serializer.ts';

/**
 * Options of {@link SerializerConductor}.
 *
 * @example
 * ```ts
 * const serializer = new SerializerConductor<Section>({ codec: jsonCodec, maxBatchItems: 64 });
 * ```
 */
export interface SerializerConductorOptions {
  /** Encodes each message: structured clone (objects out, the default) or a text codec (strings out). */
  codec?: Codec;
  /** Keep error stacks. Default true for clone, false for text codecs. */
  keepStacks?: boolean;
  /** Most items in one message. Default 256. */
  maxBatchItems?: number;
  /** Deepest value nesting walked. Default 64. */
  maxDepth?: number;
}

/**
 * Options of {@link DeserializerConductor}.
 *
 * @example
 * ```ts
 * const deserializer = new DeserializerConductor<Section>({ codec: jsonCodec, limits: { maxDepth: 16 } });
 * ```
 */
export interface DeserializerConductorOptions {
  /** The codec the serializer used. Default structured clone (objects in). */
  codec?: Codec;
  /** Limits on what the input may make this side hold. */
  limits?: Partial<BridgeLimits>;
  /** Custom error classes revived as themselves. */
  errorClasses?: RegisteredClass[];
}

/** The stream id of the written values themselves; nested streams get the ids after it. */
const ROOT_CALL = 0;

/**
 * Values (with async iterables, ReadableStreams, promises and sequences inside,
 * to any depth) in, wire messages out. Nested streams are pumped in parallel,
 * paced by the readable's backpressure.
 *
 * @example
 * ```ts
 * const serializer = new SerializerConductor<Section>({ codec: jsonCodec });
 * const deserializer = new DeserializerConductor<Section>({ codec: jsonCodec });
 * sections.pipeThrough(serializer).pipeThrough(deserializer); // or through a file, a socket, a queue
 * ```
 */
export class SerializerConductor<T> {
  /** Wire messages: objects, or strings with a text codec. */
  readonly readable: ReadableStream<unknown>;
  /** Values to send, in order. */
  readonly writable: WritableStream<T>;

  constructor(options: SerializerConductorOptions = {}) {
    const codec = options.codec ?? structuredCloneCodec;
    const errors: ErrorPolicy = { keepStacks: options.keepStacks ?? codec.wire === 'clone', classes: new Map() };
    let controller!: ReadableStreamDefaultController<unknown>;
    let inputDone = false;
    let outputDone = false;
    let wantMore: (() => void) | null = null;
    let serializer!: Serializer;
    // The same batching as a session's (split at the frame limit the deserializer enforces),
    // posting into the readable instead of an endpoint.
    const outbox = new Outbox(
      {
        isOpen: () => !outputDone,
        isClosed: () => outputDone,
        post(frames) {
          controller.enqueue(codec.encode({ v: PROTOCOL_VERSION, f: frames }));
          // Closed after the last part of a split batch too (the parts are posted synchronously).
          queueMicrotask(closeWhenDone);
        },
        refused: () => false,
      },
      options.maxBatchItems ?? 256,
      DEFAULT_LIMITS.maxFramesPerMessage,
    );
    outbox.setPeerWindows(Infinity, Infinity);
    function closeWhenDone(): void {
      if (outputDone || !inputDone || serializer.streams.size > 0 || outbox.queue.length > 0) return;
      outputDone = true;
      controller.close();
    }
    const sink: FrameSink = {
      send: (frame) => outbox.send(frame),
      sendItem: (s, data, refs, bytes) => outbox.sendItem(s, data, refs, bytes, undefined),
      get congested() {
        return (controller.desiredSize ?? 0) <= 0;
      },
      drained: () => new Promise<void>((resolve) => (wantMore = resolve)),
    };
    serializer = new Serializer(sink, { transfer: false, paced: true, maxDepth: options.maxDepth ?? DEFAULT_LIMITS.maxDepth, errors });
    serializer.setPeerWindows({ w: Infinity, wb: Infinity, sb: Infinity });
    const input = new InputQueue<T>();
    this.readable = new ReadableStream<unknown>(
      {
        start(c) {
          controller = c;
          const root = serializer.encode(input);
          sink.send({ t: 'result', id: ROOT_CALL, p: root.data, r: root.refs! });
        },
        pull() {
          const resume = wantMore;
          wantMore = null;
          resume?.();
        },
        cancel(reason) {
          outputDone = true;
          serializer.closeAll(reason);
          input.fail(reason);
        },
      },
      { highWaterMark: 4 },
    );
    this.writable = new WritableStream<T>({
      write: (value) => input.push(value),
      close() {
        inputDone = true;
        input.end();
      },
      abort(reason) {
        inputDone = true;
        input.error(reason);
      },
    });
  }
}

/** The written values as an async iterator; a write resolves once its value was taken. */
class InputQueue<T> implements AsyncIterableIterator<T> {
  private readonly values: Array<{ value: T; taken(): void }> = [];
  private waiter: ((r: IteratorResult<T>) => void) | null = null;
  private waiterReject: ((e: unknown) => void) | null = null;
  private done = false;
  private failure: { error: unknown } | null = null;

  push(value: T): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure.error);
    return new Promise((taken) => {
      if (this.waiter !== null) {
        const w = this.waiter;
        this.waiter = null;
        w({ value, done: false });
        taken();
      } else this.values.push({ value, taken });
    });
  }
  end(): void {
    this.done = true;
    this.waiter?.({ value: undefined, done: true });
    this.waiter = null;
  }
  error(reason: unknown): void {
    this.failure = { error: reason };
    this.waiterReject?.(reason);
    this.waiter = null;
  }
  fail(reason: unknown): void {
    this.failure = { error: reason };
    for (const v of this.values.splice(0)) v.taken();
  }
  next(): Promise<IteratorResult<T>> {
    const head = this.values.shift();
    if (head !== undefined) {
      head.taken();
      return Promise.resolve({ value: head.value, done: false });
    }
    if (this.failure !== null) return Promise.reject(this.failure.error);
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.waiterReject = reject;
    });
  }
  return(): Promise<IteratorResult<T>> {
    this.fail(new ConnectionClosedError('the serializer was cancelled'));
    return Promise.resolve({ value: undefined, done: true });
  }
  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * Wire messages in, values out, with every nested stream a live local async
 * iterable (or ReadableStream, promise, sequence) again. A malformed message
 * errors the readable with a `ProtocolError`; input that ends while streams
 * are still open fails them with `ConnectionClosedError`.
 *
 * @example
 * ```ts
 * const values = response.body!.pipeThrough(new TextDecoderStream()).pipeThrough(lines())
 *   .pipeThrough(new DeserializerConductor({ codec: jsonCodec })).readable;
 * ```
 */
export class DeserializerConductor<T> {
  /** The values, in order. */
  readonly readable: ReadableStream<T>;
  /** Wire messages, as the serializer produced them. */
  readonly writable: WritableStream<unknown>;

  constructor(options: DeserializerConductorOptions = {}) {
    const codec = options.codec ?? structuredCloneCodec;
    const limits = resolveOptions(DEFAULT_LIMITS, options.limits, 'limits');
    const errors: ErrorPolicy = { keepStacks: true, classes: new Map((options.errorClasses ?? []).map((c) => [c.name, c])) };
    // One-way: nothing flows back, so the windows are unbounded and pulls go nowhere.
    const deserializer = new Deserializer({ send: () => {} }, { windowItems: Infinity, windowBytes: Infinity }, limits, errors);
    let root: Incoming<T> | null = null;
    let rootReady: (() => void) | null = null;
    let failure: unknown = null;
    const fail = (error: unknown): void => {
      failure ??= error;
      deserializer.failAll(error);
      rootReady?.();
    };
    const dispatch = (frame: Frame): void => {
      switch (frame.t) {
        case 'result': {
          if (root !== null || frame.id !== ROOT_CALL) throw new ProtocolError('a second root in the input');
          root = deserializer.decode(frame.p, frame.r).value as Incoming<T>;
          rootReady?.();
          return;
        }
        case 'items':
          return deserializer.onItems(frame);
        case 'end':
          return deserializer.onEnd(frame.s);
        case 'error':
          return deserializer.onError(frame.s, frame.e);
        default:
          throw new ProtocolError(`frame ${frame.t} has no place in a one-way stream`);
      }
    };
    this.writable = new WritableStream<unknown>({
      write(data) {
        try {
          const message = decodeMessage(codec.decode(data, limits.maxFrameBytes), limits);
          for (const frame of message.f) dispatch(frame);
        } catch (error) {
          const reason = error instanceof ProtocolError ? error : new ProtocolError('undecodable message', { cause: error });
          fail(reason);
          throw reason;
        }
      },
      close() {
        if (deserializer.streams.size > 0 || root === null) fail(new ConnectionClosedError('the input ended before its streams did'));
      },
      abort(reason) {
        fail(new ConnectionClosedError('the input was aborted', { cause: reason }));
      },
    });
    this.readable = new ReadableStream<T>(
      {
        async pull(controller) {
          while (root === null && failure === null) await new Promise<void>((r) => (rootReady = r));
          if (root === null) throw failure;
          const result = await root.next();
          if (result.done) controller.close();
          else controller.enqueue(result.value);
        },
        cancel() {
          void root?.return();
          deserializer.failAll(new ConnectionClosedError('the deserializer was cancelled'));
        },
      },
      { highWaterMark: 0 },
    );
  }
}
