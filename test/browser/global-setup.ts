// Runs in vitest's Node process before the browser project: starts the real
// `ws` test server the browser's own WebSocket talks to, and bundles the iframe
// fixture for sandboxed frames; both are handed to the browser tests with `provide`.
import { build } from 'esbuild';
import type { TestProject } from 'vitest/node';
import { startTestServer } from '../node/fixtures/ws-test-server.ts';

/** The server's endpoint `maxPayload`, in bytes; browser tests send past it to see 1009. */
const SERVER_MAX_PAYLOAD = 64 * 1024;

declare module 'vitest' {
  export interface ProvidedContext {
    /** Port of the `ws` test server on 127.0.0.1 (see test/node/fixtures/ws-test-server.ts). */
    wsPort: number;
    /** Its endpoint `maxPayload`, in bytes. */
    wsServerMaxPayload: number;
    /**
     * test/browser/fixtures/frame.ts bundled into one classic script. A sandboxed
     * frame (origin "null") cannot load modules from the dev server, which sends
     * no CORS headers for origin "null"; an inline script needs none.
     */
    frameBundle: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const bundled = await build({
    entryPoints: [new URL('./fixtures/frame.ts', import.meta.url).pathname],
    bundle: true,
    format: 'iife',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  project.provide('frameBundle', bundled.outputFiles[0]!.text);
  const server = await startTestServer({ maxPayload: SERVER_MAX_PAYLOAD });
  project.provide('wsPort', server.port);
  project.provide('wsServerMaxPayload', SERVER_MAX_PAYLOAD);
  return () => server.close();
}
