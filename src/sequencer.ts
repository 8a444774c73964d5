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
 * parent's relay (an explicit stack of relays) instead of being delegated to
 * through `yield*`, so nesting 100,000 levels deep neither overflows the stack
 * nor costs anything per item.
 *
 * @module
 */
import { assertChainable, isReadableStream, isThenable, openReader, swallow, type Reader } from './sources.ts';

export { isAnyIterable, isReadableStream } from './sources.ts';


/** Anything the sequencer can read: a sync or async iterable, or a WHATWG `ReadableStream`. */
export type AnyIterable<T> = Iterable<T> | AsyncIterable<T> | ReadableStream<T>;

/**
 * What `chain()` accepts: an iterable, a promise of one (awaited when the
 * sequence reaches it), or `null` to end the sequence.
 */
export type Chainable<T> = AnyIterable<T> | PromiseLike<AnyIterable<T>> | null;

/**
 * Appends a whole iterable to the ordered output, or ends it with `null`.
 *
 * Throws `SequenceEndedError` (a `TypeError`) when called after `chain(null)`,
 * and a `TypeError` for a value that is not iterable. After the consumer has
 * cancelled the sequence, a chained iterable is closed at once (`return()` /
 * `cancel()`) so its producer does not run for nobody.
 */
export type Chain<T> = (iterable: Chainable<T>) => void;

/** The pair returned by {@link asyncIterableSequencer}. */
export interface AsyncIterableSequencerReturn<T> {
  /** The ordered output: every chained iterable's values, in chain order. */
  sequence: AsyncGenerator<T, void, undefined>;
  /** Appends an iterable (or a promise of one) to `sequence`; `chain(null)` ends it. */
  chain: Chain<T>;
}

/**
 * The brand on a sequencer's `sequence`. Through it a parent sequencer splices
 * a nested sequence into its own relay, and the bridge's serializer sees the
 * chain of sub-iterables instead of their flattened values.
 */
export const SEQUENCE_BRAND: unique symbol = Symbol.for('stream-weaver.sequence') as never;

/** Thrown by `chain()` after `chain(null)` ended the sequence. */
export class SequenceEndedError extends TypeError {
  /** Stable code for programmatic checks. */
  readonly code = 'ERR_SEQUENCE_ENDED';
  constructor() {
    super('chain() called after chain(null) ended the sequence');
    this.name = 'SequenceEndedError';
  }
}

/** One chained source waiting in a relay. */
interface Entry<T> {
  /** The iterable or promise passed to `chain()`. */
  source: AnyIterable<T> | PromiseLike<AnyIterable<T>>;
  /** The entry chained after this one. */
  next: Entry<T> | null;
}

/**
 * The state of one sequencer: a singly linked queue of chained sources.
 * A relay is read by exactly one cursor: its own sequence's, or the cursor of
 * a parent that spliced it in.
 */
export class Relay<T> {
  /** Oldest chained source not yet reached by the cursor. */
  head: Entry<T> | null = null;
  /** Newest chained source, where `chain()` appends. */
  tail: Entry<T> | null = null;
  /** `chain(null)` was called: no more sources will come. */
  ended = false;
  /** The reader cancelled or failed: sources chained from now on are closed at once. */
  closed = false;
  /** A cursor has started reading this relay (its own, or a parent's after a splice). */
  claimed = false;
  /** Set while a cursor is parked on this relay's empty tail; `chain()` calls it. */
  wake: (() => void) | null = null;
  /** Sources chained and not yet reached by the cursor. */
  length = 0;
  /** Called whenever the cursor takes a source (the bridge paces remote chains with it). */
  onShift: (() => void) | null = null;
  /** Called once when the relay is closed by its reader's cancel or failure. */
  onClose: (() => void) | null = null;

  /** Appends a source, or ends the relay on `null`. */
  push(source: Chainable<T>): void {
    if (this.closed) {
      // The reader is gone: close what arrives so its producer stops, without blaming the producer.
      if (source !== null) {
        assertChainable(source);
        closeSource(source);
      }
      return;
    }
    if (this.ended) {
      if (source === null) return; // ending twice loses nothing
      throw new SequenceEndedError();
    }
    if (source === null) {
      this.ended = true;
    } else {
      assertChainable(source);
      const entry: Entry<T> = { source, next: null };
      this.length++;
      if (this.tail === null) this.head = entry;
      else this.tail.next = entry;
      this.tail = entry;
    }
    const wake = this.wake;
    if (wake !== null) {
      this.wake = null;
      wake();
    }
  }

