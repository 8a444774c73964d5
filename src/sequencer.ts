/**
 * The async iterable sequencer: the relay pattern at the heart of ChainExplode.
 *
 * `chain(iterable)` appends a whole stream to an ordered output; the consumer
 * reads each chained iterable to its end before the next. Producers are never
 * waited for at `chain()` time, so eager ones (streams, remote sub-streams) run
 * ahead under their own backpressure, while the sequencer itself holds only the
 * iterables, never their values.
 *
 * A sequence that is chained into another sequencer is spliced into the
 * parent's relay (`src/relay.ts`; the cursor keeps an explicit stack of
 * relays) instead of being delegated to
 * through `yield*`, so nesting 100,000 levels deep neither overflows the stack
 * nor costs anything per item.
 *
 * @module
 */
import { closeSource, Relay, SEQUENCE_BRAND, SequenceEndedError, unclaimedRelay } from './relay.ts';
import { assertChainable, isThenable, openReader } from './sources.ts';
import type { AnyIterable, AsyncIterableSequencerReturn, Reader } from './sources.ts';
import type { TraceNode } from './trace-core.ts';
import { traceReader } from './trace-reader.ts';

export { isAnyIterable, isReadableStream } from './sources.ts';
export type { AnyIterable, AsyncIterableSequencerReturn, Chain, Chainable, ChainOptions } from './sources.ts';
// The relay has its own file (src/relay.ts); these names have always been imported from here.
export { closeSource, Relay, SEQUENCE_BRAND, SequenceEndedError, unclaimedRelay };

const DONE: IteratorResult<never, void> = Object.freeze({ value: undefined, done: true });
const notAnObject = (result: unknown) => new TypeError(`iterator result ${String(result)} is not an object`);

/** A consumer's request waiting behind an earlier, unsettled `next()`. */
interface Request<T> {
  resolve(result: IteratorResult<T> | Promise<IteratorResult<T>>): void;
}

/**
 * Reads a stack of relays in order: the root relay at the bottom, spliced
 * nested sequences above it. Only the top is touched per item, so depth is free.
 */
class Cursor<T> {
  /** Relays being read, innermost last. Empty once the sequence is done. */
  private readonly stack: Relay<T>[];
  /** The source being read now, if any. */
  private reader: Reader<T> | null = null;
  /** A `next()` is being answered; later calls queue in `requests`. */
  private busy = false;
  /** Calls to `next()` made while an earlier one was unsettled (rare). */
  private readonly requests: Request<T>[] = [];
  /** Done, failed or cancelled: every later `next()` answers `{ done: true }`. */
  private finished = false;
  /** Resolves the `next()` that is parked on an empty relay or awaiting a promise. */
  private parked: ((result: IteratorResult<T> | Promise<IteratorResult<T>>) => void) | null = null;

  constructor(root: Relay<T>) {
    this.stack = [root];
  }

  next(): Promise<IteratorResult<T>> {
    const reader = this.reader;
    if (reader !== null && reader.sync !== true && !this.busy && this.requests.length === 0) {
      const generator = reader.generator;
      if (generator != null && this.isLast()) {
        // Nothing can follow this generator: its end is the sequence's end, so its own promises
        // go to the consumer as they are, saving the `then` hop below (bench/core.ts: ~0.77x ->
        // ~0.95x a plain `for await`). A native async generator keeps concurrent calls in order
        // and answers done after returning or throwing, as the sequence must; cancel closes it.
        // One visible difference: the final done result carries the generator's return value.
        return generator.next() as Promise<IteratorResult<T>>;
      }
      // The hot path, an async source mid-stream: straight to its next(), one `then` per item.
      this.busy = true;
      try {
        return this.awaitResult(reader.next());
      } catch (error) {
        return this.fail(error);
      }
    }
    // Queued requests go first, even in the microtask between a settle and the drain.
    if (this.busy || this.requests.length !== 0) return new Promise((resolve) => this.requests.push({ resolve }));
    if (this.finished) return Promise.resolve(DONE);
    this.busy = true;
    return this.step();
  }

  /** True when the source being read is the last: the only relay is ended and empty. */
  private isLast(): boolean {
    const stack = this.stack;
    if (stack.length !== 1) return false;
    const root = stack[0]!;
    return root.ended && root.head === null;
  }

