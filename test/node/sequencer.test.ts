// The sequencer's semantics from issue 2 (see ../../../shared/DESIGN.md, "Semantics that users
// rely on"). Timing is only ever checked as a ratio with a generous bound.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { asyncIterableSequencer, SequenceEndedError, type AnyIterable } from '../../src/sequencer.ts';
import { collect, delay as sleep } from '../helpers.ts';

const DEPTH = 100_000;

/** One macrotask: every microtask queued before it has run. */
const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Resolves to 'settled' if `promise` settles before the next macrotask, 'pending' otherwise. */
async function settlesAtOnce(promise: Promise<unknown>): Promise<'settled' | 'pending'> {
  let state: 'settled' | 'pending' = 'pending';
  promise.then(
    () => (state = 'settled'),
    () => (state = 'settled'),
  );
  await macrotask();
  return state;
}

/** An eager stream: its timer starts when it is created, like a fetch body or a remote sub-stream. */
function delayStream<T>(values: T[], ms: number, onDone?: () => void) {
  const state = { cancelled: false, cancelReason: undefined as unknown };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stream = new ReadableStream<T>({
    start(controller) {
      timer = setTimeout(() => {
        for (const value of values) controller.enqueue(value);
        controller.close();
        onDone?.();
      }, ms);
    },
    cancel(reason) {
      clearTimeout(timer);
      state.cancelled = true;
      state.cancelReason = reason;
    },
  });
  return { stream, state };
}

