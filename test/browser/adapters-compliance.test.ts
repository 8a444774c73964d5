// The session-level compliance suite over the browser adapters, in real
// Chromium: a module web worker, a same-origin and a sandboxed iframe, and the
// browser's own WebSocket against a ws server that serves with serveWebSocket.
import { inject } from 'vitest';
import { iframeEndpoint } from '../../adapters/iframe.ts';
import { workerEndpoint } from '../../adapters/web-worker.ts';
import { webSocketEndpoint } from '../../adapters/websocket.ts';
import { complianceSuite, type ComplianceConnection } from '../compliance/suite.ts';

/** A frame with an unknown stream id and a polluting key: the far side must refuse it. */
const HOSTILE = { v: 1, f: [{ t: 'items', s: 424242, p: [1], b: 1, polluted: true }] };
const HOSTILE_TEXT = '{"v":1,"f":[{"t":"call","id":0,"m":"x","a":[{}],"r":[[[0,"__proto__"],"it",0]]}]}';

complianceSuite({
  name: 'a module web worker',
  hostile: HOSTILE,
  async connect() {
    const worker = new Worker(new URL('./fixtures/compliance-worker.ts', import.meta.url), { type: 'module' });
    return { endpoint: workerEndpoint(worker), cut: () => worker.terminate(), dispose: () => worker.terminate() };
  },
});

/** Adds a compliance frame (served, or sandboxed with the fixture inlined) and connects to it. */
async function connectFrame(sandboxed: boolean): Promise<ComplianceConnection> {
  const iframe = document.createElement('iframe');
  iframe.name = JSON.stringify({ origin: location.origin });
  if (sandboxed) {
    iframe.setAttribute('sandbox', 'allow-scripts');
    const bundle = inject('frameBundles')['compliance-frame.ts']!;
    iframe.srcdoc = `<script>${bundle.replaceAll('</script', '<\\/script')}</script>`;
  } else {
    iframe.src = new URL('./fixtures/compliance-frame.html', import.meta.url).href;
  }
  document.body.append(iframe);
  const endpoint = await iframeEndpoint(iframe, { origin: sandboxed ? 'null' : location.origin });
  // Removing the frame is the cut: its page hides and says goodbye on the channel.
  return { endpoint, cut: () => iframe.remove(), dispose: () => iframe.remove() };
}

complianceSuite({ name: 'a same-origin iframe', hostile: HOSTILE, connect: () => connectFrame(false) });
complianceSuite({ name: 'a sandboxed iframe (origin "null")', hostile: HOSTILE, connect: () => connectFrame(true) });

complianceSuite({
  name: "the browser's WebSocket (serveWebSocket on a ws server, superjson text frames)",
  hostile: HOSTILE_TEXT,
  async connect() {
    const socket = new WebSocket(`ws://127.0.0.1:${inject('wsCompliancePort')}/`);
    return {
      endpoint: webSocketEndpoint(socket),
      // Browsers cannot drop a TCP connection; closing under the endpoint is what the session sees as a cut.
      cut: () => socket.close(4000, 'cut'),
      dispose: () => socket.close(),
    };
  },
});
