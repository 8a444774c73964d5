// Every limit at the limit (works) and one past it (a typed error for the
// offender, nothing else breaks): frame bytes, frames per message, nesting
// depth, open streams, buffered bytes per stream, pending calls, and the ws
// adapter's maxPayload.
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { serveWebSocket, webSocketEndpoint, type ServedWebSocket } from '../../adapters/websocket.ts';
import { jsonCodec } from '../../src/codec.ts';
import { ConnectionClosedError, LimitExceededError } from '../../src/errors.ts';
import type { BridgeLimits } from '../../src/limits.ts';
import { memoryEndpointPair, type MemoryEndpointOptions } from '../../src/memory.ts';
import { Session, type SessionOptions } from '../../src/session.ts';
import { collect, delay, within } from '../helpers.ts';

/** `value` wrapped in `n` arrays: its innermost array sits at depth n - 1. */
function nest(n: number, value: unknown): unknown {
  let out = value;
  for (let i = 0; i < n; i++) out = [out];
  return out;
}

const handlers = {
  ping: () => 'pong',
  echo: <T>(value: T) => value,
  never: () => new Promise<never>(() => {}),
  wait: (ms: number) => delay(ms).then(() => ms),
  /** `n` streams of one item each, in one value. */
  streams: (n: number) => Array.from({ length: n }, (_, i) => (async function* () { yield i; })()),
  /** One stream whose only item is a string of `length` characters. */
  async *big(length: number) {
    yield 'x'.repeat(length);
  },
  /** A stream nested `depth` arrays deep. */
  deepStream: (depth: number) => nest(depth, (async function* () { yield 'deep'; })()),
  deepValue: (depth: number) => nest(depth, 1),
  /** A stream that stays open and silent until cancelled. */
  quiet(): AsyncIterable<never> {
    let wake: ((r: IteratorResult<never>) => void) | null = null;
    const done = { value: undefined, done: true } as IteratorResult<never>;
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise<IteratorResult<never>>((resolve) => (wake = resolve)),
        return: () => (wake?.(done), Promise.resolve(done)),
      }),
    };
  },
};
type Api = typeof handlers;

const sessions: Session[] = [];
afterEach(() => {
  for (const session of sessions.splice(0)) session.close();
});

/** A served session and a client over a memory pair; `serverLimits` and `clientLimits` apply to what each receives. */
function pair(options: { server?: Partial<BridgeLimits>; client?: Partial<BridgeLimits>; wire?: MemoryEndpointOptions['wire']; codec?: SessionOptions['codec'] } = {}) {
  const [a, b] = memoryEndpointPair({ wire: options.wire ?? 'clone' });
  const common = options.codec ? { codec: options.codec } : {};
  const server = new Session(a, { handlers, limits: options.server, ...common });
  const client = new Session(b, { limits: options.client, ...common });
  sessions.push(server, client);
  return { a, b, server, client, remote: client.remote<Api>() };
}

/** Typed closes: the offended side closes with the limit, its peer learns of it as a ConnectionClosedError. */
async function expectClosedBy(offended: Session, peer: Session, limit: string): Promise<void> {
  const reason = await within(offended.closed);
  expect(reason).toBeInstanceOf(LimitExceededError);
  expect((reason as LimitExceededError).limit).toBe(limit);
  const told = await within(peer.closed);
  expect(told).toBeInstanceOf(ConnectionClosedError);
  expect(offended.stats()).toMatchObject({ state: 'closed', incomingStreams: 0, outgoingStreams: 0, pendingCalls: 0, servingCalls: 0 });
}

/** A valid message whose text is padded with spaces (JSON allows them) to exactly `length` UTF-16 units. */
function paddedMessage(length: number, frame: object = { t: 'welcome', w: 1, wb: 1, sb: 1 }): string {
  const base = JSON.stringify({ v: 1, f: [frame] });
  return base + ' '.repeat(length - base.length);
}