/** A stream that never ends unless cancelled. */
function openStream<T>() {
  const state = { cancelled: false };
  const stream = new ReadableStream<T>({
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

/**
 * An async generator already running (advanced past its first value by someone
 * else), so closing it runs its `finally` block.
 */
async function runningGenerator<T>(values: T[]) {
  const state = { finalized: false, pulls: 0 };
  async function* gen(): AsyncGenerator<T | 'primer'> {
    try {
      yield 'primer';
      for (const value of values) {
        state.pulls++;
        yield value;
      }
      await new Promise(() => {}); // holds the stream open until closed
    } finally {
      state.finalized = true;
    }
  }
  const it = gen();
  await it.next();
  return { it: it as AsyncGenerator<T>, state };
}

/** A lazy async generator that records how far it has been pulled. */
function lazyGenerator(count: number) {
  const state = { started: false, produced: 0, finalized: false };
  async function* gen() {
    state.started = true;
    try {
      for (let i = 0; i < count; i++) {
        state.produced++;
        yield i;
      }
    } finally {
      state.finalized = true;
    }
  }
  return { it: gen(), state };
}

let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

describe('order', () => {
  test('values come out in chain order whatever order the producers finish in', async () => {
    const finished: string[] = [];
    const { sequence, chain } = asyncIterableSequencer<string>();
    chain(delayStream(['a1', 'a2'], 60, () => finished.push('a')).stream);
    chain(delayStream(['b1'], 10, () => finished.push('b')).stream);
    chain(delayStream(['c1', 'c2'], 35, () => finished.push('c')).stream);
    chain(null);
    expect(await collect(sequence)).toEqual(['a1', 'a2', 'b1', 'c1', 'c2']);
    expect(finished).toEqual(['b', 'c', 'a']);
  });

  test('mixed sync and async iterables come out in chain order', async () => {
    const { sequence, chain } = asyncIterableSequencer<unknown>();
    function* syncGen() {
      yield 3;
      yield 4;
    }
    async function* asyncGen() {
      await sleep(5);
      yield 5;
      yield 6;
    }
    chain([1, 2]);
    chain(syncGen());
    chain(asyncGen());
    chain(delayStream([7, 8], 1).stream);
    chain(new Set([9]));
    chain('ab');
    chain(new Map([['k', 10]]));
    chain(Promise.resolve([11]));
    chain(null);
    expect(await collect(sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 'a', 'b', ['k', 10], 11]);
  });

  test('ten eager delay streams finish in about the time of the slowest, not the sum', async () => {
    const delays = [100, 10, 90, 20, 80, 30, 70, 40, 60, 50];
    const sum = delays.reduce((a, b) => a + b, 0);
    const slowest = Math.max(...delays);
    const { sequence, chain } = asyncIterableSequencer<number>();
    const started = performance.now();
    for (const [i, ms] of delays.entries()) chain(delayStream([i], ms).stream);
    chain(null);
    expect(await collect(sequence)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const elapsed = performance.now() - started;
    // Sequential reading would take `sum` (550 ms); parallel production takes about `slowest`.
    expect(elapsed / slowest).toBeLessThan(sum / slowest / 2);
  });

  test('chaining while the consumer is parked on the tail resumes it at once', async () => {
    const { sequence, chain } = asyncIterableSequencer<string>();
    const first = sequence.next();
    await sleep(5); // the consumer is now parked on the empty tail
    expect(await settlesAtOnce(first)).toBe('pending');
    chain(['x']);
    expect(await settlesAtOnce(first)).toBe('settled');
    expect(await first).toEqual({ value: 'x', done: false });

    const end = sequence.next();
    await sleep(5);
    chain(null);
    expect(await settlesAtOnce(end)).toBe('settled');
    expect(await end).toEqual({ value: undefined, done: true });
  });

  test('chain() does not run the chained iterable inside its caller, even when the consumer is parked', async () => {
    const { sequence, chain } = asyncIterableSequencer<number>();
    const first = sequence.next();
    await sleep(1);
    let ran = false;
    chain(
      (function* () {
        ran = true;
        yield 1;
      })(),
    );
    expect(ran).toBe(false);
    expect(await first).toEqual({ value: 1, done: false });
    expect(ran).toBe(true);
  });

  test('the sequencer buffers nothing: a lazy generator is pulled only as the consumer reads', async () => {
    const first = lazyGenerator(100);
    const second = lazyGenerator(100);
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain(first.it);
    chain(second.it);
    chain(null);
    await sleep(5);
    expect(first.state.started).toBe(false);
    expect(await sequence.next()).toEqual({ value: 0, done: false });
    expect(await sequence.next()).toEqual({ value: 1, done: false });
    await sleep(5);
    expect(first.state.produced).toBe(2);
    expect(second.state.started).toBe(false);
    await sequence.return();
    expect(first.state.finalized).toBe(true);
  });
});

describe('promises of iterables', () => {
  test('a chained promise is awaited only when the sequence reaches it', async () => {
    let resolveLater!: (value: AnyIterable<number>) => void;
    const later = new Promise<AnyIterable<number>>((resolve) => (resolveLater = resolve));
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain([1]);
    chain(later);
    chain([4]);
    chain(null);
    expect(await sequence.next()).toEqual({ value: 1, done: false });
    const second = sequence.next();
    expect(await settlesAtOnce(second)).toBe('pending');
    resolveLater([2, 3]);
    expect(await second).toEqual({ value: 2, done: false });
    expect(await collect(sequence)).toEqual([3, 4]);
  });

  test('a promise resolving to a nested sequence is spliced in', async () => {
    const inner = asyncIterableSequencer<number>();
    inner.chain([2]);
    inner.chain(null);
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain([1]);
    chain(sleep(5).then(() => inner.sequence));
    chain([3]);
    chain(null);
    expect(await collect(sequence)).toEqual([1, 2, 3]);
  });

  test('a rejected promise errors the sequence at that point, after the values chained before it', async () => {
    const boom = new Error('boom');
    const pending = openStream<number>();
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain(delayStream([1, 2], 20).stream);
    chain(Promise.reject(boom)); // rejects long before the sequence reaches it
    chain(pending.stream);
    chain(null);
    await sleep(10);
    expect(await sequence.next()).toEqual({ value: 1, done: false });
    expect(await sequence.next()).toEqual({ value: 2, done: false });
    await expect(sequence.next()).rejects.toBe(boom);
    expect(pending.state.cancelled).toBe(true);
    expect(await sequence.next()).toEqual({ value: undefined, done: true });
  });

  test('a promise that resolves to a non-iterable errors the sequence with a TypeError', async () => {
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain([1]);
    chain(Promise.resolve(42 as unknown as number[]));
    chain(null);
    expect(await sequence.next()).toEqual({ value: 1, done: false });
    await expect(sequence.next()).rejects.toBeInstanceOf(TypeError);
  });
});

describe('errors', () => {
  test('an error from a chained iterable reaches the consumer after the values before it', async () => {
    const boom = new Error('boom');
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain([1]);
    chain(
      (async function* () {
        yield 2;
        throw boom;
      })(),
    );
    chain([3]);
    chain(null);
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const value of sequence) seen.push(value);
      })(),
    ).rejects.toBe(boom);
    expect(seen).toEqual([1, 2]);
  });

  test('after an error every pending iterable is closed: finally blocks run and streams are cancelled', async () => {
    const boom = new Error('boom');
    const running = await runningGenerator([9]);
    const stream = openStream<number>();
    const promisedStream = openStream<number>();
    const nestedRunning = await runningGenerator([9]);
    const nested = asyncIterableSequencer<number>();
    nested.chain(nestedRunning.it);
    const syncState = { finalized: false };
    const syncGen = (function* () {
      try {
        yield 9;
      } finally {
        syncState.finalized = true;
      }
    })();
    syncGen.next(); // running, so closing it runs its finally

    const { sequence, chain } = asyncIterableSequencer<number>();
    chain([1]);
    chain(
      (async function* () {
        throw boom;
      })(),
    );
    chain(running.it);
    chain(stream.stream);
    chain(Promise.resolve(promisedStream.stream));
    chain(nested.sequence);
    chain(syncGen);
    expect(await sequence.next()).toEqual({ value: 1, done: false });
    await expect(sequence.next()).rejects.toBe(boom);
    await macrotask();
    expect(running.state.finalized).toBe(true);
    expect(running.state.pulls).toBe(0);
    expect(stream.state.cancelled).toBe(true);
    expect(promisedStream.state.cancelled).toBe(true);
    expect(nestedRunning.state.finalized).toBe(true);
    expect(syncState.finalized).toBe(true);
    // Chained later, after the failure: closed as soon as it arrives.
    const late = openStream<number>();
    chain(late.stream);
    expect(late.state.cancelled).toBe(true);
    expect(await sequence.next()).toEqual({ value: undefined, done: true });
  });

  test('an error from a ReadableStream reaches the consumer', async () => {
    const boom = new Error('stream broke');
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain(
      new ReadableStream<number>({
        start(controller) {
          controller.enqueue(1);
          // Erroring at once would discard the queued chunk (WHATWG streams): error once it is read.
          setTimeout(() => controller.error(boom), 5);
        },
      }),
    );
    chain(null);
    expect(await sequence.next()).toEqual({ value: 1, done: false });
    await expect(sequence.next()).rejects.toBe(boom);
  });

  test('an error thrown by a sync iterable reaches the consumer and closes the pending ones', async () => {
    const boom = new Error('sync boom');
    const pending = openStream<number>();
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain(
      (function* () {
        yield 1;
        throw boom;
      })(),
    );
    chain(pending.stream);
    await expect(collect(sequence)).rejects.toBe(boom);
    expect(pending.state.cancelled).toBe(true);
  });

  test('a ReadableStream that is already locked errors the sequence at its turn, not chain()', async () => {
    const locked = new ReadableStream<number>();
    locked.getReader();
    const pending = openStream<number>();
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain([1]);
    chain(locked);
    chain(pending.stream);
    chain(null);
    expect(await sequence.next()).toEqual({ value: 1, done: false });
    await expect(sequence.next()).rejects.toBeInstanceOf(TypeError);
    expect(pending.state.cancelled).toBe(true);
    expect(await sequence.next()).toEqual({ value: undefined, done: true });
  });

  test('an iterator whose next() answers a non-object errors the sequence with a TypeError', async () => {
    const broken = { [Symbol.asyncIterator]: () => ({ next: async () => 42 }) } as unknown as AsyncIterable<number>;
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain(broken);
    chain(null);
    await expect(sequence.next()).rejects.toBeInstanceOf(TypeError);
    expect(await sequence.next()).toEqual({ value: undefined, done: true });
  });
});