  /** Takes the oldest pending source, or `null` when there is none yet. */
  shift(): Entry<T>['source'] | null {
    const entry = this.head;
    if (entry === null) return null;
    this.head = entry.next;
    this.length--;
    this.onShift?.();
    if (this.head === null) this.tail = null;
    return entry.source;
  }

  /** Closes every pending source and every source chained later. */
  close(): void {
    this.closed = true;
    this.ended = true;
    this.onShift = null;
    for (let source = this.shift(); source !== null; source = this.shift()) closeSource(source);
    const onClose = this.onClose;
    this.onClose = null;
    onClose?.();
  }
}

/** Returns the relay behind a fresh (not yet read) sequence, or `null`. */
export function unclaimedRelay<T>(value: unknown): Relay<T> | null {
  if (typeof value !== 'object' || value === null) return null;
  const relay = (value as { [SEQUENCE_BRAND]?: Relay<T> })[SEQUENCE_BRAND];
  return relay instanceof Relay && !relay.claimed ? relay : null;
}

/**
 * Closes a source that will never be read: `return()` on iterators (their
 * `finally` blocks run), `cancel()` on streams; a promise is closed once it
 * settles. Errors from closing are swallowed: the source is being discarded.
 */
export function closeSource(source: unknown, reason?: unknown): void {
  try {
    if (isThenable(source)) {
      source.then((s) => closeSource(s, reason), () => {});
      return;
    }
    const relay = unclaimedRelay(source);
    if (relay !== null) {
      relay.claimed = true;
      relay.close();
      return;
    }
    if (typeof source !== 'object' || source === null || Array.isArray(source)) return;
    if (isReadableStream(source)) {
      if (!source.locked) swallow(source.cancel(reason));
      return;
    }
    const asyncIt = (source as AsyncIterable<unknown>)[Symbol.asyncIterator];
    if (typeof asyncIt === 'function') {
      const it = asyncIt.call(source);
      swallow(it.return?.());
      return;
    }
    const syncIt = (source as Iterable<unknown>)[Symbol.iterator];
    if (typeof syncIt === 'function') syncIt.call(source).return?.();
  } catch {
    // A source that throws while being closed is closed as far as we can tell.
  }
}

