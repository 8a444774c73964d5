// Faults: a worker killed, exiting or hanging mid-stream, a WebSocket cut on
// either side, a peer that goes silent or stops reading, and 200 seeded trials
// of a fault at a random point of a nested stream. Every open stream and call
// fails with a typed error within a bounded time, every producer's finally
// runs, and the counters return to zero. Nothing hangs.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { serveWebSocket, webSocketEndpoint, type ServedWebSocket, type WebSocketLike } from '../../adapters/websocket.ts';
import { nodeWorkerEndpoint, startTsWorker } from '../../adapters/worker-threads.ts';
import { ConnectionClosedError, PeerTimeoutError } from '../../src/errors.ts';
import { memoryEndpointPair } from '../../src/memory.ts';
import { asyncIterableSequencer } from '../../src/sequencer.ts';
import { Session, type Remote, type SessionStats } from '../../src/session.ts';
import { collect, delay, rng, within } from '../helpers.ts';

const noop = (): void => {};

async function until(check: () => boolean, what: string, ms = 3_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`${what}: not reached within ${ms} ms`);
    await delay(2);
  }
}

const released = (stats: SessionStats) => ({ ...stats, state: 'closed' as const, incomingStreams: 0, outgoingStreams: 0, pendingCalls: 0, servingCalls: 0, inflightBytes: 0 });
function expectReleased(...sessions: Session[]): void {
  for (const session of sessions) expect(session.stats()).toEqual(released(session.stats()));
}

