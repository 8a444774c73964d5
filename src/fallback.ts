/**
 * Fallbacks, so that slow or failing work neither blocks nor ends the ordered
 * output. A fallback race gives a slow stream's place to a placeholder and
 * chains the stream at the tail instead, with an id linking the two (for an
 * out-of-order renderer: HTML streaming with swap-in); an error boundary turns
 * a stream's error into fallback content in place.
 *
 * @module
 */
import {
  asyncIterableSequencer,
  closeSource,
  SequenceEndedError,
  type AnyIterable,
  type AsyncIterableSequencerReturn,
  type Chain,
} from './sequencer.ts';
import { attachTrace, linkTrace, markPlumbing, traceNodeOf } from './relay.ts';
import { assertChainable, isThenable, openReader, type Reader } from './sources.ts';
import { HIDDEN } from './trace-core.ts';
import { DONE, failing, nextResult, onClose, type Content } from './weaver.ts';

/**
 * How {@link fallbackSequencer} races a stream against a timeout.
 *
 * @example
 * ```ts
 * const options: FallbackOptions<string> = {
 *   timeoutMs: 100,
 *   placeholder: (id) => [`<span id="${id}">…</span>`],
 *   late: (id, html) => concat([`<template data-for="${id}">`], html, ['</template>']),
 * };
 * ```
 */
export interface FallbackOptions<T> {
  /**
   * How long the output may wait for the stream's first value, in ms, counted
   * from `chainWithFallback()`. A stream whose first value is there when the
   * output reaches it is never replaced, however long that took.
   */
  timeoutMs: number;
  /** The content chained in place of a stream that lost the race; `id` links it to the late content. */
  placeholder(id: string): Content<T>;
  /** Wraps the late stream chained at the tail (for instance with a swap-in marker). Default: as is. */
  late?(id: string, content: AnyIterable<T>): AnyIterable<T>;
}

/**
 * Per-call options of `chainWithFallback`: overrides of the sequencer's defaults, and the id.
 *
 * @example
 * ```ts
 * page.chainWithFallback(renderAds(), { id: 'ads', timeoutMs: 20 });
 * ```
 */
export interface ChainWithFallbackOptions<T> extends Partial<FallbackOptions<T>> {
  /** The id linking placeholder and late content. Default: `fallback-1`, `fallback-2`, ... */
  id?: string;
  /** Names the raced stream in traces and plan paths (its late part gets `label (late)`). */
  label?: string;
}

/**
 * What {@link fallbackSequencer} returns: a sequencer (its `chain(null)` ends
 * the main part) plus `chainWithFallback`.
 *
 * @example
 * ```ts
 * const { sequence, chain, chainWithFallback }: FallbackSequencerReturn<string> = fallbackSequencer(options);
 * ```
 */
export interface FallbackSequencerReturn<T> extends AsyncIterableSequencerReturn<T> {
  /**
   * Chains `source` in place if its first value arrives in time, else a
   * placeholder in place and `source` (wrapped by `late`) at the tail. The
   * source starts producing at once. Returns the id.
   */
  chainWithFallback(source: AnyIterable<T>, options?: ChainWithFallbackOptions<T>): string;
}

/** An async iterable of a first result already read, then the rest of `reader`. */
function resume<T>(first: Promise<IteratorResult<T>>, reader: Reader<T>): AsyncIterable<T> {
  let head: Promise<IteratorResult<T>> | null = first;
  const iterator: AsyncIterator<T> = {
    next() {
      if (head === null) return nextResult(reader);
      const result = head;
      head = null;
      return result;
    },
    return() {
      head = null;
      reader.close();
      return Promise.resolve(DONE);
    },
  };
  return { [Symbol.asyncIterator]: () => iterator };
}

