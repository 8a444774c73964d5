/**
 * One duplex conversation over one endpoint: handshake, batched frames,
 * calls in both directions, streams under credit, cancellation, errors and
 * close. `expose` and `wrap` are thin faces over it.
 *
 * @module
 */
import { defaultTextCodec, encodeError, structuredCloneCodec, type Codec, type ErrorPolicy } from './codec.ts';
import { Calls, type CallsHost } from './calls.ts';
import { Deserializer } from './deserializer.ts';
import type { Endpoint, EndpointListener } from './endpoint.ts';
import { ConnectionClosedError, LimitExceededError, PeerTimeoutError, ProtocolError, StreamCancelledError } from './errors.ts';
import { DEFAULT_FLOW, DEFAULT_LIMITS, resolveOptions, type BridgeLimits, type FlowOptions } from './limits.ts';
import { decodeMessage, PROTOCOL_VERSION, type Frame, type Ref, type WireMessage } from './protocol.ts';
import { Outbox, type OutboxHost } from './outbox.ts';
import { Serializer, type FrameSink } from './serializer.ts';
import { BridgeTracing, clockNow } from './trace-bridge.ts';
import { DEFAULT_PEER_TIMEOUT_MS, type Remote, type SessionOptions, type SessionStats } from './session-options.ts';

export { DEFAULT_PEER_TIMEOUT_MS } from './session-options.ts';
export type { CallContext, Remote, SessionOptions, SessionStats } from './session-options.ts';

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;
const STATE_NAMES = ['connecting', 'open', 'closed'] as const;
const SESSION_OF = Symbol('stream-weaver.session');


/**
 * A bridge session over one endpoint. Both sides may expose handlers and call
 * the other; values returned or passed may hold streams to any depth.
 *
 * On close (either side, endpoint loss, protocol violation) every open stream
 * and pending call fails with `ConnectionClosedError` (or the violation), and
 * every local producer's `return()` runs. Nothing is left pending.
 *
 * @example
 * ```ts
 * const session = new Session(port, { handlers: { ping: () => 'pong' } });
 * const peer = session.remote<{ render(p: Props): AsyncIterable<string> }>();
 * chain(peer.render(props));
 * ```
 */
