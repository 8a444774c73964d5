/**
 * The producing side of the bridge: values with nested streams -> frames.
 *
 * A value is walked once; every async iterable, ReadableStream, promise or
 * sequencer `sequence` found inside is replaced by a reference and opened as
 * its own outgoing stream, pumped in parallel under the credit its consumer
 * grants. A sequence crosses as a chain of sub-streams, so the remote side
 * re-chains them in order while later ones are already flowing.
 *
 * @module
 */
import { afterIo } from './after-io.ts';
import { LimitExceededError, ProtocolError } from './errors.ts';
import { encodeError, type ErrorPolicy } from './codec.ts';
import type { Frame, Ref, StreamKind } from './protocol.ts';
import { Outgoing, relayReader } from './outgoing.ts';
import { closeSource, unclaimedRelay } from './sequencer.ts';
import { isThenable, openReader } from './sources.ts';
import type { TraceParent } from './trace-bridge.ts';
import { flatSize } from './value-shape.ts';
import { walkValue, type Walk, type WalkHost } from './value-walk.ts';

/** Where the serializer puts frames: the session's outgoing batch. */
export interface FrameSink {
  /** Appends a control frame. */
  send(frame: Frame): void;
  /**
   * Appends one item of stream `s` (batched with its neighbours), with buffers
   * to transfer; `urgent` asks for the batch to leave now (a call's first item);
   * `stalled` says the stream's credit ran out with it (`items.k`).
   */
  sendItem(s: number, data: unknown, refs: Ref[] | undefined, bytes: number, transfer: Transferable[] | undefined, urgent?: boolean, stalled?: boolean): void;
  /** True while the endpoint is congested (socket `bufferedAmount` high). */
  readonly congested: boolean;
  /** Resolves when the endpoint is no longer congested. */
  drained(): Promise<void>;
}

/** The consumer's grant: how far each stream and the whole session may run ahead. */
export interface PeerWindows {
  /** Items per stream. */
  w: number;
  /** Estimated bytes per stream. */
  wb: number;
  /** Estimated bytes across all streams. */
  sb: number;
}

/** Settings of a serializer. */
export interface SerializerSettings {
  /**
   * The sink can become congested (a socket's `bufferedAmount`, a readable's
   * queue): producers check `sink.congested` before each item. Off for sinks
   * that never are (postMessage), so the check costs nothing there.
   */
  paced?: boolean;
  /** Transfer ArrayBuffers found in values instead of copying them (clone wires only). */
  transfer: boolean;
  /** Deepest value nesting walked. */
  maxDepth: number;
  /**
   * Most streams produced for the peer at once (default unbounded). Past it the
   * source is closed unread and the value carrying it fails to send with
   * `LimitExceededError`.
   */
  maxOpenStreams?: number;
  /** How errors are encoded. */
  errors: ErrorPolicy;
}

/** An encoded value: data with streams replaced by `null`, the refs, the estimated bytes, buffers to move. */
export interface EncodedValue {
  data: unknown;
  refs: Ref[] | undefined;
  bytes: number;
  transfer: Transferable[] | undefined;
}


/**
 * Turns values into frames and pumps the streams inside them under credit.
 * One per session (or per {@link SerializerConductor}).
 */
export class Serializer {
  /** Open outgoing streams by id. */
  readonly streams = new Map<number, Outgoing>();
  private nextId = 0;
  /** Estimated bytes sent and not yet returned by the consumer. */
  private inflight = 0;
  /** The consumer's windows; `null` until the handshake tells them. */
  private peer: PeerWindows | null = null;
  /** Streams whose pump resumes once the waiting messages are handled (`wakeAfterIo`). */
  private readonly toWake = new Set<Outgoing>();
  private wakeScheduled = false;
  /** Streams waiting for the session budget. */
  private readonly budgetBlocked = new Set<Outgoing>();
  /** Streams that ended while the consumer still holds some of their bytes: kept until returned. */
  private readonly draining = new Map<number, Outgoing>();

  private readonly paced: boolean;
  /** What the value walk needs: the limits, and a way to open the streams it finds. */
  private readonly walkHost: WalkHost;
  /** A flat value (two levels of containers below the root) is within maxDepth: the flat fast path may skip the walk. */
  private readonly flatDepthOk: boolean;

  constructor(
    private readonly sink: FrameSink,
    private readonly settings: SerializerSettings,
  ) {
    this.paced = settings.paced ?? false;
    this.flatDepthOk = settings.maxDepth >= 2;
    this.walkHost = {
      maxDepth: settings.maxDepth,
      transfer: settings.transfer,
      open: (kind, source, onCancel) => this.open(kind, source, onCancel),
    };
  }

  /** Sets the consumer's windows (from its hello) and lets every waiting stream start. */
  setPeerWindows(peer: PeerWindows): void {
    this.peer = peer;
    for (const out of this.streams.values()) {
      out.credit = out.windowItems = peer.w;
      out.creditBytes = peer.wb;
      this.wake(out);
    }
  }