/**
 * A sequencer whose output has a main part (what `chain` appends, up to
 * `chain(null)`) and a tail, so slow streams never block the ordered output:
 * `chainWithFallback(stream)` starts the stream at once and races its first
 * value against `timeoutMs`. In time, the stream takes its place; too late, a
 * `placeholder(id)` takes its place and the stream, wrapped by `late(id, …)`,
 * is chained at the tail once its first value arrives (so fast late content is
 * not stuck behind slow). The output ends after the main part and every late
 * stream. Cancelling the output closes every stream, raced, placed or late.
 * A raced stream's error surfaces where its content is read, in place or at
 * the tail: wrap it in {@link errorBoundary} to render errors as content.
 *
 * @example
 * ```ts
 * const page = fallbackSequencer<string>({
 *   timeoutMs: 50,
 *   placeholder: (id) => [`<div id="${id}">Loading…</div>`],
 *   late: (id, html) => swapIn(id, html), // e.g. <template data-for=id>…</template><script>…</script>
 * });
 * page.chain(['<main>']);
 * page.chainWithFallback(renderRecommendations()); // slow: swapped in at the end
 * page.chain(['</main>']);
 * page.chain(null);
 * for await (const html of page.sequence) response.write(html);
 * ```
 */
export function fallbackSequencer<T>(defaults: FallbackOptions<T>): FallbackSequencerReturn<T> {
  const main = asyncIterableSequencer<T>();
  const tail = asyncIterableSequencer<T>();
  const output = asyncIterableSequencer<T>();
  markPlumbing(main.sequence);
  markPlumbing(tail.sequence);
  /** Closers of the raced streams not yet placed in the output (in place or at the tail). */
  const unplaced = new Set<() => void>();
  let mainEnded = false;
  /** The output was cancelled or failed: raced streams chained from now on are closed at once. */
  let closed = false;
  let count = 0;
  const endTailIfAllPlaced = () => {
    if (mainEnded && unplaced.size === 0) tail.chain(null);
  };
  output.chain(main.sequence, HIDDEN);
  output.chain(tail.sequence, HIDDEN);
  // Closed (not reached) only when the output is abandoned: then no raced stream may run on.
  output.chain(
    onClose(() => {
      closed = true;
      for (const close of [...unplaced]) close();
    }),
    HIDDEN,
  );
  output.chain(null);

  const chain: Chain<T> = (source, options) => {
    main.chain(source, options);
    if (source === null) {
      mainEnded = true;
      endTailIfAllPlaced();
    }
  };

  const chainWithFallback = (source: AnyIterable<T>, options: ChainWithFallbackOptions<T> = {}): string => {
    const { timeoutMs, placeholder, late, id = `fallback-${++count}`, label } = { ...defaults, ...options };
    if (!(timeoutMs >= 0)) throw new RangeError(`chainWithFallback: timeoutMs must be >= 0, got ${timeoutMs}`);
    if (typeof placeholder !== 'function') throw new TypeError('chainWithFallback: placeholder must be a function');
    if (mainEnded) throw new SequenceEndedError();
    if (closed) {
      closeSource(source);
      return id;
    }
    const reader = openReader(source);
    const first = nextResult(reader); // eager: the stream starts producing now
    const rest = () => resume(first, reader);
    let state: 'racing' | 'late' | 'placed' = 'racing';
    let arrived = false;
    let expired = false;
    let reached = false;
    let settle!: (content: Content<T>) => void;
    const slot = new Promise<Content<T>>((resolve) => (settle = resolve));
    const placed = () => {
      state = 'placed';
      clearTimeout(timer);
      unplaced.delete(close);
      endTailIfAllPlaced();
    };
    const close = () => {
      placed();
      reader.close();
      settle([]);
    };
    // Decides once the output stands at the slot: the stream if its first value is there, else
    // (past the deadline) the placeholder.
    const decide = () => {
      if (state !== 'racing' || !reached) return;
      if (arrived) {
        placed();
        settle(rest());
      } else if (expired) {
        state = 'late';
        settle(attempt(() => placeholder(id)));
      }
    };
    const timer = setTimeout(() => {
      expired = true;
      decide();
    }, timeoutMs);
    const onFirst = () => {
      arrived = true;
      if (state === 'racing') return decide();
      if (state !== 'late') return;
      tail.chain(late === undefined ? rest() : attempt(() => late(id, rest())), label === undefined ? undefined : { label: `${label} (late)` });
      placed(); // after chaining: the last late stream placed ends the tail
    };
    first.then(onFirst, onFirst);
    unplaced.add(close);
    // The sequencer awaits a chained promise when it reaches it: `then` being called is the signal.
    main.chain({
      then(onFulfilled, onRejected) {
        reached = true;
        decide();
        return (slot as Promise<AnyIterable<T>>).then(onFulfilled, onRejected);
      },
    }, label === undefined ? undefined : { label });
    return id;
  };

  return { sequence: output.sequence, chain, chainWithFallback };
}