describe('maxFrameBytes (text wires)', () => {
  const max = 4_096;

  test('a message of exactly maxFrameBytes is read; one byte more closes with LimitExceededError', async () => {
    const at = pair({ wire: 'text', codec: jsonCodec, server: { maxFrameBytes: max } });
    expect(await at.remote.ping()).toBe('pong');
    at.b.inject(paddedMessage(max));
    expect(await at.remote.ping()).toBe('pong'); // answered after the padded message: it was read

    const past = pair({ wire: 'text', codec: jsonCodec, server: { maxFrameBytes: max } });
    expect(await past.remote.ping()).toBe('pong');
    const pending = past.remote.never();
    past.b.inject(paddedMessage(max + 1));
    await expectClosedBy(past.server, past.client, 'maxFrameBytes');
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
    // The first pair is untouched.
    expect(await at.remote.ping()).toBe('pong');
  });

  test('an honest sender past the peer limit gets a typed close, not a hang', async () => {
    const { remote, server, client } = pair({ wire: 'text', server: { maxFrameBytes: max } });
    expect(await remote.echo('y'.repeat(max - 200))).toHaveLength(max - 200);
    await expect(remote.echo('y'.repeat(max))).rejects.toBeInstanceOf(ConnectionClosedError);
    await expectClosedBy(server, client, 'maxFrameBytes');
  });
});

describe('maxFramesPerMessage', () => {
  const max = 32;
  const pull0 = { t: 'pull', s: 0, n: 0, b: 0 };

  test('a batch of exactly maxFramesPerMessage frames is read; one more closes with LimitExceededError', async () => {
    const at = pair({ server: { maxFramesPerMessage: max } });
    const stream = await at.remote.big(1); // stream 0 exists, so pulls for it are valid
    at.b.inject({ v: 1, f: Array.from({ length: max }, () => pull0) });
    expect(await at.remote.ping()).toBe('pong');
    expect(await collect(stream)).toEqual(['x']);

    const past = pair({ server: { maxFramesPerMessage: max } });
    await past.remote.big(1);
    past.b.inject({ v: 1, f: Array.from({ length: max + 1 }, () => pull0) });
    await expectClosedBy(past.server, past.client, 'maxFramesPerMessage');
    expect(await at.remote.ping()).toBe('pong');
  });

  test('an honest sender never batches more frames than its peer accepts, however many calls it makes at once', async () => {
    // 200 calls in one macrotask, each its own frame: the batch is split, not refused.
    const { remote, server } = pair({ server: { maxFramesPerMessage: max, maxPendingCalls: 1_000 }, client: { maxFramesPerMessage: max } });
    const answers = await within(Promise.all(Array.from({ length: 200 }, (_, i) => remote.echo(i))));
    expect(answers).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(server.stats().state).toBe('open');
  });
});

describe('maxDepth', () => {
  const max = 8;

  test('a value whose deepest object is at maxDepth crosses; one level deeper is refused to the sender only', async () => {
    const { remote, server, client } = pair({ server: { maxDepth: max }, client: { maxDepth: max } });
    // The argument list is the root (depth 0): in echo(nest(max, 1)) the innermost array is at depth max.
    expect(await remote.echo(nest(max, 1))).toEqual(nest(max, 1));
    // A result is the root itself: in nest(max + 1, 1) the innermost array is at depth max.
    expect(await remote.deepValue(max + 1)).toEqual(nest(max + 1, 1));
    // One deeper: the caller's own serializer refuses its arguments; the callee's refuses its result.
    await expect(remote.echo(nest(max + 1, 1))).rejects.toMatchObject({ name: 'LimitExceededError', limit: 'maxDepth' });
    await expect(remote.deepValue(max + 2)).rejects.toMatchObject({ name: 'LimitExceededError', limit: 'maxDepth' });
    expect(await remote.ping()).toBe('pong');
    expect([server.stats().state, client.stats().state]).toEqual(['open', 'open']);
  });

  test('a maxDepth below the flat fast path still holds for plain arguments and items', async () => {
    // Flat values (two container levels below the root) skip the walk only when maxDepth allows them.
    const { remote, server, client } = pair({ server: { maxDepth: 1 }, client: { maxDepth: 1 } });
    expect(await remote.echo([1])).toEqual([1]);
    await expect(remote.echo([[1]])).rejects.toMatchObject({ name: 'LimitExceededError', limit: 'maxDepth' });
    expect([server.stats().state, client.stats().state]).toEqual(['open', 'open']);
  });

  test('a stream nested maxDepth deep crosses; a ref path one deeper closes the receiving session', async () => {
    const { remote, b, server, client } = pair({ server: { maxDepth: max }, client: { maxDepth: max } });
    const value = await remote.deepStream(max);
    let inner = value as unknown;
    for (let i = 0; i < max; i++) inner = (inner as unknown[])[0];
    expect(await collect(inner as AsyncIterable<string>)).toEqual(['deep']);
    // A honest serializer refuses a stream one level deeper, to its own caller.
    await expect(remote.deepStream(max + 1)).rejects.toMatchObject({ name: 'LimitExceededError', limit: 'maxDepth' });
    // A hostile call whose ref path is one key past the limit closes the receiver.
    const pending = remote.never();
    b.inject({ v: 1, f: [{ t: 'call', id: 1_000, m: 'ping', a: [nest(max, null)], r: [[Array.from({ length: max + 1 }, () => 0), 'it', 50]] }] });
    await expectClosedBy(server, client, 'maxDepth');
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
  });
});

