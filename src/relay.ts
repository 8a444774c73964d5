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
import type { AnyIterable, Chainable } from './sources.ts';

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

  /** Appends a source, or ends the relay on `null`. */
  push(source: Chainable<T>): void {
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
      if (isThenable(source)) {
        // A promise may reject long before the cursor reaches it: that is an error at this point
        // of the sequence, not an unhandled rejection (which would end a Node process). A foreign
        // thenable is adopted once, here, so a lazy one (a query builder) runs once.
        source = Promise.resolve(source);
        source.then(undefined, noop);
      }
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
    if (this.head === null) this.tail = null;
    this.length--;
    this.onShift?.();
    return entry.source;
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
      for (let source = relay.shift(); source !== null; source = relay.shift()) {
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
