// Plan tracing across contexts (issue 9): a weave whose sections are produced in a real worker
// thread, and over a real WebSocket to a server in another worker thread. The remote nodes hang
// under the local nodes that chained them, their times fall inside their parents' once mapped onto
// the local clock, and an error deep in the remote plan reaches the consumer with its whole path.
import type { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import { webSocketEndpoint } from '../../adapters/websocket.ts';
import { nodeWorkerEndpoint, startTsWorker } from '../../adapters/worker-threads.ts';
import {
  asyncIterableSequencer,
  ConnectionClosedError,
  decodeFrame,
  explode,
  DEFAULT_LIMITS,
  planPathOf,
  ProtocolError,
  sessionOf,
  startTrace,
  traceLabel,
  traceToHtml,
  wrap,
  type Remote,
  type Trace,
  type TraceNodeJSON,
  type Tracer,
} from '../../src/index.ts';
import type { traceHandlers } from './fixtures/trace-handlers.ts';
import { collect, traceShape } from '../helpers.ts';

type Api = Remote<typeof traceHandlers>;
const ENTRY = new URL('./fixtures/trace-worker.ts', import.meta.url);

let tracer: Tracer | undefined;
afterEach(() => {
  tracer?.stop();
  tracer = undefined;
});

/** The document: a title, then one remote section per title; `fail` names `title/era` to fail. */
function documentOf(remote: Api, titles: string[], fail?: string): AsyncGenerator<string, void, undefined> {
  const doc = asyncIterableSequencer<string>();
  traceLabel(doc.sequence, 'document');
  doc.chain(['# Document\n'], { label: 'title' });
  for (const title of titles) {
    const failEra = fail?.startsWith(`${title}/`) ? fail.slice(title.length + 1) : null;
    doc.chain(remote.section(title, failEra), { label: `section "${title}"` });
  }
  doc.chain(null);
  return doc.sequence;
}

/** The expected tree of a document of `titles`, each section produced in `peer`. */
function expectedShape(titles: string[], peer: string): string[] {
  const lines = [`document [sequence, main, ${1 + 9 * titles.length}, done]`, '  title [array, main, 1, done]'];
  for (const title of titles) {
    lines.push(
      `  section "${title}" [sequence, ${peer}, 9, done]`,
      `    array [array, ${peer}, 1, done]`,
      `    agent "1890s" [generator, ${peer}, 3, done]`,
      `    agent "1900s" [generator, ${peer}, 3, done]`,
      `    appendix [sequence, ${peer}, 2, done]`,
      `      agent "notes" [generator, ${peer}, 2, done]`,
    );
  }
  return lines;
}

/**
 * Every node's times are ordered, and the producer's times of a remote node fall inside its
 * parent's interval [chained, done], within the clock mapping's precision.
 */
function expectTimesConsistent(trace: Trace): void {
  const slack = Math.max(...trace.clocks.map((c) => c.precisionMs ?? 0), 0) + 0.01;
  const byId = new Map(trace.nodes.map((n) => [n.id, n]));
  for (const node of trace.nodes) {
    const own = [node.chained, node.firstProduced, node.lastProduced, node.done].filter((t): t is number => t !== null);
    for (let i = 1; i < own.length; i++) expect(own[i]! + slack, `${node.label}: ${own.join(' <= ')}`).toBeGreaterThanOrEqual(own[i - 1]!);
    const parent: TraceNodeJSON | undefined = node.parent === null ? undefined : byId.get(node.parent);
    if (node.remote === undefined || parent === undefined) continue;
    for (const t of [node.remote.opened, node.remote.firstProduced, node.remote.lastProduced, node.remote.done]) {
      expect(t).not.toBeNull();
      expect(t! + slack, `${node.label} produced after its parent ${parent.label} was chained`).toBeGreaterThanOrEqual(parent.chained!);
      expect(t! - slack, `${node.label} produced before its parent ${parent.label} was done`).toBeLessThanOrEqual(parent.done!);
    }
  }
}

describe('across a real worker thread', () => {
  let worker: Worker;
  let remote: Api;
  beforeAll(async () => {
    worker = startTsWorker(ENTRY);
    remote = wrap<typeof traceHandlers>(nodeWorkerEndpoint(worker));
    await collect(await remote.section('warm-up', null)); // the handshake is done, the worker's modules are loaded
  });
  afterAll(async () => {
    sessionOf(remote).close();
    await worker.terminate();
  });

  test('the plan tree has the expected shape, labels, contexts and counts; remote nodes sit under the local nodes that chained them', async () => {
    tracer = startTrace();
    const text = await collect(documentOf(remote, ['history', 'future']));
    const trace = tracer.stop();
    expect(text).toHaveLength(19);
    const peer = `worker ${worker.threadId}`;
    expect(traceShape(trace)).toEqual(expectedShape(['history', 'future'], peer));
    // The producer's side came back with every remote stream.
    for (const node of trace.nodes.filter((n) => n.context === peer && n.kind === 'generator')) {
      expect(node.remote).toMatchObject({ items: node.items, outcome: 'done' });
      expect(node.bytes).toBeGreaterThan(0);
    }
    expect(trace.clocks).toEqual([{ context: peer, offsetMs: expect.any(Number), rttMs: expect.any(Number), precisionMs: expect.any(Number) }]);
  });

  test('timestamps are ordered, and remote ones fall inside their parent once mapped onto the local clock', async () => {
    tracer = startTrace();
    await collect(documentOf(remote, ['history', 'future']));
    const trace = tracer.stop();
    expectTimesConsistent(trace);
    // Both threads read one machine's clock: the estimated offset is within its stated precision of 0.
    const clock = trace.clocks[0]!;
    expect(Math.abs(clock.offsetMs!)).toBeLessThanOrEqual(clock.precisionMs! + 1);
  });

  test('an error deep in the remote plan reaches the consumer as its revived class, with the plan path from the local root', async () => {
    tracer = startTrace();
    const error = await collect(documentOf(remote, ['history', 'future'], 'future/notes')).catch((e: unknown) => e);
    const trace = tracer.stop();
    expect(error).toBeInstanceOf(RangeError);
    expect(planPathOf(error)).toEqual(['document', 'section "future"', 'appendix', 'agent "notes"']);
    expect((error as Error).message).toBe('agent notes lost the thread (plan: document > section "future" > appendix > agent "notes")');
    const failed = trace.nodes.find((n) => n.error !== undefined)!;
    expect(failed).toMatchObject({ label: 'agent "notes"', context: `worker ${worker.threadId}`, outcome: 'error' });
    expect(failed.remote?.outcome).toBe('error');
  });

  test('a call made before the handshake is traced too', async () => {
    const fresh = startTsWorker(ENTRY);
    try {
      tracer = startTrace();
      const early = wrap<typeof traceHandlers>(nodeWorkerEndpoint(fresh));
      await collect(documentOf(early, ['early']));
      const trace = tracer.stop();
      expect(traceShape(trace)).toEqual(expectedShape(['early'], `worker ${fresh.threadId}`));
      sessionOf(early).close();
    } finally {
      await fresh.terminate();
    }
  });

  test('a lost worker fails the weave with the shared ConnectionClosedError, left without a plan path', async () => {
    const doomed = startTsWorker(ENTRY);
    const lost = wrap<typeof traceHandlers>(nodeWorkerEndpoint(doomed));
    tracer = startTrace();
    const reading = (async () => {
      let n = 0;
      for await (const _ of documentOf(lost, ['history'])) if (++n === 2) void doomed.terminate();
    })();
    const error = await reading.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect(planPathOf(error)).toBeUndefined();
    expect(tracer.stop().nodes.some((n) => n.outcome === 'error')).toBe(true);
  });

  test('a remote stream that an explode node reads itself shows under that node through traceInput', async () => {
    tracer = startTrace();
    const text = await collect(
      explode<string, string>(
        'history',
        async (title, { chain, traceInput }) => {
          const tokens = await remote.section(title, null);
          traceInput(tokens, { label: 'tokens' });
          for await (const token of tokens) chain([token.toUpperCase()]);
        },
        { label: (title) => `agent "${title}"` },
      ),
    );
    const trace = tracer.stop();
    expect(text).toHaveLength(9);
    const peer = `worker ${worker.threadId}`;
    expect(traceShape(trace).slice(0, 7)).toEqual([
      'agent "history" [sequence, main, 9, done]',
      `  tokens [sequence, ${peer}, 9, done]`,
      `    array [array, ${peer}, 1, done]`,
      `    agent "1890s" [generator, ${peer}, 3, done]`,
      `    agent "1900s" [generator, ${peer}, 3, done]`,
      `    appendix [sequence, ${peer}, 2, done]`,
      `      agent "notes" [generator, ${peer}, 2, done]`,
    ]);
    expect(trace.nodes.slice(7).every((n) => n.kind === 'array' && n.context === 'main')).toBe(true);
  });

  test('the timeline of a cross-context trace draws one row per node in two context colours', async () => {
    tracer = startTrace();
    await collect(documentOf(remote, ['history']));
    const trace = tracer.stop();
    const html = traceToHtml(trace, { collapseRuns: 0 });
    expect(html.match(/<g class="row"/g)).toHaveLength(trace.nodes.length);
    expect(new Set([...html.matchAll(/data-context="([^"]+)"/g)].map((m) => m[1]))).toEqual(new Set(['main', `worker ${worker.threadId}`]));
    expect(html).toContain('peer clock');
  });
});

describe('across a real WebSocket', () => {
  let server: Worker;
  let socket: WebSocket;
  let remote: Api;
  beforeAll(async () => {
    server = startTsWorker(ENTRY, { workerData: { ws: true } });
    const { port } = await new Promise<{ port: number }>((resolve) => server.once('message', resolve));
    socket = new WebSocket(`ws://127.0.0.1:${port}/`);
    remote = wrap<typeof traceHandlers>(webSocketEndpoint(socket));
    await collect(await remote.section('warm-up', null));
  });
  afterAll(async () => {
    sessionOf(remote).close();
    await server.terminate();
  });

  test('the plan tree crosses the socket: the server names itself, times map onto the local clock', async () => {
    tracer = startTrace();
    await collect(documentOf(remote, ['history']));
    const trace = tracer.stop();
    expect(traceShape(trace)).toEqual(expectedShape(['history'], 'ws server'));
    expectTimesConsistent(trace);
  });

  test('an error deep in the remote plan keeps its class and gets its plan path', async () => {
    tracer = startTrace();
    const error = await collect(documentOf(remote, ['history'], 'history/1900s')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RangeError);
    expect(planPathOf(error)).toEqual(['document', 'section "history"', 'agent "1900s"']);
  });
});

describe('trace frames on the wire', () => {
  const decode = (frame: unknown) => () => decodeFrame(frame, DEFAULT_LIMITS);

  test('requests and records that follow the protocol are accepted', () => {
    expect(decode({ t: 'trace', c: 3 })).not.toThrow();
    expect(decode({ t: 'trace', n: [{ s: 1, l: 'agent', k: 'it', o: 1.5 }], x: 'worker 1', o: -0.2, r: 0.4 })).not.toThrow();
    expect(decode({ t: 'trace', n: [{ s: 1, f: 1, p: 2, d: 3, n: 4, b: 5, e: 'cancelled' }] })).not.toThrow();
    expect(decode({ t: 'hello', w: 1, wb: 1, sb: 1, ck: 1.5 })).not.toThrow();
    expect(decode({ t: 'welcome', w: 1, wb: 1, sb: 1, ck: 1.5, ek: 1 })).not.toThrow();
  });

  test.each([
    ['neither a request nor records', { t: 'trace' }],
    ['both a request and records', { t: 'trace', c: 1, n: [{ s: 1 }] }],
    ['a negative call id', { t: 'trace', c: -1 }],
    ['no records', { t: 'trace', n: [] }],
    ['too many records', { t: 'trace', n: Array.from({ length: 257 }, () => ({ s: 1 })) }],
    ['a record without a stream id', { t: 'trace', n: [{ l: 'x' }] }],
    ['an unknown stream kind', { t: 'trace', n: [{ s: 1, k: 'zz' }] }],
    ['an unknown outcome', { t: 'trace', n: [{ s: 1, e: 'maybe' }] }],
    ['a time that is not a number', { t: 'trace', n: [{ s: 1, d: '3' }] }],
    ['an infinite time', { t: 'trace', n: [{ s: 1, f: Number.POSITIVE_INFINITY }] }],
    ['a label too long', { t: 'trace', n: [{ s: 1, l: 'x'.repeat(257) }] }],
    ['a context name that is not a string', { t: 'trace', n: [{ s: 1 }], x: 7 }],
    ['a negative round trip', { t: 'trace', n: [{ s: 1 }], o: 0, r: -1 }],
    ['a hello clock that is not a number', { t: 'hello', w: 1, wb: 1, sb: 1, ck: 'now' }],
    ['an echo on a hello', { t: 'hello', w: 1, wb: 1, sb: 1, ek: 1 }],
    ['a welcome echo that is NaN', { t: 'welcome', w: 1, wb: 1, sb: 1, ck: 1, ek: Number.NaN }],
  ])('%s is a ProtocolError', (_name, frame) => {
    expect(decode(frame)).toThrow(ProtocolError);
  });
});
