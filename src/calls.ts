/**
 * Calls in both directions over one session: the ones this side makes (ids,
 * pending promises) and the ones it serves (handler lookup, a lazy
 * AbortSignal per call, results encoded with their streams, the
 * `maxPendingCalls` limit). The session routes call, result and fail frames here.
 *
 * @module
 */
import { encodeError, type ErrorPolicy } from './codec.ts';
import type { Deserializer } from './deserializer.ts';
import { LimitExceededError, ProtocolError } from './errors.ts';
import type { Outbox } from './outbox.ts';
import type { CallFrame, Frame } from './protocol.ts';
import { closeSource } from './relay.ts';
import type { Serializer } from './serializer.ts';
import type { Session } from './session.ts';
import type { CallContext } from './session-options.ts';
import { isThenable } from './sources.ts';
import type { BridgeTracing } from './trace-bridge.ts';

/** What the calls need of their session. */
export interface CallsHost {
  /** Handed to handlers as `this.session`. */
  readonly session: Session;
  readonly serializer: Serializer;
  readonly deserializer: Deserializer;
  readonly outbox: Outbox;
  readonly tracing: BridgeTracing;
  readonly errors: ErrorPolicy;
  readonly handlers: object | undefined;
  readonly maxPendingCalls: number;
  isClosed(): boolean;
  send(frame: Frame): void;
}

/** The calls of one session. */
export class Calls {
  private nextCallId = 0;
  /** Calls this side made, waiting for a result. */
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  /** Calls the peer made that this side is serving, with their abort signals. */
  private readonly serving = new Map<number, CallAbort>();
  /** Call ids seen in the message being dispatched (sync handlers answer before the next frame). */
  private readonly callIdsThisMessage = new Set<number>();

  constructor(private readonly host: CallsHost) {}

  /** Calls made and not answered, calls being served. */
  get counts(): { pendingCalls: number; servingCalls: number } {
    return { pendingCalls: this.pending.size, servingCalls: this.serving.size };
  }

  /** A message has been dispatched: its call ids may come again once answered. */
  endOfMessage(): void {
    this.callIdsThisMessage.clear();
  }

  /** A `result` or `fail` arrived (or a call could not be sent): settles the call; throws for an unknown id. */
  settle(id: number, value: unknown, failed: boolean): void {
    const call = this.pending.get(id);
    if (call === undefined) {
      if (id >= this.nextCallId) throw new ProtocolError(`answer to unknown call ${id}`);
      return;
    }
    this.pending.delete(id);
    if (failed) call.reject(value);
    else call.resolve(value);
  }

  /** Serves a `call` from the peer: the handler runs synchronously; its result or error is sent back. */
  serve(frame: CallFrame): void {
    // A call still being served, or answered earlier in this same message, may not come again.
    if (this.serving.has(frame.id) || this.callIdsThisMessage.has(frame.id)) throw new ProtocolError(`call id ${frame.id} reused`);
    this.callIdsThisMessage.add(frame.id);
    const { value, streams } = this.host.deserializer.decode(frame.a, frame.r);
    const args = value as unknown[];
    if (this.serving.size >= this.host.maxPendingCalls) {
      const error = new LimitExceededError('maxPendingCalls', this.serving.size + 1, this.host.maxPendingCalls);
      // Nobody will read the refused call's arguments: every stream in them, at any depth, is cancelled.
      for (const stream of streams) closeSource(stream);
      return this.host.send({ t: 'fail', id: frame.id, e: encodeError(error, this.host.errors) });
    }
    const abort = new CallAbort();
    this.serving.set(frame.id, abort);
    const handler = lookupHandler(this.host.handlers, frame.m);
    // Called synchronously: a handler that returns a stream or value answers without microtask hops
    // (and without a closure per call on that path).
    let result: unknown;
    try {
      if (handler === undefined) throw new TypeError(`no handler named ${JSON.stringify(frame.m)}`);
      result = handler.apply(new HandlerContext(abort, this.host.session), args);
    } catch (error) {
      return this.fail(frame.id, error);
    }
    if (isThenable(result)) {
      Promise.resolve(result).then(
        (value) => this.reply(frame, abort, value),
        (error) => this.fail(frame.id, error),
      );
    } else this.reply(frame, abort, result);
  }

  /** Sends a served call's result, its streams opened and already flowing. */
  private reply(frame: CallFrame, abort: CallAbort, result: unknown): void {
    this.serving.delete(frame.id);
    if (this.host.isClosed()) return;
    try {
      const encoded = this.host.serializer.encode(result, (reason) => abort.abort(reason), null, true, this.host.tracing.forCall(frame.id, frame.m));
      this.host.outbox.addTransfer(encoded.transfer);
      const answer: Frame = { t: 'result', id: frame.id, p: encoded.data, ...(encoded.refs && { r: encoded.refs }) };
      // A result with streams leaves with their first item (flushed at once when it comes) or at the end of
      // this macrotask, whichever is first: one message instead of two, and the caller's first next()
      // finds its item there instead of waiting (first item 1.5-1.6x a raw round trip before, measured).
      if (encoded.refs === undefined) this.host.outbox.sendSoon(answer);
      else this.host.send(answer);
    } catch (error) {
      this.fail(frame.id, error);
    }
  }

  /** Sends a served call's error. */
  private fail(id: number, error: unknown): void {
    this.serving.delete(id);
    this.host.outbox.sendSoon({ t: 'fail', id, e: encodeError(error, this.host.errors) });
  }

  /**
   * Calls `method` on the peer. Sends at once; the promise resolves with the
   * result, its streams live and already flowing.
   */
  call(method: string, args: unknown[]): Promise<unknown> {
    const id = this.nextCallId++;
    let encoded;
    try {
      encoded = this.host.serializer.encode(args);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.host.outbox.addTransfer(encoded.transfer);
      this.host.tracing.beforeCall(id);
      this.host.outbox.sendSoon({ t: 'call', id, m: method, a: encoded.data as unknown[], ...(encoded.refs && { r: encoded.refs }) });
    });
  }

  /** The session is over: every pending call fails with `loss`, every served call is aborted. */
  failAll(loss: Error): void {
    for (const call of this.pending.values()) call.reject(loss);
    this.pending.clear();
    for (const abort of this.serving.values()) abort.abort(loss);
    this.serving.clear();
  }
}

/** `this` in a handler. The AbortController is made only if the handler reads `signal` (most never do). */
class HandlerContext implements CallContext {
  constructor(
    private readonly abort: CallAbort,
    readonly session: Session,
  ) {}
  get signal(): AbortSignal {
    return this.abort.signal;
  }
}

/** A served call's abort signal, made on first use. */
class CallAbort {
  private controller: AbortController | null = null;
  private reason: { value: unknown } | null = null;
  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.reason !== null) this.controller.abort(this.reason.value);
    }
    return this.controller.signal;
  }
  abort(reason: unknown): void {
    this.reason ??= { value: reason };
    this.controller?.abort(reason);
  }
}

/** Finds a callable handler without reaching `Object.prototype` (`constructor`, `toString`, `__proto__`...). */
function lookupHandler(handlers: object | undefined, name: string): Function | undefined {
  if (handlers === undefined || name in Object.prototype) return undefined;
  const handler = (handlers as Record<string, unknown>)[name];
  return typeof handler === 'function' ? handler : undefined;
}
