/**
 * One scheduling primitive shared by the session's parts.
 *
 * @module
 */

/**
 * Runs `fn` once the messages already waiting have been handled: Node's
 * `setImmediate` (after the poll phase), or a MessageChannel tick in browsers
 * (after pending messages, without setTimeout's 4 ms clamp).
 *
 * @example
 * ```ts
 * afterIo(() => outbox.flush()); // frames queued in this macrotask leave together
 * ```
 */
export const afterIo: (fn: () => void) => void =
  typeof setImmediate === 'function'
    ? (fn) => void setImmediate(fn)
    : (() => {
        const queue: Array<() => void> = [];
        const channel = new MessageChannel();
        channel.port1.onmessage = () => queue.shift()?.();
        return (fn: () => void) => {
          queue.push(fn);
          channel.port2.postMessage(null);
        };
      })();
