// Small helpers every test file needs: a timer, a reader, and a guard that
// turns a hang into a failure; plus a one-message reader and a seeded RNG.
import type { Endpoint } from '../src/endpoint.ts';
import type { Trace } from '../src/trace.ts';

/** Resolves after `ms` milliseconds. */
export const delay = (ms: number): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * An eager stream: its timer starts when it is created, like a fetch body.
 * It delivers `values` after `ms` and closes (then calls `onClose`);
 * cancelling it clears the timer and sets `state.cancelled`.
 */
export function eagerStream<T>(values: T[], ms: number, state = { cancelled: false }, onClose?: () => void): ReadableStream<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new ReadableStream<T>({
    start(controller) {
      timer = setTimeout(() => {
        for (const value of values) controller.enqueue(value);
        controller.close();
        onClose?.();
      }, ms);
    },
    cancel() {
      clearTimeout(timer);
      state.cancelled = true;
    },
  });
}

/** Reads an async iterable to its end. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}

/** Fails instead of hanging when `promise` does not settle within `ms`; the timer is cleared either way. */
export function within<T>(promise: Promise<T>, ms = 5_000, what = 'promise'): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still pending after ${ms} ms: a hang`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves with the data of the next message `endpoint` delivers. */
export function nextMessage(endpoint: Endpoint): Promise<unknown> {
  return new Promise((resolve) => {
    const listener = ({ data }: { data: unknown }): void => {
      endpoint.removeEventListener('message', listener);
      resolve(data);
    };
    endpoint.addEventListener('message', listener);
  });
}

/** Queues every text message `endpoint` delivers from now on; `next()` takes them in order. */
export function messageReader(endpoint: Endpoint): { next(): Promise<string> } {
  const arrived: string[] = [];
  const waiting: Array<(data: string) => void> = [];
  endpoint.addEventListener('message', ({ data }) => {
    const resolve = waiting.shift();
    if (resolve) resolve(data as string);
    else arrived.push(data as string);
  });
  return {
    next: () => (arrived.length > 0 ? Promise.resolve(arrived.shift()!) : new Promise((resolve) => waiting.push(resolve))),
  };
}

/** mulberry32: a small, fast, seeded random number generator, so fuzz and fault trials reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A trace's plan tree as indented `label [kind, context, items, outcome]` lines, for shape assertions. */
export function traceShape(trace: Trace): string[] {
  return trace.nodes.map((n) => `${'  '.repeat(n.depth)}${n.label} [${n.kind}, ${n.context}, ${n.items}, ${n.outcome}]`);
}
