/**
 * The client weaver: a DOM lane onto which streams are chained, painted in
 * chain order whatever order their items arrive in, each item rendered by the
 * same JSX runtime as the server's page.
 *
 * @module
 */
import { asyncIterableSequencer, type AnyIterable } from '../../../src/index.ts';
import type { Child } from '../jsx/node.ts';
import { renderToString } from '../jsx/render.ts';

/** A place in the DOM that streams are woven into. @example await lane.chain(updates); */
export interface DomLane<T> {
  /**
   * Chains `items` after every stream chained before. Resolves with the number
   * of its items painted once it ended; rejects with its error (the lane goes
   * on with the next stream).
   */
  chain(items: AnyIterable<T>): Promise<number>;
}

/** Reads `items` for the lane, settling `done` with the count painted, or the error; never fails the lane. */
async function* settled<T>(items: AnyIterable<T>, done: { resolve(n: number): void; reject(error: unknown): void }) {
  let painted = 0;
  try {
    // The lane asks for the next item only after painting this one: the count is of painted items.
    for await (const item of items as AsyncIterable<T>) {
      yield item;
      painted++;
    }
    done.resolve(painted);
  } catch (error) {
    done.reject(error);
  } finally {
    done.resolve(painted); // abandoned: what was painted (no-op after a settle)
  }
}

/**
 * Makes `target` a lane: each item of each chained stream is rendered with
 * `view` and appended, one after another, in chain order. Later streams are
 * read ahead (a remote one fills up to its credit) while an earlier one is
 * painted, but never painted before it.
 *
 * @example
 * ```ts
 * const lane = domLane(document.getElementById('feed')!, (update: FeedUpdate) => <FeedItem update={update} />);
 * lane.chain(history); lane.chain(live); // history first, however live arrives
 * ```
 */
export function domLane<T>(target: Element, view: (item: T) => Child): DomLane<T> {
  const { sequence, chain } = asyncIterableSequencer<T>();
  void (async () => {
    for await (const item of sequence) target.insertAdjacentHTML('beforeend', await renderToString(view(item)));
  })();
  return {
    chain: (items) => new Promise<number>((resolve, reject) => chain(settled(items, { resolve, reject }))),
  };
}