  /**
   * Encodes a value: returns its data with nested streams replaced, opening
   * an outgoing stream for each. Throws `SerializationError` for functions and
   * symbols, `LimitExceededError` past `maxDepth`. Streams found are traced
   * under `trace` when the consumer asked for a trace.
   */
  encode(
    value: unknown,
    onCancel?: (reason: unknown) => void,
    children: Outgoing[] | null = null,
    topLevel = true,
    trace: TraceParent | null = null,
  ): EncodedValue {
    // Most items, arguments and results are flat (numbers, strings, small records): no walk.
    const size = this.flatDepthOk ? flatSize(value) : -1;
    if (size >= 0) return { data: value, refs: undefined, bytes: size, transfer: undefined };
    // A whole buffer alone (what walkBuffer would do, without a walk).
    if (value instanceof ArrayBuffer && this.settings.transfer) return { data: value, refs: undefined, bytes: value.byteLength, transfer: [value] };
    const walk: Walk = { path: [], refs: undefined, bytes: 0, transfer: undefined, ancestors: [], onCancel, children, opened: [], topLevel, trace };
    let data: unknown;
    try {
      data = walkValue(this.walkHost, value, walk);
    } catch (error) {
      for (const out of walk.opened) this.close(out, error);
      throw error;
    }
    return { data, refs: walk.refs, bytes: walk.bytes, transfer: walk.transfer };
  }

  /** Opens an outgoing stream and starts pumping it at once: the explode. */
  private open(kind: StreamKind, source: object, onCancel: ((reason: unknown) => void) | undefined): Outgoing {
    const max = this.settings.maxOpenStreams ?? Number.POSITIVE_INFINITY;
    if (this.streams.size >= max) {
      // A consumer that opens streams and never reads them would have this side hold a producer for
      // each, without end (found by test/node/limits.test.ts).
      closeSource(source);
      throw new LimitExceededError('maxOpenStreams', this.streams.size + 1, max);
    }
    const out = new Outgoing(this.nextId++, kind, source, onCancel);
    if (kind === 'seq') {
      const relay = unclaimedRelay<unknown>(source)!;
      relay.claimed = true;
      out.relay = relay;
      out.children = [];
      out.reader = relayReader(relay);
    } else if (kind !== 'p') {
      out.reader = openReader(source as AsyncIterable<unknown>);
    }
    if (this.peer !== null) {
      out.credit = out.windowItems = this.peer.w;
      out.creditBytes = this.peer.wb;
    }
    this.streams.set(out.id, out);
    // Started after the frame that announces the stream has been queued, so the peer knows the id first.
    queueMicrotask(() => void this.pump(out));
    return out;
  }

  private canSend(out: Outgoing): boolean {
    if (out.credit <= 0 || out.creditBytes <= 0) return false;
    if (out.active || this.peer === null || this.inflight < this.peer.sb) return true;
    this.budgetBlocked.add(out);
    return false;
  }

  private wake(out: Outgoing): void {
    const resume = out.resume;
    out.resume = null;
    resume?.();
  }

  private async pump(out: Outgoing): Promise<void> {
    try {
      if (out.kind === 'p') {
        const value = await (out.source as PromiseLike<unknown>);
        while (!out.closed && !this.canSend(out)) await new Promise<void>((r) => (out.resume = r));
        if (!out.closed) await this.emit(out, value);
      } else {
        const reader = out.reader!;
        for (;;) {
          while (!out.closed && !this.canSend(out)) await new Promise<void>((r) => (out.resume = r));
          if (out.closed) return;
          if (this.paced && this.sink.congested) await this.sink.drained();
          const next = reader.next();
          const result = isThenable(next) ? await next : next;
          if (out.closed) return;
          if (result.done) break;
          const waiting = this.emit(out, result.value);
          if (waiting !== undefined) await waiting; // only when the byte credit is short: no await per item
        }
      }
      if (!out.closed) {
        out.closed = true;
        this.streams.delete(out.id);
        if (out.inflight > 0) this.draining.set(out.id, out);
        out.trace?.finish('done'); // its record goes before its end
        this.sink.send({ t: 'end', s: out.id });
      }
    } catch (error) {
      if (out.closed) return;
      out.trace?.finish('error');
      this.close(out, error);
      this.sink.send({ t: 'error', s: out.id, e: encodeError(error, this.settings.errors) });
    }
  }

  /**
   * Encodes and sends one item. An item larger than the byte credit left waits
   * until it fits (returns the promise to await); otherwise it leaves at once.
   */
  private emit(out: Outgoing, value: unknown): Promise<void> | undefined {
    const encoded = this.encode(value, undefined, out.children, false, out.trace);
    // The byte window holds: only an item alone in flight may exceed it (else it could never be sent).
    if (encoded.bytes > out.creditBytes && out.inflight > 0) return this.emitWhenCredited(out, encoded);
    this.sendEncoded(out, encoded);
    return undefined;
  }

  private async emitWhenCredited(out: Outgoing, encoded: EncodedValue): Promise<void> {
    while (!out.closed && encoded.bytes > out.creditBytes && out.inflight > 0) await new Promise<void>((r) => (out.resume = r));
    this.sendEncoded(out, encoded);
  }

