/**
 * The one piece every adapter shares: an error latch for `Endpoint.onClose`.
 * Internal to the adapters (not a package export).
 *
 * @module
 */

/**
 * The `onClose` half of an endpoint plus the way to fire it, once.
 * @example if (latch.reason !== undefined) return; // closed: drop the send
 */
export interface CloseLatch {
  /** The reason the endpoint closed, or `undefined` while it is open. */
  readonly reason: Error | undefined;
  /**
   * Calls `listener` once with the close reason; a listener added after the
   * close is called on the next microtask, so a late subscriber never hangs.
   * Returns a function that unsubscribes.
   */
  onClose(listener: (reason: Error) => void): () => void;
  /** Latches `reason` and calls every listener; later calls are ignored. Returns whether this call closed. */
  fire(reason: Error): boolean;
}

/**
 * Creates a close latch: set once (Cap'n Web's error latch), listeners called
 * once, a throwing listener reported without starving the others.
 *
 * @example
 * ```ts
 * const latch = closeLatch();
 * const endpoint = { ...port, onClose: latch.onClose };
 * worker.on('exit', (code) => latch.fire(new ConnectionClosedError(`exit ${code}`)));
 * ```
 */
export function closeLatch(): CloseLatch {
  let reason: Error | undefined;
  const listeners = new Set<(reason: Error) => void>();
  return {
    get reason() {
      return reason;
    },
    onClose(listener) {
      if (reason !== undefined) {
        const latched = reason;
        let cancelled = false;
        queueMicrotask(() => {
          if (!cancelled) listener(latched);
        });
        return () => {
          cancelled = true;
        };
      }
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    fire(error) {
      if (reason !== undefined) return false;
      reason = error;
      const toCall = [...listeners];
      listeners.clear();
      for (const listener of toCall) {
        try {
          listener(error);
        } catch (thrown) {
          // One broken listener must not keep the others (open streams) pending.
          queueMicrotask(() => {
            throw thrown;
          });
        }
      }
      return true;
    },
  };
}
