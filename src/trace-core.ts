/**
 * The recorder behind plan tracing (issue 9): plan-tree nodes, the reader
 * wrapper that times reads, labels, and the plan paths put on errors. The
 * sequencer, the conductor, the weavers and the bridge report here while a
 * trace runs; `src/trace.ts` is the public face (start, stop, JSON, HTML).
 *
 * Off by default: `activeRecorder` is `null`, and the sequencer then pays one
 * null check per `chain()` and per source opened, nothing per item. Only a
 * traced source is read through the timing reader of src/trace-reader.ts.
 *
 * @module
 */
import type { ChainOptions } from './sources.ts';

/**
 * What a node stands for.
 *
 * @example
 * ```ts
 * const kind: NodeKind = 'generator';
 * const generators = tracer.toJSON().nodes.filter((node) => node.kind === kind);
 * ```
 */
export type NodeKind = 'sequence' | 'conductor' | 'generator' | 'iterable' | 'array' | 'string' | 'stream' | 'promise';

/** How a node ended. */
export type Outcome = 'done' | 'error' | 'cancelled';

/** Marks chain options and sequencers that are the library's own plumbing: left out of traces. */
export const PLUMBING: unique symbol = Symbol('stream-weaver.trace.plumbing') as never;

/** Chain options for plumbing (sentinels, internal relays): traced nodes that are collapsed away on export. */
export const HIDDEN: ChainOptions = Object.freeze({ [PLUMBING]: true }) as ChainOptions;

/** The recorder of the running trace, or `null` (the default: tracing off). */
export let activeRecorder: Recorder | null = null;

/** Installs or clears the running recorder (src/trace.ts). */
export function setActiveRecorder(recorder: Recorder | null): void {
  activeRecorder = recorder;
}

/** Labels given with `chain(x, { label })` or `traceLabel(x, label)`: they also cross the bridge untraced. */
const labels = new WeakMap<object, string>();
/** Nodes made before their object is chained: conductor readables, wrappers, streams from the bridge. */
const premade = new WeakMap<object, TraceNode>();

const isObject = (value: unknown): value is object => (typeof value === 'object' || typeof value === 'function') && value !== null;

/** Names an iterable for traces and plan paths (objects only; a string cannot carry a label). */
export function setLabel(target: unknown, label: string): void {
  if (isObject(target)) labels.set(target, label);
}

/** The label given to an object, if any. */
export function labelOf(target: unknown): string | undefined {
  return isObject(target) ? labels.get(target) : undefined;
}

/** The node made in advance for an object (a wrapper, a remote stream), if any. */
export function premadeNode(target: unknown): TraceNode | undefined {
  return isObject(target) ? premade.get(target) : undefined;
}

/** Makes `node` the node of `target`: chaining `target` adopts it. */
export function setPremade(target: object, node: TraceNode): void {
  premade.set(target, node);
}

const ASYNC_GENERATOR_PROTO = Object.getPrototypeOf(Object.getPrototypeOf((async function* () {})()));
const GENERATOR_PROTO = Object.getPrototypeOf(Object.getPrototypeOf((function* () {})()));

/** The kind of a chained source, and its default label (a class name where it has one). */
export function describeSource(source: unknown): { kind: NodeKind; label: string } {
  if (typeof source === 'string') return { kind: 'string', label: 'string' };
  if (Array.isArray(source)) return { kind: 'array', label: 'array' };
  if (!isObject(source)) return { kind: 'iterable', label: typeof source };
  if (typeof (source as PromiseLike<unknown>).then === 'function') return { kind: 'promise', label: 'promise' };
  if (typeof (source as ReadableStream).getReader === 'function') return { kind: 'stream', label: 'ReadableStream' };
  const proto = Object.getPrototypeOf(source);
  if (proto !== null && Object.getPrototypeOf(proto) === ASYNC_GENERATOR_PROTO) return { kind: 'generator', label: 'async generator' };
  if (proto !== null && Object.getPrototypeOf(proto) === GENERATOR_PROTO) return { kind: 'generator', label: 'generator' };
  const name = typeof proto?.constructor === 'function' ? (proto.constructor.name as string) : '';
  const label = name !== '' && name !== 'Object' ? name : Symbol.asyncIterator in source ? 'async iterable' : 'iterable';
  return { kind: 'iterable', label };
}

/**
 * A peer's clock as its session estimates it, updated in place as better
 * round trips come in: the remote times of a trace are mapped when exported,
 * with the best estimate by then.
 */
export interface PeerClock {
  /** Peer clock minus this clock, in ms; NaN until measured (then taken as 0). */
  offsetMs: number;
  /** The round trip the offset came from, in ms (the error is at most half of it); Infinity until measured. */
  rttMs: number;
}

/** A peer's clock reading (epoch ms on its clock) on this context's performance.now() scale. */
export function peerToLocal(clock: PeerClock, time: number): number {
  return time - (Number.isNaN(clock.offsetMs) ? 0 : clock.offsetMs) - performance.timeOrigin;
}

