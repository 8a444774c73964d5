// Errors crossing a socket do not leak stacks unless asked for: not in a call's
// failure, a stream's error, a cause, AggregateError members, nor a goodbye;
// checked on the revived errors and on the raw text that crossed the wire, in
// both directions over a real ws server. With keepStacks: true they do cross.
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { serveWebSocket, webSocketEndpoint, type ServedWebSocket } from '../../adapters/websocket.ts';
import { ConnectionClosedError } from '../../src/errors.ts';
import { Session, type CallContext } from '../../src/session.ts';

const THIS_FILE = fileURLToPath(import.meta.url);

class SecretError extends Error {
  constructor(message: string, readonly detail: string) {
    super(message);
    this.name = 'SecretError';
  }
}

/** Throws from a few frames deep, so a stack would name this file many times. */
function deep(n: number, make: () => Error): never {
  if (n === 0) throw make();
  return deep(n - 1, make);
}

let caughtFromClient: unknown;

const serverHandlers = {
  fail(): never {
    return deep(3, () => new RangeError('outer', { cause: new SecretError('inner', 'kept') }));
  },
  async *failMidStream() {
    yield 1;
    deep(3, () => new TypeError('mid-stream'));
  },
  aggregate(): never {
    return deep(2, () => new AggregateError([new Error('one'), new SecretError('two', 'x')], 'many'));
  },
  /** Calls the client back: the client's error crosses the other way, and is kept here to be looked at. */
  async callBack(this: CallContext) {
    caughtFromClient = await this.session.remote<typeof clientHandlers>().clientFail().catch((e: unknown) => e);
    return 'called';
  },
  never: () => new Promise<never>(() => {}),
};
const clientHandlers = {
  clientFail(): never {
    return deep(2, () => new Error('from the client'));
  },
};

let server: WebSocketServer;
let url: string;
const serves: ServedWebSocket[] = [];
beforeAll(async () => {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  // Two policies on one server: the path picks one.
  const redacted = serveWebSocket({ on: (e, l) => server.on(e, (s, r) => !r.url?.includes('keep') && l(s, r)), off: () => server }, serverHandlers);
  const kept = serveWebSocket({ on: (e, l) => server.on(e, (s, r) => r.url?.includes('keep') && l(s, r)), off: () => server }, serverHandlers, { session: { keepStacks: true } });
  serves.push(redacted, kept);
});
afterAll(async () => {
  for (const s of serves) s.close();
  await new Promise((resolve) => server.close(resolve));
});

/** A client session that also records every raw text message it receives. */
function client(path: string, keepStacks?: boolean) {
  const socket = new WebSocket(`${url}${path}`);
  const raw: string[] = [];
  socket.on('message', (data) => raw.push(String(data)));
  const session = new Session(webSocketEndpoint(socket), { handlers: clientHandlers, ...(keepStacks !== undefined && { keepStacks }) });
  return { socket, raw, session, remote: session.remote<typeof serverHandlers>() };
}

/** Every stack in an error tree: the error's, its cause's, its members'. */
function stacks(error: unknown): string[] {
  if (!(error instanceof Error)) return [];
  const out = [error.stack ?? ''];
  if (error.cause !== undefined) out.push(...stacks(error.cause));
  if (error instanceof AggregateError) for (const e of error.errors) out.push(...stacks(e));
  return out;
}

function expectRedacted(error: unknown): void {
  const all = stacks(error);
  expect(all.length).toBeGreaterThan(0);
  for (const stack of all) {
    expect(stack).not.toContain(THIS_FILE);
    expect(stack).toMatch(/^[^\n]*\n {4}at <remote>$/); // name: message, then one placeholder frame
  }
}

describe('over a socket, stacks stay home by default', () => {
  test('a call failure, its cause, a stream error and AggregateError members arrive without stacks, the rest intact', async () => {
    const { remote, raw, session } = client('redacted');
    const failure = await remote.fail().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RangeError);
    expect((failure as Error).cause).toMatchObject({ name: 'SecretError', message: 'inner', detail: 'kept' });
    expectRedacted(failure);

    const items: number[] = [];
    const midStream = await (async () => {
      for await (const n of await remote.failMidStream()) items.push(n);
    })().catch((e: unknown) => e);
    expect(items).toEqual([1]);
    expect(midStream).toBeInstanceOf(TypeError);
    expectRedacted(midStream);

    const many = await remote.aggregate().catch((e: unknown) => e);
    expect(many).toBeInstanceOf(AggregateError);
    expect((many as AggregateError).errors.map((e: Error) => e.message)).toEqual(['one', 'two']);
    expectRedacted(many);

    // Nothing that looks like a stack frame or names a file crossed the wire at all.
    const wire = raw.join('\n');
    expect(wire).not.toContain(THIS_FILE);
    expect(wire).not.toMatch(/\\n {4}at /);
    expect(wire).toContain('SecretError'); // the errors did cross, only their stacks did not
    session.close();
  });

  test('an error the client throws for the server crosses without its stack too', async () => {
    const { remote, session } = client('redacted-back');
    expect(await remote.callBack()).toBe('called');
    expect(caughtFromClient).toMatchObject({ name: 'Error', message: 'from the client' });
    expectRedacted(caughtFromClient);
    session.close();
  });

  test('the reason in a goodbye crosses without its stack', async () => {
    const { remote, socket, raw, session } = client('redacted-bye');
    expect(await remote.fail().catch(() => 'failed')).toBe('failed');
    const pending = remote.never();
    socket.send('{"json":{"v":1,"f":[{"t":"cancel","s":99}]}}'); // a violation: the server says why and closes
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
    const reason = await session.closed;
    expect(reason.cause).toMatchObject({ name: 'ProtocolError' });
    expectRedacted(reason.cause);
    expect(raw.join('\n')).not.toMatch(/\\n {4}at /);
  });
});

describe('with keepStacks: true the stacks cross', () => {
  test('the server that keeps stacks sends them, causes and members included', async () => {
    const { remote, session } = client('keep');
    const failure = (await remote.fail().catch((e: unknown) => e)) as Error;
    expect(failure.stack).toContain(THIS_FILE);
    expect((failure.cause as Error).stack).toContain(THIS_FILE);
    const many = (await remote.aggregate().catch((e: unknown) => e)) as AggregateError;
    expect(many.errors.every((e: Error) => e.stack!.includes(THIS_FILE))).toBe(true);
    session.close();
  });
});