describe('cancellation', () => {
  test('break closes the active iterable and every pending one', async () => {
    const active = lazyGenerator(100);
    const running = await runningGenerator([9]);
    const pending = openStream<number>();
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain(active.it);
    chain(running.it);
    chain(pending.stream);
    for await (const value of sequence) {
      if (value === 2) break;
    }
    expect(active.state.produced).toBe(3);
    expect(active.state.finalized).toBe(true);
    await macrotask();
    expect(running.state.finalized).toBe(true);
    expect(pending.state.cancelled).toBe(true);
    expect(await sequence.next()).toEqual({ value: undefined, done: true });
  });

  test('return() while parked on the tail settles at once and ends the parked next()', async () => {
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain([1]);
    expect(await sequence.next()).toEqual({ value: 1, done: false });
    const parked = sequence.next();
    await sleep(5);
    const returned = sequence.return();
    expect(await settlesAtOnce(returned)).toBe('settled');
    expect(await settlesAtOnce(parked)).toBe('settled');
    expect(await parked).toEqual({ value: undefined, done: true });
    expect(await returned).toEqual({ value: undefined, done: true });
  });

  test('return() while parked on the tail of a nested sequence closes every level', async () => {
    const running = await runningGenerator([9]);
    const nested = asyncIterableSequencer<number>();
    nested.chain([1]);
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain(nested.sequence);
    chain(running.it);
    expect(await sequence.next()).toEqual({ value: 1, done: false });
    const parked = sequence.next();
    await sleep(5);
    expect(await settlesAtOnce(sequence.return())).toBe('settled');
    expect(await parked).toEqual({ value: undefined, done: true });
    await macrotask();
    expect(running.state.finalized).toBe(true);
    const late = openStream<number>();
    nested.chain(late.stream); // the nested producer keeps chaining: closed at once, no throw
    expect(late.state.cancelled).toBe(true);
  });

  test('return() while a next() awaits a slow generator settles at once; that next() ends when the generator answers', async () => {
    // An async generator handles return() only after its pending step: the value it then
    // yields is dropped and the waiting next() answers done, its finally block runs.
    const state = { finalized: false };
    let release!: () => void;
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain(
      (async function* () {
        try {
          await new Promise<void>((resolve) => (release = resolve));
          yield 1;
          yield 2;
        } finally {
          state.finalized = true;
        }
      })(),
    );
    const waiting = sequence.next();
    await sleep(5);
    expect(await settlesAtOnce(sequence.return())).toBe('settled');
    expect(await settlesAtOnce(sequence.next())).toBe('settled');
    release();
    expect(await waiting).toEqual({ value: undefined, done: true });
    await macrotask();
    expect(state.finalized).toBe(true);
  });

  test('cancelling while a next() awaits a stream read cancels the stream', async () => {
    const open = openStream<number>();
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain(open.stream);
    const waiting = sequence.next();
    await sleep(5);
    await sequence.return();
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(open.state.cancelled).toBe(true);
  });

  test('return() before the first next() never starts any producer', async () => {
    const lazy = lazyGenerator(3);
    const stream = openStream<number>();
    const nestedLazy = lazyGenerator(3);
    const nested = asyncIterableSequencer<number>();
    nested.chain(nestedLazy.it);
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain(lazy.it);
    chain(stream.stream);
    chain(nested.sequence);
    expect(await sequence.return()).toEqual({ value: undefined, done: true });
    await macrotask();
    expect(lazy.state.started).toBe(false);
    expect(nestedLazy.state.started).toBe(false);
    expect(stream.state.cancelled).toBe(true);
    expect(await sequence.next()).toEqual({ value: undefined, done: true });
  });

  test('throw() closes every iterable and rejects with the given error', async () => {
    const reason = new Error('stop');
    const running = await runningGenerator([9]);
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain([1, 2]);
    chain(running.it);
    expect(await sequence.next()).toEqual({ value: 1, done: false });
    await expect(sequence.throw(reason)).rejects.toBe(reason);
    await macrotask();
    expect(running.state.finalized).toBe(true);
    expect(await sequence.next()).toEqual({ value: undefined, done: true });
  });

  test('chain() after the consumer cancelled closes the chained iterable without throwing', async () => {
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain([1]);
    for await (const _ of sequence) break;
    const running = await runningGenerator([9]);
    const stream = openStream<number>();
    const promised = openStream<number>();
    expect(() => chain(running.it)).not.toThrow();
    expect(() => chain(stream.stream)).not.toThrow();
    expect(() => chain(Promise.resolve(promised.stream))).not.toThrow();
    expect(() => chain(Promise.reject(new Error('never read')))).not.toThrow();
    expect(() => chain(null)).not.toThrow();
    await macrotask();
    expect(running.state.finalized).toBe(true);
    expect(stream.state.cancelled).toBe(true);
    expect(promised.state.cancelled).toBe(true);
  });
});