/** The producer side of a node that crossed the bridge: times on the producer's clock (epoch ms), mapped with `clock`. */
export interface RemoteSide {
  /** The session's estimate of the producer's clock. */
  clock: PeerClock;
  /** The producer opened the stream. */
  opened: number;
  firstProduced: number;
  lastProduced: number;
  /** The producer was done with it (ended, failed or cancelled). */
  done: number;
  /** Items the producer sent (may exceed what was read, when cancelled). */
  items: number;
  /** Estimated bytes the producer sent. */
  bytes: number;
  outcome: Outcome | null;
}

/** One chained iterable, sequence or conductor. Times are performance.now() ms; NaN = not (yet) happened. */
export class TraceNode {
  /** The node it is nested in: the sequence or conductor that chained it. */
  parent: TraceNode | null = null;
  /** Place among siblings: chain order. */
  order: number;
  /** The label given, or a default from the kind, class or function name. */
  label: string;
  /** The label was given (chain option, traceLabel, a conductor or handler name): it appears in plan paths. */
  named = false;
  /** Where it ran: the tracer's context, or the peer's name for a stream that crossed the bridge. */
  context: string;
  /** Library plumbing: collapsed on export (its children move up), unless it is a root or labelled. */
  transparent = false;
  /** A promise node merged into the node of what it resolved to. */
  alias: TraceNode | null = null;
  /** Its producer is across the bridge: nodes chained into it ran there too. */
  mirror = false;
  /** Read by its parent's own code rather than chained (ExplodeContext.traceInput): not counted in the parent's items. */
  input = false;
  /** Chained by a mirror: its context is that node's (known once the peer's records name it). */
  contextOf: TraceNode | null = null;
  firstProduced = NaN;
  lastProduced = NaN;
  firstConsumed = NaN;
  done = NaN;
  /** Items read through this node. */
  items = 0;
  outcome: Outcome | null = null;
  /** Total time the reader waited on this node. */
  waitMs = 0;
  /** The longer waits, flattened [start, end, start, end, ...]; capped. */
  waits: number[] | null = null;
  /** `name: message` of the error it failed with (or that a boundary recovered from). */
  error: string | null = null;
  /** An error boundary turned the error into fallback content: the node went on. */
  recovered = false;
  /** The producer's side, for a stream that crossed the bridge. */
  remote: RemoteSide | null = null;

  constructor(
    readonly recorder: Recorder,
    readonly id: number,
    public kind: NodeKind,
    label: string,
    /** When it was chained (or created, for a root). */
    public chained: number,
  ) {
    this.label = label;
    this.order = id;
    this.context = recorder.context;
  }

  /** Gives the node a label that appears in plan paths. */
  name(label: string): void {
    this.label = label;
    this.named = true;
    this.transparent = false;
  }

  /** One read answered: `start` when it was asked for, `end` when it came. */
  read(result: unknown, start: number, end: number): void {
    if (typeof result !== 'object' || result === null) return;
    if ((result as IteratorResult<unknown>).done === true) return this.finish('done', end);
    this.items++;
    if (this.items === 1) {
      this.firstProduced = end;
      this.firstConsumed = end;
    }
    this.lastProduced = end;
    const wait = end - start;
    this.waitMs += wait;
    if (wait >= this.recorder.minWaitMs) this.addWait(start, end);
  }

  private addWait(start: number, end: number): void {
    const waits = (this.waits ??= []);
    const n = waits.length;
    // Adjacent waits merge, so a slow producer is one long bar, not a comb.
    if (n > 0 && start - waits[n - 1]! <= this.recorder.minWaitMs) waits[n - 1] = end;
    else if (n < MAX_WAITS * 2) waits.push(start, end);
  }

  /** Ends the node once; later calls change nothing. */
  finish(outcome: Outcome, time = performance.now()): void {
    if (this.outcome !== null) return;
    this.outcome = outcome;
    this.done = time;
  }

  /** The node failed with `error`: recorded, and put on the error as its plan path. */
  fail(error: unknown): void {
    if (this.outcome === null) {
      this.finish('error');
      this.error = describeError(error);
    }
    annotate(error, this);
  }

  /** Where it ran: its own context, or that of the mirror that chained it. */
  where(): string {
    let node: TraceNode = this;
    while (node.contextOf !== null) node = node.contextOf;
    return node.context;
  }

  /** An error boundary caught `error` here and goes on with fallback content. */
  recover(error: unknown): void {
    if (this.error === null) this.error = describeError(error);
    this.recovered = true;
    annotate(error, this);
  }

  /** The node as exported: itself, or what a merged promise became. */
  resolved(): TraceNode {
    let node: TraceNode = this;
    while (node.alias !== null) node = node.alias;
    return node;
  }

  /** Labels from the root to this node: named nodes, and this one (or its nearest visible ancestor). */
  path(): string[] {
    let leaf: TraceNode = this.resolved();
    while (leaf.transparent && leaf.parent !== null) leaf = leaf.parent.resolved();
    const out: string[] = [];
    for (let node: TraceNode | null = leaf; node !== null; node = node.parent === null ? null : node.parent.resolved()) {
      if (node === leaf || (node.named && !node.transparent)) out.push(node.label);
      if (out.length > MAX_PATH) break;
    }
    return out.reverse();
  }
}

