/**
 * iframes as endpoints: an origin-checked handshake hands over a private
 * `MessageChannel`, so no other window can inject messages. Browsers only.
 *
 * @module
 */
import type { Endpoint } from '../src/endpoint.ts';
import { ConnectionClosedError } from '../src/errors.ts';
import { messagePortEndpoint } from './message-port.ts';

/**
 * Options of {@link iframeEndpoint} and {@link parentWindowEndpoint}.
 * @example iframeEndpoint(frame, { origin: ['https://a.example', 'https://b.example'], timeoutMs: 5_000 });
 */
export interface IframeEndpointOptions {
  /**
   * The origins the other side may have: one, or an allowlist of serialized
   * origins (`'https://app.example'`). `'null'` admits sandboxed frames (opaque
   * origin); `'*'` admits any origin and is honoured only when given explicitly.
   */
  origin: string | readonly string[];
  /** Give up the handshake after this many ms (rejects with `ConnectionClosedError`). Default 10_000. */
  timeoutMs?: number;
  /** Aborts the handshake (rejects with the signal's reason). */
  signal?: AbortSignal;
}

/**
 * Handshake messages on the windows: `syn` (parent -> frame: are you there?),
 * `ready` (frame -> parent), `connect` (parent -> frame, carries the port).
 */
type Step = 'syn' | 'ready' | 'connect';
const TAG = 'stream-weaver/iframe';
const step = (s: Step): object => ({ [TAG]: 1, step: s });
const isStep = (data: unknown, s: Step): boolean =>
  typeof data === 'object' && data !== null && (data as Record<string, unknown>)[TAG] === 1 && (data as { step?: unknown }).step === s;

/** Validates the allowlist; returns a predicate and the targetOrigin for messages that carry no secret. */
function allowlist(origin: IframeEndpointOptions['origin']): { allows(o: string): boolean; hint: string } {
  const list: readonly unknown[] = typeof origin === 'string' ? [origin] : Array.isArray(origin) ? origin : [];
  if (list.length === 0) throw new TypeError('origin must be an origin or a non-empty array of origins');
  for (const o of list) {
    if (o === '*' || o === 'null') continue;
    if (typeof o !== 'string' || !URL.canParse(o) || new URL(o).origin !== o) {
      throw new TypeError(`not a serialized origin: ${JSON.stringify(o)} (like 'https://app.example', no path or trailing slash)`);
    }
  }
  const single = list.length === 1 && list[0] !== '*' && list[0] !== 'null';
  return { allows: (o) => list.includes('*') || list.includes(o), hint: single ? (list[0] as string) : '*' };
}

/** Runs `attempt` until it hands over a port, the timeout passes or the signal aborts; its cleanup always runs. */
function handshake(options: IframeEndpointOptions, attempt: (done: (port: MessagePort) => void) => () => void): Promise<Endpoint> {
  const { timeoutMs = 10_000, signal } = options;
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    // `done` and the timer only run from later tasks, after `cleanup` is assigned.
    const finish = (port?: MessagePort, error?: unknown): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      cleanup();
      if (port) resolve(messagePortEndpoint(port));
      else reject(error);
    };
    const onAbort = (): void => finish(undefined, signal?.reason);
    const message = `iframe handshake timed out after ${timeoutMs} ms: no answer from an allowed origin`;
    const timer = setTimeout(() => finish(undefined, new ConnectionClosedError(message)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = attempt((port) => finish(port));
  });
}

/**
 * Connects to the stream-weaver side in `iframe` (page side); resolves with an
 * endpoint over a private `MessageChannel` once the frame has answered.
 *
 * Handshake: the frame says `ready` (on start, and in answer to this side's
 * `syn`, sent now and on every `load`); a `ready` counts only if its `source`
 * is `iframe.contentWindow` and its origin is allowed. This side then posts one
 * end of a new `MessageChannel` to that window, with the verified origin as
 * `targetOrigin`, or `'*'` for a sandboxed frame (origin `"null"`, only when
 * allowed): concrete origins never match an opaque one, and the message can
 * reach only the window just verified. Messages from anywhere else are ignored.
 * Rejects with `ConnectionClosedError` after `timeoutMs`, and `TypeError` for a bad `origin`.
 * `onClose` fires on `close()`, and when the frame closes its side or goes away (unload, navigation, removal).
 *
 * @example
 * ```ts
 * import { wrap } from 'stream-weaver';
 * import { iframeEndpoint } from 'stream-weaver/adapters/iframe';
 * const frame = document.querySelector('iframe')!;
 * const remote = wrap<Api>(await iframeEndpoint(frame, { origin: 'https://widgets.example' }));
 * ```
 */
export function iframeEndpoint(iframe: HTMLIFrameElement, options: IframeEndpointOptions): Promise<Endpoint> {
  const { allows, hint } = allowlist(options?.origin);
  return handshake(options, (done) => {
    const syn = (): void => iframe.contentWindow?.postMessage(step('syn'), hint);
    const onMessage = (event: MessageEvent): void => {
      const frame = iframe.contentWindow;
      if (frame === null || event.source !== frame || !allows(event.origin) || !isStep(event.data, 'ready')) return;
      const { port1, port2 } = new MessageChannel();
      frame.postMessage(step('connect'), event.origin === 'null' ? '*' : event.origin, [port2]);
      done(port1);
    };
    window.addEventListener('message', onMessage);
    iframe.addEventListener('load', syn);
    syn();
    return () => {
      window.removeEventListener('message', onMessage);
      iframe.removeEventListener('load', syn);
    };
  });
}

/**
 * The frame side: waits for the parent page's `iframeEndpoint`, accepting the
 * channel only from `window.parent` at an allowed origin; resolves with an
 * endpoint over it. Rejects with `ConnectionClosedError` after `timeoutMs`,
 * and `TypeError` outside a frame or for a bad `origin`. `onClose` fires on
 * `close()`, when the parent closes its side, and when either page goes away.
 *
 * @example
 * ```ts
 * import { expose } from 'stream-weaver';
 * import { parentWindowEndpoint } from 'stream-weaver/adapters/iframe';
 * expose(handlers, await parentWindowEndpoint({ origin: 'https://app.example' }));
 * ```
 */
export function parentWindowEndpoint(options: IframeEndpointOptions): Promise<Endpoint> {
  const { allows, hint } = allowlist(options?.origin);
  const parent = window.parent;
  if (parent === window) throw new TypeError('parentWindowEndpoint() must be called inside an iframe');
  return handshake(options, (done) => {
    const onMessage = (event: MessageEvent): void => {
      if (event.source !== parent || !allows(event.origin)) return;
      if (isStep(event.data, 'syn')) parent.postMessage(step('ready'), event.origin === 'null' ? '*' : event.origin);
      else if (isStep(event.data, 'connect') && event.ports[0] !== undefined) done(event.ports[0]);
    };
    window.addEventListener('message', onMessage);
    parent.postMessage(step('ready'), hint); // `ready` carries nothing secret: '*' is fine when several origins are allowed
    return () => window.removeEventListener('message', onMessage);
  });
}
