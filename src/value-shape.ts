/**
 * How the serializer sees a value: the stream kind it crosses as, and the
 * flat-size fast path that keeps the full walk off the per-item path.
 *
 * @module
 */
import type { StreamKind } from './protocol.ts';
import { unclaimedRelay } from './sequencer.ts';
import { isReadableStream, isThenable } from './sources.ts';

/** The stream kind a value crosses as, or null for a plain value. */
export function streamKind(value: object): StreamKind | null {
  if (unclaimedRelay(value) !== null) return 'seq';
  if (isReadableStream(value)) return 'rs';
  if (isThenable(value)) return 'p';
  if (typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') return 'it';
  return null;
}

/**
 * The estimated size of a flat item (a primitive, or plain objects and arrays
 * nested at most two deep holding primitives, 1,024 values at most: a batch of
 * records is flat too), or -1 when it needs the full walk. Most stream items are
 * flat: this keeps the walk, its allocations and its path bookkeeping off the
 * per-item path.
 */
export function flatSize(value: unknown): number {
  flatBudget = 1_024;
  return flatSizeWithin(value, 2);
}

/** Values `flatSize` may still read for the item at hand (module state: no allocation per item). */
let flatBudget = 0;

/** `flatSize` down to `depth` more levels of plain containers. */
function flatSizeWithin(value: unknown, depth: number): number {
  if (--flatBudget < 0) return -1;
  switch (typeof value) {
    case 'string':
      return value.length + 2;
    case 'number':
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return 8;
    case 'object':
      break;
    default:
      return -1;
  }
  if (value === null) return 8;
  if (depth < 0) return -1;
  let size = 16;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const childSize = flatSizeWithin(value[i], depth - 1);
      if (childSize < 0) return -1;
      size += childSize;
    }
    return size;
  }
  if (!isPlainContainer(value) || Symbol.asyncIterator in value || Symbol.iterator in value) return -1;
  // for-in over a plain object needs no keys array (30 vs 45 ns for { i, text }). It would also see
  // enumerable keys added to Object.prototype, which only makes the estimate larger or sends the
  // value to the full walk: never a stream missed.
  for (const key in value) {
    const childSize = flatSizeWithin((value as Record<string, unknown>)[key], depth - 1);
    if (childSize < 0) return -1;
    size += childSize;
  }
  return size;
}

/** A plain object (its prototype Object.prototype or null): walked key by key. */
export function isPlainContainer(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
