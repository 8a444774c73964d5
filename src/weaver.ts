/**
 * The weaver toolkit: small helpers that compose sequencers and conductors
 * into ChainExplode pipelines. Recursive explode (work that discovers work,
 * produced in parallel, read in order) and `merge` for independent open
 * chains. Fallbacks for slow and failed work live in `fallback.ts`. A weaver's
 * output is a stream, so weaving weavers is chaining one's output into another.
 *
 * @module
 */
import { ConductorStream } from './conductor.ts';
import { attachTrace, markPlumbing, traceNodeOf } from './relay.ts';
import { asyncIterableSequencer, type AnyIterable } from './sequencer.ts';
import { isThenable, openReader, type ChainOptions, type Reader } from './sources.ts';
import { HIDDEN } from './trace-core.ts';

/**
 * An iterable, or a promise of one (awaited when the output reaches it).
 *
 * @example
 * ```ts
 * const later: Content<string> = fetch(url).then((response) => response.body!.pipeThrough(new TextDecoderStream()));
 * ```
 */
export type Content<T> = AnyIterable<T> | PromiseLike<AnyIterable<T>>;

/** @internal The result of an ended iterator. */
export const DONE: IteratorResult<never, void> = Object.freeze({ value: undefined, done: true });

/** @internal An empty iterable that calls `callback` only if it is closed before being reached (cancel, error). */
export function onClose(callback: () => void): Iterable<never> {
  const iterator: Iterator<never, void> = {
    next: () => DONE,
    return: () => {
      callback();
      return DONE;
    },
  };
  return { [Symbol.iterator]: () => iterator };
}

/** @internal An iterable that throws `error` where it is chained, so the error surfaces in order. */
export function failing(error: unknown): Iterable<never> {
  return {
    [Symbol.iterator]: () => ({
      next: () => {
        throw error;
      },
    }),
  };
}

/** @internal The next result as a promise; like `for await`, a promise among the values is awaited. */
export function nextResult<T>(reader: Reader<T>): Promise<IteratorResult<T>> {
  try {
    const result = reader.next();
    if (isThenable(result)) return Promise.resolve(result);
    if (result.done !== true && isThenable(result.value)) {
      return Promise.resolve(result.value).then((value) => ({ value: value as T, done: false }));
    }
    return Promise.resolve(result);
  } catch (error) {
    return Promise.reject(error);
  }
}

// ---------------------------------------------------------------------------------------------
// Recursive explode

/**
 * What an {@link Expand} callback gets for one node.
 *
 * @example
 * ```ts
 * const expand: Expand<Dir, string> = async (dir, { chain, explode, signal }) => {
 *   for await (const entry of opendirLike(dir, { signal })) {
 *     chain([entry.path]);
 *     if (entry.isDirectory) explode(entry); // its listing comes right after its name
 *   }
 * };
 * ```
 */
export interface ExplodeContext<N, O> {
  /** Appends content to this node's place in the output; `options.label` names it in traces. */
  chain(content: Content<O>, options?: ChainOptions): void;
  /** Expands `child` right here: its whole output, children included, takes this place. Starts at once. */
  explode(child: N): void;
  /** Aborted when this node's output is cancelled or fails before it was read: stop working. */
  readonly signal: AbortSignal;
  /**
   * While a trace runs (see `startTrace`), shows `input` under this node in
   * the plan tree: a stream this node reads itself instead of chaining it (a
   * remote token stream it parses, say). Only a stream with a node of its own
   * shows (one that came over the bridge, a sequence, a conductor's readable);
   * `options.label` names it. Does nothing when no trace runs.
   */
  traceInput(input: object, options?: ChainOptions): void;
}

/**
 * Expands one node: chains its content and explodes the children it discovers.
 * It runs as soon as the node is discovered, so slow work done here (or in eager
 * streams chained from here) overlaps with every other node's. The node's output
 * ends when it returns or its promise resolves; a throw or rejection becomes an
 * error at this node's place in the output.
 *
 * @example
 * ```ts
 * const expand: Expand<Section, string> = async (section, { chain, explode }) => {
 *   chain([await draft(section)]);
 *   section.subsections.forEach(explode);
 * };
 * ```
 */
export type Expand<N, O> = (node: N, context: ExplodeContext<N, O>) => void | PromiseLike<void>;

/**
 * Options of {@link explode} and {@link explodeStream}.
 *
 * @example
 * ```ts
 * const options: ExplodeOptions<Section> = { label: (section) => `section "${section.title}"` };
 * ```
 */
