// Plan introspection (issue 9) in one context: the plan tree of a known weave, its timings, plan
// paths on errors, and the HTML timeline. The bridge's side is in trace-bridge.test.ts.
import { afterEach, describe, expect, test } from 'vitest';
import {
  asyncIterableSequencer,
  ConductorStream,
  errorBoundary,
  explode,
  planPathOf,
  startTrace,
  toReadableStream,
  traceLabel,
  traceToHtml,
  type Trace,
  type TraceNodeJSON,
  type Tracer,
} from '../../src/index.ts';
import { collect, traceShape } from '../helpers.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function* agent(name: string, count: number, failAt = -1): AsyncGenerator<string> {
  for (let i = 0; i < count; i++) {
    await tick(1);
    if (i === failAt) throw new RangeError(`${name} ran out of words`);
    yield `${name} ${i}`;
  }
}

/** A document of two sections, each a heading and two agents; `failIn` makes one agent fail at its second item. */
function documentWeave(failIn?: string): AsyncGenerator<string, void, undefined> {
  const doc = asyncIterableSequencer<string>();
  traceLabel(doc.sequence, 'document');
  for (const title of ['history', 'future']) {
    const section = asyncIterableSequencer<string>();
    section.chain([`# ${title}`, '\n'], { label: 'heading' });
    for (const era of ['1890s', '1900s']) {
      section.chain(agent(era, 3, failIn === `${title}/${era}` ? 1 : -1), { label: `agent "${era}"` });
    }
    section.chain(null);
    doc.chain(section.sequence, { label: `section "${title}"` });
  }
  doc.chain(null);
  return doc.sequence;
}

/** Every node's own times are in order: chained <= first produced <= last produced <= done. */
function expectOrdered(node: TraceNodeJSON): void {
  const chain = [node.chained, node.firstProduced, node.lastProduced, node.done].filter((t): t is number => t !== null);
  for (let i = 1; i < chain.length; i++) expect(chain[i], `${node.label}: ${chain.join(' <= ')}`).toBeGreaterThanOrEqual(chain[i - 1]!);
  if (node.firstConsumed !== null && node.done !== null) expect(node.done).toBeGreaterThanOrEqual(node.firstConsumed);
}

let tracer: Tracer | undefined;
afterEach(() => {
  tracer?.stop();
  tracer = undefined;
});

