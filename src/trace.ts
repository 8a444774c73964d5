/**
 * Plan introspection (issue 9): opt-in tracing of chained iterables,
 * sequences and conductors, across contexts, with errors that say where in
 * the plan they happened, exported as JSON or as a self-contained HTML
 * timeline (`traceToHtml`, in `trace-html.ts`).
 *
 * Tracing is off by default and then costs one null check per `chain()` and
 * per source opened, nothing per item (bench/core.ts). While a trace runs,
 * every chained source is read through a timing wrapper (about 0.1-0.3 us
 * per item; see the README) and the bridge asks the peer for its side of
 * every stream of a call made meanwhile.
 *
 * @module
 */
import { traceNodeOf } from './relay.ts';
import { activeRecorder, Recorder, setActiveRecorder, setLabel, type NodeKind, type Outcome } from './trace-core.ts';
import { exportTrace } from './trace-export.ts';

export type { NodeKind, Outcome } from './trace-core.ts';
export { traceToHtml, type TraceHtmlOptions } from './trace-html.ts';

/**
 * Options of {@link startTrace}.
 *
 * @example
 * ```ts
 * const tracer = startTrace({ context: 'server', maxNodes: 10_000 });
 * ```
 */
export interface TraceOptions {
  /** This context's name in the trace. Default: `worker <threadId>` in a worker thread, else `main`. */
  context?: string;
  /** Most nodes recorded; later chains are counted in `droppedNodes` and not traced. Default 100,000. */
  maxNodes?: number;
  /** Waits of the reader shorter than this (ms) are only added to `waitMs`, not listed. Default 0.5. */
  minWaitMs?: number;
}

/**
 * Default {@link TraceOptions}.
 *
 * @example
 * ```ts
 * const tracer = startTrace({ maxNodes: DEFAULT_TRACE_OPTIONS.maxNodes * 10 });
 * ```
 */
export const DEFAULT_TRACE_OPTIONS: Readonly<Required<Omit<TraceOptions, 'context'>>> = Object.freeze({
  maxNodes: 100_000,
  minWaitMs: 0.5,
});

/**
 * How a node ended; `open` when it had not ended when the trace was exported.
 *
 * @example
 * ```ts
 * const outcome: TraceOutcome = 'error';
 * const failed = tracer.stop().nodes.filter((node) => node.outcome === outcome);
 * ```
 */
export type TraceOutcome = Outcome | 'open';

/**
 * One node of the plan tree, as exported. Times are ms since the trace
 * started (`Trace.startedAt`), on this context's clock; `null` when it did
 * not happen. A stream that crossed the bridge has its producer's times in
 * `remote`, mapped onto this clock.
 *
 * @example
 * ```ts
 * const slowest: TraceNodeJSON | undefined = [...tracer.stop().nodes].sort((a, b) => b.waitMs - a.waitMs)[0];
 * console.log(slowest?.label, slowest?.waitMs);
 * ```
 */
export interface TraceNodeJSON {
  /** Unique within the trace. */
  id: number;
  /** The node that chained it (a sequence or conductor), `null` for a root. */
  parent: number | null;
  /** Depth in the plan tree (roots 0). Nodes are listed parents first, children in chain order. */
  depth: number;
  /** Given at `chain()` (or by `traceLabel`, a conductor's `label`, a remote handler's name), else a default from the kind or class. */
  label: string;
  /** The label was given: it appears in plan paths. */
  named: boolean;
  kind: NodeKind;
  /** Where it was produced: this context, or the peer's name (`worker 3`) for a remote stream. */
  context: string;
  /** Chained (a root: created; a remote stream: when its producer opened it, if that came first). */
  chained: number | null;
  /** First item produced: the producer's time for a remote stream; for a local source, when its reader got it. A sequence or conductor takes the earliest of its children. */
  firstProduced: number | null;
  lastProduced: number | null;
  /** First item read by the consumer. */
  firstConsumed: number | null;
  /** Read to its end, failed or cancelled. */
  done: number | null;
  /** Items read through it (a sequence: the sum of its children). */
  items: number;
  /** Estimated bytes, where known (streams that crossed the bridge); `null` otherwise. */
  bytes: number | null;
  outcome: TraceOutcome;
  /** Total time the consumer waited on it (a sequence: the sum of its children). */
  waitMs: number;
  /** The consumer's waits on this node of at least `minWaitMs`, as [start, end] (capped at 256). */
  waits: Array<[number, number]>;
  /** `name: message` of the error it failed with (before the plan path was added). */
  error?: string;
  /** Read by its parent's own code rather than chained (`ExplodeContext.traceInput`): not counted in the parent's items. */
  input?: true;
  /** An error boundary recovered from `error` here: the output went on with fallback content. */
  recovered?: true;
  /** The producer's side of a stream that crossed the bridge. */
  remote?: {
    opened: number | null;
    firstProduced: number | null;
    lastProduced: number | null;
    done: number | null;
    /** Items the producer sent (more than were read, when cancelled). */
    items: number;
    bytes: number;
    outcome: TraceOutcome;
  };
}

/**
 * How a peer's clock was mapped onto this one.
 *
 * @example
 * ```ts
 * for (const clock of tracer.stop().clocks) console.log(clock.context, clock.offsetMs, `±${clock.precisionMs} ms`);
 * ```
 */
export interface TraceClockJSON {
  /** The peer's context name. */
  context: string;
  /** Peer clock minus this clock (ms), from the handshake round trip with the shortest time; `null` if unknown (then taken as 0). */
  offsetMs: number | null;
  /** That round trip (ms). */
  rttMs: number | null;
  /** Bound on the mapping error (ms): half the round trip. */
  precisionMs: number | null;
}

