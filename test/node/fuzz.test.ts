// Hostile input: more than 10,000 seeded malformed, truncated, oversized,
// deeply nested, wrong-version, duplicated-id, credit-overflowing,
// unknown-stream and prototype-keyed messages, each sent to a fresh session
// (structured clone over a memory pair, superjson and JSON over a text memory
// pair, and a sample over a real ws server) that was first brought into a
// known state. Every message ends in exactly the outcome its generator
// labelled: a ProtocolError / LimitExceededError and a closed session, or a
// healthy session when the message is valid. Nothing escapes: no unhandled
// rejection, Object.prototype stays clean, every producer's finally runs, the
// counters return to zero, and the other sessions on the ws server keep working.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { serveWebSocket, webSocketEndpoint, type ServedWebSocket } from '../../adapters/websocket.ts';
import type { Endpoint } from '../../src/endpoint.ts';
import { ConnectionClosedError, LimitExceededError, ProtocolError, VersionMismatchError } from '../../src/errors.ts';
import { jsonCodec } from '../../src/codec.ts';
import { memoryEndpointPair } from '../../src/memory.ts';
import { Session, type Remote, type SessionOptions } from '../../src/session.ts';
import { ANSWERED_CALLS, hostileCases, PEER_WINDOW, VICTIM_LIMITS, VICTIM_WINDOW, type CodecName, type HostileCase } from './fixtures/hostile.ts';
import { delay } from '../helpers.ts';

const CASES_PER_CODEC = 3_400; // x3 codecs, plus the ws sample: over 10,000
const WS_CASES = 300;
const CONCURRENCY = 64;
const SEED = 0x5eed_0008;

const noop = (): void => {};

/** Fails instead of hanging when a promise never settles. */
function within<T>(promise: Promise<T>, what: string, ms = 5_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Waits until `check` holds (a few macrotasks usually), or fails. */
async function until(check: () => boolean, what: string, ms = 2_000): Promise<void> {
  const deadline = performance.now() + ms;
  for (let spins = 0; !check(); spins++) {
    if (performance.now() > deadline) throw new Error(`${what}: not reached within ${ms} ms`);
    await new Promise((resolve) => (spins < 3 ? setImmediate(resolve) : setTimeout(resolve, 1)));
  }
}

/** The victim's handlers, with counters of its endless producers. */
function victimHandlers(counters: { started: number; finished: number }) {
  return {
    ping: () => 'pong',
    never: () => new Promise<never>(noop),
    /** Endless: fills the peer's window and waits for credit that never comes. */
    stream() {
      return (async function* () {
        counters.started++;
        try {
          for (let i = 0; ; i++) yield i;
        } finally {
          counters.finished++;
        }
      })();
    },
    /** Keeps an argument stream open without reading it. */
    take: (_stream: AsyncIterable<unknown>) => 'taken',
    async *count(n: number) {
      for (let i = 0; i < n; i++) yield i;
    },
  };
}
type VictimApi = ReturnType<typeof victimHandlers>;

/** A stream that never yields and ends when returned: the peer's argument to `take`. */
function quiet(): AsyncIterable<never> {
  let wake: ((r: IteratorResult<never>) => void) | null = null;
  const done = { value: undefined, done: true } as IteratorResult<never>;
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => new Promise<IteratorResult<never>>((resolve) => (wake = resolve)),
      return: () => {
        wake?.(done);
        return Promise.resolve(done);
      },
    }),
  };
}

const victimOptions = (codec: CodecName): SessionOptions => ({
  limits: VICTIM_LIMITS,
  flow: { windowItems: VICTIM_WINDOW },
  ...(codec === 'json' && { codec: jsonCodec }),
});
const clientOptions = (codec: CodecName): SessionOptions => ({
  handlers: { never: () => new Promise<never>(noop) },
  flow: { windowItems: PEER_WINDOW },
  ...(codec === 'json' && { codec: jsonCodec }),
});

/**
 * Brings the victim into the state the labels assume (see fixtures/hostile.ts):
 * call 0 served and pending, calls 1..ANSWERED_CALLS answered, outgoing stream 0
 * open, incoming stream 0 open, and one call of its own pending.
 */