export interface ExplodeOptions<N> {
  /**
   * Names each node's output in traces and plan paths (see `startTrace`);
   * called only while a trace runs. Default: the name of `expand`, if it has one.
   */
  label?: (node: N) => string;
}

/**
 * Expansions waiting to run while one is running. A sync `expand` that explodes
 * children would otherwise recurse once per level; queued, any depth runs on a
 * flat stack. Output order does not depend on it: places are taken at `explode()`.
 */
let queued: (() => void)[] | null = null;

function runExpansion(run: () => void): void {
  if (queued !== null) {
    queued.push(run);
    return;
  }
  queued = [run];
  try {
    for (let i = 0; i < queued.length; i++) queued[i]!();
  } finally {
    queued = null;
  }
}

/** Traced, a node's output is one node named by `options.label` or the expand function; the inner relay is plumbing. */
function nameExpansion<N, O>(outer: object, inner: object, node: N, expand: Expand<N, O>, options: ExplodeOptions<N> | undefined): void {
  const traced = traceNodeOf(outer);
  if (traced === null) return;
  markPlumbing(inner);
  let label: string | undefined;
  try {
    label = options?.label?.(node);
  } catch {
    // A label is an aid: a failing label function must not fail the work.
  }
  label ??= expand.name === '' ? undefined : expand.name;
  if (label !== undefined) traced.name(label);
  else traced.label = 'explode';
}

function expandNode<N, O>(node: N, expand: Expand<N, O>, options?: ExplodeOptions<N>): AsyncGenerator<O, void, undefined> {
  const outer = asyncIterableSequencer<O>();
  const inner = asyncIterableSequencer<O>();
  nameExpansion(outer.sequence, inner.sequence, node, expand, options);
  const controller = new AbortController();
  // The sentinel after the content is closed (not reached) only when the output is abandoned.
  outer.chain(inner.sequence, HIDDEN);
  outer.chain(onClose(() => controller.abort()), HIDDEN);
  outer.chain(null);
  const context: ExplodeContext<N, O> = {
    chain(content, chainOptions) {
      if (content === null) throw new TypeError('explode: a node ends when its expand returns; chain(null) is not allowed');
      inner.chain(content, chainOptions);
    },
    explode(child) {
      if (!controller.signal.aborted) inner.chain(expandNode(child, expand, options));
    },
    signal: controller.signal,
    traceInput(input, inputOptions) {
      const node = traceNodeOf(input);
      if (node === null) return;
      if (inputOptions?.label !== undefined) node.name(inputOptions.label);
      node.input = true;
      attachTrace(input, outer.sequence);
    },
  };
  const end = () => inner.chain(null);
  const fail = (error: unknown) => {
    inner.chain(failing(error), HIDDEN);
    inner.chain(null);
  };
  runExpansion(() => {
    try {
      const result = expand(node, context);
      if (isThenable(result)) Promise.resolve(result).then(end, fail);
      else end();
    } catch (error) {
      fail(error);
    }
  });
  return outer.sequence;
}

/**
 * Recursive explode: expands `root` with `expand`, which chains content and
 * explodes child nodes, which explode theirs, to any depth. Every node is
 * expanded as soon as it is discovered (parallel production); the output is
 * in discovery order (each child's output sits where it was exploded), whatever
 * order the work finishes in. Nested outputs are spliced, so depth costs nothing
 * per item. Cancelling the output aborts every unfinished node's `signal` and
 * closes its chained streams; an error in one node ends the output at its place.
 *
 * @example
 * ```ts
 * interface Section { title: string; children: Section[] }
 * const text = explode<Section, string>(outline, async (section, { chain, explode }) => {
 *   chain([`# ${section.title}\n`, await write(section)]); // slow: runs in parallel with the rest
 *   for (const child of section.children) explode(child);
 * });
 * for await (const piece of text) process.stdout.write(piece);
 * ```
 */
export function explode<N, O>(root: N, expand: Expand<N, O>, options?: ExplodeOptions<N>): AsyncGenerator<O, void, undefined> {
  return expandNode(root, expand, options);
}

/**
 * A conductor that explodes every node written to it in place, with
 * {@link explode}'s semantics: a ChainExplode stage to pipe a stream of seeds through.
 *
 * @example
 * ```ts
 * const pages = toReadableStream(['intro', 'usage']).pipeThrough(
 *   explodeStream<string, string>(async (topic, { chain }) => chain([await draft(topic)])),
 * );
 * ```
 */