  private sendEncoded(out: Outgoing, encoded: EncodedValue): void {
    if (out.closed) return;
    out.credit--;
    out.creditBytes -= encoded.bytes;
    out.inflight += encoded.bytes;
    this.inflight += encoded.bytes;
    const urgent = out.urgent;
    out.urgent = false;
    // Another item like this one would not fit: say so, the consumer may grow the window.
    const stalled = out.credit <= 0 || out.creditBytes < encoded.bytes;
    this.sink.sendItem(out.id, encoded.data, encoded.refs, encoded.bytes, encoded.transfer, urgent, stalled);
  }

  /**
   * The consumer granted credit and returned bytes to the session budget, and
   * may have grown the stream's window (`growItems` / `growBytes`, extra credit).
   * Throws `ProtocolError` when a grant would exceed the window.
   */
  onPull(s: number, items: number, bytes: number, active: boolean, growItems = 0, growBytes = 0): void {
    const out = this.streams.get(s) ?? this.draining.get(s);
    if (out === undefined) {
      if (!this.knows(s)) throw new ProtocolError(`pull for unknown stream ${s}`);
      return; // a late grant for a stream cancelled here
    }
    const returned = Math.min(bytes, out.inflight);
    out.inflight -= returned;
    this.inflight -= returned;
    if (out.closed) {
      if (out.inflight <= 0) this.draining.delete(s);
    } else {
      out.windowItems += growItems;
      out.credit += items + growItems;
      out.creditBytes += bytes + growBytes;
      if (this.peer !== null && out.credit > out.windowItems) throw new ProtocolError(`credit overflow on stream ${s}`);
      if (active) out.active = true;
      this.wakeAfterIo(out);
    }
    this.wakeBudgetBlocked();
  }

  /**
   * Wakes a stream's pump once the messages already waiting are handled: a
   * producer that ran out of credit has usually several pulls queued, and
   * resuming on the first would send a pull's worth, stall again and need an
   * event-loop turn for each of the others (measured: one stall per 1 MiB of
   * 64 KiB buffers with 16 MiB granted).
   */
  private wakeAfterIo(out: Outgoing): void {
    if (out.resume === null) return;
    this.toWake.add(out);
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    afterIo(() => {
      this.wakeScheduled = false;
      const streams = [...this.toWake];
      this.toWake.clear();
      for (const s of streams) this.wake(s);
    });
  }

  /** Wakes the streams waiting for the session budget once it has room again. */
  private wakeBudgetBlocked(): void {
    if (this.peer !== null && this.inflight < this.peer.sb && this.budgetBlocked.size > 0) {
      const blocked = [...this.budgetBlocked];
      this.budgetBlocked.clear();
      for (const b of blocked) this.wake(b);
    }
  }

  /** True for an id this side has allocated (open or already closed). */
  knows(s: number): boolean {
    return s < this.nextId;
  }

  /** Counts for `session.stats()`. */
  stats(): { outgoingStreams: number; inflightBytes: number } {
    return { outgoingStreams: this.streams.size, inflightBytes: this.inflight };
  }

  /**
   * The consumer cancelled stream `s`: the producer's `return()` runs, and for
   * a chain every pending and open sub-stream is cancelled too.
   */
  cancel(s: number, reason: unknown): void {
    const out = this.streams.get(s);
    if (out === undefined) {
      // It ended here while its consumer cancelled it: the consumer drops what it holds and will
      // never return those bytes, so they leave the budget now (the budget leaked before; found by
      // test/node/bridge-duplex-property.test.ts).
      const ended = this.draining.get(s);
      if (ended !== undefined) {
        this.draining.delete(s);
        this.inflight -= ended.inflight;
        ended.inflight = 0;
        this.wakeBudgetBlocked();
      }
      return;
    }
    this.close(out, reason);
    out.onCancel?.(reason);
    this.wakeBudgetBlocked();
  }

  private close(out: Outgoing, reason: unknown): void {
    if (out.closed) return;
    out.closed = true;
    this.streams.delete(out.id);
    this.budgetBlocked.delete(out);
    // The consumer drops what it buffered of a stream closed early: its bytes leave the budget.
    this.inflight -= out.inflight;
    out.inflight = 0;
    this.draining.delete(out.id);
    out.trace?.finish('cancelled');
    out.reader?.close(reason);
    if (out.kind === 'rs' && out.reader === null) (out.source as ReadableStream).cancel(reason).catch(() => {});
    for (const child of out.children ?? []) this.close(child, reason);
    this.wake(out);
  }

  /** Closes every outgoing stream (the session is over): producers' `return()` run. */
  closeAll(reason: unknown): void {
    // Ended streams whose bytes the consumer had not returned yet leave the budget too, so that
    // stats() reads zero after a close (found by the fault trials in test/node/faults.test.ts).
    for (const out of this.draining.values()) {
      this.inflight -= out.inflight;
      out.inflight = 0;
    }
    this.draining.clear();
    for (const out of [...this.streams.values()]) {
      this.close(out, reason);
      out.onCancel?.(reason);
    }
  }
}
