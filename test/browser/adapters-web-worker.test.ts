// web-worker adapter against a real module web worker in Chromium.
import { describe, expect, test } from 'vitest';
import { selfEndpoint, workerEndpoint } from '../../adapters/web-worker.ts';
import type { Endpoint } from '../../src/endpoint.ts';
import { ConnectionClosedError } from '../../src/errors.ts';
import { nextMessage } from '../helpers.ts';

/** Resolves with the next message's data. */
const closeReason = (endpoint: Endpoint): Promise<Error> => new Promise((resolve) => endpoint.onClose!(resolve));

/** Starts the TypeScript module worker and waits for its hello. */
async function startEcho(): Promise<{ worker: Worker; endpoint: Endpoint }> {
  const worker = new Worker(new URL('./fixtures/echo-worker.ts', import.meta.url), { type: 'module' });
  const endpoint = workerEndpoint(worker);
  expect(await nextMessage(endpoint)).toEqual({ ready: true });
  return { worker, endpoint };
}

describe('a module web worker', () => {
  test('echoes messages both ways in order', async () => {
    const { endpoint } = await startEcho();
    const got: unknown[] = [];
    const all = new Promise<void>((resolve) => {
      endpoint.addEventListener('message', ({ data }) => {
        got.push(data);
        if (got.length === 3) resolve();
      });
    });
    endpoint.postMessage('one');
    endpoint.postMessage({ two: new Map([[2, new Date(0)]]) });
    endpoint.postMessage(3n);
    await all;
    expect(got).toEqual([{ echo: 'one' }, { echo: { two: new Map([[2, new Date(0)]]) } }, { echo: 3n }]);
    endpoint.close!();
  });

  test('moves a transferred ArrayBuffer there and back', async () => {
    const { endpoint } = await startEcho();
    const buffer = new Uint8Array([4, 5, 6]).buffer;
    const reply = nextMessage(endpoint);
    endpoint.postMessage(buffer, [buffer]);
    expect(buffer.byteLength).toBe(0);
    const { echo } = (await reply) as { echo: ArrayBuffer };
    expect([...new Uint8Array(echo)]).toEqual([4, 5, 6]);
    endpoint.close!();
  });

  test('worker.terminate() fires onClose at once with ConnectionClosedError', async () => {
    const { worker, endpoint } = await startEcho();
    let reason: Error | undefined;
    endpoint.onClose!((error) => (reason = error));
    worker.terminate();
    expect(reason).toBeInstanceOf(ConnectionClosedError); // synchronously: nothing waits for a timeout
  });

  test('endpoint.close() fires onClose and the worker answers no more', async () => {
    const { endpoint } = await startEcho();
    const closed = closeReason(endpoint);
    endpoint.close!();
    expect(await closed).toBeInstanceOf(ConnectionClosedError);
    endpoint.postMessage('after close'); // dropped, does not throw
  });

  test('an uncaught error in the worker fires onClose with the ErrorEvent as cause', async () => {
    const { endpoint } = await startEcho();
    const closed = closeReason(endpoint);
    endpoint.postMessage('throw');
    const reason = await closed;
    expect(reason).toBeInstanceOf(ConnectionClosedError);
    expect(reason.cause).toBeInstanceOf(ErrorEvent);
    expect((reason.cause as ErrorEvent).message).toContain('boom in the web worker');
  });

  test('a worker whose script fails to load fires onClose', async () => {
    const worker = new Worker(new URL('./fixtures/does-not-exist.ts', import.meta.url), { type: 'module' });
    expect(await closeReason(workerEndpoint(worker))).toBeInstanceOf(ConnectionClosedError);
  });

  test('selfEndpoint outside a worker throws a TypeError', () => {
    expect(() => selfEndpoint()).toThrow(TypeError);
  });
});
