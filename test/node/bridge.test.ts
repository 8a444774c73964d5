import { afterEach, describe, expect, test } from 'vitest';
import {
  asyncIterableSequencer,
  ConnectionClosedError,
  DEFAULT_FLOW,
  expose,
  LimitExceededError,
  memoryEndpointPair,
  ProtocolError,
  SerializationError,
  Session,
  superjsonCodec,
  VersionMismatchError,
  wrap,
  type CallContext,
} from '../../src/index.ts';
import { collect, delay, within } from '../helpers.ts';

const sessions: Session[] = [];
afterEach(() => {
  for (const session of sessions.splice(0)) session.close();
});

function pair<T extends object>(handlers: T, options: Parameters<typeof memoryEndpointPair>[0] = {}) {
  const [a, b] = memoryEndpointPair(options);
  const server = expose(handlers, a);
  const client = new Session(b);
  sessions.push(server, client);
  return { server, client, remote: client.remote<T>(), a, b };
}

class PointError extends Error {
  constructor(
    message: string,
    readonly x = 0,
  ) {
    super(message);
    this.name = 'PointError';
  }
}

describe('expose and wrap over a MessageChannel', () => {
  test('a remote async generator is chained into a local sequencer between local iterables', async () => {
    const { port1, port2 } = new MessageChannel();
    const handlers = {
      async *count(n: number) {
        for (let i = 0; i < n; i++) yield i;
      },
    };
    const server = expose(handlers, port1);
    const remote = wrap<typeof handlers>(port2);
    const { sequence, chain } = asyncIterableSequencer<number | string>();
    chain(['before']);
    chain(remote.count(3));
    chain(['after']);
    chain(null);
    expect(await within(collect(sequence))).toEqual(['before', 0, 1, 2, 'after']);
    server.close();
  });

  test('a call to a missing handler rejects with a TypeError and the session stays usable', async () => {
    const { remote } = pair({ ok: () => 1 } as object);
    await expect((remote as { nope(): Promise<unknown> }).nope()).rejects.toBeInstanceOf(TypeError);
    await expect((remote as { toString(): Promise<unknown> }).toString()).rejects.toBeInstanceOf(TypeError);
    expect(await (remote as { ok(): Promise<number> }).ok()).toBe(1);
  });
});

describe('nested streams', () => {
  test('three levels produced in parallel arrive in chain order while finishing in another order', async () => {
    const finished: string[] = [];
    const leaf = async function* (name: string, ms: number) {
      await delay(ms);
      yield name;
      finished.push(name);
    };
    const handlers = {
      tree() {
        const root = asyncIterableSequencer<string>();
        for (const [section, ms] of [['a', 120], ['b', 60], ['c', 10]] as const) {
          const mid = asyncIterableSequencer<string>();
          mid.chain([`${section}:start`]);
          const inner = asyncIterableSequencer<string>();
          inner.chain(leaf(`${section}.1`, ms));
          inner.chain(leaf(`${section}.2`, ms / 2));
          inner.chain(null);
          mid.chain(inner.sequence);
          mid.chain(null);
          root.chain(mid.sequence);
        }
        root.chain(null);
        return root.sequence;
      },
    };
    const { remote } = pair(handlers);
    const started = performance.now();
    const output = await within(collect(await remote.tree()));
    const wall = performance.now() - started;
    expect(output).toEqual(['a:start', 'a.1', 'a.2', 'b:start', 'b.1', 'b.2', 'c:start', 'c.1', 'c.2']);
    expect(finished[0]).toBe('c.2'); // the fastest leaf finished first, far from its place in the output
    // Sequential would be 120+60+60+30+10+5 = 285 ms; parallel is about the slowest (120 ms).
    expect(wall).toBeLessThan(285 * 0.8);
  });

  test('values hold streams and promises anywhere inside objects and arrays', async () => {
    const handlers = {
      page() {
        return {
          title: 'page',
          parts: [{ body: (async function* () { yield 'x'; yield 'y'; })() }],
          count: Promise.resolve(2),
          stream: new ReadableStream<string>({ start(c) { c.enqueue('r'); c.close(); } }),
        };
      },
    };
    const { remote } = pair(handlers);
    const page = await remote.page();
    expect(page.title).toBe('page');
    expect(await collect(page.parts[0]!.body)).toEqual(['x', 'y']);
    expect(await page.count).toBe(2);
    expect(await collect(page.stream as unknown as AsyncIterable<string>)).toEqual(['r']);
  });

  test('streams passed as arguments flow from caller to callee', async () => {
    const handlers = {
      async sum(numbers: AsyncIterable<number>) {
        let total = 0;
        for await (const n of numbers) total += n;
        return total;
      },
    };
    const { remote } = pair(handlers);
    async function* numbers() {
      for (let i = 1; i <= 100; i++) yield i;
    }
    expect(await within(remote.sum(numbers()))).toBe(5050);
  });
});

