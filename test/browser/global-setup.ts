// Runs in vitest's Node process before the browser project: starts the real
// `ws` servers the browser's own WebSocket talks to, and bundles the iframe
// fixtures for sandboxed frames; all are handed to the browser tests with `provide`.
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import type { TestProject } from 'vitest/node';
import { WebSocketServer } from 'ws';
import { serveWebSocket } from '../../adapters/websocket.ts';
import { ComplianceError, complianceHandlers } from '../compliance/handlers.ts';
import { startTestServer } from '../node/fixtures/ws-test-server.ts';

/** The message-level server's endpoint `maxPayload`, in bytes; browser tests send past it to see 1009. */
const SERVER_MAX_PAYLOAD = 64 * 1024;

declare module 'vitest' {
  export interface ProvidedContext {
    /** Port of the message-level `ws` test server on 127.0.0.1 (test/node/fixtures/ws-test-server.ts). */
    wsPort: number;
    /** Its endpoint `maxPayload`, in bytes. */
    wsServerMaxPayload: number;
    /** Port of the `ws` server on 127.0.0.1 that serves the compliance handlers with serveWebSocket. */
    wsCompliancePort: number;
    /**
     * The iframe fixtures bundled into classic scripts, by file name (`frame.ts`,
     * `compliance-frame.ts`). A sandboxed frame (origin "null") cannot load
     * modules from the dev server, which sends no CORS headers for origin
     * "null"; an inline script needs none.
     */
    frameBundles: Record<string, string>;
  }
}

/** Bundles the iframe fixtures with esbuild (installed with tsx), in memory. */
async function bundleFrames(): Promise<Record<string, string>> {
  const names = ['frame.ts', 'compliance-frame.ts'];
  const bundles: Record<string, string> = {};
  for (const name of names) {
    const result = await build({
      entryPoints: [new URL(`./fixtures/${name}`, import.meta.url).pathname],
      bundle: true,
      format: 'iife',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    });
    bundles[name] = result.outputFiles[0]!.text;
  }
  return bundles;
}

/** Starts a `ws` server on 127.0.0.1 that serves the compliance handlers, one state per connection. */
async function startComplianceServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  const served = serveWebSocket(server, () => complianceHandlers(), { session: { errorClasses: [ComplianceError] } });
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      served.close();
      for (const client of server.clients) client.terminate();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  project.provide('frameBundles', await bundleFrames());
  const messageServer = await startTestServer({ maxPayload: SERVER_MAX_PAYLOAD });
  const complianceServer = await startComplianceServer();
  project.provide('wsPort', messageServer.port);
  project.provide('wsServerMaxPayload', SERVER_MAX_PAYLOAD);
  project.provide('wsCompliancePort', complianceServer.port);
  return async () => {
    await Promise.all([messageServer.close(), complianceServer.close()]);
  };
}
