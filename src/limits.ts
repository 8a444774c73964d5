/**
 * Limits and flow-control settings of the bridge, each with the attack or the
 * failure it stops. A peer that exceeds one gets a `LimitExceededError` (its
 * session is closed when the frame itself is at fault); nothing else breaks.
 *
 * @module
 */

/**
 * Hard limits on what a peer may make this side hold.
 *
 * @example
 * ```ts
 * const limits: Partial<BridgeLimits> = { maxFrameBytes: 1024 * 1024, maxPendingCalls: 100 };
 * expose(handlers, endpoint, { limits });
 * ```
 */
export interface BridgeLimits {
  /**
   * Largest incoming message, in bytes (text wires measure the string; clone
   * wires count frames). Stops a peer from making us parse a giant message.
   * Default 16 MiB.
   */
  maxFrameBytes: number;
  /**
   * Most frames in one incoming message. Stops a batch that takes seconds to
   * dispatch. Outgoing batches are split to the same size, so two sessions
   * with equal limits never refuse each other's batches. Default 4,096.
   */
  maxFramesPerMessage: number;
  /**
   * Deepest nesting of a value (objects, arrays, stream paths). Stops stack
   * exhaustion in the walker and the reviver. Default 64.
   */
  maxDepth: number;
  /**
   * Streams open at once in each direction: the peer's toward this side (past
   * it the session closes: stream-id flooding), and this side's toward the
   * peer (past it the value that would open one fails to send, typed: a
   * consumer that opens streams and never reads them cannot make this side
   * hold a producer for each). Default 10,000.
   */
  maxOpenStreams: number;
  /**
   * Bytes a single incoming stream may have buffered here. A peer that sends
   * past the credit it was given hits this. On text wires the bytes counted
   * are at least what the items took on the wire, so a producer cannot
   * understate them; keep it a few times `windowBytes`. It also caps how far
   * `windowGrowth` widens a byte window. Default 32 MiB.
   */
  maxBufferedBytesPerStream: number;
  /** Calls the peer may have pending on this side. Stops call flooding. Default 1,000. */
  maxPendingCalls: number;
}

/**
 * Defaults for {@link BridgeLimits}.
 *
 * @example
 * ```ts
 * const limits = { maxDepth: DEFAULT_LIMITS.maxDepth * 2 };
 * expose(handlers, endpoint, { limits });
 * ```
 */
export const DEFAULT_LIMITS: Readonly<BridgeLimits> = Object.freeze({
  maxFrameBytes: 16 * 1024 * 1024,
  maxFramesPerMessage: 4_096,
  maxDepth: 64,
  maxOpenStreams: 10_000,
  maxBufferedBytesPerStream: 32 * 1024 * 1024,
  maxPendingCalls: 1_000,
});

/**
 * Credit windows: how far a producer may run ahead of its consumer.
 *
 * @example
 * ```ts
 * const flow: Partial<FlowOptions> = { windowItems: 4_096, windowBytes: 16 * 1024 * 1024 };
 * const remote = wrap<typeof handlers>(endpoint, { flow });
 * ```
 */
export interface FlowOptions {
  /**
   * Items a producer may send on one stream before the consumer grants more.
   * Several batches must fit in it, or the bridge runs stop-and-wait (one
   * batch in flight): measured over worker_threads, 256 items gave 0.3-0.7x raw
   * batched postMessage and 1,024 about 0.8-0.9x. `windowBytes` still bounds
   * memory for large items. Default 1,024.
   */
  windowItems: number;
  /**
   * Estimated bytes a producer may send on one stream ahead of the consumer.
   * Large items need room for several messages in flight: 64 KiB buffers over
   * worker_threads measured 0.3-0.5x raw transfer at 1 MiB and 0.7-1x at 4-8 MiB.
   * The session budget still caps the total. Default 4 MiB.
   */
  windowBytes: number;
  /**
   * How far this side, as a consumer, may grow a stream's windows past
   * `windowItems` and `windowBytes` (a factor; 1 turns growth off). A reader
   * that has read everything and must wait on a stream whose producer had used
   * up its credit knows that a whole window went by without covering the
   * round trip, and doubles that stream's windows, up to this factor and never
   * past `maxBufferedBytesPerStream` (a quarter of it on text wires, where
   * items are charged what they take as text) (receive-window auto-tuning, as in TCP).
   * A stream whose reader keeps up with a fast producer grows; a slow reader
   * (never waiting) or a slow producer (never out of credit) keeps its
   * window, and so does a remote chain (its items are sub-streams: how many
   * run ahead stays `windowItems`). Memory per stream is then bounded by `windowItems * windowGrowth`
   * items and `windowBytes * windowGrowth` bytes. Why: a reader's pauses
   * (a garbage collection, a busy core) stall a producer once it has sent a
   * window; raw postMessage never stalls. Measured over worker_threads with
   * 64 KiB buffers against raw transfer (`npx tsx bench/bridge.ts --buffers`):
   * fixed 4 MiB window 0.66-0.70x, growth to 16 MiB 0.77-0.80x, to 32 MiB
   * 0.88x. Default 8 (4 MiB grows to 32 MiB, 1,024 items to 8,192).
   */
  windowGrowth: number;
  /**
   * Estimated bytes in flight or buffered across all streams of a session.
   * The stream being consumed now may still go past it (so it never starves);
   * the others wait. Default 32 MiB.
   */
  sessionBudgetBytes: number;
  /** Most items in one outgoing message before it is flushed at once. Default 256. */
  maxBatchItems: number;
  /**
   * A text endpoint whose `bufferedAmount` exceeds this many bytes pauses every
   * producer until it drains (socket backpressure). Default 1 MiB.
   */
  highWaterMarkBytes: number;
}

/**
 * Defaults for {@link FlowOptions}.
 *
 * @example
 * ```ts
 * const flow = { windowItems: DEFAULT_FLOW.windowItems / 4 };
 * expose(handlers, endpoint, { flow });
 * ```
 */
export const DEFAULT_FLOW: Readonly<FlowOptions> = Object.freeze({
  windowItems: 1_024,
  windowBytes: 4 * 1024 * 1024,
  windowGrowth: 8,
  sessionBudgetBytes: 32 * 1024 * 1024,
  maxBatchItems: 256,
  highWaterMarkBytes: 1024 * 1024,
});

/** Validates user-given numbers up front, naming the offending option. */
export function resolveOptions<T extends object>(defaults: Readonly<T>, given: Partial<T> | undefined, what: string): T {
  const out = { ...defaults, ...given } as T;
  for (const [key, value] of Object.entries(out)) {
    if (typeof value !== 'number' || !(value > 0) || (!Number.isInteger(value) && Number.isFinite(value))) {
      throw new RangeError(`${what}.${key} must be a positive integer (or Infinity); got ${String(value)}`);
    }
  }
  return out;
}