describe('maxOpenStreams', () => {
  const max = 12;

  test('exactly maxOpenStreams incoming streams are read; one more closes with LimitExceededError', async () => {
    const at = pair({ client: { maxOpenStreams: max } });
    const streams = (await at.remote.streams(max)) as AsyncIterable<number>[];
    expect(await Promise.all(streams.map(collect))).toEqual(Array.from({ length: max }, (_, i) => [i]));
    expect(at.client.stats().incomingStreams).toBe(0);

    const past = pair({ client: { maxOpenStreams: max } });
    await expect(past.remote.streams(max + 1)).rejects.toBeInstanceOf(ConnectionClosedError);
    await expectClosedBy(past.client, past.server, 'maxOpenStreams');
    // The limit counts open streams, not streams ever opened: the first pair goes on.
    const again = (await at.remote.streams(max)) as AsyncIterable<number>[];
    expect((await Promise.all(again.map(collect))).flat()).toHaveLength(max);
  });
});

describe('maxOpenStreams on the producing side', () => {
  const max = 12;

  test('a consumer that opens streams and never reads them cannot make the producer hold more than maxOpenStreams', async () => {
    // The client ignores limits of its own (a hostile consumer would): only the server's cap stands.
    const { remote, server } = pair({ server: { maxOpenStreams: max }, client: { maxOpenStreams: Number.POSITIVE_INFINITY } });
    const held = await Promise.all(Array.from({ length: max }, () => remote.quiet()));
    expect(server.stats().outgoingStreams).toBe(max);
    // One more is refused to that call alone, as a LimitExceededError; the session goes on.
    await expect(remote.quiet()).rejects.toMatchObject({ name: 'LimitExceededError', limit: 'maxOpenStreams', max });
    expect(await remote.ping()).toBe('pong');
    expect(server.stats()).toMatchObject({ state: 'open', outgoingStreams: max });
    // Streams the consumer lets go of make room again.
    await Promise.all(held.slice(0, 2).map((stream) => (stream as unknown as AsyncIterator<never>).return?.()));
    await expect.poll(() => server.stats().outgoingStreams).toBe(max - 2);
    await remote.quiet();
    expect(server.stats().outgoingStreams).toBe(max - 1);
  });
});

