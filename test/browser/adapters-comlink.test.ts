// Comlink interop in real Chromium: a module web worker serves a Comlink API
// whose methods return async generators and ReadableStreams and accept async
// iterables (the stream-weaver transfer handler on both sides), and a
// ConductorStream offloaded to a web worker with exposeConductor / remoteConductor.
import * as Comlink from 'comlink';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { registerComlinkStreams, remoteConductor } from '../../adapters/comlink.ts';
import type { ComlinkApi } from './fixtures/comlink-api-worker.ts';
import { collect } from '../helpers.ts';

/** Polls `read` until `done` holds (the worker's cleanup runs after our break returns). */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 200 && !done(value); i++) {
    await new Promise((r) => setTimeout(r, 10));
    value = await read();
  }
  return value;
}

/** What Comlink's static types do not know: our handler turns streams into async iterables. */
const stream = <T>(value: unknown): AsyncIterable<T> => value as AsyncIterable<T>;

describe('Comlink over a module web worker with stream transfer handlers', () => {
  let worker: Worker;
  let api: Comlink.Remote<ComlinkApi>;
  beforeAll(() => {
    registerComlinkStreams();
    worker = new Worker(new URL('./fixtures/comlink-api-worker.ts', import.meta.url), { type: 'module' });
    api = Comlink.wrap<ComlinkApi>(worker);
  });
  afterAll(() => {
    api[Comlink.releaseProxy]();
    worker.terminate();
  });

  test('an async generator returned by a Comlink method arrives as a local async iterable, in order', async () => {
    const out = await collect(stream<string>(await api.tokens(5_000)));
    expect(out).toEqual(Array.from({ length: 5_000 }, (_, i) => `t${i}`));
  });

  test('a ReadableStream returned by a Comlink method arrives in order', async () => {
    const out = await collect(stream<number>(await api.numbers(1_000)));
    expect(out).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
  });

  test('nested streams inside the items cross too, read in order though later ones finish first', async () => {
    const got: string[] = [];
    for await (const section of stream<{ title: string; body: AsyncIterable<string> }>(await api.sections(4))) {
      got.push(section.title);
      for await (const part of section.body) got.push(part);
    }
    expect(got).toEqual([0, 1, 2, 3].flatMap((s) => [`section ${s}`, `s${s}p0`, `s${s}p1`, `s${s}p2`]));
  });

  test('break out of a returned async generator runs the worker generator finally', async () => {
    const before = (await api.counters()).generatorFinallies;
    for await (const token of stream<string>(await api.tokens(10_000_000))) {
      expect(token).toBe('t0');
      break;
    }
    const after = await eventually(() => api.counters(), (c) => c.generatorFinallies > before);
    expect(after.generatorFinallies).toBe(before + 1);
  });

  test('break out of a returned ReadableStream cancels the worker stream', async () => {
    const before = (await api.counters()).streamCancels;
    let seen = 0;
    for await (const n of stream<number>(await api.numbers(10_000_000))) {
      expect(n).toBe(seen++);
      if (seen === 10) break;
    }
    const after = await eventually(() => api.counters(), (c) => c.streamCancels > before);
    expect(after.streamCancels).toBe(before + 1);
  });

  test('an error thrown in the worker generator arrives as itself, with cause, AggregateError members and own properties, after the items before it', async () => {
    const seen: number[] = [];
    const error = await (async () => {
      for await (const n of stream<number>(await api.failing())) seen.push(n);
    })().then(
      () => undefined,
      (e: unknown) => e as RangeError & { code?: string; attempt?: number; cause?: unknown },
    );
    expect(seen).toEqual([1, 2]);
    expect(error).toBeInstanceOf(RangeError);
    expect(error!.message).toBe('worker failed');
    expect(error!.code).toBe('E_WORKER');
    expect(error!.attempt).toBe(3);
    expect(error!.stack).toContain('worker failed'); // stacks kept between trusted contexts
    const cause = error!.cause as AggregateError;
    expect(cause).toBeInstanceOf(AggregateError);
    expect(cause.message).toBe('both failed');
    expect(cause.errors[0]).toBeInstanceOf(TypeError);
    expect(cause.errors[1]).toBeInstanceOf(SyntaxError);
    expect((cause.errors[1] as Error).message).toBe('second');
  });

  test('an async iterable passed as an argument is read by the worker', async () => {
    async function* numbers() {
      for (let i = 1; i <= 1_000; i++) yield i;
    }
    expect(await api.sum(numbers() as never)).toBe(500_500);
  });

  test('a ReadableStream passed as an argument is read by the worker', async () => {
    const input = new ReadableStream<number>({
      start(controller) {
        for (let i = 1; i <= 100; i++) controller.enqueue(i);
        controller.close();
      },
    });
    expect(await api.sum(input as never)).toBe(5_050);
  });

  test('an argument stream that fails reaches the worker as its error, after the items before it', async () => {
    class QuotaError extends Error {
      code = 'E_QUOTA';
    }
    async function* values() {
      yield 1;
      yield 2;
      throw new QuotaError('main failed', { cause: new Error('disk full') });
    }
    const report = await api.readUntilError(values() as never);
    expect(report).toEqual({
      seen: [1, 2],
      // An unregistered class crosses as an Error with its fields; its name is the base class's.
      error: { isError: true, name: 'Error', message: 'main failed', code: 'E_QUOTA', cause: 'disk full' },
    });
  });

  test('a worker that stops reading an argument stream runs the main generator finally', async () => {
    let finallyRan = false;
    async function* endless() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        finallyRan = true;
      }
    }
    expect(await api.take(endless() as never, 3)).toEqual([0, 1, 2]);
    for (let i = 0; i < 200 && !finallyRan; i++) await new Promise((r) => setTimeout(r, 10));
    expect(finallyRan).toBe(true);
  });
});