export function explodeStream<N, O>(expand: Expand<N, O>, options?: ExplodeOptions<N>): ConductorStream<N, O> {
  return new ConductorStream<N, O>({
    transform(node, chain) {
      chain(expandNode(node, expand, options));
    },
  });
}

// ---------------------------------------------------------------------------------------------
// merge

/** A consumer's `next()` waiting for a value. */
interface Waiter<T> {
  resolve(result: IteratorResult<T, void>): void;
  reject(error: unknown): void;
}

/** One source of a {@link Merge}. */
interface Lane<T> {
  /** `null` once the source ended or was closed. */
  reader: Reader<T> | null;
  /** A read is in flight, or its value waits in `arrived`: at most one value ahead per source. */
  busy: boolean;
}

/** Reads several sources at once; see {@link merge}. */
class Merge<T> implements AsyncGenerator<T, void, undefined> {
  private readonly lanes: Lane<T>[];
  /** Values that arrived while nobody waited, in arrival order. */
  private readonly arrived: { lane: Lane<T>; value: T }[] = [];
  private readonly waiting: Waiter<T>[] = [];
  /** Sources not yet ended. */
  private open: number;
  /** A source's error, delivered after the values that arrived before it. */
  private failure: { error: unknown } | null = null;

  constructor(sources: AnyIterable<T>[]) {
    this.lanes = sources.map((source) => ({ reader: openReader(source), busy: false }));
    this.open = sources.length;
  }

  next(): Promise<IteratorResult<T, void>> {
    const first = this.arrived.shift();
    if (first !== undefined) {
      first.lane.busy = false;
      this.pump();
      return Promise.resolve({ value: first.value, done: false });
    }
    if (this.failure !== null) {
      const { error } = this.failure;
      this.failure = null;
      return Promise.reject(error);
    }
    if (this.open === 0) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.pump();
    });
  }

  /** Starts a read on every open source that is not busy. */
  private pump(): void {
    for (const lane of this.lanes) {
      if (lane.reader === null || lane.busy) continue;
      lane.busy = true;
      nextResult(lane.reader).then(
        (result) => this.onResult(lane, result),
        (error) => this.onError(lane, error),
      );
    }
  }

  private onResult(lane: Lane<T>, result: IteratorResult<T>): void {
    if (lane.reader === null) return; // closed meanwhile
    if (result.done === true) {
      lane.reader = null;
      if (--this.open === 0 && this.arrived.length === 0) this.settleWaiting();
      return;
    }
    const waiter = this.waiting.shift();
    if (waiter === undefined) return void this.arrived.push({ lane, value: result.value });
    lane.busy = false;
    waiter.resolve({ value: result.value, done: false });
    if (this.waiting.length > 0) this.pump();
  }

  /** One source failed: the others are closed, the error follows the values that arrived first. */
  private onError(lane: Lane<T>, error: unknown): void {
    if (lane.reader === null) return;
    lane.reader = null;
    this.closeAll();
    const waiter = this.waiting.shift();
    if (waiter === undefined) this.failure = { error };
    else waiter.reject(error);
    this.settleWaiting();
  }

  private closeAll(reason?: unknown): void {
    for (const lane of this.lanes) {
      lane.reader?.close(reason);
      lane.reader = null;
    }
    this.open = 0;
  }

  private settleWaiting(): void {
    for (const waiter of this.waiting.splice(0)) waiter.resolve(DONE);
  }

  return(): Promise<IteratorResult<T, void>> {
    this.closeAll();
    this.arrived.length = 0;
    this.failure = null;
    this.settleWaiting();
    return Promise.resolve(DONE);
  }

  throw(error: unknown): Promise<IteratorResult<T, void>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * Reads several open sources at once and yields their values in arrival
 * order: for independent concerns (an interaction chain, a fallback chain, a
 * message chain) that each keep their own order. Each source is read at most
 * one value ahead. `return()` (or `break`) closes every source; an error from
 * one closes the others and reaches the consumer after the values that arrived
 * before it. Ends when every source has ended.
 *
 * @example
 * ```ts
 * for await (const event of merge(clicks, serverMessages, lateFragments)) handle(event);
 * ```
 */
export function merge<T>(...sources: AnyIterable<T>[]): AsyncGenerator<T, void, undefined> {
  return new Merge(sources);
}