describe('the plan tree of a local weave', () => {
  test('a nested weave gives the expected tree of labels, kinds, contexts, counts and outcomes', async () => {
    tracer = startTrace();
    const values = await collect(documentWeave());
    const trace = tracer.stop();
    expect(values).toHaveLength(16);
    expect(traceShape(trace)).toEqual([
      'document [sequence, main, 16, done]',
      '  section "history" [sequence, main, 8, done]',
      '    heading [array, main, 2, done]',
      '    agent "1890s" [generator, main, 3, done]',
      '    agent "1900s" [generator, main, 3, done]',
      '  section "future" [sequence, main, 8, done]',
      '    heading [array, main, 2, done]',
      '    agent "1890s" [generator, main, 3, done]',
      '    agent "1900s" [generator, main, 3, done]',
    ]);
    const ids = new Set(trace.nodes.map((n) => n.id));
    for (const node of trace.nodes) if (node.parent !== null) expect(ids.has(node.parent)).toBe(true);
    expect(trace.nodes.every((n) => n.named)).toBe(true);
    expect(trace.format).toBe('stream-weaver-trace');
    expect(JSON.parse(JSON.stringify(tracer))).toEqual(trace);
  });

  test('timestamps are ordered per node, and a sequence spans its children', async () => {
    tracer = startTrace();
    await collect(documentWeave());
    const trace = tracer.stop();
    for (const node of trace.nodes) expectOrdered(node);
    const byId = new Map(trace.nodes.map((n) => [n.id, n]));
    for (const node of trace.nodes) {
      const parent = node.parent === null ? undefined : byId.get(node.parent);
      if (parent === undefined) continue;
      expect(node.firstProduced!).toBeGreaterThanOrEqual(parent.firstProduced!);
      expect(node.done!).toBeLessThanOrEqual(parent.done!);
    }
    // The agents sleep before every item: the consumer's waits on them are recorded.
    const agents = trace.nodes.filter((n) => n.label.startsWith('agent'));
    expect(agents.every((n) => n.waitMs > 0)).toBe(true);
    expect(trace.nodes[0]!.waitMs).toBeGreaterThanOrEqual(agents.reduce((sum, n) => sum + n.waitMs, 0) - 0.01);
  });

  test('a conductor is a node whose chained streams are its children, named by its label', async () => {
    tracer = startTrace();
    const conductor = new ConductorStream<string, string>({
      label: 'expand topics',
      transform(topic, chain) {
        chain(agent(topic, 2), { label: `agent "${topic}"` });
      },
    });
    const doc = asyncIterableSequencer<string>();
    doc.chain(toReadableStream(['a', 'b']).pipeThrough(conductor), { label: 'body' });
    doc.chain(null);
    expect(await collect(doc.sequence)).toEqual(['a 0', 'a 1', 'b 0', 'b 1']);
    expect(traceShape(tracer.stop())).toEqual([
      'sequence [sequence, main, 4, done]',
      '  body [conductor, main, 4, done]',
      '    agent "a" [generator, main, 2, done]',
      '    agent "b" [generator, main, 2, done]',
      // The input, piped rather than chained, is a tree of its own.
      'toReadableStream [sequence, main, 2, done]',
      '  array [array, main, 2, done]',
    ]);
  });

  test('explode nodes take their label from options.label, and a boundary is the node it guards', async () => {
    tracer = startTrace();
    interface Section { title: string; children: Section[] }
    const outline: Section = { title: 'root', children: [{ title: 'a', children: [] }, { title: 'b', children: [] }] };
    const output = explode<Section, string>(
      outline,
      (section, { chain, explode: child }) => {
        chain([section.title]);
        section.children.forEach(child);
      },
      { label: (section) => `section "${section.title}"` },
    );
    const doc = asyncIterableSequencer<string>();
    doc.chain(errorBoundary(output, () => ['(failed)']), { label: 'outline' });
    doc.chain(null);
    expect(await collect(doc.sequence)).toEqual(['root', 'a', 'b']);
    expect(traceShape(tracer.stop())).toEqual([
      'sequence [sequence, main, 3, done]',
      '  outline [sequence, main, 3, done]',
      '    array [array, main, 1, done]',
      '    section "a" [sequence, main, 1, done]',
      '      array [array, main, 1, done]',
      '    section "b" [sequence, main, 1, done]',
      '      array [array, main, 1, done]',
    ]);
  });

  test('a cancelled read marks the node being read and the pending ones cancelled', async () => {
    tracer = startTrace();
    const doc = documentWeave();
    for await (const value of doc) if (value === '1890s 0') break;
    const trace = tracer.stop();
    const outcome = (label: string) => trace.nodes.filter((n) => n.label === label).map((n) => n.outcome);
    expect(outcome('document')).toEqual(['cancelled']);
    expect(outcome('agent "1890s"')).toEqual(['cancelled', 'cancelled']);
    expect(outcome('heading')).toEqual(['done', 'cancelled']);
  });

  test('maxNodes bounds the trace: later chains are counted, not recorded', async () => {
    tracer = startTrace({ maxNodes: 3 });
    await collect(documentWeave());
    const trace = tracer.stop();
    expect(trace.nodes.length).toBeLessThanOrEqual(3);
    expect(trace.droppedNodes).toBeGreaterThan(0);
  });
});