/** Waits kept per node: beyond this only their total is counted. */
const MAX_WAITS = 256;
/** Deepest plan path put on an error. */
const MAX_PATH = 64;

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 500);
  return String(error).slice(0, 500);
}

/**
 * Puts the plan path of `node` on `error`, once (the deepest node that sees
 * the error wins): a non-enumerable `planPath` array and a tail on the message
 * (and on the first line of the stack). The error stays the same object. A
 * lost connection (`ConnectionClosedError`, shared by every stream of the
 * session) is left as it is.
 */
export function annotate(error: unknown, node: TraceNode): void {
  if (!isObject(error) || Object.prototype.hasOwnProperty.call(error, 'planPath')) return;
  // A lost connection fails every stream of a session with one shared error: no single place is where it happened.
  const code = (error as { code?: unknown }).code;
  if (code === 'ERR_CONNECTION_CLOSED' || code === 'ERR_PEER_TIMEOUT') return;
  const path = node.path();
  if (path.length === 0) return;
  try {
    Object.defineProperty(error, 'planPath', { value: path, writable: true, configurable: true, enumerable: false });
    const e = error as { message?: unknown; name?: unknown; stack?: unknown };
    if (typeof e.message !== 'string') return;
    const before = e.message;
    const tail = ` (plan: ${path.join(' > ')})`;
    e.message = before + tail;
    const head = `${String(e.name)}: ${before}`;
    if (typeof e.stack === 'string' && before !== '' && e.stack.startsWith(head)) e.stack = head + tail + e.stack.slice(head.length);
  } catch {
    // A frozen error keeps what it had: the trace still records where it happened.
  }
}

/** Settings of a recorder. */
export interface RecorderSettings {
  context: string;
  maxNodes: number;
  minWaitMs: number;
}

/** Collects the nodes of one trace. */
export class Recorder {
  readonly nodes: TraceNode[] = [];
  /** performance.now() at the start: time 0 of the trace. */
  readonly t0 = performance.now();
  readonly context: string;
  readonly maxNodes: number;
  readonly minWaitMs: number;
  /** Nodes not recorded because `maxNodes` was reached. */
  dropped = 0;
  /** Clock estimates of the peers whose streams appear in the trace, by context name. */
  readonly clocks = new Map<string, PeerClock>();

  constructor(settings: RecorderSettings) {
    this.context = settings.context;
    this.maxNodes = settings.maxNodes;
    this.minWaitMs = settings.minWaitMs;
  }

  /** A new node, or `null` past `maxNodes`. */
  node(kind: NodeKind, label: string, time = performance.now()): TraceNode | null {
    if (this.nodes.length >= this.maxNodes) {
      this.dropped++;
      return null;
    }
    const node = new TraceNode(this, this.nodes.length + 1, kind, label, time);
    this.nodes.push(node);
    return node;
  }

  /** The node of a new sequencer: a root until it is chained somewhere. */
  sequence(): TraceNode | null {
    return this.node('sequence', 'sequence');
  }

  /**
   * `chain(source, options)` on a relay whose node is `parent`: adopts the
   * node made for `source` in advance (`own`: a nested sequence's; or a
   * premade one), else makes one. Returns `null` past `maxNodes`.
   */
  chain(parent: TraceNode | null, source: unknown, options: ChainOptions | undefined, own: TraceNode | null): TraceNode | null {
    const time = performance.now();
    if (parent !== null && parent.recorder !== this) parent = null;
    let node = own ?? premadeNode(source) ?? null;
    if (node !== null && (node.recorder !== this || node.parent !== null || node === parent)) node = null;
    if (node === null) {
      const { kind, label } = describeSource(source);
      node = this.node(kind, label, time);
      if (node === null) return null;
      if (parent !== null && parent.mirror) {
        // Chained by a sequence that mirrors a remote one: its producer ran there.
        node.contextOf = parent;
        node.mirror = true;
      }
    } else {
      node.chained = time;
      node.order = this.nodes.length + 1;
    }
    node.parent = parent;
    const label = options?.label ?? labelOf(source);
    if (label !== undefined) node.name(label);
    else if (options !== undefined && (options as { [PLUMBING]?: boolean })[PLUMBING] === true) node.transparent = true;
    return node;
  }

  /**
   * A chained promise resolved and its value is opened: the promise's node
   * becomes the value's node (a value with a node of its own, such as a remote
   * stream, takes the promise's place and label instead).
   */
  opened(node: TraceNode, value: unknown, own: TraceNode | null): TraceNode {
    if (node.kind !== 'promise' || node.alias !== null) return node;
    const inner = own ?? premadeNode(value) ?? null;
    if (inner !== null && inner !== node && inner.recorder === this && inner.parent === null) {
      inner.parent = node.parent;
      inner.order = node.order;
      inner.chained = node.chained;
      if (node.named) inner.name(node.label);
      node.alias = inner;
      node.transparent = true;
      return inner;
    }
    const { kind, label } = describeSource(value);
    node.kind = kind;
    const given = labelOf(value);
    if (given !== undefined) node.name(given);
    else if (!node.named) node.label = label;
    return node;
  }
}