async function bringIntoState(client: Session, victim: Session): Promise<Remote<VictimApi>> {
  const remote = client.remote<VictimApi>();
  remote.never().catch(noop); // call 0, served forever
  await remote.stream(); // call 1: the victim's outgoing stream 0
  // Past maxPendingCalls some pings are refused: answered all the same, which is what counts.
  const taken = remote.take(quiet()); // call 2: the victim's incoming stream 0
  const pings = Array.from({ length: ANSWERED_CALLS - 2 }, () => remote.ping());
  await Promise.all([taken, Promise.allSettled(pings)]);
  victim.remote<{ never(): Promise<never> }>().never().catch(noop); // the victim's call 0
  return remote;
}

/** Checks the outcome the case was labelled with; returns a description of a mismatch, or null. */
async function checkOutcome(hostile: HostileCase, victim: Session, remote: Remote<VictimApi>): Promise<string | null> {
  const { expect: want } = hostile;
  if (want.kind === 'valid') {
    // The ping is sent after the injected message and answered in order: the victim read it and stayed up.
    // A victim holding maxPendingCalls calls refuses the ping itself: an answer all the same.
    const answer = await within(remote.ping(), hostile.name).catch((e: unknown) => e);
    const refused = answer instanceof LimitExceededError && answer.limit === 'maxPendingCalls';
    if (answer !== 'pong' && !refused) return `expected a healthy session, the ping got ${String(answer)}`;
    if (victim.stats().state !== 'open') return 'expected a healthy session, it is closed';
    return null;
  }
  const reason = await within(victim.closed, hostile.name);
  const ok =
    want.kind === 'protocol'
      ? reason instanceof ProtocolError && !(reason instanceof VersionMismatchError)
      : want.kind === 'version'
        ? reason instanceof VersionMismatchError
        : want.kind === 'limit'
          ? reason instanceof LimitExceededError && reason.limit === want.limit
          : reason instanceof ConnectionClosedError && !(reason.cause instanceof ProtocolError);
  return ok ? null : `expected ${JSON.stringify(want)}, closed with ${reason.name}: ${reason.message}`;
}

/** After the case: both sides closed, every producer's finally ran, every counter back to zero. */
async function checkReleased(victim: Session, client: Session, counters: { started: number; finished: number }): Promise<string | null> {
  client.close();
  victim.close();
  await within(victim.closed, 'victim close');
  await until(() => counters.finished === counters.started, 'producers finally');
  for (const [side, session] of [['victim', victim], ['peer', client]] as const) {
    const stats = session.stats();
    const { state, ...counts } = stats;
    if (state !== 'closed' || Object.values(counts).some((n) => n !== 0)) return `${side} not released: ${JSON.stringify(stats)}`;
  }
  return null;
}

/** Runs `tasks` with at most `limit` at once; collects failures instead of stopping at the first. */
async function pool<T>(items: T[], limit: number, run: (item: T) => Promise<string | null>): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      const failure = await run(item).catch((e: unknown) => `threw ${e instanceof Error ? e.stack : String(e)}`);
      if (failure !== null) failures.push(failure);
    }
  };
  await Promise.all(Array.from({ length: limit }, lane));
  return failures;
}

// ---- what must never happen, whatever the input ---------------------------------

const escaped: unknown[] = [];
const onUnhandled = (reason: unknown): void => void escaped.push(reason);
const PROTOTYPES = [Object.prototype, Array.prototype, Function.prototype, String.prototype, Error.prototype];
const shapes = () => PROTOTYPES.map((proto) => Object.getOwnPropertyNames(proto).sort().join());
let before: string[];
const stackTraceLimit = Error.stackTraceLimit;

beforeAll(() => {
  before = shapes();
  // Every closed session makes a few errors; capturing (and source-mapping) their
  // stacks is most of the cost of 10,000 sessions. Classes and codes are what is checked.
  Error.stackTraceLimit = 1;
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
});
afterAll(() => {
  Error.stackTraceLimit = stackTraceLimit;
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
});

function expectNothingEscaped(): void {
  expect(escaped).toEqual([]);
  expect(shapes()).toEqual(before);
  const probe = {} as Record<string, unknown>;
  expect([probe.polluted, probe.x, (Object as unknown as Record<string, unknown>).polluted]).toEqual([undefined, undefined, undefined]);
}

function tally(cases: HostileCase[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of cases) out[c.expect.kind] = (out[c.expect.kind] ?? 0) + 1;
  return out;
}

// ---- over memory pairs, one fresh pair of sessions per message --------------------

