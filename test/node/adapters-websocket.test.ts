// WebSocket adapter against a real `ws` server on 127.0.0.1, with real `ws` clients.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import { webSocketEndpoint, type WebSocketEndpoint } from '../../adapters/websocket.ts';
import { ConnectionClosedError, LimitExceededError, ProtocolError } from '../../src/errors.ts';
import { startTestServer, type TestServer } from './fixtures/ws-test-server.ts';
import { messageReader } from '../helpers.ts';

/** The server side's endpoint limit, to prove the server enforces `maxPayload` too. */
const SERVER_MAX_PAYLOAD = 64 * 1024;

let server: TestServer;
let url: string;
let serverCloses: TestServer['closes'];
beforeAll(async () => {
  server = await startTestServer({ maxPayload: SERVER_MAX_PAYLOAD });
  url = `ws://127.0.0.1:${server.port}/`;
  serverCloses = server.closes;
});
afterAll(() => server.close());

/** Opens a client for `id` and reads its hello, so the connection is established. */
async function connect(id: string, maxPayload?: number) {
  const socket = new WebSocket(`${url}?id=${id}`);
  const endpoint = webSocketEndpoint(socket, maxPayload === undefined ? {} : { maxPayload });
  const messages = messageReader(endpoint);
  expect(await messages.next()).toBe(`hello ${id}`);
  return { socket, endpoint, messages };
}

const closeReason = (endpoint: WebSocketEndpoint): Promise<Error> => new Promise((resolve) => endpoint.onClose(resolve));

describe('messages over a real ws server', () => {
  test('several clients exchange messages both ways, each hearing only its own echoes', async () => {
    const clients = await Promise.all(['a', 'b', 'c'].map((id) => connect(id)));
    for (const [i, { endpoint }] of clients.entries()) for (let n = 0; n < 5; n++) endpoint.postMessage(`${i}-${n}`);
    for (const [i, { messages }] of clients.entries()) {
      for (let n = 0; n < 5; n++) expect(await messages.next()).toBe(`echo:${i}-${n}`);
    }
    for (const { endpoint } of clients) endpoint.close();
  });

  test('the server pushes many messages that arrive in order', async () => {
    const { endpoint, messages } = await connect('push');
    endpoint.postMessage('push:200');
    for (let i = 0; i < 200; i++) expect(await messages.next()).toBe(`push ${i}`);
    endpoint.close();
  });

  test('sends made while CONNECTING are queued, counted in bufferedAmount, and sent in order on open', async () => {
    const socket = new WebSocket(`${url}?id=early`);
    const endpoint = webSocketEndpoint(socket);
    const messages = messageReader(endpoint);
    expect(socket.readyState).toBe(WebSocket.CONNECTING);
    endpoint.postMessage('first');
    endpoint.postMessage('é second'); // 2-byte character: counted in UTF-8 bytes
    expect(endpoint.bufferedAmount).toBe(5 + 9);
    const drained = endpoint.whenDrained(0);
    expect(await messages.next()).toBe('hello early');
    expect(await messages.next()).toBe('echo:first');
    expect(await messages.next()).toBe('echo:é second');
    await drained;
    expect(endpoint.bufferedAmount).toBe(0);
    endpoint.close();
  });

  test('whenDrained resolves once a large burst has left the buffer', async () => {
    const { endpoint, messages } = await connect('burst');
    const chunk = 'x'.repeat(60_000);
    for (let i = 0; i < 64; i++) endpoint.postMessage(chunk);
    await endpoint.whenDrained(0);
    expect(endpoint.bufferedAmount).toBe(0);
    for (let i = 0; i < 64; i++) expect((await messages.next()).length).toBe(5 + 60_000);
    endpoint.close();
  });

  test('only strings can be sent on the text wire', async () => {
    const { endpoint } = await connect('types');
    expect(() => endpoint.postMessage({ not: 'a string' })).toThrow(TypeError);
    endpoint.close();
  });
});

describe('limits and protocol violations', () => {
  test('an incoming message over maxPayload (counted in UTF-8 bytes) closes with 1009 and LimitExceededError', async () => {
    const { endpoint } = await connect('toobig', 1024);
    const closed = closeReason(endpoint);
    endpoint.postMessage('big:400'); // 400 x '€' = 1200 bytes but only 400 UTF-16 units
    const reason = await closed;
    expect(reason).toBeInstanceOf(LimitExceededError);
    expect(reason).toMatchObject({ code: 'ERR_LIMIT_EXCEEDED', limit: 'maxPayload', value: 1200, max: 1024 });
    await expect.poll(() => serverCloses.get('toobig')?.code).toBe(1009);
  });

  test('the server side enforces its own maxPayload on what clients send', async () => {
    const { endpoint } = await connect('client-too-big');
    const closed = closeReason(endpoint);
    endpoint.postMessage('y'.repeat(SERVER_MAX_PAYLOAD + 1));
    const reason = await closed;
    expect(reason).toBeInstanceOf(ConnectionClosedError);
    expect(reason.message).toContain('1009');
  });

  test('a binary frame on the text wire closes with 1003 and ProtocolError', async () => {
    const { endpoint } = await connect('binary');
    const closed = closeReason(endpoint);
    endpoint.postMessage('binary');
    expect(await closed).toBeInstanceOf(ProtocolError);
    await expect.poll(() => serverCloses.get('binary')?.code).toBe(1003);
  });
});

describe('closing', () => {
  test('the server terminating a socket fires the client onClose with ConnectionClosedError', async () => {
    const { endpoint } = await connect('terminate');
    const closed = closeReason(endpoint);
    const drainAfter = endpoint.whenDrained(-1); // never drained: must reject when the socket dies
    endpoint.postMessage('terminate');
    const reason = await closed;
    expect(reason).toBeInstanceOf(ConnectionClosedError);
    expect(reason.message).toContain('1006');
    await expect(drainAfter).rejects.toBe(reason);
    endpoint.postMessage('after close'); // dropped, does not throw
  });

  test('close() fires onClose at once and closes with 1000 and a reason trimmed to 123 bytes', async () => {
    const { endpoint } = await connect('polite');
    const closed = closeReason(endpoint);
    endpoint.close(1000, 'é'.repeat(100)); // 200 bytes
    expect(await closed).toBeInstanceOf(ConnectionClosedError);
    await expect.poll(() => serverCloses.get('polite')).toEqual({ code: 1000, reason: 'é'.repeat(61) });
  });

  test('wrapping a socket that already closed closes at once', async () => {
    const { socket, endpoint } = await connect('late');
    endpoint.close();
    await new Promise((resolve) => socket.once('close', resolve));
    expect(await closeReason(webSocketEndpoint(socket))).toBeInstanceOf(ConnectionClosedError);
  });

  test('a maxPayload that is not positive is a RangeError', async () => {
    const { socket, endpoint } = await connect('range');
    expect(() => webSocketEndpoint(socket, { maxPayload: 0 })).toThrow(RangeError);
    endpoint.close();
  });
});
