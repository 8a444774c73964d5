/**
 * The conductor: a `{ readable, writable }` pair that pipes like a
 * `TransformStream`, except that its callbacks chain whole streams onto the
 * output instead of enqueuing single chunks.
 *
 * Unlike the reference implementation (`ReadableStream.from(sequence)` and
 * fire-and-forget callbacks), errors and cancellation cross both sides: a
 * failing `transform`/`finish`/`start` or an aborting source errors the
 * readable, and cancelling the readable errors the writable (so the piping
 * source stops) and closes every chained stream.
 *
 * @module
 */
import { linkTrace, markPlumbing } from './relay.ts';
import { asyncIterableSequencer, type AnyIterable, type Chain } from './sequencer.ts';
import { isReadableStream, isThenable } from './sources.ts';

/**
 * The callbacks of a {@link ConductorStream}. Each gets `chain`, which appends
 * a whole iterable (array, generator, `ReadableStream`, nested sequence, or a
 * promise of one) to the ordered output; `chain(null)` ends the output.
 *
 * @example
 * ```ts
 * const options: ConductorStreamOptions<string, string> = {
 *   start: (chain) => chain(['<ul>']),
 *   transform: async (id, chain) => chain(await fetchItemStream(id)),
 *   finish: (chain) => chain(['</ul>']),
 * };
 * ```
 */
export interface ConductorStreamOptions<I, O> {
  /**
   * Runs once, at construction. Writes wait until its promise settles; a throw
   * or rejection errors both sides.
   */
  start?(chain: Chain<O>): void | PromiseLike<void>;
  /**
   * Runs for each written chunk, one at a time. Its promise is awaited before
   * the next chunk is taken; a throw or rejection errors the readable with
   * that error and closes every chained stream.
   */
  transform(chunk: I, chain: Chain<O>): void | PromiseLike<void>;
  /**
   * Runs when the writable closes. The output is ended (`chain(null)`) after
   * it settles, if it did not end it itself. Left out, the output simply ends.
   */
  finish?(chain: Chain<O>): void | PromiseLike<void>;
  /**
   * Names the conductor in traces and plan paths (see `startTrace`). Default:
   * the subclass's name, else `ConductorStream`.
   */
  label?: string;
}

/**
 * Read-ahead of the output, in chunks. Small on purpose: the chained streams
 * hold the real buffers, and a larger queue here would only delay backpressure
 * reaching the writer.
 */
const READABLE_HIGH_WATER_MARK = 1;

/** Lifecycle of a conductor; transitions only move forward, so `>=` compares stages. */
const State = {
  /** Taking input and producing output. */
  Open: 0,
  /** The writable closed; the output drains what was chained. */
  InputClosed: 1,
  /** The output was read to its end. */
  Done: 2,
  /** Failed or cancelled: both sides are errored or closed. */
  Stopped: 3,
} as const;
type State = (typeof State)[keyof typeof State];

/** Thrown into the writable when `chain(null)` ended the output before the input closed. */
function outputEndedError(): TypeError {
  return new TypeError('ConductorStream: the output ended (chain(null)) before the input closed');
}

/** A promise with its settle functions (no `Promise.withResolvers` on Node 20). */
interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  const d = {} as Deferred;
  d.promise = new Promise<void>((resolve, reject) => {
    d.resolve = resolve;
    d.reject = reject;
  });
  return d;
}

/** The shared state of one conductor's two sides. */
class Conduction<I, O> {
  /** See {@link State}. */
  state: State = State.Open;
  /** The output side's controller, set synchronously by its constructor. */
  readableController!: ReadableStreamDefaultController<O>;
  /** The input side's controller, set synchronously by its constructor. */
  writableController!: WritableStreamDefaultController;
  /** A write waiting for the output to want more (TransformStream's backpressure flag). */
  demand: Deferred | null = null;
  /** Why the conductor stopped, for writes that arrive afterwards. */
  reason: unknown = undefined;
  readonly sequence: AsyncGenerator<O, void, undefined>;
  readonly chain: Chain<O>;

  constructor(private readonly options: ConductorStreamOptions<I, O>) {
    const { sequence, chain } = asyncIterableSequencer<O>();
    this.sequence = sequence;
    this.chain = (source, options) => {
      // Ending the output while input may still come is TransformStream's terminate(): stop the source now.
      if (source === null && this.state === State.Open) this.terminate();
      chain(source, options);
    };
  }