describe('concurrent reads', () => {
  test('next() calls made without awaiting are answered in order', async () => {
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain(
      (async function* () {
        await sleep(10);
        yield 1;
        await sleep(1);
        yield 2;
      })(),
    );
    chain([3]);
    chain(delayStream([4], 5).stream);
    chain(Promise.resolve([5]));
    chain(null);
    const results = await Promise.all(Array.from({ length: 7 }, () => sequence.next()));
    expect(results).toEqual([
      { value: 1, done: false },
      { value: 2, done: false },
      { value: 3, done: false },
      { value: 4, done: false },
      { value: 5, done: false },
      { value: undefined, done: true },
      { value: undefined, done: true },
    ]);
  });

  test('a next() made while earlier ones wait behind a slow source does not overtake them', async () => {
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain(delayStream([1, 2, 3], 5).stream);
    chain(null);
    const first = sequence.next();
    const second = sequence.next();
    const third = first.then(() => sequence.next());
    const fourth = sequence.next();
    expect(await Promise.all([first, second, fourth, third])).toEqual([
      { value: 1, done: false },
      { value: 2, done: false },
      { value: 3, done: false },
      { value: undefined, done: true },
    ]);
  });

  test('a next() made in the same tick the first answer lands still queues behind earlier calls', async () => {
    // The first source answer resolves p; a reaction on p registered after the sequencer's own
    // runs before the sequencer hands the turn to the queued calls. It must not jump the queue.
    let resolveFirst!: (result: IteratorResult<number>) => void;
    const p = new Promise<IteratorResult<number>>((resolve) => (resolveFirst = resolve));
    let i = 0;
    const source: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () => {
          const n = i++;
          return n === 0 ? p : Promise.resolve({ value: n, done: false });
        },
      }),
    };
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain(source);
    const first = sequence.next();
    const second = sequence.next();
    const third = sequence.next();
    const late = p.then(() => sequence.next());
    resolveFirst({ value: 0, done: false });
    expect((await Promise.all([first, second, third, late])).map((r) => r.value)).toEqual([0, 1, 2, 3]);
  });

  test('after done, next() still answers done', async () => {
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain([1]);
    chain(null);
    expect(await collect(sequence)).toEqual([1]);
    for (let i = 0; i < 3; i++) expect(await sequence.next()).toEqual({ value: undefined, done: true });
    expect(await sequence.return()).toEqual({ value: undefined, done: true });
    expect(await sequence.next()).toEqual({ value: undefined, done: true });
  });
});

