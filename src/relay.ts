/**
 * The relay: the state one sequencer shares with whoever reads it. A linked
 * queue of chained sources, the end and close flags, and the hooks the bridge
 * paces remote chains with. Read by exactly one cursor (its own sequence's, or
 * a parent's after a splice) or by the serializer, which sends each chained
 * source as its own sub-stream.
 *
 * @module
 */
import { assertChainable, closeIterable, isThenable } from './sources.ts';
import type { AnyIterable, Chainable, ChainOptions } from './sources.ts';
import { activeRecorder, premadeNode, setLabel, setPremade, type TraceNode } from './trace-core.ts';

/**
 * The brand on a sequencer's `sequence`. Through it a parent sequencer splices
 * a nested sequence into its own relay, and the bridge's serializer sees the
 * chain of sub-iterables instead of their flattened values.
 *
 * @example
 * ```ts
 * const { sequence } = asyncIterableSequencer<string>();
 * SEQUENCE_BRAND in sequence; // true
 * ```
 */
export const SEQUENCE_BRAND: unique symbol = Symbol.for('stream-weaver.sequence') as never;

/**
 * Thrown by `chain()` after `chain(null)` ended the sequence.
 *
 * @example
 * ```ts
 * chain(null);
 * try { chain(['late']); } catch (e) { if (e instanceof SequenceEndedError) console.log(e.code); }
 * ```
 */
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
  /** Its node in the running trace; `null` when tracing is off. */
  node: TraceNode | null;
}

const noop = (): void => {};

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
  /** No more sources will come: `chain(null)` was called, or the relay was closed. */
  ended = false;
  /** `chain(null)` was called: chaining again is a programming error (SequenceEndedError). */
  sealed = false;
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
  /** This sequence's node in the running trace (src/trace-core.ts); `null` when tracing is off. */
  node: TraceNode | null = activeRecorder === null ? null : activeRecorder.sequence();

  /** Appends a source, or ends the relay on `null`; `options.label` names it for traces. */
  push(source: Chainable<T>, options?: ChainOptions): void {
    if (source === null) {
      if (this.sealed) return; // ending twice loses nothing
      this.sealed = true;
      this.ended = true;
    } else {
      if (this.sealed) throw new SequenceEndedError();
      assertChainable(source);
      // Reading itself, a sequence would wait on its own next() forever.
      if ((source as { [SEQUENCE_BRAND]?: unknown })[SEQUENCE_BRAND] === this) {
        throw new TypeError('chain() was given the sequence it feeds: a sequence cannot be chained into itself');
      }
      if (this.closed) {
        // The reader is gone: close what arrives so its producer stops, without blaming the producer.
        closeSource(source);
        return;
      }
      // Off, this is the whole cost of tracing per chain(): nothing is recorded per item.
      const node = options !== undefined || activeRecorder !== null ? this.trace(source, options) : null;
      if (isThenable(source)) {
        // A promise may reject long before the cursor reaches it: that is an error at this point
        // of the sequence, not an unhandled rejection (which would end a Node process). A foreign
        // thenable is adopted once, here, so a lazy one (a query builder) runs once.
        source = Promise.resolve(source);
        source.then(undefined, noop);
      }
      const entry: Entry<T> = { source, next: null, node };
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

  /** Records a label, and the source's node when a trace runs. */
  private trace(source: object | string, options: ChainOptions | undefined): TraceNode | null {
    if (options?.label !== undefined) setLabel(source, options.label);
    const recorder = activeRecorder;
    if (recorder === null) return null;
    return recorder.chain(this.node, source, options, unclaimedRelay(source)?.node ?? null);
  }

  /** Takes the oldest pending entry, or `null` when there is none yet. */
  take(): Entry<T> | null {
    const entry = this.head;
    if (entry === null) return null;
    this.head = entry.next;
    if (this.head === null) this.tail = null;
    this.length--;
    this.onShift?.();
    return entry;
  }

  /** Takes the oldest pending source, or `null` when there is none yet. */
  shift(): Entry<T>['source'] | null {
    const entry = this.take();
    return entry === null ? null : entry.source;
  }

  /**
   * Closes every pending source and every source chained later. Nested
   * sequences still pending are closed through a work list, not recursion, so
   * 100,000 levels of them do not overflow the stack.
   */
  close(): void {
    const work: Relay<unknown>[] = [this];
    for (let relay = work.pop(); relay !== undefined; relay = work.pop()) {
      if (relay.closed) continue;
      relay.closed = true;
      relay.ended = true;
      relay.wake = null;
      relay.onShift = null;
      relay.node?.finish('cancelled');
      for (let entry = relay.take(); entry !== null; entry = relay.take()) {
        const source = entry.source;
        entry.node?.finish('cancelled');
        const nested = unclaimedRelay(source);
        if (nested === null) closeSource(source);
        else {
          nested.claimed = true;
          work.push(nested);
        }
      }
      const onClose = relay.onClose;
      relay.onClose = null;
      onClose?.();
    }
  }
}

/**
 * The trace node of a chainable: a sequence's (read or not), or one made in
 * advance for a wrapper or a remote stream; `null` when there is none.
 */
export function traceNodeOf(value: unknown): TraceNode | null {
  if (typeof value !== 'object' || value === null) return null;
  const relay = (value as { [SEQUENCE_BRAND]?: Relay<unknown> })[SEQUENCE_BRAND];
  if (relay instanceof Relay) return relay.node;
  return premadeNode(value) ?? null;
}

/** Marks a sequencer's `sequence` as library plumbing: its node is collapsed away in traces unless labelled. */
export function markPlumbing(sequence: object): void {
  const node = traceNodeOf(sequence);
  if (node !== null) node.transparent = true;
}

/**
 * While a trace runs, reading `wrapper` is recorded on the node of `inner` (a
 * sequence it reads, say), or on a new node named `label` when `inner` has none.
 */
export function linkTrace(wrapper: object, inner: unknown, label?: string): TraceNode | null {
  const recorder = activeRecorder;
  if (recorder === null) return null;
  // `inner` has no node of its own (a generator): the wrapper gets one, named `label`.
  const node = traceNodeOf(inner) ?? (label === undefined ? null : recorder.node('iterable', label));
  if (node !== null) setPremade(wrapper, node);
  return node;
}

/** While a trace runs, hangs the node of `child` (a sequence read by a wrapper) under the node of `parent`. */
export function attachTrace(child: unknown, parent: unknown): void {
  const node = traceNodeOf(child);
  const to = traceNodeOf(parent);
  if (node === null || to === null || node === to || node.parent !== null || node.recorder !== to.recorder) return;
  node.parent = to;
  node.chained = performance.now();
}

/** Returns the relay behind a fresh (not yet read) sequence, or `null`. */
export function unclaimedRelay<T>(value: unknown): Relay<T> | null {
  if (typeof value !== 'object' || value === null) return null;
  const relay = (value as { [SEQUENCE_BRAND]?: Relay<T> })[SEQUENCE_BRAND];
  return relay instanceof Relay && !relay.claimed ? relay : null;
}

/**
 * Closes a source that will never be read: `return()` on iterators (their
 * `finally` blocks run), `cancel()` on streams, every level of a fresh nested
 * sequence; a promise is closed once it settles. Never throws.
 */
export function closeSource(source: unknown, reason?: unknown): void {
  if (isThenable(source)) {
    Promise.resolve(source).then((s) => closeSource(s, reason), noop);
    return;
  }
  const relay = unclaimedRelay(source);
  if (relay === null) return closeIterable(source, reason);
  relay.claimed = true;
  relay.close();
}
