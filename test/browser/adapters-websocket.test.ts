// WebSocket adapter with the browser's own WebSocket against the real `ws`
// server that the browser project's global setup starts in vitest's Node process.
import { describe, expect, inject, test } from 'vitest';
import { webSocketEndpoint, type WebSocketEndpoint, type WebSocketLike } from '../../adapters/websocket.ts';
import { ConnectionClosedError, LimitExceededError, ProtocolError } from '../../src/errors.ts';
import { messageReader } from '../helpers.ts';

const url = `ws://127.0.0.1:${inject('wsPort')}/`;

/** Opens a browser WebSocket for `id` and reads its hello. */
async function connect(id: string, maxPayload?: number) {
  const socket: WebSocketLike = new WebSocket(`${url}?id=${id}`); // the DOM WebSocket fits WebSocketLike
  const endpoint = webSocketEndpoint(socket, maxPayload === undefined ? {} : { maxPayload });
  const messages = messageReader(endpoint);
  expect(await messages.next()).toBe(`hello ${id}`);
  return { endpoint, messages };
}

const closeReason = (endpoint: WebSocketEndpoint): Promise<Error> => new Promise((resolve) => endpoint.onClose(resolve));

/** Asks the server, over a fresh connection, how the socket of client `id` closed. */
async function serverSawClose(id: string): Promise<{ code: number; reason: string } | null> {
  const { endpoint, messages } = await connect(`probe-${id}`);
  endpoint.postMessage(`closeinfo:${id}`);
  const reply = await messages.next();
  endpoint.close();
  return JSON.parse(reply.slice('closeinfo:'.length));
}

describe("the browser's WebSocket against a ws server", () => {
  test('exchanges messages both ways, in order', async () => {
    const { endpoint, messages } = await connect('b-echo');
    for (let i = 0; i < 5; i++) endpoint.postMessage(`m${i}`);
    for (let i = 0; i < 5; i++) expect(await messages.next()).toBe(`echo:m${i}`);
    endpoint.postMessage('push:100');
    for (let i = 0; i < 100; i++) expect(await messages.next()).toBe(`push ${i}`);
    endpoint.close();
  });

  test('sends made while CONNECTING are queued, counted in bufferedAmount, and sent in order on open', async () => {
    const socket = new WebSocket(`${url}?id=b-early`);
    const endpoint = webSocketEndpoint(socket);
    const messages = messageReader(endpoint);
    expect(socket.readyState).toBe(WebSocket.CONNECTING);
    endpoint.postMessage('first');
    endpoint.postMessage('€ second'); // 3-byte character: counted in UTF-8 bytes
    expect(endpoint.bufferedAmount).toBe(5 + 10);
    const drained = endpoint.whenDrained(0);
    expect(await messages.next()).toBe('hello b-early');
    expect(await messages.next()).toBe('echo:first');
    expect(await messages.next()).toBe('echo:€ second');
    await drained;
    endpoint.close();
  });

  test('whenDrained resolves once a burst has left the buffer (polled: browsers have no drain event)', async () => {
    const { endpoint, messages } = await connect('b-burst');
    const chunk = 'z'.repeat(60_000);
    for (let i = 0; i < 32; i++) endpoint.postMessage(chunk);
    await endpoint.whenDrained(0);
    expect(endpoint.bufferedAmount).toBe(0);
    for (let i = 0; i < 32; i++) expect((await messages.next()).length).toBe(5 + 60_000);
    endpoint.close();
  });

  test('a connection that cannot be made fires onClose and fails whenDrained', async () => {
    const endpoint = webSocketEndpoint(new WebSocket('ws://127.0.0.1:9/'));
    endpoint.postMessage('never sent');
    const drained = endpoint.whenDrained(0);
    expect(await closeReason(endpoint)).toBeInstanceOf(ConnectionClosedError);
    await expect(drained).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(endpoint.bufferedAmount).toBe(0);
  });
});

describe('limits, violations and closes', () => {
  test('an incoming message over maxPayload closes with LimitExceededError (1000 + reason: browsers may not send 1009)', async () => {
    const { endpoint } = await connect('b-toobig', 1024);
    const closed = closeReason(endpoint);
    endpoint.postMessage('big:400'); // 1200 UTF-8 bytes in 400 UTF-16 units
    expect(await closed).toMatchObject({ code: 'ERR_LIMIT_EXCEEDED', limit: 'maxPayload', value: 1200, max: 1024 });
    expect(await closed).toBeInstanceOf(LimitExceededError);
    await expect.poll(() => serverSawClose('b-toobig')).toEqual({ code: 1000, reason: 'message too big' });
  });

  test("the server's maxPayload closes the browser's socket with 1009", async () => {
    const { endpoint } = await connect('b-client-too-big');
    const closed = closeReason(endpoint);
    endpoint.postMessage('q'.repeat(inject('wsServerMaxPayload') + 1));
    const reason = await closed;
    expect(reason).toBeInstanceOf(ConnectionClosedError);
    expect(reason.message).toContain('1009');
  });

  test('a binary frame on the text wire closes with ProtocolError', async () => {
    const { endpoint } = await connect('b-binary');
    const closed = closeReason(endpoint);
    endpoint.postMessage('binary');
    expect(await closed).toBeInstanceOf(ProtocolError);
    await expect.poll(() => serverSawClose('b-binary')).toEqual({ code: 1000, reason: 'text frames only' });
  });

  test('the server terminating the connection fires onClose with ConnectionClosedError (1006)', async () => {
    const { endpoint } = await connect('b-terminate');
    const closed = closeReason(endpoint);
    endpoint.postMessage('terminate');
    const reason = await closed;
    expect(reason).toBeInstanceOf(ConnectionClosedError);
    expect(reason.message).toContain('1006');
  });

  test('close() sends 1000 and a reason trimmed to 123 bytes without splitting a character', async () => {
    const { endpoint } = await connect('b-polite');
    endpoint.close(1000, '€'.repeat(50)); // 150 bytes: 41 characters (123 bytes) fit
    await expect.poll(() => serverSawClose('b-polite')).toEqual({ code: 1000, reason: '€'.repeat(41) });
  });
});
