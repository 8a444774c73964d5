/**
 * Reading any source the sequencer accepts (arrays, sync and async iterables,
 * WHATWG ReadableStreams) through one small interface, and the predicates that
 * tell them apart across realms (duck typing, never `instanceof`).
 *
 * @module
 */
import type { AnyIterable } from './sequencer.ts';

/** True for a promise or any object with a callable `then`. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

/** True for a WHATWG ReadableStream from any realm. */
export function isReadableStream(value: unknown): value is ReadableStream<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ReadableStream).getReader === 'function' &&
    typeof (value as ReadableStream).cancel === 'function'
  );
}

/** True for any value that can be read as a sync or async iterable. */
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
}

class ArrayReader<T> implements Reader<T> {
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

class AsyncReader<T> implements Reader<T> {
  constructor(private readonly it: AsyncIterator<T>) {}
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

export function openReader<T>(source: AnyIterable<T>): Reader<T> {
  if (Array.isArray(source)) return new ArrayReader(source);
  if (isReadableStream(source)) return new StreamReader(source as ReadableStream<T>);
  const asyncIt = (source as AsyncIterable<T>)[Symbol.asyncIterator];
  if (typeof asyncIt === 'function') return new AsyncReader(asyncIt.call(source));
  return new SyncReader((source as Iterable<T>)[Symbol.iterator]());
}

