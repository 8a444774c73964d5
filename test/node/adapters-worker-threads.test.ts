// worker_threads adapter against real workers started from a TypeScript entry.
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { nodeWorkerEndpoint, parentPortEndpoint, startTsWorker } from '../../adapters/worker-threads.ts';
import type { Endpoint } from '../../src/endpoint.ts';
import { ConnectionClosedError } from '../../src/errors.ts';
import { nextMessage } from '../helpers.ts';

const ENTRY = new URL('./fixtures/echo-worker.ts', import.meta.url);

/** Resolves with the next message's data. */
/** Resolves with the reason `onClose` reports. */
function closeReason(endpoint: Endpoint): Promise<Error> {
  return new Promise((resolve) => endpoint.onClose!(resolve));
}

/** Starts the echo worker and waits for its hello, so the conversation is established. */
async function startEcho(workerData: unknown = null): Promise<{ worker: Worker; endpoint: Endpoint; hello: unknown }> {
  const worker = startTsWorker(ENTRY, { workerData });
  const endpoint = nodeWorkerEndpoint(worker);
  const hello = await nextMessage(endpoint);
  return { worker, endpoint, hello };
}

describe('a TypeScript worker shared by the echo tests', () => {
  let shared: Awaited<ReturnType<typeof startEcho>>;
  beforeAll(async () => {
    shared = await startEcho({ id: 7 });
  });
  afterAll(async () => {
    await shared.worker.terminate();
  });

  test('speaks first with its workerData, so messages flow from worker to parent', () => {
    expect(shared.hello).toEqual({ ready: true, workerData: { id: 7 } });
  });

  test('echoes messages from parent to worker and back in order', async () => {
    const { endpoint } = shared;
    const got: unknown[] = [];
    const all = new Promise<void>((resolve) => {
      const listener = ({ data }: { data: unknown }): void => {
        got.push(data);
        if (got.length === 3) {
          endpoint.removeEventListener('message', listener);
          resolve();
        }
      };
      endpoint.addEventListener('message', listener);
    });
    endpoint.postMessage('one');
    endpoint.postMessage({ two: [2, new Map([[1, 'x']])] });
    endpoint.postMessage(3n);
    await all;
    expect(got).toEqual([{ echo: 'one' }, { echo: { two: [2, new Map([[1, 'x']])] } }, { echo: 3n }]);
  });

  test('moves a transferred ArrayBuffer there and back', async () => {
    const buffer = new Uint8Array([1, 2, 3]).buffer;
    const reply = nextMessage(shared.endpoint);
    shared.endpoint.postMessage(buffer, [buffer]);
    expect(buffer.byteLength).toBe(0); // detached: moved, not copied
    const { echo } = (await reply) as { echo: ArrayBuffer };
    expect([...new Uint8Array(echo)]).toEqual([1, 2, 3]);
  });

  test('a removed listener no longer receives messages', async () => {
    const { endpoint } = shared;
    let removedCalls = 0;
    const removed = (): void => {
      removedCalls++;
    };
    endpoint.addEventListener('message', removed);
    endpoint.removeEventListener('message', removed);
    const reply = nextMessage(endpoint);
    endpoint.postMessage('ping');
    expect(await reply).toEqual({ echo: 'ping' });
    expect(removedCalls).toBe(0);
  });
});

describe('a worker that goes away', () => {
  test('exiting mid-conversation fires onClose with ConnectionClosedError naming the exit code', async () => {
    const { endpoint } = await startEcho();
    const closed = closeReason(endpoint);
    endpoint.postMessage({ cmd: 'exit', code: 3 });
    const reason = await closed;
    expect(reason).toBeInstanceOf(ConnectionClosedError);
    expect((reason as ConnectionClosedError).code).toBe('ERR_CONNECTION_CLOSED');
    expect(reason.message).toMatch(/\b3\b/);
  });

  test('crashing with a throw fires onClose with the thrown error as cause', async () => {
    const { endpoint } = await startEcho();
    const closed = closeReason(endpoint);
    endpoint.postMessage({ cmd: 'throw', message: 'boom in the worker' });
    const reason = await closed;
    expect(reason).toBeInstanceOf(ConnectionClosedError);
    expect(reason.cause).toBeInstanceOf(Error);
    expect((reason.cause as Error).message).toBe('boom in the worker');
  });

  test('closing the parent endpoint fires onClose at once and terminates the worker', async () => {
    const { worker, endpoint } = await startEcho();
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    const closed = closeReason(endpoint);
    endpoint.close!();
    expect(await closed).toBeInstanceOf(ConnectionClosedError);
    await exited;
    endpoint.postMessage('after close'); // dropped, does not throw
  });

  test('closing the worker side lets the worker exit, which closes the parent side', async () => {
    const { worker, endpoint } = await startEcho();
    const exitCode = new Promise<number>((resolve) => worker.once('exit', resolve));
    const closed = closeReason(endpoint);
    endpoint.postMessage({ cmd: 'close' });
    expect(await exitCode).toBe(0);
    expect((await closed).message).toMatch(/\b0\b/);
  });

  test('an onClose listener added after the close is still called', async () => {
    const { endpoint } = await startEcho();
    const first = closeReason(endpoint);
    endpoint.close!();
    const reason = await first;
    expect(await closeReason(endpoint)).toBe(reason);
  });

  test('wrapping a worker that already exited closes at once', async () => {
    const worker = new Worker('process.exit(0)', { eval: true });
    await new Promise((resolve) => worker.once('exit', resolve));
    expect(await closeReason(nodeWorkerEndpoint(worker))).toBeInstanceOf(ConnectionClosedError);
  });
});

describe('bad arguments', () => {
  test('parentPortEndpoint on the main thread throws a TypeError', () => {
    expect(() => parentPortEndpoint()).toThrow(TypeError);
  });

  test('startTsWorker refuses a URL that is not file:', () => {
    expect(() => startTsWorker(new URL('https://example.invalid/w.ts'))).toThrow(TypeError);
  });
});