describe('flow control', () => {
  test('a slow consumer bounds what a fast producer of 1,000,000 items has produced', async () => {
    let produced = 0;
    const windowItems = 64;
    const handlers = {
      async *firehose() {
        for (let i = 0; i < 1_000_000; i++) {
          produced++;
          yield { i, text: 'item' };
        }
      },
    };
    const [a, b] = memoryEndpointPair();
    const server = expose(handlers, a, { flow: { windowItems } });
    const client = new Session(b, { flow: { windowItems } });
    sessions.push(server, client);
    const stream = await client.remote<typeof handlers>().firehose();
    let consumed = 0;
    let maxAhead = 0;
    let maxInflight = 0;
    for await (const item of stream) {
      expect(item.i).toBe(consumed);
      consumed++;
      if (consumed % 10 === 0) await delay(1);
      maxAhead = Math.max(maxAhead, produced - consumed);
      maxInflight = Math.max(maxInflight, server.stats().inflightBytes);
      if (consumed === 2_000) break;
    }
    // The producer never ran more than the window (plus the item in hand) ahead of the consumer.
    expect(maxAhead).toBeLessThanOrEqual(windowItems + 2);
    expect(maxInflight).toBeGreaterThan(0);
    expect(maxInflight).toBeLessThanOrEqual(DEFAULT_FLOW.windowBytes);
    await delay(20);
    expect(produced).toBeLessThan(2_000 + windowItems + 2);
  });

  test('the session budget holds back later streams but never the one being consumed', async () => {
    const big = 'x'.repeat(10_000);
    const handlers = {
      many() {
        const s = asyncIterableSequencer<string>();
        for (let k = 0; k < 20; k++) s.chain((async function* () { for (let i = 0; i < 50; i++) yield big; })());
        s.chain(null);
        return s.sequence;
      },
    };
    const [a, b] = memoryEndpointPair();
    const server = expose(handlers, a);
    // Window growth off: the bound below is the fixed window's (growth has its own tests in flow-growth.test.ts).
    const client = new Session(b, { flow: { sessionBudgetBytes: 100_000, windowItems: 16, windowGrowth: 1 } });
    sessions.push(server, client);
    const items = await client.remote<typeof handlers>().many();
    let count = 0;
    let maxInflight = 0;
    for await (const item of items) {
      expect(item.length).toBe(10_000);
      count++;
      maxInflight = Math.max(maxInflight, server.stats().inflightBytes);
    }
    expect(count).toBe(1_000);
    // The budget is overdrawn only by the active stream's window (16 items) plus one item per stream.
    expect(maxInflight).toBeLessThan(100_000 + 16 * 10_002 + 20 * 10_002);
  });
});

describe('cancellation', () => {
  test('break after the first item runs the remote finally and every nested child finally, reached or not', async () => {
    const finallies: string[] = [];
    const child = async function* (name: string) {
      try {
        for (let i = 0; ; i++) {
          yield `${name}${i}`;
          await delay(1);
        }
      } finally {
        finallies.push(name);
      }
    };
    const handlers = {
      tree() {
        const root = asyncIterableSequencer<string>();
        root.chain(child('first'));
        root.chain(child('second'));
        const nested = asyncIterableSequencer<string>();
        nested.chain(child('deep'));
        nested.chain(null);
        root.chain(nested.sequence);
        root.chain(null);
        return root.sequence;
      },
    };
    const { remote, server } = pair(handlers);
    const tree = await remote.tree();
    await delay(30); // let the later children start running ahead
    for await (const value of tree) {
      expect(value).toBe('first0');
      break;
    }
    await within(
      (async () => {
        while (finallies.length < 3) await delay(5);
      })(),
    );
    expect(finallies.sort()).toEqual(['deep', 'first', 'second']);
    await delay(10);
    expect(server.stats().outgoingStreams).toBe(0);
  });

  test('a handler receives an AbortSignal that fires when the caller cancels', async () => {
    let aborted: unknown = null;
    const handlers = {
      async *ticks(this: CallContext) {
        this.signal.addEventListener('abort', () => (aborted = this.signal.reason));
        for (;;) {
          yield 1;
          await delay(2);
        }
      },
    };
    const { remote } = pair(handlers);
    const ticks = await remote.ticks();
    await ticks.next();
    await ticks.return(undefined as never);
    await within(
      (async () => {
        while (aborted === null) await delay(5);
      })(),
    );
    expect((aborted as Error).name).toBe('StreamCancelledError');
  });
});