export class Session implements FrameSink {
  private state = CONNECTING;
  private readonly codec: Codec;
  private readonly limits: BridgeLimits;
  private readonly flow: FlowOptions;
  private readonly serializer: Serializer;
  private readonly deserializer: Deserializer;
  /** Plan tracing across this session (issue 9): clock offset, trace requests and records. */
  private readonly tracing: BridgeTracing;
  private readonly handlers: object | undefined;
  /** How errors cross: stacks kept or redacted, custom classes revived. */
  private readonly errors: ErrorPolicy;
  /** Outgoing frames, batched into messages. */
  private readonly outbox: Outbox;
  /** Text length of the message being dispatched, per item in it (0 on clone wires). */
  private wireBytesPerItem = 0;
  /** Calls made and served. */
  private readonly calls: Calls;
  private readonly timers: Array<ReturnType<typeof setTimeout>> = [];
  /** Messages received: the liveness check compares it between ticks, so no clock is read per message. */
  private heard = 0;
  /** `heard` at the last liveness tick. */
  private heardAtTick = 0;
  /** Liveness ticks in a row with work outstanding and nothing heard: a probe at 1 and 2, the close at 3. */
  private silentTicks = 0;
  /** The liveness timer (every third of `peerTimeoutMs`), while open. */
  private liveness: ReturnType<typeof setInterval> | undefined;
  private readonly unsubscribeClose: (() => void) | undefined;
  private resolveClosed!: (reason: Error) => void;
  /** Resolves (never rejects) with the reason once the session is closed. */
  readonly closed: Promise<Error>;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly options: SessionOptions = {},
  ) {
    this.codec = options.codec ?? (endpoint.wire === 'text' ? defaultTextCodec : structuredCloneCodec);
    this.limits = resolveOptions(DEFAULT_LIMITS, options.limits, 'limits');
    this.flow = resolveOptions(DEFAULT_FLOW, options.flow, 'flow');
    const peerTimeout = options.peerTimeoutMs ?? DEFAULT_PEER_TIMEOUT_MS;
    if (!(peerTimeout >= 0) || !Number.isFinite(peerTimeout)) {
      throw new RangeError(`peerTimeoutMs must be a finite number of ms >= 0 (0 turns it off); got ${String(peerTimeout)}`);
    }
    this.outbox = new Outbox(this.outboxHost, this.flow.maxBatchItems, this.limits.maxFramesPerMessage);
    this.handlers = options.handlers;
    const errors: ErrorPolicy = (this.errors = {
      keepStacks: options.keepStacks ?? this.codec.wire === 'clone',
      classes: new Map((options.errorClasses ?? []).map((cls) => [cls.name, cls])),
    });
    const transfer = (options.transfer ?? true) && this.codec.wire === 'clone';
    this.serializer = new Serializer(this, {
      transfer,
      maxDepth: this.limits.maxDepth,
      maxOpenStreams: this.limits.maxOpenStreams,
      errors,
      paced: endpoint.bufferedAmount !== undefined,
    });
    // On text wires a stream's buffer is charged what its items took as text (base64 binary is 1.37x,
    // escaped strings more): a grown window keeps 4x room under maxBufferedBytesPerStream there, or a
    // reader that stops after its window grew would trip its own limit (test/node/flow-growth.test.ts).
    const maxGrownWindowBytes = this.codec.wire === 'text' ? Math.floor(this.limits.maxBufferedBytesPerStream / 4) : this.limits.maxBufferedBytesPerStream;
    this.deserializer = new Deserializer(this, { ...this.flow, maxGrownWindowBytes }, this.limits, errors);
    this.tracing = new BridgeTracing(this, options, this.flow);
    this.deserializer.onStream = this.tracing.incoming;
    this.calls = this.newCalls();
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    endpoint.addEventListener('message', this.onMessage);
    this.unsubscribeClose = endpoint.onClose?.((reason) => this.close(reason)) ?? this.listenForPortClose();
    endpoint.start?.();
    this.handshake();
  }

  /**
   * A bare MessagePort has no `onClose`, but Node (and newer browsers) fire a
   * `close` event on a port whose other end closed: listen for it.
   */
  private listenForPortClose(): (() => void) | undefined {
    const target = this.endpoint as unknown as EventTarget;
    if (typeof target.addEventListener !== 'function') return undefined;
    const listener = (): void => this.close(new ConnectionClosedError('the message port closed'), false);
    target.addEventListener('close', listener);
    return () => target.removeEventListener('close', listener);
  }

  private handshake(): void {
    let delay = 20;
    const hello = (): void => {
      if (this.state !== CONNECTING) return;
      this.post([{ t: 'hello', w: this.flow.windowItems, wb: this.flow.windowBytes, sb: this.flow.sessionBudgetBytes, ck: clockNow() }]);
      // Resend until answered: a peer that was not listening yet lost the first one.
      delay = Math.min(delay * 2, 1_000);
      this.timer(hello, delay);
    };
    hello();
    const timeout = this.options.handshakeTimeoutMs ?? 30_000;
    if (timeout > 0) {
      this.timer(() => {
        if (this.state === CONNECTING) this.close(new ConnectionClosedError(`no answer to the handshake within ${timeout} ms`));
      }, timeout);
    }
  }

  private timer(fn: () => void, ms: number): void {
    const t = setTimeout(fn, ms);
    (t as { unref?: () => void }).unref?.();
    this.timers.push(t);
  }

  private open(frame: { w: number; wb: number; sb: number }): void {
    if (this.state !== CONNECTING) return;
    this.state = OPEN;
    for (const t of this.timers.splice(0)) clearTimeout(t);
    this.outbox.setPeerWindows(frame.w, frame.wb);
    this.serializer.setPeerWindows({ w: frame.w, wb: frame.wb, sb: frame.sb });
    const peerTimeout = this.options.peerTimeoutMs ?? DEFAULT_PEER_TIMEOUT_MS;
    if (peerTimeout > 0) {
      this.liveness = setInterval(this.checkPeer, peerTimeout / 3);
      (this.liveness as { unref?: () => void }).unref?.();
    }
  }

  /** Every third of `peerTimeoutMs`: probes a silent peer while work is outstanding, and gives up after three silent ticks. */
  private readonly checkPeer = (): void => {
    const { pendingCalls, servingCalls } = this.calls.counts;
    const busy = pendingCalls > 0 || servingCalls > 0 || this.deserializer.streams.size > 0 || this.serializer.streams.size > 0;
    if (this.heard !== this.heardAtTick || !busy) {
      this.heardAtTick = this.heard;
      this.silentTicks = 0;
      return;
    }
    if (++this.silentTicks >= 3) {
      const ms = this.options.peerTimeoutMs ?? DEFAULT_PEER_TIMEOUT_MS;
      this.close(new PeerTimeoutError(`the peer sent nothing for ${ms} ms while work was outstanding`));
      return;
    }
    try {
      this.post([{ t: 'hello', w: this.flow.windowItems, wb: this.flow.windowBytes, sb: this.flow.sessionBudgetBytes, ck: clockNow() }]);
    } catch {
      // A transport that cannot send reports its own close; the timeout stands either way.
    }
  };

  // ---- FrameSink -------------------------------------------------------

  /** Queues a frame for the next batch; `urgent` sends the batch now (a reader is waiting on it). */
  send(frame: Frame, urgent = false): void {
    this.outbox.send(frame, urgent);
  }

  sendItem(s: number, data: unknown, refs: Ref[] | undefined, bytes: number, transfer: Transferable[] | undefined, urgent = false, stalled = false): void {
    this.outbox.sendItem(s, data, refs, bytes, transfer, urgent, stalled);
  }

  get congested(): boolean {
    const buffered = this.endpoint.bufferedAmount;
    return buffered !== undefined && buffered > this.flow.highWaterMarkBytes;
  }

  drained(): Promise<void> {
    return this.endpoint.whenDrained?.(this.flow.highWaterMarkBytes / 2) ?? Promise.resolve();
  }

  /** What the outbox needs of the session: its state, the wire, and what to do with a frame the codec refuses. */
  private readonly outboxHost: OutboxHost = {
    isOpen: () => this.state === OPEN,
    isClosed: () => this.state === CLOSED,
    post: (frames, transfer) => this.post(frames, transfer),
    refused: (frame, error) => this.refused(frame, error),
  };

  private post(frames: Frame[], transfer: Transferable[] = []): void {
    const message: WireMessage = { v: PROTOCOL_VERSION, f: frames };
    const data = this.codec.encode(message);
    if (transfer.length > 0) this.endpoint.postMessage(data, transfer);
    else this.endpoint.postMessage(data);
  }

  /** A frame the codec refused even alone: fail only its stream or call; anything else ends the session. */
  private refused(frame: Frame, error: unknown): boolean {
    if (frame.t === 'items') {
      this.serializer.cancel(frame.s, error);
      this.post([{ t: 'error', s: frame.s, e: encodeError(error, this.errors) }]);
    } else if (frame.t === 'result') {
      this.post([{ t: 'fail', id: frame.id, e: encodeError(error, this.errors) }]);
    } else if (frame.t === 'call') {
      this.calls.settle(frame.id, error, true);
    } else {
      this.close(error instanceof Error ? error : new Error(String(error)));
      return false;
    }
    return true;
  }

  // ---- receiving ---------------------------------------------------------

  private readonly onMessage: EndpointListener = (event) => {
    if (this.state === CLOSED) return;
    this.heard++;
    let message: WireMessage;
    try {
      message = decodeMessage(this.codec.decode(event.data, this.limits.maxFrameBytes), this.limits);
    } catch (error) {
      return this.violation(error);
    }
    // What the items of this message really took on a text wire: charged against
    // maxBufferedBytesPerStream when a producer understates `b` (test/node/limits.test.ts).
    this.wireBytesPerItem = typeof event.data === 'string' ? wireBytesPerItem(event.data, message) : 0;
    try {
      for (const frame of message.f) {
        if (this.state === CLOSED) return;
        this.dispatch(frame);
      }
    } catch (error) {
      this.violation(error);
    } finally {
      this.calls.endOfMessage();
    }
  };

  /** A bad frame: the peer is told why, and the session is closed. Never thrown into the host. */
  private violation(error: unknown): void {
    const reason =
      error instanceof ProtocolError || error instanceof LimitExceededError
        ? error
        : new ProtocolError(`undecodable message: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    this.close(reason);
  }

  private dispatch(frame: Frame): void {
    switch (frame.t) {
      case 'hello':
        this.post([{ t: 'welcome', w: this.flow.windowItems, wb: this.flow.windowBytes, sb: this.flow.sessionBudgetBytes, ...this.tracing.welcome(frame) }]);
        this.tracing.onHandshake(frame, this.outbox.queue);
        this.open(frame);
        return;
      case 'welcome':
        this.tracing.onHandshake(frame, this.outbox.queue);
        return this.open(frame);
      case 'trace':
        return this.tracing.onFrame(frame);
      case 'call':
        return this.calls.serve(frame);
      case 'result': {
        const { value } = this.deserializer.decode(frame.p, frame.r);
        return this.calls.settle(frame.id, value, false);
      }
      case 'fail':
        return this.calls.settle(frame.id, this.deserializer.reviveError(frame.e), true);
      case 'items':
        return this.deserializer.onItems(frame, frame.p.length * this.wireBytesPerItem);
      case 'end':
        return this.deserializer.onEnd(frame.s);
      case 'error':
        return this.deserializer.onError(frame.s, frame.e);
      case 'pull':
        return this.serializer.onPull(frame.s, frame.n, frame.b, frame.a === 1, frame.gn, frame.gb);
      case 'cancel':
        if (!this.serializer.knows(frame.s)) throw new ProtocolError(`cancel for unknown stream ${frame.s}`);
        return this.serializer.cancel(frame.s, new StreamCancelledError());
      case 'bye': {
        const cause = frame.e === undefined ? undefined : this.deserializer.reviveError(frame.e);
        const message = cause instanceof Error ? `the peer closed the session: ${cause.message}` : 'the peer closed the session';
        return this.close(new ConnectionClosedError(message, { cause }), false);
      }
    }
  }

  /**
   * Calls `method` on the peer. Sends at once; the promise resolves with the
   * result, its streams live and already flowing.
   */
  call(method: string, args: unknown[]): Promise<unknown> {
    if (this.state === CLOSED) return Promise.reject(new ConnectionClosedError('the session is closed'));
    return this.calls.call(method, args);
  }

  /** The session's calls, given what they need of it. */
  private newCalls(): Calls {
    const host: CallsHost = {
      session: this,
      serializer: this.serializer,
      deserializer: this.deserializer,
      outbox: this.outbox,
      tracing: this.tracing,
      errors: this.errors,
      handlers: this.handlers,
      maxPendingCalls: this.limits.maxPendingCalls,
      isClosed: () => this.state === CLOSED,
      send: (frame) => this.send(frame),
    };
    return new Calls(host);
  }

  /** A typed proxy: `remote.method(...args)` calls the peer. */
  remote<T>(): Remote<T> {
    return new Proxy(Object.create(null) as object, {
      get: (_target, property) => {
        if (property === SESSION_OF) return this;
        // Not a thenable, so `await remote` does not call the peer.
        if (typeof property === 'symbol' || property === 'then') return undefined;
        return (...args: unknown[]) => this.call(property, args);
      },
    }) as Remote<T>;
  }

  /** Counts of open streams, pending calls and budget, for tests and monitoring. */
  stats(): SessionStats {
    return {
      state: STATE_NAMES[this.state]!,
      incomingStreams: this.deserializer.streams.size,
      ...this.serializer.stats(),
      ...this.calls.counts,
    };
  }

  /**
   * Closes the session once: tells the peer (best effort), then fails every
   * open stream and pending call with `reason` (a `ConnectionClosedError` by
   * default) and runs every local producer's `return()`.
   */
  close(reason?: Error, tellPeer = true): void {
    if (this.state === CLOSED) return;
    const error = reason ?? new ConnectionClosedError('the session was closed');
    if (tellPeer && this.state === OPEN) {
      try {
        this.outbox.flush();
        this.post([reason === undefined ? { t: 'bye' } : { t: 'bye', e: encodeError(reason, this.errors) }]);
      } catch {
        // The transport is gone already: nothing to tell.
      }
    }
    this.state = CLOSED;
    this.outbox.clear();
    for (const t of this.timers.splice(0)) clearTimeout(t);
    clearInterval(this.liveness);
    this.endpoint.removeEventListener('message', this.onMessage);
    this.unsubscribeClose?.();
    // Local readers see a typed loss; a violation by the peer is reported as itself.
    const loss = error instanceof ConnectionClosedError ? error : new ConnectionClosedError(error.message, { cause: error });
    this.deserializer.failAll(loss);
    this.calls.failAll(loss);
    this.serializer.closeAll(loss);
    this.tracing.close();
    if (this.options.closeEndpoint ?? true) {
      try {
        this.endpoint.close?.();
      } catch {
        // already closed
      }
    }
    this.resolveClosed(error);
  }
}

/** A text message's length shared among its items (0 when it carries none): one pass over its frames. */
function wireBytesPerItem(text: string, message: WireMessage): number {
  let items = 0;
  for (const frame of message.f) if (frame.t === 'items') items += frame.p.length;
  return items === 0 ? 0 : text.length / items;
}

/**
 * Returns the session behind a proxy made by `wrap` or `session.remote()`; throws a `TypeError` for anything else.
 *
 * @example
 * ```ts
 * const remote = wrap<typeof handlers>(endpoint);
 * sessionOf(remote).close();
 * ```
 */
export function sessionOf(remote: object): Session {
  const session = (remote as { [SESSION_OF]?: Session })[SESSION_OF];
  if (!(session instanceof Session)) throw new TypeError('not a remote made by wrap() or session.remote()');
  return session;
}

/**
 * Serves `handlers` on `endpoint`. A handler may return values, promises,
 * async iterables, ReadableStreams, sequences and conductor readables, nested
 * to any depth; each stream crosses with its own credit. Returns the session
 * (call `close()` to stop serving).
 *
 * @example
 * ```ts
 * expose({
 *   async *count(n: number) { for (let i = 0; i < n; i++) yield i; },
 * }, parentPortEndpoint());
 * ```
 */
export function expose(handlers: object, endpoint: Endpoint, options: Omit<SessionOptions, 'handlers'> = {}): Session {
  return new Session(endpoint, { ...options, handlers });
}

/**
 * A typed proxy for the handlers exposed on the other side of `endpoint`.
 * Each call sends at once and resolves with the result, whose streams are
 * local async iterables already filling up to their credit.
 *
 * @example
 * ```ts
 * const remote = wrap<typeof handlers>(nodeWorkerEndpoint(worker));
 * const { sequence, chain } = asyncIterableSequencer<number>();
 * chain([0]);
 * chain(remote.count(3)); // a promise of a remote stream, chained in place
 * chain(null);
 * ```
 */
export function wrap<T>(endpoint: Endpoint, options: SessionOptions = {}): Remote<T> {
  return new Session(endpoint, options).remote<T>();
}
