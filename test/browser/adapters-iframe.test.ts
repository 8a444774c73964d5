// iframe adapter in real Chromium: same-origin, srcdoc and sandboxed frames, and
// frames that must be refused.
import { afterEach, describe, expect, inject, test } from 'vitest';
import { iframeEndpoint } from '../../adapters/iframe.ts';
import { ConnectionClosedError } from '../../src/errors.ts';
import { nextMessage } from '../helpers.ts';

const FRAME_HTML = new URL('./fixtures/frame.html', import.meta.url).href;
const FRAME_SCRIPT = new URL('./fixtures/frame.ts', import.meta.url).href;
/** Short handshake timeouts for the tests that expect a refusal. */
const REFUSE_MS = 600;

interface FrameSetup {
  /** The parent origins the frame accepts (see fixtures/frame.ts). */
  accept: string | string[];
  /** The frame's handshake timeout, in ms. */
  frameTimeoutMs?: number;
  /** Sandbox the frame (`sandbox="allow-scripts"`: origin "null"); it then runs the fixture bundled inline. */
  sandboxed?: boolean;
  /** Use a srcdoc document instead of the served fixtures/frame.html. */
  srcdoc?: boolean;
  /** Raw srcdoc markup, for frames that do not run the fixture. */
  html?: string;
}

/** Reports a frame's fixture script posts on the raw channel. */
type Report = { connected?: true; refused?: string; closed?: string };

const frames: HTMLIFrameElement[] = [];
afterEach(() => {
  for (const frame of frames.splice(0)) frame.remove();
});

/** Adds an iframe running the fixture (or `html`); `reports` collects what its script says on the raw channel. */
function addFrame(setup: FrameSetup): { iframe: HTMLIFrameElement; reports: Report[]; loaded: Promise<void> } {
  const iframe = document.createElement('iframe');
  iframe.name = JSON.stringify({ origin: setup.accept, timeoutMs: setup.frameTimeoutMs });
  if (setup.html !== undefined) iframe.srcdoc = setup.html;
  else if (setup.sandboxed) {
    iframe.setAttribute('sandbox', 'allow-scripts');
    iframe.srcdoc = `<script>${inject('frameBundles')['frame.ts']!.replaceAll('</script', '<\\/script')}</script>`;
  }
  else if (setup.srcdoc) iframe.srcdoc = `<script type="module" src="${FRAME_SCRIPT}"></script>`;
  else iframe.src = FRAME_HTML;
  const reports: Report[] = [];
  window.addEventListener('message', (event) => {
    if (event.source === iframe.contentWindow && event.data?.fixture) reports.push(event.data);
  });
  const loaded = new Promise<void>((resolve) => iframe.addEventListener('load', () => resolve(), { once: true }));
  document.body.append(iframe);
  frames.push(iframe);
  return { iframe, reports, loaded };
}