describe('hostile messages into sessions over memory pairs', () => {
  const codecs: CodecName[] = ['clone', 'superjson', 'json'];
  codecs.forEach((codec, index) => {
    test(`${CASES_PER_CODEC} messages over ${codec} each end as labelled`, async () => {
      const cases = hostileCases(SEED + index, CASES_PER_CODEC, codec);
      // Every kind of outcome is exercised, valid messages included.
      expect(Object.keys(tally(cases)).sort()).toEqual(['bye', 'limit', 'protocol', 'valid', 'version']);
      const failures = await pool(cases, CONCURRENCY, async (hostile) => {
        const [a, b] = memoryEndpointPair({ wire: codec === 'clone' ? 'clone' : 'text' });
        const counters = { started: 0, finished: 0 };
        const victim = new Session(a, { ...victimOptions(codec), handlers: victimHandlers(counters) });
        const client = new Session(b, clientOptions(codec));
        const remote = await within(bringIntoState(client, victim), `${hostile.name}: setup`);
        b.inject(hostile.data);
        const failure = await checkOutcome(hostile, victim, remote);
        const leak = await checkReleased(victim, client, counters);
        return failure === null && leak === null ? null : `${hostile.name}: ${failure ?? leak}`;
      });
      expect(failures.slice(0, 10)).toEqual([]);
      expectNothingEscaped();
    }, 60_000);
  });
});

// ---- over a real ws server: a sample, while another client keeps streaming --------

describe('hostile messages over a real ws server', () => {
  let server: WebSocketServer;
  let served: ServedWebSocket;
  let url: string;
  const victims = new Map<string, (session: Session) => void>();
  const counters = { started: 0, finished: 0 };

  beforeAll(async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    served = serveWebSocket(server, () => victimHandlers(counters), {
      session: victimOptions('superjson'),
      onSession(session, request: { url?: string }) {
        const id = new URL(request.url ?? '/', 'http://x').searchParams.get('id') ?? '';
        victims.get(id)?.(session);
      },
    });
  });
  afterAll(async () => {
    served.close();
    await new Promise((resolve) => server.close(resolve));
  });

  function connect(id: string): { socket: WebSocket; endpoint: Endpoint; victim: Promise<Session> } {
    const victim = new Promise<Session>((resolve) => victims.set(id, resolve));
    const socket = new WebSocket(`${url}?id=${id}`);
    return { socket, endpoint: webSocketEndpoint(socket), victim };
  }

  test(`${WS_CASES} messages end as labelled, and a bystander client streams on unharmed`, async () => {
    // The bystander reads stream after stream, checking every item, until the fuzzing is over.
    const bystander = connect('bystander');
    const watcher = new Session(bystander.endpoint, clientOptions('superjson'));
    const watched = watcher.remote<VictimApi>();
    let stop = false;
    let rounds = 0;
    const watching = (async () => {
      while (!stop) {
        let expected = 0;
        for await (const n of await watched.count(500)) {
          if (n !== expected++) throw new Error(`bystander saw ${n}, expected ${expected - 1}`);
        }
        if (expected !== 500) throw new Error(`bystander stream ended after ${expected} items`);
        rounds++;
      }
    })();

    const cases = hostileCases(SEED + 99, WS_CASES, 'superjson');
    const failures = await pool(cases, 16, async (hostile) => {
      const id = String(Math.random()).slice(2);
      const { socket, endpoint, victim: victimReady } = connect(id);
      const client = new Session(endpoint, clientOptions('superjson'));
      const victim = await within(victimReady, `${hostile.name}: connect`);
      victims.delete(id);
      const remote = await within(bringIntoState(client, victim), `${hostile.name}: setup`);
      // Raw data on the socket, behind the real session's frames: text as it is, anything else as a binary frame.
      socket.send(typeof hostile.data === 'string' ? hostile.data : Buffer.from(JSON.stringify(hostile.data) ?? 'x'));
      const failure = await checkOutcome(hostile, victim, remote);
      client.close();
      victim.close();
      await within(victim.closed, 'victim close');
      const stats = victim.stats();
      const leak = Object.entries(stats).some(([k, v]) => k !== 'state' && v !== 0) ? `victim not released: ${JSON.stringify(stats)}` : null;
      return failure === null && leak === null ? null : `${hostile.name}: ${failure ?? leak}`;
    });
    stop = true;
    await within(watching, 'bystander');
    expect(failures.slice(0, 10)).toEqual([]);
    expect(rounds).toBeGreaterThan(0);
    expect(await watched.ping()).toBe('pong');
    watcher.close();
    await until(() => counters.finished === counters.started, 'every victim producer finally ran');
    await until(() => served.sessions.size === 0, 'every server session closed');
    expectNothingEscaped();
  }, 60_000);
});
