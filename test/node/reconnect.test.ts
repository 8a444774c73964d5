// Reconnect: a client whose connection drops fails what was in flight with a
// typed error (nothing is lost silently), opens a new socket and session, and
// streams again; the server drops the old session. The pattern the README
// documents, `reconnecting()` below, also rides out a server restart.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { serveWebSocket, webSocketEndpoint, type ServedWebSocket, type WebSocketLike } from '../../adapters/websocket.ts';
import { ConnectionClosedError } from '../../src/errors.ts';
import { Session, type Remote } from '../../src/session.ts';
import { collect, delay, within } from '../helpers.ts';

const finallies = { count: 0 };
const handlers = {
  async *count(n: number) {
    for (let i = 0; i < n; i++) yield i;
  },
  async *endless() {
    try {
      for (let i = 0; ; i++) {
        yield i;
        await delay(1);
      }
    } finally {
      finallies.count++;
    }
  },
  never: () => new Promise<never>(() => {}),
};
type Api = typeof handlers;

/** A ws server serving `handlers`, with its server-side sockets at hand. */
async function startServer(port = 0) {
  const server = new WebSocketServer({ host: '127.0.0.1', port });
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const sockets: Array<WebSocketLike & { terminate(): void }> = [];
  const served: ServedWebSocket = serveWebSocket(server, (socket) => {
    sockets.push(socket as WebSocketLike & { terminate(): void });
    return handlers;
  });
  return {
    served,
    sockets,
    port: (server.address() as AddressInfo).port,
    async stop() {
      served.close();
      for (const socket of server.clients) socket.terminate();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
const servers: Array<Awaited<ReturnType<typeof startServer>>> = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

/** One connection: a socket, its session and the typed remote. */
function connect(url: string) {
  const socket = new WebSocket(url);
  const session = new Session(webSocketEndpoint(socket));
  return { socket, session, remote: session.remote<Api>() };
}

/**
 * The reconnect pattern from the README: one session at a time, replaced by a
 * new one on the next call once it has closed (socket dropped, server gone,
 * PeerTimeoutError). What was in flight on the old one has already failed with
 * a ConnectionClosedError; whether to retry it is the caller's call.
 */
function reconnecting<T>(url: string) {
  let session: Session | null = null;
  return {
    /** The remote of the live session, opening a new one if the last one closed. */
    remote(): Remote<T> {
      if (session === null || session.stats().state === 'closed') session = new Session(webSocketEndpoint(new WebSocket(url)));
      return session.remote<T>();
    },
  };
}

/** Retries `call` while the connection is what failed (never for the callee's own errors), with backoff. */
async function retrying<R>(call: () => Promise<R>, attempts = 30, backoffMs = 10): Promise<R> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof ConnectionClosedError) || attempt >= attempts) throw error;
      await delay(backoffMs * 2 ** Math.min(attempt, 4));
    }
  }
}

describe('reconnect over a WebSocket', () => {
  test('a dropped connection fails what was in flight with ConnectionClosedError; a new connection streams again', async () => {
    const server = await startServer();
    servers.push(server);
    const url = `ws://127.0.0.1:${server.port}/`;
    const first = connect(url);
    const stream = await first.remote.endless();
    const head = [(await stream.next()).value, (await stream.next()).value];
    expect(head).toEqual([0, 1]);
    const pending = first.remote.never();
    const before = finallies.count;

    server.sockets[0]!.terminate(); // the connection drops (server side; the client side behaves the same)
    const lost = await within(collect(stream).catch((e: unknown) => e));
    expect(lost).toBeInstanceOf(ConnectionClosedError);
    await expect(within(pending)).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(await within(first.session.closed)).toBeInstanceOf(ConnectionClosedError);
    await expect(first.remote.count(1)).rejects.toBeInstanceOf(ConnectionClosedError); // the old session stays closed
    await expect.poll(() => finallies.count).toBe(before + 1); // the server's producer stopped

    const second = connect(url);
    expect(await within(collect(await second.remote.count(100)))).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const again = await second.remote.endless();
    expect((await again.next()).value).toBe(0);
    await (again as AsyncIterator<number>).return?.();
    expect(server.served.sessions.size).toBe(1); // the dropped session is gone, the new one serves
    second.session.close();
  });

  test('the reconnect pattern rides out a server restart: in-flight work fails typed, later calls succeed', async () => {
    const server = await startServer();
    const port = server.port;
    const client = reconnecting<Api>(`ws://127.0.0.1:${port}/`);
    expect(await within(collect(await client.remote().count(3)))).toEqual([0, 1, 2]);

    // The server goes down with a stream in flight: it fails, typed.
    const inFlight = await client.remote().endless();
    await inFlight.next();
    await server.stop();
    expect(await within(collect(inFlight).catch((e: unknown) => e))).toBeInstanceOf(ConnectionClosedError);

    // While it is down, a call fails typed too (the socket cannot connect), promptly.
    await expect(within(client.remote().count(1))).rejects.toBeInstanceOf(ConnectionClosedError);

    // It comes back on the same port; a retried call reconnects and streams.
    const restarting = delay(100).then(async () => servers.push(await startServer(port)));
    const items = await within(retrying(async () => collect(await client.remote().count(5))), 10_000);
    await restarting;
    expect(items).toEqual([0, 1, 2, 3, 4]);
    expect(servers[0]!.served.sessions.size).toBe(1);
  });
});