  /**
   * Answers one `next()`: loops over sync sources and exhausted ones without
   * recursion. Anything a source throws (when opened, read, or answering a
   * non-object) fails the sequence instead of escaping with the cursor busy.
   */
  private step(): Promise<IteratorResult<T>> {
    try {
      for (;;) {
        const reader = this.reader;
        if (reader !== null) {
          if (reader.sync !== true) return this.awaitResult(reader.next());
          const result = reader.next() as IteratorResult<T>;
          if (typeof result !== 'object' || result === null) throw notAnObject(result);
          if (!result.done) {
            // Like `for await`, a promise read from a sync iterable is awaited.
            if (isThenable(result.value)) return Promise.resolve(result.value).then(this.onAwaitedValue, this.onError);
            return this.settle(result);
          }
          this.reader = null;
          continue;
        }
        if (this.finished) return this.settle(DONE);
        const relay = this.stack[this.stack.length - 1]!;
        const entry = relay.take();
        if (entry !== null) {
          const source = entry.source;
          if (isThenable(source)) return this.awaitSource(source, entry.node);
          this.open(source, entry.node);
        } else if (relay.ended) {
          this.stack.pop();
          relay.node?.finish('done');
          if (this.stack.length === 0) {
            this.finished = true;
            return this.settle(DONE);
          }
        } else {
          return new Promise((resolve) => {
            this.parked = resolve;
            relay.wake = this.wake;
          });
        }
      }
    } catch (error) {
      return this.fail(error);
    }
  }

  /**
   * `chain()` on the relay we are parked on. The read resumes in a microtask,
   * not inside `chain()`: the chained source's code never runs in the
   * producer's call, and nothing it throws can escape into `chain()`.
   */
  private readonly wake = (): void => queueMicrotask(this.resume);

  private readonly resume = (): void => {
    const parked = this.parked;
    if (parked === null) return; // cancelled meanwhile
    this.parked = null;
    parked(this.step());
  };

  /**
   * Starts reading a source: a fresh nested sequence is spliced, anything else
   * gets a reader, timed onto `node` when a trace recorded it at chain().
   */
  private open(source: AnyIterable<T>, node: TraceNode | null): void {
    const relay = unclaimedRelay<T>(source);
    if (relay !== null) {
      relay.claimed = true;
      this.stack.push(relay);
      if (node !== null && node !== relay.node) relay.node = node.recorder.opened(node, source, relay.node);
      return;
    }
    // A sequence already being read further down this very stack would wait on itself forever.
    const branded = (source as { [SEQUENCE_BRAND]?: unknown })[SEQUENCE_BRAND];
    if (branded !== undefined && this.stack.includes(branded as Relay<T>)) {
      throw new TypeError('a sequence was chained into itself through another sequence (a cycle)');
    }
    const reader = openReader(source);
    this.reader = node === null ? reader : traceReader(reader, node.recorder.opened(node, source, null));
  }

  private awaitSource(source: PromiseLike<AnyIterable<T>>, node: TraceNode | null): Promise<IteratorResult<T>> {
    return new Promise((resolve) => {
      this.parked = resolve;
      Promise.resolve(source).then(
        (iterable) => {
          if (this.parked !== resolve) return closeSource(iterable);
          this.parked = null;
          try {
            assertChainable(iterable);
            this.open(iterable, node);
          } catch (error) {
            return resolve(this.fail(error));
          }
          resolve(this.step());
        },
        (error) => {
          if (this.parked !== resolve) return;
          this.parked = null;
          node?.fail(error);
          resolve(this.fail(error));
        },
      );
    });
  }

  /** Like `await` in `for await`: a result that is not a promise is taken as it is. */
  private awaitResult(result: IteratorResult<T> | Promise<IteratorResult<T>>): Promise<IteratorResult<T>> {
    return (result instanceof Promise ? result : Promise.resolve(result)).then(this.onAsyncResult, this.onError);
  }

  // No closure is allocated per item: the handlers are bound once.
  private readonly onAsyncResult = (result: IteratorResult<T>): Promise<IteratorResult<T>> | IteratorResult<T> => {
    if (this.finished) return DONE; // cancelled while the source was answering
    if (typeof result !== 'object' || result === null) return this.fail(notAnObject(result));
    if (!result.done) {
      this.busy = false;
      if (this.requests.length !== 0) queueMicrotask(this.drain);
      return result;
    }
    this.reader = null;
    return this.step();
  };

  private readonly onAwaitedValue = (value: T): Promise<IteratorResult<T>> | IteratorResult<T> => {
    if (this.finished) return DONE;
    return this.settle({ value, done: false });
  };

  private readonly onError = (error: unknown): Promise<IteratorResult<T>> => {
    if (this.finished) return Promise.resolve(DONE);
    return this.fail(error);
  };