describe('maxBufferedBytesPerStream', () => {
  const max = 4_096;

  test('one item of exactly the limit is buffered; one byte more closes with LimitExceededError', async () => {
    // A string's estimated size is its length + 2; an item larger than the byte window may travel alone.
    const at = pair({ client: { maxBufferedBytesPerStream: max } });
    const stream = await at.remote.big(max - 2);
    await delay(20); // buffered, unread
    expect(at.client.stats().state).toBe('open');
    expect((await collect(stream))[0]).toHaveLength(max - 2);

    const past = pair({ client: { maxBufferedBytesPerStream: max } });
    const doomed = await past.remote.big(max - 1);
    await expectClosedBy(past.client, past.server, 'maxBufferedBytesPerStream');
    await expect(collect(doomed)).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  test('a producer that understates its bytes on a text wire is charged what it really sent', async () => {
    // Each frame claims 1 byte but carries 2,000 characters: within the item credit, far past the byte limit.
    const { remote, a, client, server } = pair({ wire: 'text', codec: jsonCodec, client: { maxBufferedBytesPerStream: max } });
    await remote.quiet(); // the server's stream 0, open and silent: the frames below claim to continue it
    for (let i = 0; i < 8; i++) a.inject(JSON.stringify({ v: 1, f: [{ t: 'items', s: 0, p: ['z'.repeat(2_000)], b: 1 }] }));
    await expectClosedBy(client, server, 'maxBufferedBytesPerStream');
  });
});

describe('maxPendingCalls', () => {
  const max = 6;

  test('exactly maxPendingCalls calls are served at once; the next is refused and the session goes on', async () => {
    const { remote, server } = pair({ server: { maxPendingCalls: max } });
    const served = Array.from({ length: max }, () => remote.wait(50));
    const refused = remote.wait(1);
    await expect(refused).rejects.toMatchObject({ name: 'LimitExceededError', limit: 'maxPendingCalls', max });
    expect(await Promise.all(served)).toEqual(Array.from({ length: max }, () => 50));
    expect(server.stats().servingCalls).toBe(0);
    // Room again: the same number is served.
    expect(await Promise.all(Array.from({ length: max }, () => remote.wait(1)))).toHaveLength(max);
  });
});

describe('maxPayload on a real ws server', () => {
  const maxPayload = 8_192;
  let server: WebSocketServer;
  let served: ServedWebSocket;
  let url: string;
  const closes = new Map<string, Promise<Error>>();
  beforeAll(async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    served = serveWebSocket(server, handlers, {
      endpoint: { maxPayload },
      onSession(session, request: { url?: string }) {
        closes.set(new URL(request.url ?? '/', 'http://x').searchParams.get('id') ?? '', session.closed);
      },
    });
  });
  afterAll(async () => {
    served.close();
    await new Promise((resolve) => server.close(resolve));
  });

  function client(id: string) {
    const socket = new WebSocket(`${url}?id=${id}`);
    const session = new Session(webSocketEndpoint(socket));
    sessions.push(session);
    return { socket, session, remote: session.remote<Api>() };
  }

  /** A valid superjson message of exactly `bytes` UTF-8 bytes, most of them 3-byte '€'. */
  function payload(bytes: number): string {
    const wrap = (pad: string) => JSON.stringify({ json: { v: 1, f: [{ t: 'welcome', w: 1, wb: 1, sb: 1, pad }] } });
    const overhead = Buffer.byteLength(wrap(''));
    const euros = Math.floor((bytes - overhead) / 3);
    const text = wrap('€'.repeat(euros) + 'e'.repeat(bytes - overhead - euros * 3));
    expect(Buffer.byteLength(text)).toBe(bytes);
    return text;
  }

  test('a message of exactly maxPayload UTF-8 bytes is read; one byte more closes with 1009 and LimitExceededError', async () => {
    const bystander = client('bystander');
    const at = client('at');
    expect(await at.remote.ping()).toBe('pong');
    at.socket.send(payload(maxPayload));
    expect(await at.remote.ping()).toBe('pong');

    const past = client('past');
    expect(await past.remote.ping()).toBe('pong');
    const pending = past.remote.never();
    const socketClosed = new Promise<number>((resolve) => past.socket.once('close', resolve));
    past.socket.send(payload(maxPayload + 1));
    const reason = await within(closes.get('past')!);
    expect(reason).toMatchObject({ name: 'LimitExceededError', limit: 'maxPayload', max: maxPayload });
    expect(await within(socketClosed)).toBe(1009);
    await expect(within(pending)).rejects.toBeInstanceOf(ConnectionClosedError);
    // Nothing else broke: the other clients of the server go on.
    expect(await at.remote.ping()).toBe('pong');
    expect(await collect(await bystander.remote.big(3))).toEqual(['xxx']);
  });
});
