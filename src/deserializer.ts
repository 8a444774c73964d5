/**
 * The consuming side of the bridge: frames -> values with live local streams.
 *
 * Each reference in an arriving value becomes a local object at once (so the
 * frames of its stream, which follow, have somewhere to go): an async
 * iterable, a ReadableStream, a promise, or a local sequencer `sequence` that
 * re-chains a remote chain's sub-streams in order. Items are buffered per
 * stream within the credit this side granted; credit is returned as they are
 * consumed, so a slow consumer bounds the producer.
 *
 * @module
 */
import { decodeError, type ErrorPolicy } from './codec.ts';
import { LimitExceededError, ProtocolError } from './errors.ts';
import type { EncodedError, Frame, ItemsFrame, PullFrame, Ref, StreamKind } from './protocol.ts';
import { asyncIterableSequencer, closeSource, unclaimedRelay, type AnyIterable } from './sequencer.ts';
import type { BridgeLimits } from './limits.ts';

/** Where the deserializer sends credit and cancel frames. */
export interface ControlSink {
  /** Queues a frame; `urgent` sends it now. */
  send(frame: Frame, urgent?: boolean): void;
}

/** This side's windows as a consumer (what its hello announced). */
export interface LocalWindows {
  windowItems: number;
  windowBytes: number;
  /** How far a stream's windows may grow (`FlowOptions.windowGrowth`); 1 when absent. */
  windowGrowth?: number;
}

const DONE: IteratorResult<never, undefined> = Object.freeze({ value: undefined, done: true });
const noop = (): void => {};

/** A batch of items as it arrived. */
interface Chunk {
  values: unknown[];
  /** Local streams inside each value (iterables, ReadableStreams, promises, sequences), by index, to close if the value is never read. */
  nested: Map<number, unknown[]> | undefined;
  /** Bytes the producer declared (`b`): returned to it as credit. */
  bytes: number;
  /** Bytes counted against `maxBufferedBytesPerStream`: at least `bytes`, more if the wire showed more. */
  charge: number;
  index: number;
}

/**
 * A remote stream read locally. It is an `AsyncGenerator`, so it fits wherever
 * the remote one did: `for await`, `chain()`, `yield*`.
 */
export class Incoming<T = unknown> implements AsyncGenerator<T, undefined, undefined> {
  private readonly chunks: Chunk[] = [];
  /** Items granted to the producer in total (the initial window included). */
  granted: number;
  /** Items received in total. */
  received = 0;
  /** Estimated bytes buffered here, as the producer declared them. */
  buffered = 0;
  /**
   * Bytes buffered here as counted against `maxBufferedBytesPerStream`: on a
   * text wire, what the items really took when a producer understates `b`
   * (test/node/limits.test.ts). Credit still returns the declared bytes.
   */
  private charged = 0;
  private unackedItems = 0;
  private unackedBytes = 0;
  /** This stream's windows: the session's, grown while the window is the bottleneck (`windowGrowth`). */
  windowItems: number;
  windowBytes: number;
  /** The producer said its credit ran out (`items.k`) since the windows last grew. */
  private producerStalled = false;
  /** Window growth not yet sent (`pull.gn` / `pull.gb`). */
  private growItems = 0;
  private growBytes = 0;
  private markedActive = false;
  /** `end` arrived. */
  private ended = false;
  /** The stream failed (remote error, connection loss) or was cancelled: the settled outcome. */
  private failure: { error: unknown } | null = null;
  /** The failure was thrown to the reader once; later reads answer done. */
  private failureDelivered = false;
  private cancelled = false;
  private waiter: { resolve(r: IteratorResult<T, undefined>): void; reject(e: unknown): void } | null = null;

  constructor(
    readonly id: number,
    private readonly owner: Deserializer,
  ) {
    this.windowItems = owner.windows.windowItems;
    this.windowBytes = owner.windows.windowBytes;
    this.granted = this.windowItems;
  }

  /** True once nothing more will come (ended, failed, or cancelled). */
  get finished(): boolean {
    return this.ended || this.failure !== null || this.cancelled;
  }

