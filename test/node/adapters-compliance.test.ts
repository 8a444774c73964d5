// The session-level compliance suite over the Node adapters, in real contexts:
// a TypeScript worker_threads worker, and a `ws` server on 127.0.0.1 served with
// serveWebSocket, reached by `ws` clients.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { nodeWorkerEndpoint, startTsWorker } from '../../adapters/worker-threads.ts';
import { serveWebSocket, webSocketEndpoint, type ServedWebSocket } from '../../adapters/websocket.ts';
import { ComplianceError, complianceHandlers } from '../compliance/handlers.ts';
import { complianceSuite } from '../compliance/suite.ts';

/** A frame with an unknown stream id and a polluting key: the far side must refuse it. */
const HOSTILE = { v: 1, f: [{ t: 'items', s: 424242, p: [1], b: 1, polluted: true }] };
const HOSTILE_TEXT = '{"v":1,"f":[{"t":"call","id":0,"m":"x","a":[{}],"r":[[[0,"__proto__"],"it",0]]}]}';

complianceSuite({
  name: 'worker_threads (a TypeScript worker started with startTsWorker)',
  hostile: HOSTILE,
  async connect() {
    const worker = startTsWorker(new URL('./fixtures/compliance-worker.ts', import.meta.url));
    return {
      endpoint: nodeWorkerEndpoint(worker),
      cut: async () => void (await worker.terminate()),
      dispose: async () => void (await worker.terminate()),
    };
  },
});

let server: WebSocketServer;
let served: ServedWebSocket;
let url: string;
beforeAll(async () => {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  // A factory: every connection gets its own handler state.
  served = serveWebSocket(server, () => complianceHandlers(), { session: { errorClasses: [ComplianceError] } });
});
afterAll(async () => {
  served.close();
  await new Promise((resolve) => server.close(resolve));
});

complianceSuite({
  name: 'a WebSocket from Node (serveWebSocket on a ws server, superjson text frames)',
  hostile: HOSTILE_TEXT,
  async connect() {
    const socket = new WebSocket(url);
    return { endpoint: webSocketEndpoint(socket), cut: () => socket.terminate(), dispose: () => socket.close() };
  },
});
