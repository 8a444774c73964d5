/** @jsxImportSource #jsx */
/**
 * The demo's HTTP + WebSocket server: `GET /` streams the page, `GET /client.js`
 * serves the bundled page script, and `/weave` is the WebSocket on which each
 * page gets a bridge session and its live feed.
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { WebSocketServer } from 'ws';
import { serveWebSocket } from '../../../adapters/websocket.ts';
import { requestClock } from '../app/clock.ts';
import { Head, Page } from '../app/page.tsx';
import { bundleClient } from './bundle.ts';
import { renderDocument } from './document.ts';
import { pushFeed, type FeedOptions } from './feed.ts';

/** Options of {@link startWebServer}. @example await startWebServer({ port: 0, slowMs: 800 }); */
export interface WebServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** How long the slow component takes, in ms. Default 2,500. */
  slowMs?: number;
  /** How long the page waits for a slow component before its placeholder, in ms. Default 150. */
  budgetMs?: number;
  /** The live feed pushed to each page. */
  feed?: FeedOptions;
  /** Where to log (component errors, sessions). Default: nowhere. */
  log?(line: string): void;
}

/** A running server. @example const server = await startWebServer(); console.log(server.url); await server.close(); */
export interface WebServer {
  /** `http://host:port/` */
  readonly url: string;
  readonly port: number;
  /** Closes every page session and socket, then the server. */
  close(): Promise<void>;
}

const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };

/** Streams the page, with backpressure; a client that goes away abandons the render. */
async function sendPage(response: ServerResponse, options: Required<Pick<WebServerOptions, 'slowMs' | 'budgetMs' | 'log'>>) {
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS });
  const body = <Page clock={requestClock()} slowMs={options.slowMs} budgetMs={options.budgetMs} />;
  const html = renderDocument(body, {
    head: <Head />,
    onError: (error, component) => options.log(`render: ${component} failed: ${error instanceof Error ? error.message : String(error)}`),
  });
  await pipeline(Readable.from(html), response);
}

/**
 * Starts the server on `host:port`. The page script is bundled once, at start.
 * Each WebSocket connection to `/weave` becomes a session (superjson over text
 * frames) on which the server pushes the live feed into the page.
 *
 * @example
 * ```ts
 * const server = await startWebServer({ port: 8080 });
 * console.log(`open ${server.url}`);
 * ```
 */
export async function startWebServer(options: WebServerOptions = {}): Promise<WebServer> {
  const { host = '127.0.0.1', port = 0, slowMs = 2_500, budgetMs = 150, feed = {}, log = () => {} } = options;
  const clientJs = await bundleClient();
  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/') {
      sendPage(response, { slowMs, budgetMs, log }).catch((error: unknown) => {
        // A reader that leaves early is normal (the render was abandoned); anything else is worth a line.
        if ((error as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') log(`page: ${error instanceof Error ? error.message : String(error)}`);
        response.destroy();
      });
    } else if (path === '/client.js') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', ...SECURITY_HEADERS }).end(clientJs);
    } else if (path === '/favicon.ico') {
      response.writeHead(204).end();
    } else {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
    }
  };
  const server = createServer(onRequest);
  const sockets = new WebSocketServer({ server, path: '/weave', maxPayload: 1_048_576 });
  const served = serveWebSocket(sockets, {}, { onSession: (session) => pushFeed(session, feed, log) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}/`,
    port: address.port,
    async close() {
      served.close();
      for (const socket of sockets.clients) socket.terminate();
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