describe('a last async generator, whose promises are handed straight through', () => {
  test('concurrent next() calls stay in order, and an error is followed by done', async () => {
    const boom = new Error('boom');
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain([0]);
    chain(
      (async function* () {
        yield 1;
        await sleep(2);
        yield 2;
        throw boom;
      })(),
    );
    chain(null);
    expect(await sequence.next()).toEqual({ value: 0, done: false });
    expect(await sequence.next()).toEqual({ value: 1, done: false });
    const settled = await Promise.allSettled([sequence.next(), sequence.next(), sequence.next()]);
    expect(settled).toEqual([
      { status: 'fulfilled', value: { value: 2, done: false } },
      { status: 'rejected', reason: boom },
      { status: 'fulfilled', value: { value: undefined, done: true } },
    ]);
    expect(await sequence.next()).toEqual({ value: undefined, done: true });
  });

  test('break closes it and its finally block runs', async () => {
    const active = lazyGenerator(100);
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain(active.it);
    chain(null);
    for await (const value of sequence) if (value === 5) break;
    expect(active.state.produced).toBe(6);
    expect(active.state.finalized).toBe(true);
    expect(await sequence.next()).toEqual({ value: undefined, done: true });
  });

  test('an iterator that only looks like a generator is read the careful way', async () => {
    // Same prototype chain, but its own next(): no promise of it is handed on unchecked.
    async function* gen() {
      yield 1;
    }
    const it = gen();
    let calls = 0;
    it.next = () => Promise.resolve(calls++ < 2 ? { value: calls, done: false } : (42 as never));
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain(it);
    chain(null);
    expect(await sequence.next()).toEqual({ value: 1, done: false });
    expect(await sequence.next()).toEqual({ value: 2, done: false });
    await expect(sequence.next()).rejects.toBeInstanceOf(TypeError);
  });
});

