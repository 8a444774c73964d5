// serveWebSocket: one session per client of a real `ws` server, calls in both
// directions over one socket, and per-connection loss.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { serveWebSocket, webSocketEndpoint, type ServedWebSocket } from '../../adapters/websocket.ts';
import { ConnectionClosedError } from '../../src/errors.ts';
import { Session, type CallContext } from '../../src/session.ts';

/** What each client exposes back to the server. */
const clientHandlers = (name: string) => ({
  async *letters(n: number) {
    for (let i = 0; i < n; i++) yield `${name}:${String.fromCharCode(97 + (i % 26))}`;
  },
});
type ClientApi = ReturnType<typeof clientHandlers>;

/** What the server exposes; `user` comes from the upgrade request, so state is per connection. */
function serverHandlers(user: string) {
  return {
    whoami: () => user,
    async *ticks(n: number) {
      for (let i = 0; i < n; i++) yield i;
    },
    /** Calls the client back on the same socket and returns what it streamed. */
    async relay(this: CallContext, n: number) {
      const out: string[] = [];
      for await (const letter of await this.session.remote<ClientApi>().letters(n)) out.push(letter);
      return out;
    },
    never: () => new Promise<never>(() => {}),
  };
}
type ServerApi = ReturnType<typeof serverHandlers>;

let server: WebSocketServer;
let served: ServedWebSocket;
let url: string;
const sessionsSeen: string[] = [];
beforeAll(async () => {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const userOf = (request: { url?: string }) => new URL(request.url ?? '/', 'http://x').searchParams.get('user') ?? '?';
  served = serveWebSocket(server, (_socket, request) => serverHandlers(userOf(request)), {
    onSession: (_session, request) => sessionsSeen.push(userOf(request)),
  });
});
afterAll(async () => {
  served.close();
  await new Promise((resolve) => server.close(resolve));
});

/** A client session that exposes `clientHandlers(user)` and calls the server. */
function client(user: string) {
  const socket = new WebSocket(`${url}?user=${user}`);
  const session = new Session(webSocketEndpoint(socket), { handlers: clientHandlers(user) });
  return { socket, session, remote: session.remote<ServerApi>() };
}

describe('serveWebSocket', () => {
  test('several clients each get their own session and handler state', async () => {
    const clients = ['ann', 'bob', 'cy'].map(client);
    expect(await Promise.all(clients.map((c) => c.remote.whoami()))).toEqual(['ann', 'bob', 'cy']);
    expect(sessionsSeen).toEqual(expect.arrayContaining(['ann', 'bob', 'cy']));
    expect(served.sessions.size).toBeGreaterThanOrEqual(3);
    for (const c of clients) c.session.close();
  });

  test('the server streams to a client while calling that client back over the same socket', async () => {
    const { session, remote } = client('dee');
    const [ticks, letters] = await Promise.all([
      (async () => {
        const out: number[] = [];
        for await (const n of await remote.ticks(500)) out.push(n);
        return out;
      })(),
      remote.relay(300),
    ]);
    expect(ticks).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(letters).toHaveLength(300);
    expect(letters[27]).toBe('dee:b');
    session.close();
  });

  test('a client that drops fails only its own calls; the others go on', async () => {
    const dropped = client('eve');
    const kept = client('fay');
    await Promise.all([dropped.remote.whoami(), kept.remote.whoami()]);
    const before = served.sessions.size;
    const pending = dropped.remote.never();
    dropped.socket.terminate();
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect.poll(() => served.sessions.size).toBe(before - 1);
    expect(await kept.remote.whoami()).toBe('fay');
    kept.session.close();
  });

  test('close() ends every session, failing what clients still wait for', async () => {
    const last = client('gus');
    await last.remote.whoami();
    const pending = last.remote.never();
    served.close();
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(served.sessions.size).toBe(0);
  });
});