/**
 * A trace, as `tracer.toJSON()` / `tracer.stop()` return it: plain data, to
 * `JSON.stringify` or to render with {@link traceToHtml}.
 *
 * @example
 * ```ts
 * const trace: Trace = tracer.stop();
 * await writeFile('trace.json', JSON.stringify(trace));
 * ```
 */
export interface Trace {
  format: 'stream-weaver-trace';
  version: 1;
  /** This context's name. */
  context: string;
  /** Epoch ms (performance.timeOrigin based) of time 0. */
  startedAt: number;
  /** From the start to `stop()` (or to now, while running). */
  durationMs: number;
  /** One entry per peer whose streams appear in the trace. */
  clocks: TraceClockJSON[];
  /** Chains past `maxNodes`, not traced. */
  droppedNodes: number;
  nodes: TraceNodeJSON[];
}

/**
 * Returns the default name of this context: `worker <threadId>` in a Node worker thread, `worker` in a web worker, else `main`.
 *
 * @example
 * ```ts
 * const tracer = startTrace({ context: `${defaultContextName()} (renderer)` });
 * ```
 */
export function defaultContextName(): string {
  const g = globalThis as { process?: { getBuiltinModule?: (id: string) => unknown }; importScripts?: unknown };
  const threads = g.process?.getBuiltinModule?.('node:worker_threads') as { isMainThread: boolean; threadId: number } | undefined;
  if (threads !== undefined && !threads.isMainThread) return `worker ${threads.threadId}`;
  if (typeof g.importScripts === 'function') return 'worker';
  return 'main';
}

/**
 * A running (or stopped) trace. While it runs, every chained iterable,
 * sequence and conductor in this context becomes a node of the plan tree,
 * and every stream of a bridge call made meanwhile brings its producer's side.
 *
 * @example
 * ```ts
 * const tracer: Tracer = startTrace();
 * for await (const piece of renderDocument()) process.stdout.write(piece);
 * console.log(JSON.stringify(tracer.stop()));
 * ```
 */
export class Tracer {
  private stoppedAt = NaN;

  /** @internal Use {@link startTrace}. */
  constructor(private readonly recorder: Recorder) {}

  /** True until `stop()`. */
  get active(): boolean {
    return activeRecorder === this.recorder;
  }

  /**
   * Stops recording new nodes and returns the trace. Streams still running
   * (and remote records still arriving) keep updating their nodes: a later
   * `toJSON()` includes that. Idempotent.
   */
  stop(): Trace {
    if (activeRecorder === this.recorder) setActiveRecorder(null);
    if (Number.isNaN(this.stoppedAt)) this.stoppedAt = performance.now();
    return this.toJSON();
  }

  /** The trace so far (see {@link Trace}); `JSON.stringify(tracer)` calls it. */
  toJSON(): Trace {
    return exportTrace(this.recorder, Number.isNaN(this.stoppedAt) ? performance.now() : this.stoppedAt);
  }
}

/**
 * Starts tracing this context: until `stop()`, chained iterables, sequences
 * and conductors are recorded as a plan tree with their timings, remote
 * streams bring their producer's timings (mapped onto this clock), and an
 * error thrown inside a chained source gets its plan path (`error.planPath`
 * and a message tail such as ` (plan: document > section "history" > agent "1890s")`).
 * Plan paths need a running trace: with tracing off, errors pass untouched.
 * Throws a `TypeError` if a trace is already running in this context.
 *
 * @example
 * ```ts
 * const tracer = startTrace();
 * for await (const piece of renderDocument()) process.stdout.write(piece);
 * await writeFile('trace.html', traceToHtml(tracer.stop()));
 * ```
 */
export function startTrace(options: TraceOptions = {}): Tracer {
  if (activeRecorder !== null) throw new TypeError('startTrace: a trace is already running in this context; stop it first');
  const maxNodes = options.maxNodes ?? DEFAULT_TRACE_OPTIONS.maxNodes;
  const minWaitMs = options.minWaitMs ?? DEFAULT_TRACE_OPTIONS.minWaitMs;
  if (!(Number.isInteger(maxNodes) && maxNodes >= 0)) throw new RangeError(`startTrace: maxNodes must be a whole number >= 0, got ${maxNodes}`);
  if (!(minWaitMs >= 0)) throw new RangeError(`startTrace: minWaitMs must be >= 0, got ${minWaitMs}`);
  const recorder = new Recorder({ context: options.context ?? defaultContextName(), maxNodes, minWaitMs });
  setActiveRecorder(recorder);
  return new Tracer(recorder);
}

/**
 * Names an iterable (a generator, a stream, a sequence, a conductor's
 * readable) for traces and plan paths, like `chain(x, { label })`; useful
 * where the iterable is not chained by you (a handler's return value crosses
 * the bridge with its label). Returns it.
 *
 * @example
 * ```ts
 * return traceLabel(writeAgent(topic), `agent "${topic}"`);
 * ```
 */
export function traceLabel<T extends object>(iterable: T, label: string): T {
  if (typeof label !== 'string') throw new TypeError(`traceLabel: label must be a string, got ${typeof label}`);
  setLabel(iterable, label);
  traceNodeOf(iterable)?.name(label);
  return iterable;
}

/**
 * The plan path put on an error by a running trace (labels from the root to
 * where it was thrown), or `undefined`.
 *
 * @example
 * ```ts
 * catch (error) { console.error(planPathOf(error)?.join(' > ')); }
 * ```
 */
export function planPathOf(error: unknown): string[] | undefined {
  if ((typeof error !== 'object' && typeof error !== 'function') || error === null) return undefined;
  const path = (error as { planPath?: unknown }).planPath;
  return Array.isArray(path) ? (path as string[]) : undefined;
}