/** Handlers whose producers count how many started and how many ran their finally. */
function countedHandlers() {
  const counts = { started: 0, finished: 0 };
  async function* leaf(name: string, n: number, throwAt: number) {
    counts.started++;
    try {
      for (let i = 0; i < n; i++) {
        if (i === throwAt) throw new RangeError(`${name} failed at ${i}`);
        yield `${name}.${i}`;
        if (i % 3 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      counts.finished++;
    }
  }
  /** A sequence of `width` children, `depth` levels deep; the leaf numbered `throwLeaf` throws at `throwAt`. */
  function tree(width: number, depth: number, n: number, throwLeaf = -1, throwAt = -1, path = 't', next = { leaf: 0 }): AsyncIterable<string> {
    const { sequence, chain } = asyncIterableSequencer<string>();
    for (let i = 0; i < width; i++) {
      const name = `${path}${i}`;
      if (depth === 0) {
        const index = next.leaf++;
        chain(leaf(name, n, index === throwLeaf ? throwAt : -1));
      } else chain(tree(width, depth - 1, n, throwLeaf, throwAt, `${name}.`, next));
    }
    chain(null);
    return sequence;
  }
  return {
    counts,
    handlers: {
      tree,
      async *endless() {
        counts.started++;
        try {
          for (let i = 0; ; i++) {
            yield i;
            await new Promise((resolve) => setImmediate(resolve));
          }
        } finally {
          counts.finished++;
        }
      },
      never: () => new Promise<never>(noop),
    },
  };
}
type Api = ReturnType<typeof countedHandlers>['handlers'];

/** What `tree(width, depth, n)` yields, in order. */
function expectedTree(width: number, depth: number, n: number, path = 't'): string[] {
  const out: string[] = [];
  for (let i = 0; i < width; i++) {
    const name = `${path}${i}`;
    if (depth === 0) for (let j = 0; j < n; j++) out.push(`${name}.${j}`);
    else out.push(...expectedTree(width, depth - 1, n, `${name}.`));
  }
  return out;
}

describe('timeouts: a peer that goes silent, stops reading, or is merely idle', () => {
  test('a peer that goes silent mid-stream fails every open stream and call with PeerTimeoutError in bounded time', async () => {
    const [a, b] = memoryEndpointPair();
    const { counts, handlers } = countedHandlers();
    const server = new Session(a, { handlers, peerTimeoutMs: 300 });
    const client = new Session(b, { peerTimeoutMs: 300 });
    const remote = client.remote<Api>();
    const stream = await remote.endless();
    await stream.next();
    const pending = remote.never();
    await delay(20);
    a.hold();
    b.hold(); // nothing more crosses either way, and neither transport notices
    const started = performance.now();
    const error = await within(collect(stream).catch((e: unknown) => e), 3_000);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(PeerTimeoutError);
    expect(error).toMatchObject({ code: 'ERR_PEER_TIMEOUT' });
    expect(error).toBeInstanceOf(ConnectionClosedError); // code that handles loss handles this too
    expect(elapsed).toBeLessThan(300 * (4 / 3) + 500);
    await expect(pending).rejects.toBeInstanceOf(PeerTimeoutError);
    // The producer's side timed out on its own and ran its finally.
    expect(await within(server.closed, 3_000)).toBeInstanceOf(PeerTimeoutError);
    await until(() => counts.finished === counts.started, 'producer finally');
    expectReleased(server, client);
  });

  test('a peer that stops reading and answering is timed out by the producer, and the consumer learns why', async () => {
    const [a, b] = memoryEndpointPair();
    const { counts, handlers } = countedHandlers();
    const server = new Session(a, { handlers, peerTimeoutMs: 300, flow: { windowItems: 8 } });
    const client = new Session(b, { flow: { windowItems: 8 } });
    const stream = await client.remote<Api>().endless();
    await stream.next();
    b.hold(); // no credit, no answer to probes: the client is frozen as far as the producer can tell
    const reason = await within(server.closed, 3_000);
    expect(reason).toBeInstanceOf(PeerTimeoutError);
    await until(() => counts.finished === counts.started, 'producer finally');
    // The goodbye still reaches the consumer, which fails its stream with the reason.
    const seen = await within(client.closed, 3_000);
    expect(seen).toBeInstanceOf(ConnectionClosedError);
    expect((seen as Error).cause).toMatchObject({ name: 'PeerTimeoutError' });
    await expect(collect(stream)).rejects.toBeInstanceOf(ConnectionClosedError);
    expectReleased(server, client);
  });

  test('a live consumer that stops reading answers the probes and is never timed out', async () => {
    const [a, b] = memoryEndpointPair();
    const { handlers } = countedHandlers();
    const server = new Session(a, { handlers, peerTimeoutMs: 120, flow: { windowItems: 4 } });
    const client = new Session(b, { peerTimeoutMs: 120, flow: { windowItems: 4 } });
    const stream = await client.remote<Api>().endless();
    expect((await stream.next()).value).toBe(0);
    const sentBefore = a.sent;
    await delay(600); // five timeouts long, with the producer blocked on credit
    expect(a.sent).toBeGreaterThan(sentBefore); // probes went out
    expect([server.stats().state, client.stats().state]).toEqual(['open', 'open']);
    expect((await stream.next()).value).toBe(1);
    await (stream as AsyncIterator<number>).return?.();
    client.close();
    await within(server.closed);
  });

  test('an idle session sends nothing and stays open', async () => {
    const [a, b] = memoryEndpointPair();
    const server = new Session(a, { handlers: { ping: () => 'pong' }, peerTimeoutMs: 60 });
    const client = new Session(b, { peerTimeoutMs: 60 });
    expect(await client.remote<{ ping(): string }>().ping()).toBe('pong');
    await delay(20);
    const sent = [a.sent, b.sent];
    await delay(300);
    expect([a.sent, b.sent]).toEqual(sent);
    expect([server.stats().state, client.stats().state]).toEqual(['open', 'open']);
    client.close();
    server.close();
  });

  test('peerTimeoutMs 0 turns it off; a negative or non-finite one is a RangeError', async () => {
    const [a, b] = memoryEndpointPair();
    expect(() => new Session(a, { peerTimeoutMs: -1 })).toThrow(RangeError);
    expect(() => new Session(a, { peerTimeoutMs: Number.NaN })).toThrow(RangeError);
    expect(() => new Session(a, { peerTimeoutMs: Number.POSITIVE_INFINITY })).toThrow(RangeError);
    const server = new Session(a, { handlers: countedHandlers().handlers, peerTimeoutMs: 0 });
    const client = new Session(b, { peerTimeoutMs: 0 });
    const pending = client.remote<Api>().never();
    await delay(20);
    a.hold();
    b.hold();
    await delay(200);
    expect([server.stats().state, client.stats().state]).toEqual(['open', 'open']);
    client.close();
    server.close();
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
  });
});

describe('a worker thread that goes away mid-stream', () => {
  const ENTRY = new URL('./fixtures/fault-worker.ts', import.meta.url);
  type WorkerApi = Remote<{ tree(width: number, n: number): AsyncGenerator<string>; exit(code: number): void; crash(m: string): void; hang(): void }>;

  async function started(peerTimeoutMs?: number) {
    const worker = startTsWorker(ENTRY, { workerData: { peerTimeoutMs } });
    const session = new Session(nodeWorkerEndpoint(worker), { peerTimeoutMs });
    const remote = session.remote<WorkerApi>();
    const stream = await remote.tree(3, 1_000_000);
    expect((await stream.next()).value).toBe('l0.0');
    return { worker, session, remote, stream };
  }

  test.each([
    ['terminated', (w: { worker: import('node:worker_threads').Worker }) => void w.worker.terminate(), ConnectionClosedError],
    // The calls that break the worker never get an answer: their own rejection is expected.
    ['exiting with code 3', (w: { remote: WorkerApi }) => void w.remote.exit(3).catch(noop), ConnectionClosedError],
    ['crashing with a throw', (w: { remote: WorkerApi }) => void w.remote.crash('boom').catch(noop), ConnectionClosedError],
    ['hanging its event loop', (w: { remote: WorkerApi }) => void w.remote.hang().catch(noop), PeerTimeoutError],
  ] as const)('a worker %s fails the open stream with a typed error in bounded time', async (_name, fault, type) => {
    const hangs = type === PeerTimeoutError;
    const w = await started(hangs ? 400 : undefined);
    const started_ = performance.now();
    (fault as (w: unknown) => void)(w);
    const error = await within(collect(w.stream).catch((e: unknown) => e), 4_000);
    expect(error).toBeInstanceOf(type);
    expect(performance.now() - started_).toBeLessThan(hangs ? 400 * (4 / 3) + 1_000 : 2_000);
    if (_name.startsWith('exiting')) expect((error as Error).message).toContain('code 3');
    expectReleased(w.session);
    await w.worker.terminate(); // a hung worker is still there: terminate interrupts its loop
  });
});

describe('a WebSocket cut mid-stream', () => {
  let server: WebSocketServer;
  let served: ServedWebSocket;
  let url: string;
  const sockets = new Map<string, WebSocketLike & { terminate(): void }>();
  const serverSessions = new Map<string, Session>();
  const counted = countedHandlers();

  beforeAll(async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const idOf = (request: { url?: string }) => new URL(request.url ?? '/', 'http://x').searchParams.get('id') ?? '';
    served = serveWebSocket(
      server,
      (socket, request) => {
        sockets.set(idOf(request), socket as WebSocketLike & { terminate(): void });
        return counted.handlers;
      },
      { onSession: (session, request) => serverSessions.set(idOf(request), session) },
    );
  });
  afterAll(async () => {
    served.close();
    await new Promise((resolve) => server.close(resolve));
  });

  async function connect(id: string) {
    const socket = new WebSocket(`${url}?id=${id}`);
    const session = new Session(webSocketEndpoint(socket));
    const remote = session.remote<Api>();
    const stream = await remote.endless();
    await stream.next();
    return { socket, session, remote, stream, serverSession: serverSessions.get(id)!, serverSocket: sockets.get(id)! };
  }

  test.each(['server', 'client'])('cut on the %s side: typed errors on both sides, producers finished, nothing left open', async (side) => {
    const c = await connect(`cut-${side}`);
    const pending = c.remote.never();
    await delay(10);
    if (side === 'server') c.serverSocket.terminate();
    else c.socket.terminate();
    await expect(within(collect(c.stream))).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect(within(pending)).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(await within(c.serverSession.closed)).toBeInstanceOf(ConnectionClosedError);
    await until(() => counted.counts.finished === counted.counts.started, 'server producers finally');
    expectReleased(c.session, c.serverSession);
    expect(served.sessions.has(c.serverSession)).toBe(false);
  });
});

describe('200 seeded trials of a fault at a random point', () => {
  const TRIALS = 200;
  const WORKER_TRIALS = 8;

  type Fault = 'cut' | 'closeClient' | 'closeServer' | 'freeze' | 'terminateServer' | 'terminateClient' | 'throw' | 'cancel';
  const MEMORY_FAULTS: Fault[] = ['cut', 'closeClient', 'closeServer', 'freeze', 'throw', 'cancel'];
  const WS_FAULTS: Fault[] = ['terminateServer', 'terminateClient', 'closeServer', 'closeClient', 'throw', 'cancel'];

  let wsServer: WebSocketServer;
  let served: ServedWebSocket;
  let url: string;
  const wsPeers = new Map<string, { socket: WebSocketLike & { terminate(): void }; counted: ReturnType<typeof countedHandlers>; session?: Session }>();
  beforeAll(async () => {
    wsServer = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wsServer.once('listening', resolve));
    url = `ws://127.0.0.1:${(wsServer.address() as AddressInfo).port}/`;
    const idOf = (request: { url?: string }) => new URL(request.url ?? '/', 'http://x').searchParams.get('id') ?? '';
    served = serveWebSocket(
      wsServer,
      (socket, request) => {
        const counted = countedHandlers();
        wsPeers.set(idOf(request), { socket: socket as WebSocketLike & { terminate(): void }, counted });
        return counted.handlers;
      },
      { onSession: (session, request) => (wsPeers.get(idOf(request))!.session = session) },
    );
  });
  afterAll(async () => {
    served.close();
    await new Promise((resolve) => wsServer.close(resolve));
  });

  /** How the trials ended: each kind must occur, or the trials test less than they claim. */
  const outcomes = { connectionError: 0, peerTimeout: 0, producerError: 0, cancelled: 0, completed: 0 };

  /** One trial: a nested stream read to a random point, where a random fault strikes. Returns a failure, or null. */
  async function trial(seed: number): Promise<string | null> {
    const r = rng(seed);
    const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    const overWs = r() < 0.3;
    const faults = overWs ? WS_FAULTS : MEMORY_FAULTS;
    const fault = faults[Math.floor(r() * faults.length)]!;
    const width = int(1, 3);
    const depth = int(0, 2);
    const n = int(1, 12);
    const want = expectedTree(width, depth, n);
    const leaves = width ** (depth + 1);
    const throwLeaf = fault === 'throw' ? int(0, leaves - 1) : -1;
    const throwAt = fault === 'throw' ? int(0, n - 1) : -1;
    const at = int(0, want.length + 2); // past the end: the fault strikes after completion
    const byTimer = r() < 0.3 ? int(0, 15) : null; // or at a random time instead of a random item
    const windowItems = [1, 3, 16, 256][int(0, 3)]!;
    const peerTimeoutMs = fault === 'freeze' ? 150 : undefined;

    let client: Session;
    let server: Session;
    let counts: { started: number; finished: number };
    let strike: () => void;
    if (overWs) {
      const id = `trial-${seed}`;
      const socket = new WebSocket(`${url}?id=${id}`);
      client = new Session(webSocketEndpoint(socket), { flow: { windowItems } });
      await until(() => wsPeers.get(id)?.session !== undefined, 'ws server session');
      const peer = wsPeers.get(id)!;
      server = peer.session!;
      counts = peer.counted.counts;
      wsPeers.delete(id);
      strike = () => {
        if (fault === 'terminateServer') peer.socket.terminate();
        else if (fault === 'terminateClient') socket.terminate();
        else if (fault === 'closeServer') server.close();
        else if (fault === 'closeClient') client.close();
      };
    } else {
      const [a, b] = memoryEndpointPair();
      const counted = countedHandlers();
      counts = counted.counts;
      server = new Session(a, { handlers: counted.handlers, flow: { windowItems }, peerTimeoutMs });
      client = new Session(b, { flow: { windowItems }, peerTimeoutMs });
      strike = () => {
        if (fault === 'cut') b.cut();
        else if (fault === 'closeClient') client.close();
        else if (fault === 'closeServer') server.close();
        else if (fault === 'freeze') {
          a.hold();
          b.hold();
        }
      };
    }

    const got: string[] = [];
    let error: unknown = null;
    let struck = false;
    const fire = (): void => {
      if (struck) return;
      struck = true;
      strike();
    };
    const timer = byTimer === null ? undefined : setTimeout(fire, byTimer);
    try {
      await within(
        (async () => {
          const stream = await client.remote<Api>().tree(width, depth, n, throwLeaf, throwAt);
          if (byTimer === null && at === 0) fire();
          for await (const item of stream) {
            got.push(item);
            if (byTimer === null && got.length === at) {
              if (fault === 'cancel') break;
              fire();
            }
          }
        })().catch((e: unknown) => {
          error = e;
        }),
        5_000,
        `trial ${seed} (${fault})`,
      );
    } finally {
      clearTimeout(timer);
    }

    const where = `trial ${seed} (${overWs ? 'ws' : 'memory'}, ${fault}, ${width}x${depth}x${n}, at ${byTimer === null ? `item ${at}` : `${byTimer} ms`})`;
    // Whatever happened: what arrived is a prefix of the tree, in order, without loss or duplication.
    if (got.join() !== want.slice(0, got.length).join()) return `${where}: got ${got.join()} of ${want.join()}`;
    if (error !== null) {
      const typed = error instanceof ConnectionClosedError || (fault === 'throw' && error instanceof RangeError);
      if (!typed) return `${where}: untyped error ${String(error)}`;
      // Leaves are numbered in output order: the producer's error arrives right after the items before it.
      if (error instanceof RangeError && got.length !== throwLeaf * n + throwAt) return `${where}: the error came at ${got.length}`;
    } else if (got.length !== want.length && !(fault === 'cancel' && got.length === at)) {
      return `${where}: ended early at ${got.length} of ${want.length} without an error`;
    }
    if (error instanceof PeerTimeoutError) outcomes.peerTimeout++;
    else if (error instanceof ConnectionClosedError) outcomes.connectionError++;
    else if (error !== null) outcomes.producerError++;
    else if (got.length < want.length) outcomes.cancelled++;
    else outcomes.completed++;
    // Then: both sides close, every producer ran its finally, every counter is back to zero.
    client.close();
    server.close();
    await within(server.closed, 3_000, `${where}: server close`);
    await until(() => counts.finished === counts.started, `${where}: producers' finally`);
    for (const session of [client, server]) {
      const stats = session.stats();
      if (JSON.stringify(stats) !== JSON.stringify(released(stats))) return `${where}: not released ${JSON.stringify(stats)}`;
    }
    return null;
  }

  test(`${TRIALS} trials over memory pairs and a ws server: typed errors, no hang, nothing left open`, async () => {
    const failures: string[] = [];
    const seeds = Array.from({ length: TRIALS }, (_, i) => 0x0fa17 + i);
    let next = 0;
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        while (next < seeds.length) {
          const seed = seeds[next++]!;
          const failure = await trial(seed).catch((e: unknown) => `trial ${seed} threw ${e instanceof Error ? e.message : String(e)}`);
          if (failure !== null) failures.push(failure);
        }
      }),
    );
    expect(failures).toEqual([]);
    for (const count of Object.values(outcomes)) expect(count).toBeGreaterThan(0);
    expect(outcomes.connectionError + outcomes.peerTimeout).toBeGreaterThan(TRIALS / 4);
    await until(() => served.sessions.size === 0, 'every ws server session closed');
  }, 60_000);

  test(`${WORKER_TRIALS} trials with a real worker killed, exiting, crashing or hanging at a random point`, async () => {
    const ENTRY = new URL('./fixtures/fault-worker.ts', import.meta.url);
    type WorkerApi = Remote<{ tree(width: number, n: number): AsyncGenerator<string>; exit(code: number): void; crash(m: string): void; hang(): void }>;
    const failures: string[] = [];
    const run = async (seed: number): Promise<void> => {
      const r = rng(seed);
      const fault = (['terminate', 'exit', 'crash', 'hang'] as const)[Math.floor(r() * 4)]!;
      const at = 1 + Math.floor(r() * 200);
      const peerTimeoutMs = 300;
      const worker = startTsWorker(ENTRY, { workerData: { peerTimeoutMs } });
      const session = new Session(nodeWorkerEndpoint(worker), { peerTimeoutMs, flow: { windowItems: 1 + Math.floor(r() * 64) } });
      const remote = session.remote<WorkerApi>();
      const got: string[] = [];
      const error = await within(
        (async () => {
          for await (const item of await remote.tree(2, 1_000_000)) {
            got.push(item);
            if (got.length !== at) continue;
            if (fault === 'terminate') void worker.terminate();
            else if (fault === 'exit') remote.exit(7).catch(noop);
            else if (fault === 'crash') remote.crash('boom').catch(noop);
            else remote.hang().catch(noop);
          }
        })().catch((e: unknown) => e),
        5_000,
        `worker trial ${seed}`,
      );
      const ok =
        (fault === 'hang' ? error instanceof PeerTimeoutError : error instanceof ConnectionClosedError) &&
        got.length >= at &&
        got.every((item, i) => item === `l0.${i}`);
      if (!ok) failures.push(`worker trial ${seed} (${fault} at ${at}): ${String(error)} after ${got.length}`);
      if (session.stats().state !== 'closed' || session.stats().incomingStreams !== 0 || session.stats().pendingCalls !== 0) {
        failures.push(`worker trial ${seed}: not released ${JSON.stringify(session.stats())}`);
      }
      await worker.terminate();
    };
    // Two at a time: each worker takes a few hundred ms to start on this machine.
    const seeds = Array.from({ length: WORKER_TRIALS }, (_, i) => 0xbee + i);
    for (let i = 0; i < seeds.length; i += 2) await Promise.all(seeds.slice(i, i + 2).map(run));
    expect(failures).toEqual([]);
  }, 60_000);
});
