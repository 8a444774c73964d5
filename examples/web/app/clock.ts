/**
 * Per-request timing shown on the page: how long after the request each
 * component finished, and in which order they finished (which is not the
 * order in which they appear).
 *
 * @module
 */

/** A request's clock. @example const clock = requestClock(); await work(); const { rank, ms } = clock.finished(); */
export interface RequestClock {
  /** Marks one component as finished: its finish rank (1 for the first) and ms since the request. */
  finished(): { rank: number; ms: number };
}

/** Starts a clock now. @example <Page clock={requestClock()} /> */
export function requestClock(): RequestClock {
  const started = performance.now();
  let finishedCount = 0;
  return {
    finished: () => ({ rank: ++finishedCount, ms: Math.round(performance.now() - started) }),
  };
}

/** Resolves after `ms`, or rejects with the signal's reason if it aborts first. @example await sleep(100); */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}
