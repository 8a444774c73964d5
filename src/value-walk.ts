/**
 * The value walk behind `Serializer.encode`: copies a value only where a
 * stream inside it must be replaced by a reference, opens an outgoing stream
 * for each (through its host), estimates the bytes, collects the buffers to
 * transfer, and refuses what cannot cross (functions, symbols, past maxDepth).
 *
 * @module
 */
import { LimitExceededError, SerializationError } from './errors.ts';
import type { Outgoing } from './outgoing.ts';
import type { PathKey, Ref, StreamKind } from './protocol.ts';
import type { TraceParent } from './trace-bridge.ts';
import { isPlainContainer, streamKind } from './value-shape.ts';

/** What the walk needs of its serializer. */
export interface WalkHost {
  readonly maxDepth: number;
  /** Move whole ArrayBuffers instead of copying them. */
  readonly transfer: boolean;
  /** Opens an outgoing stream for a stream found in the value. */
  open(kind: StreamKind, source: object, onCancel: ((reason: unknown) => void) | undefined): Outgoing;
}

/** Per-walk state. */
export interface Walk {
  path: PathKey[];
  refs: Ref[] | undefined;
  bytes: number;
  transfer: Transferable[] | undefined;
  ancestors: object[];
  onCancel: ((reason: unknown) => void) | undefined;
  children: Outgoing[] | null;
  /** Streams opened by this walk, closed again if the walk fails half-way. */
  opened: Outgoing[];
  /** The value is a call's arguments or result (not an item of a stream). */
  topLevel: boolean;
  /** Streams found are traced as children of this (a traced call's result, or a traced stream's item). */
  trace: TraceParent | null;
}

/** Walks `value` from its root; returns its data with every stream replaced by `null` (listed in `w.refs`). */
export function walkValue(host: WalkHost, value: unknown, w: Walk): unknown {
  return walk(host, value, w, 0);
}

function walk(host: WalkHost, value: unknown, w: Walk, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      w.bytes += value.length + 2;
      return value;
    case 'object':
      if (value === null) break;
      return walkObject(host, value, w, depth);
    case 'function':
    case 'symbol':
      throw new SerializationError(`cannot send a ${typeof value} (at ${w.path.join('.') || 'the root'})`);
    default:
      break;
  }
  w.bytes += 8;
  return value;
}

function walkObject(host: WalkHost, value: object, w: Walk, depth: number): unknown {
  if (depth > host.maxDepth) throw new LimitExceededError('maxDepth', depth, host.maxDepth);
  const kind = streamKind(value);
  if (kind !== null) {
    const out = host.open(kind, value, w.onCancel);
    if (w.trace !== null) out.trace = w.trace.child(out, value, w.path);
    out.urgent = w.topLevel;
    w.children?.push(out);
    w.opened.push(out);
    (w.refs ??= []).push([w.path.slice(), kind, out.id]);
    w.bytes += 8;
    return null;
  }
  if (value instanceof ArrayBuffer) return walkBuffer(host, value, value, w);
  if (ArrayBuffer.isView(value)) return walkBuffer(host, value, value.buffer, w);
  const isArray = Array.isArray(value);
  if (!isArray && !isPlainContainer(value)) {
    if (typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function' && !(value instanceof Map) && !(value instanceof Set)) {
      // A generator object or custom iterable cannot be cloned: it crosses as a stream.
      return walkObject(host, (async function* () { yield* value as Iterable<unknown>; })(), w, depth);
    }
    w.bytes += 16; // Date, Map, Set, RegExp, Error...: the codec copies them whole
    return value;
  }
  if (w.ancestors.includes(value)) return value; // a cycle: structured clone keeps it
  w.ancestors.push(value);
  let copy: unknown[] | Record<string, unknown> | null = null;
  const keys = isArray ? null : Object.keys(value);
  const length = isArray ? (value as unknown[]).length : keys!.length;
  for (let i = 0; i < length; i++) {
    const key: PathKey = isArray ? i : keys![i]!;
    const child = (value as Record<PathKey, unknown>)[key];
    w.path.push(key);
    const encoded = typeof child === 'object' || typeof child === 'function' || typeof child === 'symbol' ? walk(host, child, w, depth + 1) : walkScalar(child, w);
    w.path.pop();
    if (encoded !== child && copy === null) copy = isArray ? (value as unknown[]).slice() : { ...value };
    if (copy !== null) (copy as Record<PathKey, unknown>)[key] = encoded;
  }
  w.ancestors.pop();
  return copy ?? value;
}

function walkScalar(value: unknown, w: Walk): unknown {
  w.bytes += typeof value === 'string' ? value.length + 2 : 8;
  return value;
}

function walkBuffer(host: WalkHost, value: object, buffer: ArrayBufferLike, w: Walk): unknown {
  w.bytes += (value as ArrayBuffer).byteLength;
  // Only a buffer the value covers whole is moved: a view into a shared pool (Node's Buffer) is copied.
  if (host.transfer && buffer instanceof ArrayBuffer && buffer.byteLength === (value as ArrayBuffer).byteLength) {
    const list = (w.transfer ??= []);
    if (!list.includes(buffer)) list.push(buffer);
  }
  return value;
}
