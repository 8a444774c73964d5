/**
 * The consuming side of each raw contender, shaped like the bridge's: an async
 * generator the benchmark reads with `for await`, one item at a time.
 *
 * @module
 */
import type { MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { Item } from './workload.ts';

/**
 * Listens on `port` at once (so nothing is missed) and returns an async
 * generator of what arrives until the `null` end mark: each message's items
 * one by one when `batched`, else each message as one item.
 */
export function rawConsumer<T>(port: MessagePort, batched: boolean): AsyncGenerator<T> {
  const queue: unknown[] = [];
  let head = 0;
  let ended = false;
  let wake: (() => void) | null = null;
  const onMessage = (data: unknown): void => {
    if (data === null) ended = true;
    else queue.push(data);
    const w = wake;
    wake = null;
    w?.();
  };
  port.on('message', onMessage);
  return (async function* () {
    try {
      for (;;) {
        if (head < queue.length) {
          const message = queue[head]!;
          queue[head++] = undefined;
          if (head === queue.length) {
            queue.length = 0;
            head = 0;
          }
          // A plain loop: `yield*` over an array would await every item once more.
          if (batched) for (const item of message as T[]) yield item;
          else yield message as T;
        } else if (ended) {
          return;
        } else {
          await new Promise<void>((resolve) => (wake = resolve));
        }
      }
    } finally {
      port.off('message', onMessage);
    }
  })();
}

/**
 * The same as {@link rawConsumer} for batched messages, as a hand-written
 * async iterator instead of an async generator: `next()` answers from the
 * current batch with an already-resolved promise, as the bridge's local
 * streams do. The fastest way to hand out items one by one with `for await`.
 */
export function rawIterator<T>(port: MessagePort): AsyncIterableIterator<T> {
  const queue: T[][] = [];
  let head = 0;
  let batch: T[] = [];
  let index = 0;
  let ended = false;
  let waiter: ((result: IteratorResult<T>) => void) | null = null;
  const done: IteratorResult<T> = { value: undefined, done: true };
  const onMessage = (data: T[] | null): void => {
    if (data === null) ended = true;
    else queue.push(data);
    if (waiter === null) return;
    const w = waiter;
    waiter = null;
    w(take() ?? done);
  };
  const take = (): IteratorResult<T> | null => {
    while (index >= batch.length) {
      if (head >= queue.length) return null;
      batch = queue[head]!;
      queue[head++] = undefined as never;
      if (head === queue.length) {
        queue.length = 0;
        head = 0;
      }
      index = 0;
    }
    return { value: batch[index++]!, done: false };
  };
  port.on('message', onMessage);
  return {
    next() {
      const result = take();
      if (result !== null) return Promise.resolve(result);
      if (ended) {
        port.off('message', onMessage);
        return Promise.resolve(done);
      }
      return new Promise((resolve) => (waiter = resolve));
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** Batched messages summed right in the message listener: no per-item promise at all (a ceiling, not a stream). */
export function rawSum(port: MessagePort, pick: (item: never) => number): Promise<number> {
  return new Promise((resolve) => {
    let sum = 0;
    const onMessage = (data: unknown[] | null): void => {
      if (data === null) {
        port.off('message', onMessage);
        resolve(sum);
        return;
      }
      for (let i = 0; i < data.length; i++) sum += pick(data[i] as never);
    };
    port.on('message', onMessage);
  });
}

/** Comlink: one remote `next()` per item, behind the same async-generator face. */
export async function* comlinkConsumer(port: MessagePort, n: number): AsyncGenerator<Item> {
  const remote = Comlink.wrap<{ start(n: number): void; next(): IteratorResult<Item> }>(
    nodeEndpoint(port as unknown as Parameters<typeof nodeEndpoint>[0]),
  );
  try {
    await remote.start(n);
    for (;;) {
      const result = await remote.next();
      if (result.done) return;
      yield result.value;
    }
  } finally {
    remote[Comlink.releaseProxy]();
  }
}

/** Resolves with the first message that arrives on `port`. */
export function nextMessage<T>(port: MessagePort): Promise<T> {
  return new Promise((resolve) => port.once('message', resolve as (value: unknown) => void));
}