  /** `chain(null)` from `start` or `transform`: the output drains, the input is refused. */
  private terminate(): void {
    this.state = State.Done;
    this.stopInput(outputEndedError());
  }

  /** Runs `start`; errors from it, sync or async, error both sides. */
  readonly start = (controller: WritableStreamDefaultController): Promise<void> | void => {
    this.writableController = controller;
    if (this.options.start === undefined) return;
    try {
      const result = this.options.start(this.chain);
      if (isThenable(result)) return Promise.resolve(result).then(undefined, this.failAndRethrow);
    } catch (error) {
      // Returning a rejection (not throwing) keeps the constructor from throwing: both sides error instead.
      this.fail(error);
      return Promise.reject(error);
    }
  };

  /** One write: waits for demand from the output (backpressure), then runs `transform`. */
  readonly write = (chunk: I): Promise<void> | void => {
    if (this.state >= State.Done) return Promise.reject(this.state === State.Done ? outputEndedError() : this.reason);
    if ((this.readableController.desiredSize ?? 0) > 0) return this.transform(chunk);
    this.demand ??= deferred();
    return this.demand.promise.then(() => this.transform(chunk));
  };

  private transform(chunk: I): Promise<void> | void {
    try {
      const result = this.options.transform(chunk, this.chain);
      // Only an async transform pays for a promise hop.
      if (isThenable(result)) return Promise.resolve(result).then(undefined, this.failAndRethrow);
    } catch (error) {
      this.fail(error);
      throw error;
    }
  }

  /** The writable closed: `finish`, then end the output (twice is harmless). */
  readonly close = (): Promise<void> | void => {
    if (this.state === State.Open) this.state = State.InputClosed;
    const finish = this.options.finish;
    if (finish === undefined) return this.chain(null);
    try {
      const result = finish(this.chain);
      if (isThenable(result)) {
        return Promise.resolve(result).then(() => this.chain(null), this.failAndRethrow);
      }
    } catch (error) {
      this.fail(error);
      throw error;
    }
    this.chain(null);
  };

  /** The source aborted the pipe: the output errors with its reason. */
  readonly abort = (reason: unknown): void => {
    this.fail(reason);
  };

  /** The output wants more: release a waiting write, then read the next value. */
  readonly pull = (): Promise<void> => {
    const demand = this.demand;
    if (demand !== null) {
      this.demand = null;
      demand.resolve();
    }
    return this.sequence.next().then(this.onResult, this.onSequenceError);
  };

  private readonly onResult = (result: IteratorResult<O, void>): void => {
    if (this.state === State.Stopped) return;
    if (result.done !== true) {
      this.readableController.enqueue(result.value);
      return;
    }
    this.state = State.Done;
    this.readableController.close();
  };

  /** A chained stream failed: the sequence closed the rest; error both sides. */
  private readonly onSequenceError = (error: unknown): void => {
    this.fail(error);
  };

  /** The consumer cancelled the output: stop the source and close every chained stream. */
  readonly cancel = (reason: unknown): void => {
    if (this.state === State.Stopped) return;
    this.state = State.Stopped;
    this.reason = reason;
    this.stopInput(reason);
    void this.sequence.return();
  };

  /** Errors both sides with `error` and closes every chained stream. Idempotent. */
  fail(error: unknown): void {
    if (this.state === State.Stopped) return;
    this.state = State.Stopped;
    this.reason = error;
    try {
      this.readableController.error(error);
    } catch {
      // Already closed: nothing left to tell the reader.
    }
    this.stopInput(error);
    void this.sequence.return();
  }

  private readonly failAndRethrow = (error: unknown): never => {
    this.fail(error);
    throw error;
  };

  /** Errors the writable (a no-op once it is closed) and any write parked on demand. */
  private stopInput(reason: unknown): void {
    this.writableController.error(reason);
    const demand = this.demand;
    if (demand !== null) {
      this.demand = null;
      demand.reject(reason);
    }
  }
}

