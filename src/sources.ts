/**
 * Reading any source the sequencer accepts (arrays, sync and async iterables,
 * WHATWG ReadableStreams) through one small interface, and the predicates that
 * tell them apart across realms (duck typing, never `instanceof`). The
 * sequencer's public types live here so both files can use them; the
 * sequencer re-exports them.
 *
 * @module
 */

/**
 * Anything the sequencer can read: a sync or async iterable, or a WHATWG `ReadableStream`.
 *
 * @example
 * ```ts
 * const sources: AnyIterable<string>[] = [['a', 'b'], 'cd', new Response('ef').body!.pipeThrough(new TextDecoderStream())];
 * ```
 */
export type AnyIterable<T> = Iterable<T> | AsyncIterable<T> | ReadableStream<T>;

/**
 * What `chain()` accepts: an iterable, a promise of one (awaited when the
 * sequence reaches it), or `null` to end the sequence.
 *
 * @example
 * ```ts
 * const next: Chainable<string> = fetchSection('intro'); // a Promise<AsyncIterable<string>>
 * chain(next);
 * ```
 */
export type Chainable<T> = AnyIterable<T> | PromiseLike<AnyIterable<T>> | null;

/**
 * Options of one `chain()` call.
 *
 * @example
 * ```ts
 * chain(writeSection('history'), { label: 'section "history"' });
 * ```
 */
export interface ChainOptions {
  /**
   * Names the chained iterable in traces and in the plan path of errors
   * thrown inside it (`document > section "history" > agent "1890s"`). Kept
   * on the object (not on a string), so a label given in a worker crosses the
   * bridge with the stream. Costs nothing per item.
   */
  label?: string;
}

/**
 * Appends a whole iterable to the ordered output, or ends it with `null`.
 *
 * Throws `SequenceEndedError` (a `TypeError`) when called after `chain(null)`,
 * and a `TypeError` for a value that is not iterable. After the consumer has
 * cancelled the sequence, a chained iterable is closed at once (`return()` /
 * `cancel()`) so its producer does not run for nobody. `options.label` names
 * the iterable for traces and plan paths (see `startTrace`).
 *
 * @example
 * ```ts
 * const { chain }: { chain: Chain<string> } = asyncIterableSequencer<string>();
 * chain(['a', 'b'], { label: 'letters' });
 * chain(null);
 * ```
 */
export type Chain<T> = (iterable: Chainable<T>, options?: ChainOptions) => void;

/**
 * The pair returned by `asyncIterableSequencer()`.
 *
 * @example
 * ```ts
 * const { sequence, chain }: AsyncIterableSequencerReturn<number> = asyncIterableSequencer<number>();
 * chain([1, 2]); chain(null);
 * for await (const n of sequence) console.log(n);
 * ```
 */
export interface AsyncIterableSequencerReturn<T> {
  /** The ordered output: every chained iterable's values, in chain order. */
  sequence: AsyncGenerator<T, void, undefined>;
  /** Appends an iterable (or a promise of one) to `sequence`; `chain(null)` ends it. */
  chain: Chain<T>;
}

/** True for a promise or any object with a callable `then`. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

/**
 * True for a WHATWG ReadableStream from any realm.
 *
 * @example
 * ```ts
 * isReadableStream(new ReadableStream()); // true
 * isReadableStream([1, 2]); // false
 * ```
 */
export function isReadableStream(value: unknown): value is ReadableStream<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ReadableStream).getReader === 'function' &&
    typeof (value as ReadableStream).cancel === 'function'
  );
}

/**
 * True for any value that can be read as a sync or async iterable.
 *
 * @example
 * ```ts
 * isAnyIterable([1, 2]); // true (so are strings, async generators and ReadableStreams)
 * isAnyIterable(42); // false
 * ```
 */
export function isAnyIterable(value: unknown): value is AnyIterable<unknown> {
  if (typeof value === 'string') return true;
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  return (
    typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' ||
    typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function' ||
    isReadableStream(value)
  );
}

/** Throws a `TypeError` naming the value when `chain()` is given something it cannot read. */
export function assertChainable(source: unknown): void {
  if (isThenable(source) || isAnyIterable(source)) return;
  const shown = typeof source === 'object' ? Object.prototype.toString.call(source) : String(source);
  throw new TypeError(`chain() expects an iterable, async iterable, ReadableStream, promise of one, or null; got ${shown}`);
}

