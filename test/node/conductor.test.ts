// ConductorStream's semantics from issue 2 (see ../../../shared/DESIGN.md, "Semantics that users
// rely on"). Where the reference implementation hangs, a timeout race guards the test; the
// assertions are on the behaviour, never on the guard.
import { describe, expect, test } from 'vitest';
import { ConductorStream, DelegateStream, type ConductorStreamOptions } from '../../src/conductor.ts';
import { delay as sleep, eagerStream } from '../helpers.ts';

/** Fails with 'hung' instead of letting a broken implementation hang the suite. */
function guard<T>(promise: Promise<T>, ms = 2_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hung for ${ms} ms`)), ms);
  });
  return Promise.race([promise, hung]).finally(() => clearTimeout(timer));
}

async function readAll<T>(stream: ReadableStream<T>): Promise<T[]> {
  const reader = stream.getReader();
  const out: T[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return out;
    out.push(value);
  }
}

/** Reads until the stream errors; resolves with the error (fails if the stream ends cleanly). */
async function readError(stream: ReadableStream<unknown>): Promise<unknown> {
  try {
    await readAll(stream);
  } catch (error) {
    return error;
  }
  throw new Error('the stream ended without an error');
}

/**
 * A pull-based source of `values` that records how many were taken and whether it was cancelled;
 * with `pullMs`, each value takes that long to produce.
 */
function countingSource<T>(values: T[], pullMs = 0) {
  const state = { pulled: 0, cancelled: false, cancelReason: undefined as unknown };
  const stream = new ReadableStream<T>(
    {
      async pull(controller) {
        if (pullMs > 0) await sleep(pullMs);
        if (state.pulled === values.length) return controller.close();
        controller.enqueue(values[state.pulled++]!);
      },
      cancel(reason) {
        state.cancelled = true;
        state.cancelReason = reason;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state };
}

/** A source that yields `values`, then errors with `error` after `ms`. */
function failingSource<T>(values: T[], error: unknown, ms: number): ReadableStream<T> {
  return new ReadableStream<T>({
    start(controller) {
      for (const value of values) controller.enqueue(value);
      setTimeout(() => controller.error(error), ms);
    },
  });
}

/** An async generator that never ends on its own; `state.closed` turns true when its finally runs. */
function endless(state: { closed: boolean }): AsyncGenerator<string> {
  return (async function* () {
    try {
      for (;;) {
        yield 'tick';
        await sleep(5);
      }
    } finally {
      state.closed = true;
    }
  })();
}

const double = (): ConductorStreamOptions<number, number> => ({
  transform(n, chain) {
    chain([n * 2]);
  },
});

describe('piping', () => {
  test('source.pipeThrough(conductor) yields the chained streams in chain order', async () => {
    const finished: string[] = [];
    const conductor = new ConductorStream<number, string>({
      transform(n, chain) {
        chain([`<${n}>`]);
        // Earlier chunks take longer, so producers finish in reverse order.
        chain(eagerStream([`body ${n}`], 40 - n * 10, undefined, () => finished.push(`body ${n}`)));
        chain(['</>']);
      },
    });
    const output = await guard(readAll(countingSource([1, 2, 3]).stream.pipeThrough(conductor)));
    expect(output).toEqual(['<1>', 'body 1', '</>', '<2>', 'body 2', '</>', '<3>', 'body 3', '</>']);
    expect(finished).toEqual(['body 3', 'body 2', 'body 1']);
  });

  test('chained eager streams produce in parallel, so ten take about as long as the slowest one', async () => {
    const conductor = new ConductorStream<number, number>({
      transform(n, chain) {
        chain(eagerStream([n], 60));
      },
    });
    const started = performance.now();
    const output = await guard(readAll(countingSource([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).stream.pipeThrough(conductor)));
    const elapsed = performance.now() - started;
    expect(output).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Sequential would be 600 ms; allow a noisy machine plenty of room.
    expect(elapsed).toBeLessThan(600 * 0.5);
  });

  test('start chains a header before any input arrives', async () => {
    const conductor = new ConductorStream<string, string>({
      start(chain) {
        chain(['header']);
      },
      transform(chunk, chain) {
        chain([chunk]);
      },
    });
    expect(await guard(readAll(countingSource(['a', 'b']).stream.pipeThrough(conductor)))).toEqual(['header', 'a', 'b']);
  });

  test('an async start is awaited before the first chunk is transformed', async () => {
    const log: string[] = [];
    const conductor = new ConductorStream<string, string>({
      async start(chain) {
        await sleep(20);
        log.push('start done');
        chain(['header']);
      },
      transform(chunk, chain) {
        log.push(`transform ${chunk}`);
        chain([chunk]);
      },
    });
    expect(await guard(readAll(countingSource(['a']).stream.pipeThrough(conductor)))).toEqual(['header', 'a']);
    expect(log).toEqual(['start done', 'transform a']);
  });

  test('a writer can write to the conductor directly, without a pipe', async () => {
    const conductor = new ConductorStream<number, number>(double());
    const output = readAll(conductor.readable);
    const writer = conductor.writable.getWriter();
    await writer.write(1);
    await writer.write(2);
    await writer.close();
    expect(await guard(output)).toEqual([2, 4]);
  });

  test('DelegateStream is ConductorStream under the upstream name', async () => {
    expect(DelegateStream).toBe(ConductorStream);
    const delegate: DelegateStream<number, number> = new DelegateStream<number, number>(double());
    expect(delegate).toBeInstanceOf(ConductorStream);
    expect(await guard(readAll(countingSource([5]).stream.pipeThrough(delegate)))).toEqual([10]);
  });

  test('a transform that is not a function is rejected at construction with a TypeError', () => {
    expect(() => new ConductorStream({} as ConductorStreamOptions<number, number>)).toThrow(TypeError);
  });
});

describe('async callbacks and backpressure', () => {
  test('an async transform is awaited: chunks are transformed one at a time, in order', async () => {
    let running = 0;
    let maxRunning = 0;
    const conductor = new ConductorStream<number, number>({
      async transform(n, chain) {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(5 - n); // later chunks are quicker, yet must not overtake
        chain([n]);
        running--;
      },
    });
    expect(await guard(readAll(countingSource([1, 2, 3, 4]).stream.pipeThrough(conductor)))).toEqual([1, 2, 3, 4]);
    expect(maxRunning).toBe(1);
  });

  test('backpressure from a slow reader reaches the writer', async () => {
    const values = Array.from({ length: 200 }, (_, i) => i);
    const { stream, state } = countingSource(values);
    const reader = stream.pipeThrough(new ConductorStream<number, number>(double())).getReader();
    for (let i = 0; i < 5; i++) {
      expect((await reader.read()).value).toBe(i * 2);
      await sleep(10); // a slow reader: the pipe has time to write everything it is allowed to
    }
    // A TransformStream pipe takes a handful beyond what was read; so must the conductor.
    expect(state.pulled).toBeGreaterThanOrEqual(5);
    expect(state.pulled).toBeLessThan(5 + 8);
    await reader.cancel();
  });

  test('an async finish is awaited and can chain a last stream', async () => {
    const conductor = new ConductorStream<string, string>({
      transform(chunk, chain) {
        chain([chunk]);
      },
      async finish(chain) {
        await sleep(10);
        chain(['footer']);
      },
    });
    expect(await guard(readAll(countingSource(['a', 'b']).stream.pipeThrough(conductor)))).toEqual(['a', 'b', 'footer']);
  });
});

describe('ending', () => {
  test('with finish left out, the output ends when the input closes', async () => {
    const conductor = new ConductorStream<number, number>(double());
    expect(await guard(readAll(countingSource([1, 2]).stream.pipeThrough(conductor)))).toEqual([2, 4]);
  });

  test('a finish that ends the chain itself is not ended twice with an error', async () => {
    const conductor = new ConductorStream<number, number>({
      ...double(),
      finish(chain) {
        chain([0]);
        chain(null);
      },
    });
    expect(await guard(readAll(countingSource([1]).stream.pipeThrough(conductor)))).toEqual([2, 0]);
  });

  test('chain(null) in transform ends the output early and stops the source', async () => {
    const { stream, state } = countingSource([1, 2, 3, 4, 5, 6]);
    const conductor = new ConductorStream<number, number>({
      transform(n, chain) {
        chain([n]);
        if (n === 2) chain(null);
      },
    });
    expect(await guard(readAll(stream.pipeThrough(conductor)))).toEqual([1, 2]);
    await sleep(0);
    expect(state.cancelled).toBe(true);
    expect(state.cancelReason).toBeInstanceOf(TypeError);
  });
});

describe('errors', () => {
  test('a transform that throws errors the readable with that error instead of hanging', async () => {
    const boom = new Error('boom');
    const { stream, state } = countingSource([1, 2, 3]);
    const conductor = new ConductorStream<number, number>({
      transform(n, chain) {
        if (n === 2) throw boom;
        chain([n]);
      },
    });
    expect(await guard(readError(stream.pipeThrough(conductor)))).toBe(boom);
    expect(state.cancelled).toBe(true);
    expect(state.cancelReason).toBe(boom);
  });

  test('an async transform that rejects errors the readable and closes the chained streams', async () => {
    const boom = new Error('async boom');
    const generator = { closed: false };
    const conductor = new ConductorStream<number, string>({
      async transform(n, chain) {
        if (n === 1) chain(endless(generator));
        await sleep(5);
        if (n === 2) throw boom;
      },
    });
    expect(await guard(readError(countingSource([1, 2]).stream.pipeThrough(conductor)))).toBe(boom);
    await sleep(20);
    expect(generator.closed).toBe(true);
  });

  test('a finish that throws errors the readable with that error', async () => {
    const boom = new Error('finish failed');
    const conductor = new ConductorStream<number, number>({
      ...double(),
      finish() {
        throw boom;
      },
    });
    expect(await guard(readError(countingSource([1]).stream.pipeThrough(conductor)))).toBe(boom);
  });

  test('an async finish that rejects errors the readable with that error', async () => {
    const boom = new Error('async finish failed');
    const conductor = new ConductorStream<number, number>({
      ...double(),
      async finish() {
        await sleep(5);
        throw boom;
      },
    });
    expect(await guard(readError(countingSource([1]).stream.pipeThrough(conductor)))).toBe(boom);
  });

  test('a source that errors aborts the pipe and errors the readable with its reason', async () => {
    const reason = new Error('source broke');
    const generator = { closed: false };
    const conductor = new ConductorStream<number, string>({
      transform(n, chain) {
        chain([`${n}`]);
        chain(endless(generator));
      },
    });
    const error = await guard(readError(failingSource([1], reason, 20).pipeThrough(conductor)));
    expect(error).toBe(reason);
    await sleep(20);
    expect(generator.closed).toBe(true);
  });

  test('an error in a chained stream errors the readable and cancels the source', async () => {
    const boom = new Error('chained stream failed');
    const { stream, state } = countingSource([1, 2, 3, 4, 5]);
    const conductor = new ConductorStream<number, number>({
      transform(n, chain) {
        chain(
          (async function* () {
            if (n === 2) throw boom;
            yield n;
          })(),
        );
      },
    });
    expect(await guard(readError(stream.pipeThrough(conductor)))).toBe(boom);
    await sleep(0);
    expect(state.cancelled).toBe(true);
    expect(state.pulled).toBeLessThan(5);
  });

  test('a start that throws errors both sides and does not throw from the constructor', async () => {
    const boom = new Error('start failed');
    const conductor = new ConductorStream<number, number>({
      start() {
        throw boom;
      },
      ...double(),
    });
    expect(await guard(readError(conductor.readable))).toBe(boom);
    await expect(guard(conductor.writable.getWriter().write(1))).rejects.toBe(boom);
  });

  test('an async start that rejects errors both sides and cancels a piping source', async () => {
    const boom = new Error('async start failed');
    const { stream, state } = countingSource([1, 2]);
    const conductor = new ConductorStream<number, number>({
      async start() {
        await sleep(5);
        throw boom;
      },
      ...double(),
    });
    expect(await guard(readError(stream.pipeThrough(conductor)))).toBe(boom);
    await sleep(0);
    expect(state.cancelled).toBe(true);
    expect(state.cancelReason).toBe(boom);
  });
});

describe('cancellation', () => {
  test('cancelling the readable stops the source, runs the active generator\'s finally and cancels pending streams', async () => {
    const { stream, state } = countingSource(Array.from({ length: 100 }, (_, i) => i), 2);
    const first = { closed: false };
    const second = { closed: false };
    const conductor = new ConductorStream<number, string>({
      transform(n, chain) {
        if (n === 0) chain(endless(first));
        // Pending, never reached by the reader: an eager stream must be cancelled, not left running.
        if (n === 1) chain(new ReadableStream({ cancel: () => void (second.closed = true) }));
      },
    });
    const reader = stream.pipeThrough(conductor).getReader();
    expect((await reader.read()).value).toBe('tick');
    await sleep(10);
    const reason = new Error('reader is gone');
    await guard(reader.cancel(reason));
    await sleep(20);
    expect(state.cancelled).toBe(true);
    expect(state.cancelReason).toBe(reason);
    expect(first.closed).toBe(true);
    expect(second.closed).toBe(true);
    expect(state.pulled).toBeLessThan(100);
  });

  test('cancelling the readable while a write waits for demand errors the writer', async () => {
    const conductor = new ConductorStream<number, number>(double());
    const writer = conductor.writable.getWriter();
    await writer.write(1);
    await sleep(0); // 2 is now in the readable's queue, which is full: the next write waits for demand
    const waiting = writer.write(2);
    const reason = new Error('cancelled');
    await conductor.readable.cancel(reason);
    await expect(guard(waiting)).rejects.toBe(reason);
    await expect(guard(writer.closed)).rejects.toBe(reason);
  });
});
