// The weaver toolkit from issue 2: recursive explode, merge, fallback races, error boundaries and
// weaving weavers. Timing is only ever checked as a ratio with a generous bound.
import { describe, expect, test } from 'vitest';
import { ConductorStream, toReadableStream } from '../../src/conductor.ts';
import { errorBoundary, fallbackSequencer } from '../../src/fallback.ts';
import { asyncIterableSequencer } from '../../src/sequencer.ts';
import { explode, explodeStream, merge, type Expand } from '../../src/weaver.ts';
import { delay as sleep, eagerStream } from '../helpers.ts';

/** Fails with 'hung' instead of letting a broken implementation hang the suite. */
function guard<T>(promise: Promise<T>, ms = 3_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hung for ${ms} ms`)), ms);
  });
  return Promise.race([promise, hung]).finally(() => clearTimeout(timer));
}

async function collect<T>(iterable: AsyncIterable<T> | ReadableStream<T>): Promise<T[]> {
  const out: T[] = [];
  if (iterable instanceof ReadableStream) {
    const reader = iterable.getReader();
    for (let r = await reader.read(); r.done !== true; r = await reader.read()) out.push(r.value);
    return out;
  }
  for await (const value of iterable) out.push(value);
  return out;
}

/** Values after `ms` each, with a flag telling whether the generator's finally ran. */
function slow<T>(values: T[], ms: number, state = { started: 0, closed: false }) {
  const generator = (async function* () {
    state.started = performance.now();
    try {
      for (const value of values) {
        await sleep(ms);
        yield value;
      }
    } finally {
      state.closed = true;
    }
  })();
  return { generator, state };
}

/** A stream that emits each value at its own time (ms from creation), like independent events. */
function timed<T>(events: [T, number][]): ReadableStream<T> {
  const timers: ReturnType<typeof setTimeout>[] = [];
  return new ReadableStream<T>({
    start(controller) {
      let left = events.length;
      for (const [value, ms] of events) {
        timers.push(
          setTimeout(() => {
            controller.enqueue(value);
            if (--left === 0) controller.close();
          }, ms),
        );
      }
    },
    cancel() {
      timers.forEach(clearTimeout);
    },
  });
}

/** A section of an outline: writing it takes `ms`, then its subsections are discovered. */
interface Section {
  title: string;
  ms: number;
  children?: Section[];
}

const outline: Section = {
  title: '1',
  ms: 10,
  children: [
    { title: '1.1', ms: 60, children: [{ title: '1.1.1', ms: 10 }, { title: '1.1.2', ms: 40 }] },
    { title: '1.2', ms: 20, children: [{ title: '1.2.1', ms: 60, children: [{ title: '1.2.1.1', ms: 10 }] }] },
    { title: '1.3', ms: 10 },
    { title: '1.4', ms: 50, children: [{ title: '1.4.1', ms: 50 }, { title: '1.4.2', ms: 30 }] },
    { title: '1.5', ms: 40, children: [{ title: '1.5.1', ms: 40 }] },
  ],
};

/** The outline in reading order. */
const reading = ['1', '1.1', '1.1.1', '1.1.2', '1.2', '1.2.1', '1.2.1.1', '1.3', '1.4', '1.4.1', '1.4.2', '1.5', '1.5.1'];

function sumOf(section: Section): number {
  return section.ms + (section.children ?? []).reduce((total, child) => total + sumOf(child), 0);
}

function slowestPath(section: Section): number {
  return section.ms + Math.max(0, ...(section.children ?? []).map(slowestPath));
}

/** Writes a section (slowly), then explodes its subsections; records the order writing finished in. */
function writer(finished: string[]): Expand<Section, string> {
  return async (section, { chain, explode }) => {
    await sleep(section.ms);
    finished.push(section.title);
    chain([section.title]);
    for (const child of section.children ?? []) explode(child);
  };
}

describe('recursive explode', () => {
  test('yields nodes in discovery order while they finish out of order, in about the slowest path', async () => {
    const finished: string[] = [];
    const started = performance.now();
    const output = await guard(collect(explode(outline, writer(finished))));
    const elapsed = performance.now() - started;
    expect(output).toEqual(reading);
    expect(finished).not.toEqual(output);
    expect(finished.indexOf('1.3')).toBeLessThan(finished.indexOf('1.1'));
    // Sequential: 430 ms. Parallel: the slowest path, 110 ms. Generous for a noisy machine.
    expect(sumOf(outline)).toBe(430);
    expect(slowestPath(outline)).toBe(110);
    expect(elapsed).toBeLessThan(sumOf(outline) * 0.6);
    expect(elapsed).toBeGreaterThanOrEqual(slowestPath(outline) * 0.9);
  });

  test('a chain of 20,000 nested nodes does not overflow the stack', async () => {
    const output = await guard(
      collect(
        explode<number, number>(0, (depth, { chain, explode }) => {
          chain([depth]);
          if (depth < 20_000) explode(depth + 1);
        }),
      ),
      20_000,
    );
    expect(output).toHaveLength(20_001);
    expect(output[20_000]).toBe(20_000);
  });

  test('an error in a node surfaces at its place, after the content before it, and closes the rest', async () => {
    const boom = new Error('section failed');
    const pending = { cancelled: false };
    const seen: string[] = [];
    const expand: Expand<string, string> = async (node, { chain, explode }) => {
      if (node === 'root') {
        chain(['intro']);
        explode('bad');
        chain(eagerStream(['never read'], 200, pending));
        return;
      }
      await sleep(10);
      throw boom;
    };
    await expect(
      guard(
        (async () => {
          for await (const value of explode('root', expand)) seen.push(value);
        })(),
      ),
    ).rejects.toBe(boom);
    expect(seen).toEqual(['intro']);
    expect(pending.cancelled).toBe(true);
  });

  test('cancelling the output aborts unfinished nodes and closes their streams', async () => {
    const signals: AbortSignal[] = [];
    const stream = { cancelled: false };
    const expand: Expand<number, string> = async (n, { chain, explode, signal }) => {
      signals.push(signal);
      chain([`node ${n}`]);
      if (n === 0) {
        explode(1);
        explode(2);
        return;
      }
      chain(eagerStream(['late'], 500, stream));
      await sleep(1_000);
    };
    const output = explode(0, expand);
    expect((await output.next()).value).toBe('node 0');
    expect((await output.next()).value).toBe('node 1');
    await guard(output.return());
    expect(signals).toHaveLength(3);
    expect(signals.every((signal) => signal.aborted)).toBe(true);
    expect(stream.cancelled).toBe(true);
  });

  test('a node cannot end its own output with chain(null)', async () => {
    const output = explode<number, number>(0, (_, { chain }) => {
      chain(null as never);
    });
    await expect(guard(collect(output))).rejects.toBeInstanceOf(TypeError);
  });

  test('explodeStream explodes each seed written to it in place', async () => {
    const finished: string[] = [];
    const seeds: Section[] = [
      { title: 'A', ms: 150, children: [{ title: 'A.1', ms: 5 }] },
      { title: 'B', ms: 5, children: [{ title: 'B.1', ms: 5 }] },
    ];
    const output = await guard(collect(toReadableStream(seeds).pipeThrough(explodeStream(writer(finished)))));
    expect(output).toEqual(['A', 'A.1', 'B', 'B.1']);
    expect(finished.indexOf('B.1')).toBeLessThan(finished.indexOf('A'));
  });

  test('conductors whose transform chains child conductors nest to any depth, in order and in parallel', async () => {
    const finished: string[] = [];
    // The paper's shape: each section's conductor chains a child conductor for its subsections.
    const sectionConductor = (): ConductorStream<Section, string> =>
      new ConductorStream<Section, string>({
        transform(section, chain) {
          chain(
            (async () => {
              await sleep(section.ms);
              finished.push(section.title);
              return [section.title];
            })(),
          );
          const children = section.children ?? [];
          if (children.length > 0) chain(toReadableStream(children).pipeThrough(sectionConductor()));
        },
      });
    const started = performance.now();
    const output = await guard(collect(toReadableStream([outline]).pipeThrough(sectionConductor())));
    const elapsed = performance.now() - started;
    expect(output).toEqual(reading);
    expect(finished).not.toEqual(output);
    expect(elapsed).toBeLessThan(sumOf(outline) * 0.6);
  });
});

describe('merge', () => {
  test('yields values from several sources in arrival order', async () => {
    const a = timed([
      ['a1', 30],
      ['a2', 70],
    ]);
    const b = timed([
      ['b1', 50],
      ['b2', 90],
    ]);
    const c = timed([['c1', 10]]);
    expect(await guard(collect(merge<string>(a, b, c, ['now'])))).toEqual(['now', 'c1', 'a1', 'b1', 'a2', 'b2']);
  });

  test('with no sources ends at once', async () => {
    expect(await guard(collect(merge()))).toEqual([]);
  });

  test('reads each source at most one value ahead of the consumer', async () => {
    let produced = 0;
    const fast = (function* () {
      for (let i = 0; i < 1_000; i++) {
        produced++;
        yield i;
      }
    })();
    const merged = merge<number | string>(fast, slow(['x'], 1_000).generator);
    for (let i = 0; i < 3; i++) expect((await merged.next()).value).toBe(i);
    await sleep(10);
    expect(produced).toBeLessThanOrEqual(3 + 2);
    await merged.return();
  });

  test('an error in one source closes the others and follows the values that arrived before it', async () => {
    const boom = new Error('source failed');
    const other = slow(['late'], 100);
    const failing = (async function* () {
      yield 'first';
      await sleep(10);
      throw boom;
    })();
    const seen: string[] = [];
    const merged = merge<string>(failing, other.generator);
    await expect(
      guard(
        (async () => {
          for await (const value of merged) seen.push(value);
        })(),
      ),
    ).rejects.toBe(boom);
    expect(seen).toEqual(['first']);
    await sleep(250); // the closed generator's finally runs when its pending await resolves
    expect(other.state.closed).toBe(true);
    expect(await merged.next()).toEqual({ value: undefined, done: true });
  });

  test('return() settles at once while waiting and closes every source', async () => {
    const first = slow(['a', 'b'], 20);
    const stream = { cancelled: false };
    const merged = merge<string>(first.generator, eagerStream(['never'], 1_000, stream));
    expect((await merged.next()).value).toBe('a');
    const waiting = merged.next();
    await guard(merged.return(), 100);
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(stream.cancelled).toBe(true);
    await sleep(40);
    expect(first.state.closed).toBe(true);
  });
});

describe('fallback', () => {
  const options = {
    timeoutMs: 30,
    placeholder: (id: string) => [`<placeholder ${id}>`],
    late: async function* (id: string, content: AsyncIterable<string> | Iterable<string>) {
      yield `<late ${id}>`;
      yield* content;
      yield `</late ${id}>`;
    },
  };

  test('a stream that answers in time takes its own place', async () => {
    const page = fallbackSequencer<string>(options);
    page.chain(['<header>']);
    page.chainWithFallback(slow(['fast content'], 5).generator);
    page.chain(['<footer>']);
    page.chain(null);
    expect(await guard(collect(page.sequence))).toEqual(['<header>', 'fast content', '<footer>']);
  });

  test('a slow stream gives way to a placeholder and arrives at the tail with the linking id', async () => {
    const page = fallbackSequencer<string>(options);
    const times: Record<string, number> = {};
    const started = performance.now();
    page.chain(['<header>']);
    const id = page.chainWithFallback(slow(['slow content'], 300).generator);
    page.chain(['<footer>']);
    page.chain(null);
    const output: string[] = [];
    for await (const html of page.sequence) {
      output.push(html);
      times[html] = performance.now() - started;
    }
    expect(id).toBe('fallback-1');
    expect(output).toEqual([
      '<header>',
      '<placeholder fallback-1>',
      '<footer>',
      '<late fallback-1>',
      'slow content',
      '</late fallback-1>',
    ]);
    // The footer waited for the timeout, not for the slow stream.
    expect(times['<footer>']!).toBeLessThan(times['slow content']! * 0.5);
  });

  test('the raced stream starts producing at once, before the output reaches it', async () => {
    const page = fallbackSequencer<string>(options);
    const raced = slow(['content'], 5);
    const chainedAt = performance.now();
    page.chain(['x']);
    page.chainWithFallback(raced.generator);
    page.chain(null);
    await sleep(20);
    const readAt = performance.now();
    expect(raced.state.started).toBeGreaterThanOrEqual(chainedAt);
    expect(raced.state.started).toBeLessThan(readAt);
    expect(await guard(collect(page.sequence))).toEqual(['x', 'content']);
  });

  test('late streams join the tail in the order their first values arrive', async () => {
    const page = fallbackSequencer<string>({ ...options, late: undefined });
    page.chainWithFallback(slow(['slower'], 150).generator, { id: 'a' });
    page.chainWithFallback(slow(['slow'], 60).generator, { id: 'b' });
    page.chain(null);
    expect(await guard(collect(page.sequence))).toEqual(['<placeholder a>', '<placeholder b>', 'slow', 'slower']);
  });

  test('a stream whose first value is there when the output reaches it keeps its place past the deadline', async () => {
    const page = fallbackSequencer<string>(options);
    page.chainWithFallback(slow(['content'], 5).generator);
    page.chain(null);
    await sleep(80); // the consumer arrives long after the deadline
    expect(await guard(collect(page.sequence))).toEqual(['content']);
  });

  test('cancelling the output closes raced, late and placed streams', async () => {
    const page = fallbackSequencer<string>(options);
    const late = slow(['late content'], 40);
    const racing = { cancelled: false };
    page.chain(['start']);
    page.chainWithFallback(late.generator);
    page.chain(slow(['blocking'], 60).generator);
    page.chainWithFallback(eagerStream(['never read'], 1_000, racing));
    page.chain(null);
    const output = page.sequence;
    expect((await output.next()).value).toBe('start');
    expect((await output.next()).value).toBe('<placeholder fallback-1>');
    await guard(output.return(), 100);
    await sleep(60);
    expect(racing.cancelled).toBe(true);
    expect(late.state.closed).toBe(true);
  });

  test('an error in the raced stream composes with errorBoundary', async () => {
    const page = fallbackSequencer<string>(options);
    const broken = (async function* (): AsyncGenerator<string> {
      throw new Error('render failed');
    })();
    page.chainWithFallback(errorBoundary(broken, () => ['<error>']));
    page.chain(['after']);
    page.chain(null);
    expect(await guard(collect(page.sequence))).toEqual(['<error>', 'after']);
  });

  test('chainWithFallback after chain(null) throws, and after cancellation closes the stream at once', async () => {
    const ended = fallbackSequencer<string>(options);
    ended.chain(null);
    expect(() => ended.chainWithFallback(['x'])).toThrow(TypeError);
    const cancelled = fallbackSequencer<string>(options);
    await cancelled.sequence.return();
    const stream = { cancelled: false };
    cancelled.chainWithFallback(eagerStream(['never'], 1_000, stream));
    expect(stream.cancelled).toBe(true);
  });

  test('a negative timeout is a RangeError', () => {
    const page = fallbackSequencer<string>(options);
    expect(() => page.chainWithFallback([], { timeoutMs: -1 })).toThrow(RangeError);
  });
});

describe('error boundary', () => {
  test('an error becomes fallback content in place, after the values read before it, and the output goes on', async () => {
    const { sequence, chain } = asyncIterableSequencer<string>();
    chain(['before']);
    chain(
      errorBoundary(
        (async function* () {
          yield 'partial';
          throw new Error('broken');
        })(),
        (error) => [`recovered from ${(error as Error).message}`],
      ),
    );
    chain(['after']);
    chain(null);
    expect(await guard(collect(sequence))).toEqual(['before', 'partial', 'recovered from broken', 'after']);
  });

  test('a rejected promise of a stream is recovered too', async () => {
    const output = errorBoundary<string>(Promise.reject(new Error('no stream')), () => eagerStream(['fallback'], 5));
    expect(await guard(collect(output))).toEqual(['fallback']);
  });

  test('a stream without errors passes through untouched', async () => {
    expect(await guard(collect(errorBoundary(['a', 'b'], () => ['never'])))).toEqual(['a', 'b']);
  });

  test('an error thrown by recover propagates', async () => {
    const second = new Error('recover failed');
    const output = errorBoundary<string>(
      (async function* (): AsyncGenerator<string> {
        throw new Error('first');
      })(),
      () => {
        throw second;
      },
    );
    await expect(guard(collect(output))).rejects.toBe(second);
  });

  test('closing the boundary before it was read cancels its source', async () => {
    const state = { cancelled: false };
    const boundary = errorBoundary(eagerStream(['x'], 1_000, state), () => []);
    await boundary.return();
    expect(state.cancelled).toBe(true);
    expect(await boundary.next()).toEqual({ value: undefined, done: true });
  });
});

describe('weaving weavers', () => {
  /** An inner weaver: seeds exploded into sections, as a readable stream. */
  const sectionsWeaver = (seeds: Section[], finished: string[]) =>
    toReadableStream(seeds).pipeThrough(explodeStream(writer(finished)));

  test("a weaver's readable chains into another weaver as one iterable, in order, produced in parallel", async () => {
    const finished: string[] = [];
    const inner = sectionsWeaver(
      ['a', 'b', 'c'].map((title) => ({ title, ms: 60, children: [{ title: `${title}.1`, ms: 20 }] })),
      finished,
    );
    const page = new ConductorStream<string, string>({
      start(chain) {
        chain(['<html>']);
      },
      transform(part, chain) {
        if (part === 'SECTIONS') chain(inner);
        else chain(eagerStream([part], part === 'slow header' ? 60 : 0));
      },
      finish(chain) {
        chain(['</html>']);
      },
    });
    const started = performance.now();
    const output = await guard(collect(toReadableStream(['slow header', 'SECTIONS', 'footer']).pipeThrough(page)));
    const elapsed = performance.now() - started;
    expect(output).toEqual(['<html>', 'slow header', 'a', 'a.1', 'b', 'b.1', 'c', 'c.1', 'footer', '</html>']);
    // The header (60 ms) and the inner weaver's sections (3 x (60 + 20) ms) ran at the same time.
    expect(elapsed).toBeLessThan(300 * 0.6);
  });

  test('cancelling the outer weaver cancels the inner one and closes its chained streams', async () => {
    const innerStream = { cancelled: false };
    const inner = new ConductorStream<string, string>({
      transform(part, chain) {
        chain([part]);
        chain(eagerStream(['never'], 1_000, innerStream));
      },
    });
    const innerOutput = toReadableStream(['inner']).pipeThrough(inner);
    const outer = asyncIterableSequencer<string>();
    outer.chain(['outer']);
    outer.chain(innerOutput);
    outer.chain(null);
    expect((await outer.sequence.next()).value).toBe('outer');
    expect((await outer.sequence.next()).value).toBe('inner');
    await guard(outer.sequence.return());
    await sleep(10);
    expect(innerStream.cancelled).toBe(true);
  });
});

describe('toReadableStream', () => {
  test('cancelling the stream closes a started generator, so its finally runs', async () => {
    const source = slow(['a', 'b', 'c'], 5);
    const reader = toReadableStream(source.generator).getReader();
    expect((await reader.read()).value).toBe('a');
    await reader.cancel();
    await sleep(20);
    expect(source.state.closed).toBe(true);
  });

  test('an error from the source errors the stream', async () => {
    const boom = new Error('source failed');
    const stream = toReadableStream(
      (async function* () {
        yield 1;
        throw boom;
      })(),
    );
    await expect(guard(collect(stream))).rejects.toBe(boom);
  });
});