describe('errors', () => {
  test('a remote throw keeps name, message, cause, own properties, AggregateError members and custom classes', async () => {
    const handlers = {
      async fail() {
        const error = new RangeError('outer', { cause: new PointError('inner', 7) });
        Object.assign(error, { code: 'E_OUTER', detail: { n: 1 } });
        throw error;
      },
      async aggregate() {
        throw new AggregateError([new TypeError('one'), new PointError('two', 2)], 'many');
      },
      async *midway() {
        yield 1;
        throw new PointError('midway', 3);
      },
    };
    const [a, b] = memoryEndpointPair();
    const server = expose(handlers, a, { errorClasses: [PointError] });
    const client = new Session(b, { errorClasses: [PointError] });
    sessions.push(server, client);
    const remote = client.remote<typeof handlers>();
    const outer = await remote.fail().catch((e: unknown) => e as RangeError & { code: string; detail: unknown });
    expect(outer).toBeInstanceOf(RangeError);
    expect(outer.message).toBe('outer');
    expect(outer.code).toBe('E_OUTER');
    expect(outer.detail).toEqual({ n: 1 });
    expect(outer.cause).toBeInstanceOf(PointError);
    expect((outer.cause as PointError).x).toBe(7);
    expect(outer.stack).toContain('outer'); // stacks are kept over postMessage by default
    const agg = await remote.aggregate().catch((e: unknown) => e as AggregateError);
    expect(agg).toBeInstanceOf(AggregateError);
    expect(agg.errors[0]).toBeInstanceOf(TypeError);
    expect(agg.errors[1]).toBeInstanceOf(PointError);
    const items: number[] = [];
    const error = await (async () => {
      for await (const n of await remote.midway()) items.push(n);
    })().catch((e: unknown) => e);
    expect(items).toEqual([1]);
    expect(error).toBeInstanceOf(PointError);
  });

  test('stacks are redacted over a text wire unless asked for', async () => {
    const handlers = { async fail() { throw new Error('secret place'); } };
    const { remote } = pair(handlers, { wire: 'text' });
    const error = (await remote.fail().catch((e: unknown) => e)) as Error;
    expect(error.message).toBe('secret place');
    expect(error.stack).not.toContain('bridge.test');
  });

  test('a value that cannot be sent is reported as a SerializationError, not swallowed', async () => {
    const handlers = {
      fn: () => ({ f: () => 1 }),
      async *later() {
        yield 1;
        yield { f: () => 2 };
      },
    };
    const { remote } = pair(handlers);
    await expect(remote.fn()).rejects.toBeInstanceOf(SerializationError);
    const items: unknown[] = [];
    const error = await (async () => {
      for await (const v of await remote.later()) items.push(v);
    })().catch((e: unknown) => e);
    expect(items).toEqual([1]);
    expect(error).toBeInstanceOf(SerializationError);
  });
});