  push(frame: ItemsFrame, nested: Map<number, unknown[]> | undefined, charge = frame.b): void {
    this.received += frame.p.length;
    this.buffered += frame.b;
    this.charged += charge;
    if (this.received > this.granted) throw new ProtocolError(`stream ${this.id} sent past its credit`);
    const max = this.owner.limits.maxBufferedBytesPerStream;
    if (this.charged > max) throw new LimitExceededError('maxBufferedBytesPerStream', this.charged, max);
    if (frame.k === 1) this.producerStalled = true;
    this.chunks.push({ values: frame.p, nested, bytes: frame.b, charge, index: 0 });
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      waiter.resolve(this.take());
    }
  }

  private take(): IteratorResult<T, undefined> {
    const chunk = this.chunks[0]!;
    const value = chunk.values[chunk.index] as T;
    chunk.values[chunk.index++] = undefined; // read values are the reader's, not the buffer's
    this.unackedItems++;
    if (chunk.index === chunk.values.length) {
      this.chunks.shift();
      this.buffered -= chunk.bytes;
      this.charged -= chunk.charge;
      this.unackedBytes += chunk.bytes;
    }
    if (this.unackedItems >= this.windowItems / 4 || this.unackedBytes >= this.windowBytes / 4) this.ack(false);
    else if (this.ended && this.chunks.length === 0) this.ack(false); // return the last bytes to the session budget
    return { value, done: false };
  }

  /** Grants the consumed items back as credit and returns their bytes to the session budget. */
  private ack(active: boolean): void {
    if (this.cancelled || this.failure !== null) return;
    const frame: PullFrame = { t: 'pull', s: this.id, n: this.unackedItems, b: this.unackedBytes };
    if (active) frame.a = 1;
    if (this.growItems > 0) frame.gn = this.growItems;
    if (this.growBytes > 0) frame.gb = this.growBytes;
    this.granted += this.unackedItems + this.growItems;
    this.growItems = 0;
    this.growBytes = 0;
    this.unackedItems = 0;
    this.unackedBytes = 0;
    // A reader waiting now wants its credit to leave at once, not after this macrotask.
    this.owner.sink.send(frame, active);
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.chunks.length > 0) return Promise.resolve(this.take());
    if (this.failure !== null) {
      if (this.failureDelivered) return Promise.resolve(DONE);
      this.failureDelivered = true;
      return Promise.reject(this.failure.error);
    }
    if (this.ended || this.cancelled) return Promise.resolve(DONE);
    if (this.waiter !== null) return Promise.reject(new TypeError('concurrent next() on a remote stream'));
    // Waiting now: return what was read and ask to be served first. If the producer had used up its
    // credit, the whole window went by and still did not cover the round trip: grow it.
    const grew = this.producerStalled && this.grow();
    if (grew || !this.markedActive || this.unackedItems > 0) {
      this.markedActive = true;
      this.ack(true);
    }
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /**
   * Stops reading: a stream still producing is cancelled (the producer's
   * `return()` runs); the nested streams of every unread value are cancelled too.
   */
  return(): Promise<IteratorResult<T, undefined>> {
    if (this.ended && !this.cancelled && this.failure === null) {
      // The producer is done: only the budget of what was left unread goes back.
      this.unackedBytes += this.buffered;
      if (this.unackedBytes > 0 || this.unackedItems > 0) this.ack(false);
    } else if (!this.finished) {
      this.cancelled = true;
      this.owner.sink.send({ t: 'cancel', s: this.id });
      this.owner.forget(this);
    }
    this.discard();
    this.settle(DONE);
    return Promise.resolve(DONE);
  }

  throw(error: unknown): Promise<IteratorResult<T, undefined>> {
    void this.return();
    return Promise.reject(error);
  }

  /**
   * Doubles this stream's windows, within `windowGrowth` times the session's
   * and `maxBufferedBytesPerStream`; the growth leaves with the next pull.
   * Returns false when they are already at their ceiling.
   */
  private grow(): boolean {
    this.producerStalled = false;
    const base = this.owner.windows;
    const factor = base.windowGrowth ?? 1;
    if (!(factor > 1) || !Number.isFinite(this.windowItems) || !Number.isFinite(this.windowBytes)) return false;
    const items = Math.min(this.windowItems * 2, Math.floor(base.windowItems * factor));
    const bytes = Math.min(this.windowBytes * 2, Math.floor(base.windowBytes * factor), Math.max(base.windowBytes, this.owner.limits.maxBufferedBytesPerStream));
    if (items <= this.windowItems && bytes <= this.windowBytes) return false;
    this.growItems += Math.max(0, items - this.windowItems);
    this.growBytes += Math.max(0, bytes - this.windowBytes);
    this.windowItems = Math.max(items, this.windowItems);
    this.windowBytes = Math.max(bytes, this.windowBytes);
    return true;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  /** `end` arrived: buffered items are still read, then done. */
  end(): void {
    this.ended = true;
    if (this.chunks.length > 0) return;
    if (this.unackedItems > 0 || this.unackedBytes > 0) this.ack(false);
    this.settle(DONE);
  }

  /** The stream failed: items that arrived before the failure are still read, then the error. */
  fail(error: unknown): void {
    if (this.finished) return;
    this.failure = { error };
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      this.failureDelivered = true;
      waiter.reject(error);
    }
  }

  private settle(result: IteratorResult<T, undefined>): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.resolve(result);
  }

  /** Cancels the nested streams of every unread value. */
  private discard(): void {
    for (const chunk of this.chunks.splice(0)) {
      if (chunk.nested === undefined) continue;
      for (const [index, streams] of chunk.nested) {
        if (index >= chunk.index) for (const stream of streams) closeSource(stream);
      }
    }
    this.buffered = 0;
    this.charged = 0;
  }
}

