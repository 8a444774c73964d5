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
  const isArray = Array.isArray(value);
  if (!isArray) {
    if (!isPlainContainer(value) || Symbol.asyncIterator in value || Symbol.iterator in value) return -1;
  }
  const keys = isArray ? null : Object.keys(value);
  const length = keys === null ? (value as unknown[]).length : keys.length;
  let size = 16;
  for (let i = 0; i < length; i++) {
    const child = keys === null ? (value as unknown[])[i] : (value as Record<string, unknown>)[keys[i]!];
    const childSize = flatSizeWithin(child, depth - 1);
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