describe('connection loss', () => {
  test('cutting the endpoint mid-stream fails open streams and pending calls with ConnectionClosedError', async () => {
    const handlers = {
      async *endless() {
        for (let i = 0; ; i++) {
          yield i;
          await delay(1);
        }
      },
      never: () => new Promise(() => {}),
    };
    const { remote, b, server } = pair(handlers);
    const stream = await remote.endless();
    const pending = remote.never();
    await stream.next();
    b.cut();
    const error = await within(collect(stream).catch((e: unknown) => e));
    expect(error).toBeInstanceOf(ConnectionClosedError);
    await expect(within(pending)).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(server.stats()).toMatchObject({ state: 'closed', outgoingStreams: 0 });
  });

  test('closing one side fails the other side promptly', async () => {
    const handlers = { never: () => new Promise(() => {}) };
    const { remote, server } = pair(handlers);
    const pending = remote.never();
    await delay(10);
    server.close();
    await expect(within(pending)).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  test('a peer that starts listening late loses nothing (the hello is repeated)', async () => {
    const [a, b] = memoryEndpointPair();
    const client = new Session(b);
    sessions.push(client);
    const result = client.remote<{ hi(): string }>().hi();
    await delay(100);
    sessions.push(expose({ hi: () => 'hello' }, a));
    expect(await within(result)).toBe('hello');
  });

  test('a peer that never answers the handshake fails calls after the timeout', async () => {
    const [, b] = memoryEndpointPair();
    const client = new Session(b, { handshakeTimeoutMs: 50 });
    sessions.push(client);
    await expect(within(client.remote<{ hi(): string }>().hi())).rejects.toBeInstanceOf(ConnectionClosedError);
  });
});

describe('hostile input', () => {
  const hostile: Array<[string, unknown]> = [
    ['not an object', 42],
    ['no frames', { v: 1 }],
    ['unknown tag', { v: 1, f: [{ t: 'boom' }] }],
    ['negative stream id', { v: 1, f: [{ t: 'end', s: -1 }] }],
    ['unknown stream', { v: 1, f: [{ t: 'items', s: 999, p: [1], b: 1 }] }],
    ['proto path', { v: 1, f: [{ t: 'result', id: 0, p: {}, r: [[['__proto__', 'x'], 'it', 0]] }] }],
    ['constructor path', { v: 1, f: [{ t: 'call', id: 0, m: 'x', a: [{}], r: [[[0, 'constructor'], 'it', 0]] }] }],
    ['answer to unknown call', { v: 1, f: [{ t: 'result', id: 12345, p: 1 }] }],
    ['cancel of unknown stream', { v: 1, f: [{ t: 'cancel', s: 77 }] }],
  ];
  for (const [name, frame] of hostile) {
    test(`a frame with ${name} closes the session with a ProtocolError and harms nothing`, async () => {
      const { a, client, server } = pair({ ping: () => 'pong' });
      expect(await client.remote<{ ping(): string }>().ping()).toBe('pong');
      a.inject(frame);
      const reason = await within(client.closed);
      expect(reason).toBeInstanceOf(ProtocolError);
      expect(({} as Record<string, unknown>).x).toBeUndefined();
      await within(server.closed); // the peer was told
    });
  }

  test('a peer speaking another protocol version is refused with VersionMismatchError', async () => {
    const { a, client } = pair({});
    a.inject({ v: 2, f: [{ t: 'hello' }] });
    expect(await within(client.closed)).toBeInstanceOf(VersionMismatchError);
  });

  test('a producer that sends past its credit is stopped', async () => {
    const { a, client } = pair({ s: async function* () { for (;;) { yield 1; await delay(50); } } });
    const stream = await client.remote<{ s(): AsyncIterable<number> }>().s();
    void stream;
    a.inject({ v: 1, f: [{ t: 'items', s: 0, p: Array.from({ length: 10_000 }, () => 1), b: 1 }] });
    expect(await within(client.closed)).toBeInstanceOf(ProtocolError);
  });

  test('more open streams than maxOpenStreams is refused with LimitExceededError', async () => {
    const handlers = { many: () => Array.from({ length: 20 }, () => (async function* () { yield 1; })()) };
    const [a, b] = memoryEndpointPair();
    sessions.push(expose(handlers, a));
    const client = new Session(b, { limits: { maxOpenStreams: 10 } });
    sessions.push(client);
    await expect(client.remote<typeof handlers>().many()).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(await client.closed).toBeInstanceOf(LimitExceededError);
  });
});

describe('values', () => {
  test('ArrayBuffers inside items are transferred, not copied', async () => {
    const buffers: ArrayBuffer[] = [];
    const handlers = {
      async *chunks() {
        for (let i = 0; i < 3; i++) {
          const buffer = new Uint8Array(64 * 1024).fill(i).buffer;
          buffers.push(buffer);
          yield buffer;
        }
      },
    };
    const { port1, port2 } = new MessageChannel();
    const server = expose(handlers, port1);
    const remote = wrap<typeof handlers>(port2);
    const received = await collect(await remote.chunks());
    expect(received.map((b) => new Uint8Array(b)[0])).toEqual([0, 1, 2]);
    expect(buffers.every((b) => b.byteLength === 0)).toBe(true); // detached: moved, not copied
    server.close();
  });

  test('superjson carries Date, Map, Set, BigInt and registered classes over a text wire', async () => {
    class Point {
      constructor(
        public x = 0,
        public y = 0,
      ) {}
      norm() {
        return Math.hypot(this.x, this.y);
      }
    }
    const handlers = {
      async *values() {
        yield { when: new Date(0), map: new Map([[1, 'one']]), set: new Set(['s']), big: 10n ** 20n, p: new Point(3, 4) };
      },
    };
    const [a, b] = memoryEndpointPair({ wire: 'text' });
    const codec = superjsonCodec({ classes: [Point] });
    sessions.push(expose(handlers, a, { codec }));
    const client = new Session(b, { codec });
    sessions.push(client);
    const [value] = await collect(await client.remote<typeof handlers>().values());
    expect(value!.when).toEqual(new Date(0));
    expect(value!.map.get(1)).toBe('one');
    expect(value!.set.has('s')).toBe(true);
    expect(value!.big).toBe(10n ** 20n);
    expect(value!.p.norm()).toBe(5);
  });
});
