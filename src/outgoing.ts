/**
 * One outgoing stream as the serializer keeps it: the credit and window its
 * consumer granted, what it has in flight, the reader of its source, and, for
 * a sequence, the relay whose chained sources leave as sub-streams.
 *
 * @module
 */
import type { StreamKind } from './protocol.ts';
import type { Relay } from './sequencer.ts';
import type { Reader } from './sources.ts';
import type { OutTrace } from './trace-bridge.ts';

/** One outgoing stream and its credit. */
export class Outgoing {
  /** Items the consumer still accepts. */
  credit = 0;
  /** Estimated bytes the consumer still accepts. */
  creditBytes = 0;
  /** The consumer's item window for this stream (it may grow it: `pull.gn`). */
  windowItems = 0;
  /** The consumer is waiting on this stream now: it may go past the session budget. */
  active = false;
  /** Estimated bytes sent on this stream and not yet returned by the consumer. */
  inflight = 0;
  /** Cancelled, ended or failed: the pump stops and nothing more is sent. */
  closed = false;
  /** Wakes the pump when credit arrives. */
  resume: (() => void) | null = null;
  /** The reader of the source, for iterable kinds. */
  reader: Reader<unknown> | null = null;
  /** For `seq`: the relay whose chained sources are sent as sub-streams. */
  relay: Relay<unknown> | null = null;
  /** For `seq`: sub-streams opened by this chain, cancelled with it. */
  children: Outgoing[] | null = null;
  /** A stream of a call's arguments or result whose first item has not left yet: it is flushed at once. */
  urgent = false;
  /** Its producer-side trace, when the consumer asked for one (plan tracing, src/trace-bridge.ts). */
  trace: OutTrace | null = null;
  constructor(
    readonly id: number,
    readonly kind: StreamKind,
    readonly source: unknown,
    /** Called when the consumer cancels (a call's AbortSignal). */
    readonly onCancel: ((reason: unknown) => void) | undefined,
  ) {}
}

/** Reads a relay's chained sources one by one, parking on its tail like a cursor would. */
export function relayReader(relay: Relay<unknown>): Reader<unknown> {
  return {
    next() {
      const source = relay.shift();
      if (source !== null) return { value: source, done: false };
      if (relay.ended) return { value: undefined, done: true };
      return new Promise<IteratorResult<unknown>>((resolve) => {
        relay.wake = () => resolve(this.next());
      });
    },
    close() {
      relay.close();
    },
  };
}
