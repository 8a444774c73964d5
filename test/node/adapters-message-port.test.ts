// The MessagePort endpoint the iframe adapter hands over, on Node's own MessageChannel.
import { describe, expect, test } from 'vitest';
import { messagePortEndpoint } from '../../adapters/message-port.ts';
import type { Endpoint } from '../../src/endpoint.ts';
import { ConnectionClosedError } from '../../src/errors.ts';

const nextMessage = (endpoint: Endpoint): Promise<unknown> =>
  new Promise((resolve) => {
    const listener = ({ data }: { data: unknown }): void => {
      endpoint.removeEventListener('message', listener);
      resolve(data);
    };
    endpoint.addEventListener('message', listener);
  });

const closeReason = (endpoint: Endpoint): Promise<Error> => new Promise((resolve) => endpoint.onClose!(resolve));

describe('messagePortEndpoint', () => {
  test('messages sent before the other side listens wait for its first listener', async () => {
    const { port1, port2 } = new MessageChannel();
    const a = messagePortEndpoint(port1);
    const b = messagePortEndpoint(port2);
    a.postMessage('early');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await nextMessage(b)).toBe('early');
    a.close!();
  });

  test('closing one side fires onClose on both, and the goodbye never reaches a listener', async () => {
    const { port1, port2 } = new MessageChannel();
    const a = messagePortEndpoint(port1);
    const b = messagePortEndpoint(port2);
    const seen: unknown[] = [];
    b.addEventListener('message', ({ data }) => seen.push(data));
    const bClosed = closeReason(b);
    a.postMessage('last');
    a.close!();
    expect(await closeReason(a)).toBeInstanceOf(ConnectionClosedError);
    expect(await bClosed).toBeInstanceOf(ConnectionClosedError);
    expect(seen).toEqual(['last']);
    a.postMessage('after close'); // dropped, does not throw
  });
});
