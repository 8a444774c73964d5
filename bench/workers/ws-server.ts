// The server side of bench/websocket.ts, run in a child process (spawned with
// `node --import tsx`): one HTTP server on 127.0.0.1, port 0, routing each
// WebSocket upgrade by path to one contender's producer. Reports its port to
// the parent over IPC and exits when the parent disconnects.
//
//   /raw?codec=json|superjson      raw ws: the client sends `{ n }`, the server
//                                   sends n items, 64 per frame, then "end";
//                                   as fast as ws allows while bufferedAmount
//                                   stays under 1 MiB (refilled below 512 KiB).
//   /bridge?codec=...&w=..&b=..     serveWebSocket with `stream(n)` returning
//                                   the async generator; flow.windowItems w,
//                                   flow.maxBatchItems b (defaults if absent).
import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { SuperJSON } from 'superjson';
import { WebSocketServer, type WebSocket } from 'ws';
import { serveWebSocket } from '../../adapters/websocket.ts';
import { jsonCodec, superjsonCodec, type Codec } from '../../src/codec.ts';
import type { FlowOptions } from '../../src/limits.ts';

interface Item {
  i: number;
  text: string;
}

/** The producer of every contender. */
async function* items(n: number): AsyncGenerator<Item> {
  for (let i = 0; i < n; i++) yield { i, text: 'item' };
}

export const RAW_ITEMS_PER_FRAME = 64;
const HIGH_WATER_MARK = 1024 * 1024;

const handlers = {
  ping: () => 'pong',
  stream: (n: number) => items(n),
};
export type BenchHandlers = typeof handlers;

/** Raw producer: 64 items per text frame, respecting bufferedAmount like the bridge does. */
function serveRaw(socket: WebSocket, encode: (value: unknown) => string): void {
  let resume: (() => void) | null = null;
  const recheck = (): void => {
    if (resume !== null && socket.bufferedAmount <= HIGH_WATER_MARK / 2) {
      const r = resume;
      resume = null;
      r();
    }
  };
  const drained = (): Promise<void> =>
    new Promise<void>((resolve) => {
      resume = resolve;
      // ws calls each send's callback once its frame is written; a timer covers a quiet socket.
      const poll = (): void => {
        if (resume !== resolve) return;
        recheck();
        if (resume === resolve) setTimeout(poll, 5);
      };
      setTimeout(poll, 5);
    });
  socket.once('message', async (data) => {
    const { n } = JSON.parse(String(data)) as { n: number };
    let batch: Item[] = [];
    for await (const item of items(n)) {
      batch.push(item);
      if (batch.length === RAW_ITEMS_PER_FRAME) {
        socket.send(encode(batch), recheck);
        batch = [];
        if (socket.bufferedAmount > HIGH_WATER_MARK) await drained();
      }
    }
    if (batch.length > 0) socket.send(encode(batch), recheck);
    socket.send('"end"');
  });
}

const bridgeServers = new Map<string, WebSocketServer>();

/** One WebSocketServer + serveWebSocket per bridge configuration, made on first use. */
function bridgeServer(codecName: string, w: number | undefined, b: number | undefined): WebSocketServer {
  const key = `${codecName}/${w}/${b}`;
  let server = bridgeServers.get(key);
  if (server === undefined) {
    server = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
    const flow: Partial<FlowOptions> = {};
    if (w !== undefined) flow.windowItems = w;
    if (b !== undefined) flow.maxBatchItems = b;
    const codec: Codec = codecName === 'json' ? jsonCodec : superjsonCodec();
    serveWebSocket(server, handlers, { session: { flow, codec } });
    bridgeServers.set(key, server);
  }
  return server;
}

const rawServer = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
const superjson = new SuperJSON();

const http = createServer((_req, res) => res.writeHead(404).end());
http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const codec = url.searchParams.get('codec') ?? 'superjson';
  const num = (name: string): number | undefined => (url.searchParams.has(name) ? Number(url.searchParams.get(name)) : undefined);
  if (url.pathname === '/raw') {
    const encode = codec === 'json' ? (v: unknown) => JSON.stringify(v) : (v: unknown) => superjson.stringify(v);
    rawServer.handleUpgrade(request, socket, head, (ws) => serveRaw(ws, encode));
  } else if (url.pathname === '/bridge') {
    const server = bridgeServer(codec, num('w'), num('b'));
    server.handleUpgrade(request, socket, head, (ws) => server.emit('connection', ws, request));
  } else {
    socket.destroy();
  }
});

http.listen(0, '127.0.0.1', () => {
  const address = http.address();
  process.send!({ port: typeof address === 'object' && address !== null ? address.port : 0 });
});
process.on('disconnect', () => process.exit(0));
