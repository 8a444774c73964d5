// Runs in vitest's Node process before the browser project: starts the real
// `ws` test server the browser's own WebSocket talks to, and hands its port to
// the browser tests (`inject('wsPort')`).
import type { TestProject } from 'vitest/node';
import { startTestServer } from '../node/fixtures/ws-test-server.ts';

/** The server's endpoint `maxPayload`, in bytes; browser tests send past it to see 1009. */
export const BROWSER_SERVER_MAX_PAYLOAD = 64 * 1024;

declare module 'vitest' {
  export interface ProvidedContext {
    /** Port of the `ws` test server on 127.0.0.1 (see test/node/fixtures/ws-test-server.ts). */
    wsPort: number;
    /** Its endpoint `maxPayload`, in bytes. */
    wsServerMaxPayload: number;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startTestServer({ maxPayload: BROWSER_SERVER_MAX_PAYLOAD });
  project.provide('wsPort', server.port);
  project.provide('wsServerMaxPayload', BROWSER_SERVER_MAX_PAYLOAD);
  return () => server.close();
}