describe('chain() arguments', () => {
  test('chain() after chain(null) throws SequenceEndedError, a TypeError with a stable code', () => {
    const { chain } = asyncIterableSequencer<number>();
    chain([1]);
    chain(null);
    let caught: unknown;
    try {
      chain([2]);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SequenceEndedError);
    expect(caught).toBeInstanceOf(TypeError);
    expect((caught as SequenceEndedError).code).toBe('ERR_SEQUENCE_ENDED');
  });

  test('chain() after chain(null) throws even once the consumer has cancelled', async () => {
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain(null);
    await sequence.return();
    expect(() => chain([2])).toThrow(SequenceEndedError);
  });

  test('a plain TypeError is not a SequenceEndedError', () => {
    expect(new TypeError('x')).not.toBeInstanceOf(SequenceEndedError);
    expect(new SequenceEndedError()).toBeInstanceOf(Error);
  });

  test('chain(null) twice is harmless', async () => {
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain([1]);
    chain(null);
    expect(() => chain(null)).not.toThrow();
    expect(await collect(sequence)).toEqual([1]);
  });

  test('a non-iterable throws a TypeError at chain() time and leaves the sequence usable', async () => {
    const { sequence, chain } = asyncIterableSequencer<number>();
    for (const bad of [42, {}, undefined, true, () => [1], Symbol('s')]) {
      expect(() => chain(bad as never)).toThrow(TypeError);
    }
    chain([1]);
    chain(null);
    expect(await collect(sequence)).toEqual([1]);
  });

  test('chaining a sequence into itself throws a TypeError at chain() time instead of hanging', async () => {
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain([1]);
    expect(() => chain(sequence)).toThrow(TypeError);
    chain(null);
    expect(await collect(sequence)).toEqual([1]);
  });

  test("chain('') and chain([]) are empty iterables, not the end of the sequence", async () => {
    const { sequence, chain } = asyncIterableSequencer<string>();
    chain('');
    chain([]);
    chain(new Set());
    chain(['after']);
    chain(null);
    expect(await collect(sequence)).toEqual(['after']);
  });
});

describe('sync iterables of promises', () => {
  test('a sync iterable yielding promises yields their resolved values', async () => {
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain([Promise.resolve(1), 2, sleep(5).then(() => 3)] as unknown as number[]);
    chain(
      (function* () {
        yield Promise.resolve(4);
      })() as unknown as Iterable<number>,
    );
    chain(null);
    expect(await collect(sequence)).toEqual([1, 2, 3, 4]);
  });

  test('a rejected promise from a sync iterable errors the sequence and closes that iterable', async () => {
    const boom = new Error('boom');
    const state = { finalized: false };
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain(
      (function* () {
        try {
          yield 1;
          yield Promise.reject(boom);
          yield 3;
        } finally {
          state.finalized = true;
        }
      })() as unknown as Iterable<number>,
    );
    chain(null);
    expect(await sequence.next()).toEqual({ value: 1, done: false });
    await expect(sequence.next()).rejects.toBe(boom);
    expect(state.finalized).toBe(true);
  });
});

