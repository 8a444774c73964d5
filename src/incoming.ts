/**
 * One remote stream as read on this side: its buffer of arrived items, the
 * credit it grants back as they are read (and the window growth), and its
 * outcome (ended, failed, cancelled). The deserializer owns one per incoming
 * stream and feeds it frames.
 *
 * @module
 */
import type { Frame, ItemsFrame, PullFrame } from './protocol.ts';
import { LimitExceededError, ProtocolError } from './errors.ts';
import type { BridgeLimits } from './limits.ts';
import { closeSource } from './sequencer.ts';

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
  /**
   * The most a byte window may grow to; `maxBufferedBytesPerStream` when
   * absent. Text wires charge what items really took as text, which can be
   * more than the bytes the producer declared, so the session keeps room there.
   */
  maxGrownWindowBytes?: number;
}

/** What an incoming stream needs of the deserializer that owns it. */
export interface IncomingOwner {
  /** Where credit and cancel frames go. */
  readonly sink: ControlSink;
  /** This side's windows as a consumer. */
  readonly windows: LocalWindows;
  readonly limits: BridgeLimits;
  /** The stream was cancelled here: forget its id (late frames for it are dropped). */
  forget(incoming: Incoming): void;
}

const DONE: IteratorResult<never, undefined> = Object.freeze({ value: undefined, done: true });

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
  /**
   * The windows never grow: set for a remote chain, whose items are sub-streams
   * (each producing in parallel on the peer): how many run ahead stays what was configured.
   */
  fixedWindow = false;
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
    private readonly owner: IncomingOwner,
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
    if (this.fixedWindow || !(factor > 1) || !Number.isFinite(this.windowItems) || !Number.isFinite(this.windowBytes)) return false;
    const items = Math.min(this.windowItems * 2, Math.floor(base.windowItems * factor));
    const ceiling = Math.max(base.windowBytes, base.maxGrownWindowBytes ?? this.owner.limits.maxBufferedBytesPerStream);
    const bytes = Math.min(this.windowBytes * 2, Math.floor(base.windowBytes * factor), ceiling);
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
