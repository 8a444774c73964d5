/**
 * The timing reader of plan tracing: while a trace runs, the cursor reads a
 * traced source through it, so that its items, first and last reads, the
 * reader's waits and how it ended land on its node. Untraced sources never
 * see it.
 *
 * @module
 */
import type { Reader } from './sources.ts';
import type { TraceNode } from './trace-core.ts';

/**
 * A reader whose reads are timed onto a node: items, first and last, the
 * reader's waits, and how it ended. Never a native generator, so the
 * cursor's hand-through fast path is off for traced sources.
 */
class TracedReader<T> implements Reader<T> {
  readonly sync: boolean;
  readonly generator = null;

  constructor(
    private readonly inner: Reader<T>,
    private readonly node: TraceNode,
  ) {
    this.sync = inner.sync === true;
  }

  next(): IteratorResult<T> | Promise<IteratorResult<T>> {
    const node = this.node;
    const start = performance.now();
    let result: IteratorResult<T> | Promise<IteratorResult<T>>;
    try {
      result = this.inner.next();
    } catch (error) {
      node.fail(error);
      throw error;
    }
    if (!(result instanceof Promise)) {
      node.read(result, start, start);
      return result;
    }
    return result.then(
      (r) => {
        node.read(r, start, performance.now());
        return r;
      },
      (error: unknown) => {
        node.fail(error);
        throw error;
      },
    );
  }

  close(reason?: unknown): void {
    this.node.finish('cancelled');
    this.inner.close(reason);
  }
}

/** Reads `reader` with its reads recorded on `node`. */
export function traceReader<T>(reader: Reader<T>, node: TraceNode): Reader<T> {
  return new TracedReader(reader, node);
}