/** Marks a promise that may never be awaited as handled, so its rejection is not unhandled. */
export function swallow(value: unknown): void {
  if (isThenable(value)) value.then(undefined, () => {});
}

/** A source being read by the cursor, behind one small interface. */
export interface Reader<T> {
  /** Next result: sync for arrays and sync iterators, a promise otherwise. */
  next(): IteratorResult<T> | Promise<IteratorResult<T>>;
  /** Stops reading early; must not throw. */
  close(reason?: unknown): void;
  /**
   * True for sync sources: like `for await`, a promise among their values is
   * awaited (values of async sources are passed on as they are).
   */
  readonly sync?: boolean;
  /** A native async generator being read, whose promises may be handed on as they are. */
  readonly generator?: AsyncIterator<T> | null;
}

class ArrayReader<T> implements Reader<T> {
  readonly sync = true;
  private i = 0;
  constructor(private readonly items: ArrayLike<T>) {}
  next(): IteratorResult<T> {
    if (this.i < this.items.length) return { value: this.items[this.i++] as T, done: false };
    return { value: undefined, done: true };
  }
  close(): void {
    this.i = this.items.length;
  }
}

class SyncReader<T> implements Reader<T> {
  readonly sync = true;
  constructor(private readonly it: Iterator<T>) {}
  next(): IteratorResult<T> {
    return this.it.next();
  }
  close(): void {
    try {
      this.it.return?.();
    } catch {
      // discarded
    }
  }
}

/** The prototype every native async generator object inherits its `next` from. */
const ASYNC_GENERATOR_PROTOTYPE = Object.getPrototypeOf((async function* () {}).prototype) as AsyncGenerator<unknown>;

class AsyncReader<T> implements Reader<T> {
  readonly sync = false;
  /**
   * The iterator itself when it is a native async generator: it queues
   * concurrent `next()` calls in order, and answers done forever once it has
   * returned or thrown, so its promises can be handed to a consumer as they are.
   */
  readonly generator: AsyncIterator<T> | null;
  constructor(private readonly it: AsyncIterator<T>) {
    this.generator = it.next === ASYNC_GENERATOR_PROTOTYPE.next ? it : null;
  }
  next(): Promise<IteratorResult<T>> {
    return this.it.next();
  }
  close(): void {
    try {
      swallow(this.it.return?.());
    } catch {
      // discarded
    }
  }
}

class StreamReader<T> implements Reader<T> {
  readonly sync = false;
  private readonly reader: ReadableStreamDefaultReader<T>;
  constructor(stream: ReadableStream<T>) {
    this.reader = stream.getReader();
  }
  next(): Promise<IteratorResult<T>> {
    return this.reader.read() as Promise<IteratorResult<T>>;
  }
  close(reason?: unknown): void {
    swallow(this.reader.cancel(reason));
  }
}

/**
 * Opens a reader on any source. Throws what the source throws when opened
 * (a locked `ReadableStream`, an `[Symbol.iterator]` that throws).
 */
export function openReader<T>(source: AnyIterable<T>): Reader<T> {
  if (Array.isArray(source)) return new ArrayReader(source);
  if (isReadableStream(source)) return new StreamReader(source as ReadableStream<T>);
  const asyncIt = (source as AsyncIterable<T>)[Symbol.asyncIterator];
  if (typeof asyncIt === 'function') return new AsyncReader(asyncIt.call(source));
  return new SyncReader((source as Iterable<T>)[Symbol.iterator]());
}


/**
 * Closes an iterable that will never be read to its end: `return()` on its
 * iterator (a running generator's `finally` blocks run), `cancel()` on an
 * unlocked stream. Arrays and strings hold nothing to close. Never throws:
 * the source is being discarded.
 */
export function closeIterable(source: unknown, reason?: unknown): void {
  try {
    if (typeof source !== 'object' || source === null || Array.isArray(source)) return;
    if (isReadableStream(source)) {
      if (!source.locked) swallow(source.cancel(reason));
      return;
    }
    const asyncIt = (source as AsyncIterable<unknown>)[Symbol.asyncIterator];
    if (typeof asyncIt === 'function') {
      swallow(asyncIt.call(source).return?.());
      return;
    }
    const syncIt = (source as Iterable<unknown>)[Symbol.iterator];
    if (typeof syncIt === 'function') syncIt.call(source).return?.();
  } catch {
    // A source that throws while being closed is closed as far as we can tell.
  }
}