const DONE: IteratorResult<never, void> = Object.freeze({ value: undefined, done: true });

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
  private parked: ((result: IteratorResult<T>) => void) | null = null;

  constructor(root: Relay<T>) {
    this.stack = [root];
  }

  next(): Promise<IteratorResult<T>> {
    if (this.finished) return Promise.resolve(DONE);
    if (this.busy) return new Promise((resolve) => this.requests.push({ resolve }));
    this.busy = true;
    return this.step();
  }

  /** Answers one `next()`: loops over sync sources and exhausted ones without recursion. */
  private step(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.finished) return this.settle(DONE);
      const reader = this.reader;
      if (reader !== null) {
        let result: IteratorResult<T> | Promise<IteratorResult<T>>;
        try {
          result = reader.next();
        } catch (error) {
          return this.fail(error);
        }
        if (result instanceof Promise || isThenable(result)) {
          return (Promise.resolve(result) as Promise<IteratorResult<T>>).then(this.onAsyncResult, this.onError);
        }
        if (!result.done) {
          const value = result.value;
          // Like `for await`, a promise read from a sync iterable is awaited.
          if (isThenable(value)) return Promise.resolve(value).then(this.onAwaitedValue, this.onError);
          return this.settle(result);
        }
        this.reader = null;
        continue;
      }
      const relay = this.stack[this.stack.length - 1]!;
      const source = relay.shift();
      if (source !== null) {
        if (isThenable(source)) return this.awaitSource(source);
        this.open(source);
        continue;
      }
      if (relay.ended) {
        this.stack.pop();
        if (this.stack.length === 0) {
          this.finished = true;
          return this.settle(DONE);
        }
        continue;
      }
      return new Promise((resolve) => {
        this.parked = resolve;
        relay.wake = () => {
          if (this.parked === resolve) {
            this.parked = null;
            resolve(this.step());
          }
        };
      });
    }
  }

  /** Starts reading a source: a fresh nested sequence is spliced, anything else gets a reader. */
  private open(source: AnyIterable<T>): void {
    const relay = unclaimedRelay<T>(source);
    if (relay !== null) {
      relay.claimed = true;
      this.stack.push(relay);
      return;
    }
    this.reader = openReader(source);
  }

  private awaitSource(source: PromiseLike<AnyIterable<T>>): Promise<IteratorResult<T>> {
    return new Promise((resolve) => {
      this.parked = resolve;
      Promise.resolve(source).then(
        (iterable) => {
          if (this.parked !== resolve) return closeSource(iterable);
          this.parked = null;
          try {
            assertChainable(iterable);
            if (isThenable(iterable)) throw new TypeError('chain() promise resolved to another promise');
            this.open(iterable);
          } catch (error) {
            return resolve(this.fail(error));
          }
          resolve(this.step());
        },
        (error) => {
          if (this.parked !== resolve) return;
          this.parked = null;
          resolve(this.fail(error));
        },
      );
    });
  }

  private readonly onAsyncResult = (result: IteratorResult<T>): Promise<IteratorResult<T>> | IteratorResult<T> => {
    if (this.finished) return DONE; // cancelled while the source was answering
    if (!result.done) return this.settleSync(result);
    this.reader = null;
    return this.step();
  };

  private readonly onAwaitedValue = (value: T): IteratorResult<T> => {
    if (this.finished) return DONE;
    return this.settleSync({ value, done: false });
  };

  private readonly onError = (error: unknown): Promise<IteratorResult<T>> => {
    if (this.finished) return Promise.resolve(DONE);
    return this.fail(error);
  };

  /** Ends the current `next()` with `result` and lets a queued request proceed. */
  private settleSync(result: IteratorResult<T>): IteratorResult<T> {
    this.busy = false;
    if (this.requests.length > 0) queueMicrotask(() => this.drain());
    return result;
  }

  private settle(result: IteratorResult<T>): Promise<IteratorResult<T>> {
    return Promise.resolve(this.settleSync(result));
  }

  private drain(): void {
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
  }

  /** Fails the sequence: every pending source is closed, the error reaches the consumer. */
  private fail(error: unknown): Promise<IteratorResult<T>> {
    this.shutdown(error);
    this.busy = false;
    queueMicrotask(() => this.drain());
    return Promise.reject(error);
  }

  /** Closes the active source and every pending one, at every level. Idempotent. */
  private shutdown(reason?: unknown): void {
    if (this.finished && this.stack.length === 0 && this.reader === null) return;
    this.finished = true;
    const reader = this.reader;
    this.reader = null;
    reader?.close(reason);
    for (const relay of this.stack) {
      relay.wake = null;
      relay.close();
    }
    this.stack.length = 0;
  }

  /** Consumer cancellation: settles at once, even while parked on the tail. */
  cancel(reason?: unknown): void {
    this.shutdown(reason);
    const parked = this.parked;
    this.parked = null;
    parked?.(DONE);
    this.busy = false;
    for (const request of this.requests.splice(0)) request.resolve(DONE);
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
  let cursor: Cursor<T> | null = null;
  const start = (): Cursor<T> => {
    if (cursor === null) {
      if (relay.claimed) throw new TypeError('this sequence was chained into another sequencer and is read there');
      relay.claimed = true;
      cursor = new Cursor(relay);
    }
    return cursor;
  };
  const sequence: AsyncGenerator<T, void, undefined> & { [SEQUENCE_BRAND]: Relay<T> } = {
    [SEQUENCE_BRAND]: relay,
    next() {
      try {
        return start().next();
      } catch (error) {
        return Promise.reject(error);
      }
    },
    return() {
      // return() before the first next() never starts reading: pending sources are closed.
      if (cursor === null && !relay.claimed) {
        relay.claimed = true;
        relay.close();
      } else cursor?.cancel();
      return Promise.resolve(DONE);
    },
    throw(error: unknown) {
      if (cursor === null && !relay.claimed) {
        relay.claimed = true;
        relay.close();
      } else cursor?.cancel(error);
      return Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return { sequence, chain: (source) => relay.push(source) };
}