/**
 * Turns arriving values and stream frames into local objects. One per session.
 */
export class Deserializer {
  /** Open incoming streams by id. */
  readonly streams = new Map<number, Incoming>();
  /** Highest stream id ever announced by the peer (ids grow), to tell late frames from unknown ones. */
  private highestId = -1;
  /** Told of every stream as it arrives (plan tracing gives it a node while a trace runs). */
  onStream: ((local: unknown, kind: StreamKind, id: number) => void) | null = null;

  constructor(
    readonly sink: ControlSink,
    readonly windows: LocalWindows,
    readonly limits: BridgeLimits,
    private readonly errors: ErrorPolicy,
  ) {}

  /** Rebuilds a value: each ref becomes a live local stream. Returns the value and the streams made. */
  decode(data: unknown, refs: Ref[] | undefined): { value: unknown; streams: unknown[] } {
    if (refs === undefined) return { value: data, streams: [] };
    const streams: unknown[] = [];
    let root = data;
    for (const [path, kind, id] of refs) {
      const incoming = this.register(id);
      const local = this.materialize(kind, incoming);
      if (this.onStream !== null) this.onStream(local, kind, id);
      streams.push(local);
      if (path.length === 0) {
        root = local;
        continue;
      }
      let target = root as Record<string | number, unknown>;
      for (let i = 0; i < path.length - 1; i++) {
        const next = target?.[path[i]!];
        if (typeof next !== 'object' || next === null) throw new ProtocolError('a ref path does not lead into the value');
        target = next as Record<string | number, unknown>;
      }
      if (typeof target !== 'object' || target === null) throw new ProtocolError('a ref path does not lead into the value');
      // Paths were checked for prototype keys; defineProperty never invokes a setter.
      Object.defineProperty(target, path[path.length - 1]!, { value: local, writable: true, enumerable: true, configurable: true });
    }
    return { value: root, streams };
  }

  private register(id: number): Incoming {
    if (id <= this.highestId || this.streams.has(id)) throw new ProtocolError(`stream id ${id} reused`);
    if (this.streams.size >= this.limits.maxOpenStreams) {
      throw new LimitExceededError('maxOpenStreams', this.streams.size + 1, this.limits.maxOpenStreams);
    }
    this.highestId = id;
    const incoming = new Incoming(id, this);
    this.streams.set(id, incoming);
    return incoming;
  }

  private materialize(kind: Ref[1], incoming: Incoming): unknown {
    switch (kind) {
      case 'it':
        return incoming;
      case 'rs':
        return new ReadableStream<unknown>(
          {
            pull: async (controller: ReadableStreamDefaultController<unknown>) => {
              const result = await incoming.next();
              if (result.done) controller.close();
              else controller.enqueue(result.value);
            },
            cancel: () => void incoming.return(),
          },
          { highWaterMark: 0 },
        );
      case 'p': {
        const promise = incoming.next().then((result) => {
          if (result.done) throw new ProtocolError(`promise stream ${incoming.id} ended without a value`);
          void incoming.return();
          return result.value;
        });
        promise.catch(noop); // not every remote promise is awaited; its rejection must not be unhandled
        return promise;
      }
      case 'seq':
        return this.sequence(incoming);
    }
  }