describe('nesting', () => {
  test(`a sequence nested ${DEPTH.toLocaleString('en')} levels deep yields every value in order without overflowing the stack`, async () => {
    let { sequence, chain } = asyncIterableSequencer<number>();
    chain(
      (async function* () {
        yield 0;
      })(),
    );
    chain(null);
    // Built iteratively: level i yields i, then level i - 1, then -i.
    for (let i = 1; i < DEPTH; i++) {
      const level = asyncIterableSequencer<number>();
      level.chain([i]);
      level.chain(sequence);
      level.chain([-i]);
      level.chain(null);
      sequence = level.sequence;
    }
    const values = await collect(sequence);
    expect(values.length).toBe(2 * DEPTH - 1);
    expect(values.slice(0, 3)).toEqual([DEPTH - 1, DEPTH - 2, DEPTH - 3]);
    expect(values[DEPTH - 1]).toBe(0);
    expect(values.slice(-3)).toEqual([-(DEPTH - 3), -(DEPTH - 2), -(DEPTH - 1)]);
  });

  test(`cancelling before reading closes a source nested ${DEPTH.toLocaleString('en')} levels deep`, async () => {
    const innermost = await runningGenerator([1]);
    let { sequence, chain } = asyncIterableSequencer<number>();
    chain(innermost.it);
    for (let i = 1; i < DEPTH; i++) {
      const level = asyncIterableSequencer<number>();
      level.chain(sequence);
      sequence = level.sequence;
    }
    await sequence.return();
    await macrotask();
    expect(innermost.state.finalized).toBe(true);
  });

  test(`an error ${DEPTH.toLocaleString('en')} levels deep reaches the consumer and closes every pending source`, async () => {
    const boom = new Error('deep');
    const pendingAtEveryLevel: { state: { cancelled: boolean } }[] = [];
    let { sequence, chain } = asyncIterableSequencer<number>();
    chain(
      (async function* () {
        yield 0;
        throw boom;
      })(),
    );
    for (let i = 1; i < DEPTH; i++) {
      const level = asyncIterableSequencer<number>();
      level.chain(sequence);
      if (i % 10_000 === 0) {
        const pending = openStream<number>();
        pendingAtEveryLevel.push(pending);
        level.chain(pending.stream);
      }
      sequence = level.sequence;
    }
    expect(await sequence.next()).toEqual({ value: 0, done: false });
    await expect(sequence.next()).rejects.toBe(boom);
    expect(pendingAtEveryLevel.length).toBe(9);
    expect(pendingAtEveryLevel.every((p) => p.state.cancelled)).toBe(true);
  });

  test('a nested sequence parks the parent until its producer chains more', async () => {
    const nested = asyncIterableSequencer<number>();
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain(nested.sequence);
    chain([3]);
    chain(null);
    const first = sequence.next();
    await sleep(5);
    nested.chain([1]);
    expect(await first).toEqual({ value: 1, done: false });
    const second = sequence.next();
    await sleep(5);
    nested.chain(delayStream([2], 1).stream);
    nested.chain(null);
    expect(await second).toEqual({ value: 2, done: false });
    expect(await collect(sequence)).toEqual([3]);
  });

  test('a nested sequence already being read elsewhere is read as a plain async iterable', async () => {
    const nested = asyncIterableSequencer<number>();
    nested.chain([1, 2, 3]);
    nested.chain(null);
    expect(await nested.sequence.next()).toEqual({ value: 1, done: false });
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain([0]);
    chain(nested.sequence);
    chain([4]);
    chain(null);
    expect(await collect(sequence)).toEqual([0, 2, 3, 4]);
  });

  test('a spliced child sequence read directly afterwards throws a TypeError', async () => {
    const nested = asyncIterableSequencer<number>();
    nested.chain([1, 2]);
    nested.chain(null);
    const { sequence, chain } = asyncIterableSequencer<number>();
    chain(nested.sequence);
    chain(null);
    expect(await sequence.next()).toEqual({ value: 1, done: false });
    await expect(nested.sequence.next()).rejects.toBeInstanceOf(TypeError);
    expect(await collect(sequence)).toEqual([2]);
  });
});

describe('cycles', () => {
  test('a sequence chained into itself through another sequence errors instead of hanging', async () => {
    const a = asyncIterableSequencer<number>();
    const b = asyncIterableSequencer<number>();
    a.chain([1]);
    a.chain(b.sequence);
    a.chain(null);
    b.chain([2]);
    b.chain(a.sequence);
    b.chain(null);
    const seen: number[] = [];
    const error = await (async () => {
      for await (const v of a.sequence) seen.push(v);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([1, 2]);
    expect(error).toBeInstanceOf(TypeError);
  });
});