  /** Ends the current `next()` with `result` and lets a queued request proceed. */
  private settle(result: IteratorResult<T>): Promise<IteratorResult<T>> {
    this.busy = false;
    if (this.requests.length !== 0) queueMicrotask(this.drain);
    return Promise.resolve(result);
  }

  private readonly drain = (): void => {
    if (this.busy) return;
    const request = this.requests.shift();
    if (request === undefined) return;
    if (this.finished) {
      request.resolve(DONE);
      this.drain();
      return;
    }
    this.busy = true;
    request.resolve(this.step());
  };

  /** Fails the sequence: every pending source is closed, the error reaches the consumer. */
  private fail(error: unknown): Promise<IteratorResult<T>> {
    this.shutdown(error);
    this.busy = false;
    if (this.requests.length !== 0) queueMicrotask(this.drain);
    return Promise.reject(error);
  }

  /** Closes the active source and every pending one, at every level. Idempotent. */
  private shutdown(reason?: unknown): void {
    if (this.finished && this.stack.length === 0 && this.reader === null) return;
    this.finished = true;
    const reader = this.reader;
    this.reader = null;
    reader?.close(reason);
    for (const relay of this.stack) relay.close();
    this.stack.length = 0;
  }

  /**
   * Consumer cancellation: settles at once, even while parked on the tail.
   * A `next()` already waiting on an async source's answer settles when that
   * source answers (an async generator handles `return()` only once its
   * pending step completes): with done, or, when that source is a last async
   * generator handed through, with the value it was producing.
   */
  cancel(reason?: unknown): void {
    this.shutdown(reason);
    const parked = this.parked;
    this.parked = null;
    parked?.(DONE);
    this.busy = false;
    for (const request of this.requests.splice(0)) request.resolve(DONE);
  }
}

/** The `sequence` half of a sequencer: a hand-made AsyncGenerator over its relay. */
class Sequence<T> implements AsyncGenerator<T, void, undefined> {
  readonly [SEQUENCE_BRAND]: Relay<T>;
  /** This sequence's own reader; `null` until the first `next()` / `return()` / `throw()`. */
  private cursor: Cursor<T> | null = null;

  constructor(relay: Relay<T>) {
    this[SEQUENCE_BRAND] = relay;
  }

  next(): Promise<IteratorResult<T>> {
    const cursor = this.cursor;
    if (cursor !== null) return cursor.next();
    try {
      return this.start().next();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  return(): Promise<IteratorResult<T>> {
    // Before the first next() this closes every pending source without starting one.
    this.own()?.cancel();
    return Promise.resolve(DONE);
  }

  throw(error: unknown): Promise<IteratorResult<T>> {
    this.own()?.cancel(error);
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private start(): Cursor<T> {
    const relay = this[SEQUENCE_BRAND];
    if (relay.claimed) throw new TypeError('this sequence was chained into another sequencer and is read there');
    relay.claimed = true;
    return (this.cursor = new Cursor(relay));
  }

  /** The cursor to cancel: our own (started if need be), or none once a parent has spliced us in. */
  private own(): Cursor<T> | null {
    if (this.cursor !== null) return this.cursor;
    return this[SEQUENCE_BRAND].claimed ? null : this.start();
  }
}

/**
 * Creates an ordered relay of iterables: `chain()` appends whole streams, and
 * `sequence` yields their values in chain order.
 *
 * - Order: values come out in chain order, whatever order producers finish in.
 * - Parallelism: `chain()` never waits; eager producers run ahead on their own.
 * - Errors: an error from a chained source (or a rejected promise of one)
 *   reaches the consumer, and every pending source is closed (`return()` /
 *   `cancel()`), so its `finally` blocks run.
 * - Cancellation: `break`, `sequence.return()` or `sequence.throw()` close the
 *   active source and every pending one and settle at once, even while the
 *   sequence is parked waiting for the next `chain()`.
 * - Depth: a nested sequence is spliced into this one's relay, so per-item cost
 *   does not grow with nesting depth and 100,000 levels do not overflow the stack.
 *
 * @example
 * ```ts
 * const { sequence, chain } = asyncIterableSequencer<string>();
 * chain(['a', 'b']);
 * chain((async function* () { yield 'c'; })());
 * chain(fetchSectionLater()); // a promise of an iterable
 * chain(null); // the end
 * for await (const value of sequence) console.log(value);
 * ```
 */
export function asyncIterableSequencer<T>(): AsyncIterableSequencerReturn<T> {
  const relay = new Relay<T>();
  return { sequence: new Sequence(relay), chain: (source, options) => relay.push(source, options) };
}
