/**
 * One class per failure of the bridge, each with a stable `code`. Tests and
 * users check `code` or the class, never the message text.
 *
 * @module
 */

/**
 * Base class of every error the bridge itself raises.
 *
 * @example
 * ```ts
 * try { await remote.count(3); } catch (e) { if (e instanceof StreamWeaverError) console.log(e.code); }
 * ```
 */
export class StreamWeaverError extends Error {
  /** Stable, machine-readable code (`ERR_*`). */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * A frame broke the protocol: malformed, wrong version, unknown stream, credit
 * overrun, polluting key. The session that received it is closed.
 *
 * @example
 * ```ts
 * try { decodeFrame({ t: 'nope' }); } catch (e) { if (e instanceof ProtocolError) ... }
 * ```
 */
export class ProtocolError extends StreamWeaverError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_PROTOCOL', message, options);
  }
}

/**
 * The endpoint closed or the peer is gone (worker exited, socket dropped,
 * session closed): every open stream and pending call fails with this.
 *
 * @example
 * ```ts
 * for await (const x of remoteStream) {} // throws ConnectionClosedError if the worker dies
 * ```
 */
export class ConnectionClosedError extends StreamWeaverError {
  constructor(message = 'the connection closed', options?: { cause?: unknown }) {
    super('ERR_CONNECTION_CLOSED', message, options);
  }
}

/**
 * The peer sent nothing for `peerTimeoutMs` while work was outstanding, not
 * even the answer to a probe: it hung (a blocked event loop, a frozen worker)
 * or vanished without the transport noticing (a cut network link, a half-open
 * TCP connection). A `ConnectionClosedError`, so code that handles loss
 * handles this too; `code` tells it apart.
 *
 * @example
 * ```ts
 * session.closed.then((reason) => { if (reason instanceof PeerTimeoutError) reconnect(); });
 * ```
 */
export class PeerTimeoutError extends ConnectionClosedError {
  override readonly code = 'ERR_PEER_TIMEOUT';
}

/**
 * A configured limit was exceeded (frame bytes, nesting depth, open streams,
 * buffered bytes, pending calls). `limit` names it, `value` and `max` say by how much.
 *
 * @example
 * ```ts
 * if (e instanceof LimitExceededError && e.limit === 'maxOpenStreams') ...
 * ```
 */
export class LimitExceededError extends StreamWeaverError {
  /** The name of the limit in `BridgeLimits`. */
  readonly limit: string;
  /** The value that was refused. */
  readonly value: number;
  /** The configured maximum. */
  readonly max: number;
  constructor(limit: string, value: number, max: number) {
    super('ERR_LIMIT_EXCEEDED', `${limit} exceeded: ${value} > ${max}`);
    this.limit = limit;
    this.value = value;
    this.max = max;
  }
}

/**
 * A stream was cancelled by its consumer; a producer's pending work sees this
 * as its abort reason.
 *
 * @example
 * ```ts
 * signal.addEventListener('abort', () => signal.reason instanceof StreamCancelledError);
 * ```
 */
export class StreamCancelledError extends StreamWeaverError {
  constructor(message = 'the stream was cancelled by its consumer', options?: { cause?: unknown }) {
    super('ERR_STREAM_CANCELLED', message, options);
  }
}

/**
 * A value could not be encoded for the wire (a function, a symbol, a class the
 * codec does not know). Reported to the sender, never swallowed.
 *
 * @example
 * ```ts
 * await remote.echo(() => 1); // rejects with SerializationError
 * ```
 */
export class SerializationError extends StreamWeaverError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SERIALIZATION', message, options);
  }
}

/**
 * The peer speaks another protocol version; raised by the handshake.
 *
 * @example
 * ```ts
 * if (e instanceof VersionMismatchError) console.log(e.local, e.remote);
 * ```
 */
export class VersionMismatchError extends ProtocolError {
  override readonly code = 'ERR_VERSION_MISMATCH';
  constructor(
    readonly local: number,
    readonly remote: unknown,
  ) {
    super(`protocol version mismatch: this side speaks v${local}, the peer v${String(remote)}`);
  }
}