/** Resolves with the next message's data. */
describe('frames that are allowed', () => {
  test('a same-origin frame hands over the channel and echoes both ways', async () => {
    const { iframe } = addFrame({ accept: location.origin });
    const endpoint = await iframeEndpoint(iframe, { origin: location.origin });
    expect(await nextMessage(endpoint)).toEqual({ ready: true, from: location.origin });
    endpoint.postMessage({ n: 1, when: new Date(5) });
    expect(await nextMessage(endpoint)).toEqual({ echo: { n: 1, when: new Date(5) }, from: location.origin });
    endpoint.close!();
  });

  test('a srcdoc frame that started before the parent listened answers the parent syn', async () => {
    const { iframe, loaded } = addFrame({ accept: location.origin, srcdoc: true });
    await loaded;
    await new Promise((resolve) => setTimeout(resolve, 100)); // its first `ready` went unheard
    const endpoint = await iframeEndpoint(iframe, { origin: location.origin });
    expect(await nextMessage(endpoint)).toEqual({ ready: true, from: location.origin });
    endpoint.close!();
  });

  test('a sandboxed frame (origin "null") connects when the parent allows "null"', async () => {
    const { iframe } = addFrame({ accept: location.origin, sandboxed: true });
    const endpoint = await iframeEndpoint(iframe, { origin: 'null' });
    expect(await nextMessage(endpoint)).toEqual({ ready: true, from: 'null' });
    endpoint.postMessage('ping');
    expect(await nextMessage(endpoint)).toEqual({ echo: 'ping', from: 'null' });
    endpoint.close!();
  });

  test("'*' admits any origin when given explicitly", async () => {
    const { iframe } = addFrame({ accept: '*' });
    const endpoint = await iframeEndpoint(iframe, { origin: '*' });
    expect(await nextMessage(endpoint)).toEqual({ ready: true, from: location.origin });
    endpoint.close!();
  });

  test('closing the parent endpoint closes the frame side too', async () => {
    const { iframe, reports } = addFrame({ accept: location.origin });
    const endpoint = await iframeEndpoint(iframe, { origin: location.origin });
    await nextMessage(endpoint);
    endpoint.close!();
    await expect.poll(() => reports.find((r) => r.closed)).toEqual({ fixture: true, closed: 'ERR_CONNECTION_CLOSED' });
  });

  test('the frame closing its endpoint fires onClose on the parent side', async () => {
    const { iframe } = addFrame({ accept: location.origin });
    const endpoint = await iframeEndpoint(iframe, { origin: location.origin });
    await nextMessage(endpoint);
    const closed = new Promise<Error>((resolve) => endpoint.onClose!(resolve));
    endpoint.postMessage('close');
    expect(await closed).toBeInstanceOf(ConnectionClosedError);
  });

  test('removing the frame fires onClose on the parent side', async () => {
    const { iframe } = addFrame({ accept: location.origin });
    const endpoint = await iframeEndpoint(iframe, { origin: location.origin });
    await nextMessage(endpoint);
    const closed = new Promise<Error>((resolve) => endpoint.onClose!(resolve));
    iframe.remove();
    expect(await closed).toBeInstanceOf(ConnectionClosedError);
  });
});

describe('frames that must be refused', () => {
  test('a frame from an origin the parent does not allow gets no channel', async () => {
    const { iframe, reports } = addFrame({ accept: location.origin, frameTimeoutMs: REFUSE_MS });
    const refused = iframeEndpoint(iframe, { origin: 'https://example.invalid', timeoutMs: REFUSE_MS });
    await expect(refused).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect.poll(() => reports).toEqual([{ fixture: true, refused: 'ERR_CONNECTION_CLOSED' }]);
  });

  test('a sandboxed frame is refused unless the parent allows "null"', async () => {
    const { iframe, reports } = addFrame({ accept: location.origin, sandboxed: true, frameTimeoutMs: REFUSE_MS });
    const refused = iframeEndpoint(iframe, { origin: location.origin, timeoutMs: REFUSE_MS });
    await expect(refused).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect.poll(() => reports).toEqual([{ fixture: true, refused: 'ERR_CONNECTION_CLOSED' }]);
  });

  test('a frame refuses a parent whose origin it does not allow', async () => {
    const { iframe, reports } = addFrame({ accept: 'https://example.invalid', frameTimeoutMs: REFUSE_MS });
    const refused = iframeEndpoint(iframe, { origin: location.origin, timeoutMs: REFUSE_MS });
    await expect(refused).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect.poll(() => reports).toEqual([{ fixture: true, refused: 'ERR_CONNECTION_CLOSED' }]);
  });

  test('another window saying ready cannot take the place of the target frame', async () => {
    const decoy = addFrame({ accept: location.origin, frameTimeoutMs: REFUSE_MS }); // runs the handshake
    const { iframe } = addFrame({ accept: location.origin, html: '<p>this frame never answers</p>' });
    const refused = iframeEndpoint(iframe, { origin: location.origin, timeoutMs: REFUSE_MS });
    await expect(refused).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect.poll(() => decoy.reports).toEqual([{ fixture: true, refused: 'ERR_CONNECTION_CLOSED' }]);
  });

  test('an aborted handshake rejects with the signal reason', async () => {
    const { iframe } = addFrame({ accept: location.origin });
    const controller = new AbortController();
    const pending = iframeEndpoint(iframe, { origin: 'https://example.invalid', signal: controller.signal });
    controller.abort(new Error('gave up'));
    await expect(pending).rejects.toThrow('gave up');
  });

  test('an origin with a path, or an empty allowlist, is a TypeError', () => {
    const iframe = document.createElement('iframe');
    expect(() => iframeEndpoint(iframe, { origin: 'https://app.example/' })).toThrow(TypeError);
    expect(() => iframeEndpoint(iframe, { origin: [] })).toThrow(TypeError);
  });
});