/** Content from a user callback; a throw or a value that is not content becomes an error in its place. */
function attempt<T>(make: () => Content<T>): Content<T> {
  try {
    const content = make();
    assertChainable(content);
    return content;
  } catch (error) {
    return failing(error);
  }
}

/** Reads a source and turns its error into fallback content; see {@link errorBoundary}. */
class Boundary<T> implements AsyncGenerator<T, void, undefined> {
  /** The open source, once its promise (if any) resolved. */
  private reader: Reader<T> | null = null;
  /** The fallback content, once the source failed. */
  private fallback: AsyncGenerator<T, void, undefined> | null = null;
  /** Ended, or closed by the consumer. */
  private done = false;

  constructor(
    private readonly source: Content<T>,
    private readonly recover: (error: unknown) => Content<T>,
  ) {}

  next(): Promise<IteratorResult<T, void>> {
    if (this.done) return Promise.resolve(DONE);
    if (this.fallback !== null) return this.fallback.next();
    if (this.reader !== null) return nextResult(this.reader).then(this.onResult, this.onError);
    if (isThenable(this.source)) return Promise.resolve(this.source).then(this.open, this.onError);
    return this.open(this.source);
  }

  private readonly open = (iterable: AnyIterable<T>): Promise<IteratorResult<T, void>> => {
    if (this.done) {
      closeSource(iterable);
      return Promise.resolve(DONE);
    }
    try {
      this.reader = openReader(iterable);
    } catch (error) {
      return this.onError(error);
    }
    return this.next();
  };

  private readonly onResult = (result: IteratorResult<T>): IteratorResult<T, void> => {
    if (result.done === true) {
      this.done = true;
      this.reader = null;
    }
    return result;
  };

  /** The source failed: its place is taken by the fallback content (whose own errors propagate). */
  private readonly onError = (error: unknown): Promise<IteratorResult<T, void>> => {
    if (this.done) return Promise.resolve(DONE);
    this.reader = null;
    traceNodeOf(this)?.recover(error);
    const { sequence, chain } = asyncIterableSequencer<T>();
    // Traced, the fallback content appears under the boundary's node.
    markPlumbing(sequence);
    attachTrace(sequence, this);
    try {
      chain(this.recover(error));
    } catch (recoverError) {
      chain(failing(recoverError));
    }
    chain(null);
    this.fallback = sequence;
    return sequence.next();
  };

  return(): Promise<IteratorResult<T, void>> {
    if (!this.done) {
      this.done = true;
      // Not opened yet: close the source itself, so an eager stream does not run for nobody.
      if (this.reader === null && this.fallback === null) closeSource(this.source);
      this.reader?.close();
      this.reader = null;
      void this.fallback?.return();
    }
    return Promise.resolve(DONE);
  }

  throw(error: unknown): Promise<IteratorResult<T, void>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * Wraps a stream so that its error becomes fallback content in place instead
 * of the end of the whole output: the values read before the error stay, then
 * `recover(error)`'s content follows, and the output goes on with whatever is
 * chained after. `source` may be a promise of a stream (a rejection is
 * recovered too). An error thrown by `recover` or its content propagates.
 * Closing the boundary closes the source, even before it was opened.
 *
 * @example
 * ```ts
 * chain(errorBoundary(renderComments(post), (error) => [`<p class="error">${describe(error)}</p>`]));
 * ```
 */
export function errorBoundary<T>(source: Content<T>, recover: (error: unknown) => Content<T>): AsyncGenerator<T, void, undefined> {
  const boundary = new Boundary(source, recover);
  // Traced, the boundary is its source's node (a sequence's), or a node of its own.
  linkTrace(boundary, source, 'errorBoundary');
  return boundary;
}