describe('a ConductorStream offloaded to a module web worker (exposeConductor / remoteConductor)', () => {
  const words = (list: string[]): ReadableStream<string> =>
    new ReadableStream<string>({
      start(controller) {
        for (const w of list) controller.enqueue(w);
        controller.close();
      },
    });
  const startWorker = (): Worker =>
    new Worker(new URL('./fixtures/comlink-conductor-worker.ts', import.meta.url), { type: 'module' });

  test('the main thread pipes a ReadableStream through the remote conductor; output in chain order', async () => {
    const worker = startWorker();
    try {
      const list = ['alpha', 'be', 'c', 'delta'];
      const out = await collect(words(list).pipeThrough(remoteConductor<string, string>(worker)) as unknown as AsyncIterable<string>);
      expect(out).toEqual(list.flatMap((w) => [`${w}:`, ...w.toUpperCase()]));
    } finally {
      worker.terminate();
    }
  });

  test('a long input streams through with backpressure and in order', async () => {
    const worker = startWorker();
    try {
      const list = Array.from({ length: 500 }, (_, i) => `w${i}`);
      const out = await collect(words(list).pipeThrough(remoteConductor<string, string>(worker)) as unknown as AsyncIterable<string>);
      expect(out).toEqual(list.flatMap((w) => [`${w}:`, ...w.toUpperCase()]));
    } finally {
      worker.terminate();
    }
  });

  test('a conductor that throws in the worker errors the readable in the main thread', async () => {
    const worker = startWorker();
    try {
      const seen: string[] = [];
      const error = await (async () => {
        for await (const s of words(['ok', 'boom', 'never']).pipeThrough(remoteConductor<string, string>(worker)) as unknown as AsyncIterable<string>) {
          seen.push(s);
        }
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RangeError);
      expect((error as Error).message).toBe('the conductor refused boom');
      expect(seen).not.toContain('never:');
    } finally {
      worker.terminate();
    }
  });
});
