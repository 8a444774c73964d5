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
import { Incoming, type ControlSink, type IncomingOwner, type LocalWindows } from './incoming.ts';
import type { EncodedError, ItemsFrame, Ref, StreamKind } from './protocol.ts';
import { asyncIterableSequencer, closeSource, unclaimedRelay, type AnyIterable } from './sequencer.ts';
import type { BridgeLimits } from './limits.ts';

export type { ControlSink, LocalWindows } from './incoming.ts';

const noop = (): void => {};

/**
 * Turns arriving values and stream frames into local objects. One per session.
 */
export class Deserializer implements IncomingOwner {
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
        incoming.fixedWindow = true;
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