/**
 * A transform stream whose callbacks chain whole streams onto the output:
 * ChainExplode's conductor. Pipe into it like a `TransformStream`
 * (`source.pipeThrough(conductor)`); each callback gets `chain`, and the
 * readable yields every chained stream's values in chain order, while each
 * stream produces on its own (in parallel when it is eager).
 *
 * - `transform` and `finish` may be async; they are awaited, and a write waits
 *   until the readable wants more, so a slow reader slows the writer.
 * - `finish` left out ends the output when the writable closes.
 * - `transform`, `finish` or `start` throwing, or the source aborting, errors
 *   the readable with that error (and closes every chained stream); `start`
 *   errors error the writable too.
 * - Cancelling the readable errors the writable with the cancel reason (a
 *   piping source is cancelled) and closes every chained stream, so their
 *   `finally` blocks run.
 * - `chain(null)` from `start` or `transform` ends the output early; later
 *   writes then fail with a `TypeError`, like a terminated `TransformStream`.
 *
 * @example
 * ```ts
 * const expand = new ConductorStream<string, string>({
 *   transform(topic, chain) {
 *     chain([`# ${topic}\n`]);
 *     chain(writeSection(topic)); // an async iterable, produced while later topics are read
 *   },
 *   finish(chain) {
 *     chain(['The end.\n']);
 *   },
 * });
 * for await (const text of topics.pipeThrough(expand)) process.stdout.write(text);
 * ```
 */
export class ConductorStream<I, O> {
  /** The ordered output: every chained stream's values, in chain order. */
  readonly readable: ReadableStream<O>;
  /** The input: each chunk written is handed to `transform`. */
  readonly writable: WritableStream<I>;

  constructor(options: ConductorStreamOptions<I, O>) {
    if (typeof options?.transform !== 'function') {
      throw new TypeError(`ConductorStream: options.transform must be a function, got ${typeof options?.transform}`);
    }
    const c = new Conduction<I, O>(options);
    const readable = new ReadableStream<O>(
      {
        start: (controller) => {
          c.readableController = controller;
        },
        pull: c.pull,
        cancel: c.cancel,
      },
      { highWaterMark: READABLE_HIGH_WATER_MARK },
    );
    this.readable = readable;
    // Traced, the conductor is the node of its output sequence; chaining the readable adopts it.
    const node = linkTrace(readable, c.sequence);
    if (node !== null) {
      node.kind = 'conductor';
      if (options.label !== undefined) node.name(options.label);
      else if (new.target !== ConductorStream) node.name(new.target.name);
      else node.label = 'ConductorStream';
    }
    this.writable = new WritableStream<I>({ start: c.start, write: c.write, close: c.close, abort: c.abort });
  }
}

/**
 * The upstream project's later name for {@link ConductorStream}: the same
 * class, so code written for either name works.
 *
 * @example
 * ```ts
 * const delegate = new DelegateStream<string, string>({
 *   transform(chunk, chain) {
 *     chain([chunk.toUpperCase()]);
 *   },
 * });
 * ```
 */
export const DelegateStream = ConductorStream;
/**
 * The instance type of {@link DelegateStream}: a {@link ConductorStream}.
 *
 * @example
 * ```ts
 * const stage: DelegateStream<string, string> = new ConductorStream({ transform: (s, chain) => chain([s]) });
 * ```
 */
export type DelegateStream<I, O> = ConductorStream<I, O>;
/**
 * The upstream project's later name for {@link ConductorStreamOptions}.
 *
 * @example
 * ```ts
 * const options: DelegateStreamOptions<number, number> = { transform: (n, chain) => chain([n, n]) };
 * ```
 */
export type DelegateStreamOptions<I, O> = ConductorStreamOptions<I, O>;

/**
 * Turns any iterable the sequencer reads (array, sync or async iterable, or a
 * promise of one) into a pull-based `ReadableStream`, so it can be piped into
 * a conductor; a `ReadableStream` is returned as is. Nothing is read ahead
 * (high-water mark 0). Unlike `ReadableStream.from` on older runtimes,
 * cancelling the stream closes the source (`return()`, so its `finally`
 * blocks run), even before the first read; an error from the source errors
 * the stream.
 *
 * @example
 * ```ts
 * const output = toReadableStream(topics()).pipeThrough(new ConductorStream({ transform }));
 * ```
 */
export function toReadableStream<T>(source: AnyIterable<T> | PromiseLike<AnyIterable<T>>): ReadableStream<T> {
  if (isReadableStream(source)) return source as ReadableStream<T>;
  const { sequence, chain } = asyncIterableSequencer<T>();
  markPlumbing(sequence);
  chain(source);
  chain(null);
  const stream = new ReadableStream<T>(
    {
      pull: (controller) =>
        sequence.next().then((result) => (result.done === true ? controller.close() : controller.enqueue(result.value))),
      cancel: () => sequence.return().then(() => undefined),
    },
    { highWaterMark: 0 },
  );
  const node = linkTrace(stream, sequence);
  if (node !== null) node.label = 'toReadableStream';
  return stream;
}