  /** A remote chain becomes a local sequence; its sub-streams are chained in order as they are announced. */
  private sequence(incoming: Incoming): AsyncGenerator<unknown> {
    const { sequence, chain } = asyncIterableSequencer<unknown>();
    const relay = unclaimedRelay<unknown>(sequence)!;
    relay.onClose = () => void incoming.return();
    // Chain no further ahead than one window of sub-streams: the producer is paced by our reader.
    let resume: (() => void) | null = null;
    relay.onShift = () => {
      const r = resume;
      resume = null;
      r?.();
    };
    const limit = Math.max(1, this.windows.windowItems);
    void (async () => {
      try {
        for (;;) {
          while (relay.length >= limit && !relay.closed) await new Promise<void>((r) => (resume = r));
          const result = await incoming.next();
          if (result.done) break;
          // Chained even if the reader left meanwhile: a closed relay then closes (cancels) it.
          chain(result.value as AnyIterable<unknown>);
          if (relay.closed) return;
        }
        if (!relay.closed) chain(null);
      } catch (error) {
        if (relay.closed) return;
        const rejected = Promise.reject(error);
        rejected.catch(noop);
        chain(rejected);
        chain(null);
      }
    })();
    return sequence;
  }

  /**
   * Frames from the producer about stream `frame.s`. `wireBytes` is what the
   * items took on the wire when the session knows it (text wires), charged
   * when it exceeds the declared `b`.
   */
  onItems(frame: ItemsFrame, wireBytes = 0): void {
    const incoming = this.lookup(frame.s);
    if (incoming === undefined) return this.cancelAnnounced(frame);
    let nested: Map<number, unknown[]> | undefined;
    if (frame.r !== undefined) {
      nested = new Map();
      for (const [index, refs] of frame.r) {
        const { value, streams } = this.decode(frame.p[index], refs);
        frame.p[index] = value;
        nested.set(index, streams);
      }
    }
    incoming.push(frame, nested, Math.max(frame.b, wireBytes));
  }

  /**
   * Items of a stream already closed here (cancelled while they were on the
   * way) may announce nested streams: those are cancelled at once, so their
   * producers stop, and their frames that follow are known as late rather
   * than refused as unknown (found by test/node/bridge-duplex-property.test.ts:
   * an honest peer's session was closed with "frame for unknown stream").
   */
  private cancelAnnounced(frame: ItemsFrame): void {
    if (frame.r === undefined) return;
    for (const [, refs] of frame.r) {
      for (const [, , id] of refs) {
        if (id <= this.highestId) throw new ProtocolError(`stream id ${id} reused`);
        this.highestId = id;
        this.sink.send({ t: 'cancel', s: id });
      }
    }
  }

  onEnd(s: number): void {
    const incoming = this.lookup(s);
    if (incoming === undefined) return;
    this.streams.delete(s);
    incoming.end();
  }

  onError(s: number, error: EncodedError): void {
    const incoming = this.lookup(s);
    if (incoming === undefined) return;
    this.streams.delete(s);
    incoming.fail(this.reviveError(error));
  }

  /** Revives an error from the wire with this side's error policy. */
  reviveError(error: EncodedError): unknown {
    return decodeError(error, this.errors);
  }

  /** An open stream, `undefined` for one already closed here, `ProtocolError` for one never announced. */
  private lookup(s: number): Incoming | undefined {
    const incoming = this.streams.get(s);
    if (incoming === undefined && s > this.highestId) throw new ProtocolError(`frame for unknown stream ${s}`);
    return incoming;
  }

  /** Drops a stream the local reader cancelled; later frames for it are ignored. */
  forget(incoming: Incoming): void {
    this.streams.delete(incoming.id);
  }

  /** Fails every open stream (the connection is gone). */
  failAll(error: unknown): void {
    for (const incoming of [...this.streams.values()]) incoming.fail(error);
    this.streams.clear();
  }
}