describe('plan paths on errors', () => {
  test('an error deep in the weave reaches the consumer as itself, with its plan path in a property and the message tail', async () => {
    tracer = startTrace();
    const error = await collect(documentWeave('future/1900s')).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RangeError);
    const e = error as RangeError & { planPath: string[] };
    expect(e.planPath).toEqual(['document', 'section "future"', 'agent "1900s"']);
    expect(planPathOf(e)).toBe(e.planPath);
    expect(e.message).toBe('1900s ran out of words (plan: document > section "future" > agent "1900s")');
    expect(e.stack!.startsWith(`RangeError: ${e.message}`)).toBe(true);
    expect(Object.keys(e)).not.toContain('planPath');
    const trace = tracer.stop();
    const failed = trace.nodes.filter((n) => n.outcome === 'error').map((n) => n.label);
    expect(failed).toEqual(['document', 'section "future"', 'agent "1900s"']);
    expect(trace.nodes.find((n) => n.error !== undefined)!.error).toBe('RangeError: 1900s ran out of words');
  });

  test('the path crosses a conductor: unlabelled levels are left out, the failing node is named by its kind', async () => {
    tracer = startTrace();
    const conductor = new ConductorStream<string, string>({
      label: 'chapters',
      transform(topic, chain) {
        const inner = asyncIterableSequencer<string>();
        inner.chain(agent(topic, 3, topic === 'b' ? 2 : -1));
        inner.chain(null);
        chain(inner.sequence, { label: `chapter "${topic}"` });
      },
    });
    const error = await collect(toReadableStream(['a', 'b']).pipeThrough(conductor)).catch((e: unknown) => e);
    expect(planPathOf(error)).toEqual(['chapters', 'chapter "b"', 'async generator']);
  });

  test('a rejected promise chained in place fails with the path of its place', async () => {
    tracer = startTrace();
    const doc = asyncIterableSequencer<string>();
    traceLabel(doc.sequence, 'page');
    doc.chain(['a']);
    doc.chain(Promise.reject(new TypeError('no comments')), { label: 'comments' });
    doc.chain(null);
    const error = await collect(doc.sequence).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(planPathOf(error)).toEqual(['page', 'comments']);
  });

  test('an error boundary sees the plan path of the error it recovers from', async () => {
    tracer = startTrace();
    let seen: string[] | undefined;
    const doc = asyncIterableSequencer<string>();
    doc.chain(
      errorBoundary(documentWeave('history/1890s'), (error) => {
        seen = planPathOf(error);
        return ['(section failed)'];
      }),
      { label: 'guarded' },
    );
    doc.chain(null);
    const values = await collect(doc.sequence);
    expect(values.at(-1)).toBe('(section failed)');
    expect(seen).toEqual(['guarded', 'section "history"', 'agent "1890s"']);
  });

  test('with tracing off, errors pass untouched and nothing is recorded', async () => {
    const error = await collect(documentWeave('future/1900s')).catch((e: unknown) => e);
    expect((error as Error).message).toBe('1900s ran out of words');
    expect(planPathOf(error)).toBeUndefined();
    tracer = startTrace();
    expect(tracer.stop().nodes).toEqual([]);
  });

  test('a thrown non-object is passed on as it is', async () => {
    tracer = startTrace();
    const doc = asyncIterableSequencer<string>();
    doc.chain(
      (async function* () {
        yield 'x';
        throw 'plain string';
      })(),
    );
    doc.chain(null);
    await expect(collect(doc.sequence)).rejects.toBe('plain string');
  });
});

describe('startTrace', () => {
  test('one trace at a time: a second start throws a TypeError; stop is idempotent', () => {
    tracer = startTrace();
    expect(() => startTrace()).toThrow(TypeError);
    expect(tracer.active).toBe(true);
    const first = tracer.stop();
    expect(tracer.active).toBe(false);
    expect(tracer.stop().durationMs).toBe(first.durationMs);
  });

  test('bad options throw RangeError', () => {
    expect(() => startTrace({ maxNodes: -1 })).toThrow(RangeError);
    expect(() => startTrace({ minWaitMs: Number.NaN })).toThrow(RangeError);
  });
});

describe('the HTML timeline', () => {
  test('is one self-contained page with an SVG holding one row per node', async () => {
    tracer = startTrace();
    await collect(documentWeave('future/1900s')).catch(() => {});
    const trace = tracer.stop();
    const html = traceToHtml(trace, { title: 'a <document>', collapseRuns: 0 });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.match(/<svg /g)).toHaveLength(1);
    const rows = [...html.matchAll(/<g class="row" data-ids="(\d+)"/g)].map((m) => Number(m[1]));
    expect(rows).toEqual(trace.nodes.map((n) => n.id));
    expect(html).toContain('a &lt;document&gt;');
    expect(html).toContain('section &quot;future&quot;');
    expect(html).not.toMatch(/<script|src=|href=/);
    expect(html).toContain('class="mark error"');
    expect(html).toContain('class="wait"');
  });

  test('collapses runs of unlabelled sibling leaves into one row', async () => {
    tracer = startTrace();
    const doc = asyncIterableSequencer<string>();
    for (let i = 0; i < 50; i++) doc.chain([`token ${i}`]);
    doc.chain(null);
    await collect(doc.sequence);
    const trace = tracer.stop();
    expect(trace.nodes).toHaveLength(51);
    const html = traceToHtml(trace);
    expect(html.match(/<g class="row"/g)).toHaveLength(2);
    expect(html).toContain('50 × array');
  });
});
