// One compliance suite, run over every endpoint: the in-memory pair, a
// MessageChannel, worker threads, web workers, iframes and WebSockets.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Endpoint } from '../../src/endpoint.ts';
import { ConnectionClosedError, ProtocolError } from '../../src/errors.ts';
import { DEFAULT_FLOW, DEFAULT_LIMITS } from '../../src/limits.ts';
import { asyncIterableSequencer } from '../../src/sequencer.ts';
import { Session, type Remote, type SessionOptions } from '../../src/session.ts';
import { ComplianceError, type ComplianceHandlers } from './handlers.ts';
import { collect, delay } from '../helpers.ts';

/** A live connection to a peer that exposes `complianceHandlers()`. */
export interface ComplianceConnection {
  endpoint: Endpoint;
  /** Kills the far side or the wire abruptly (terminate, socket drop). */
  cut(): void | Promise<void>;
  /** Releases everything (called after each connection's tests). */
  dispose(): void | Promise<void>;
}

/** How to reach one kind of peer. */
export interface ComplianceTarget {
  name: string;
  connect(): Promise<ComplianceConnection>;
  /** Raw data the far side must refuse as a protocol violation. */
  hostile: unknown;
  options?: SessionOptions;
}

async function eventually(check: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await delay(10);
  }
}

/** Registers the compliance tests for `target`. */
export function complianceSuite(target: ComplianceTarget): void {
  describe(`compliance over ${target.name}`, () => {
    let connection: ComplianceConnection;
    let session: Session;
    let remote: Remote<ComplianceHandlers>;
    const options: SessionOptions = { errorClasses: [ComplianceError], ...target.options };

    beforeAll(async () => {
      connection = await target.connect();
      session = new Session(connection.endpoint, options);
      remote = session.remote<ComplianceHandlers>();
    });
    afterAll(async () => {
      session.close();
      await connection.dispose();
    });

    test('items arrive in order and a remote stream chains between local ones', async () => {
      const { sequence, chain } = asyncIterableSequencer<number | string>();
      chain(['start']);
      chain(remote.count(1_000));
      chain(['end']);
      chain(null);
      const out = await collect(sequence);
      expect(out).toEqual(['start', ...Array.from({ length: 1_000 }, (_, i) => i), 'end']);
    });

    test('nested streams are produced in parallel and consumed in order', async () => {
      const started = performance.now();
      const out = await collect(await remote.tree());
      expect(out).toEqual(['a:start', 'a.1', 'a.2', 'b:start', 'b.1', 'b.2', 'c:start', 'c.1', 'c.2']);
      // Sequential would be 140 ms of waits; in parallel it is about the slowest (90 ms) plus transport.
      expect(performance.now() - started).toBeLessThan(140 + 400);
    });

    test('a slow consumer bounds the producer to its credit window', async () => {
      await remote.reset();
      const stream = await remote.firehose();
      let consumed = 0;
      for await (const item of stream) {
        expect(item.i).toBe(consumed);
        if (++consumed % 100 === 0) await delay(1);
        if (consumed === 1_000) break;
      }
      await delay(50);
      const produced = await remote.produced();
      expect(produced).toBeGreaterThanOrEqual(1_000);
      // One window ahead at most: the configured one, or what it grew to if the reader ever caught up
      // with a producer out of credit (a slow wire), never past its ceiling.
      const { windowItems } = stream as unknown as { windowItems: number };
      expect(windowItems).toBeLessThanOrEqual(DEFAULT_FLOW.windowItems * DEFAULT_FLOW.windowGrowth);
      expect(produced).toBeLessThanOrEqual(1_000 + windowItems + 2);
    });

    test('large buffers arrive whole and in order, the window never past its ceiling', async () => {
      // 6 MiB through a 4 MiB byte window: the producer runs out of credit at least once, and a
      // reader that keeps up may grow the window (FlowOptions.windowGrowth), never past its ceiling.
      const size = 64 * 1024;
      const count = 96;
      const stream = await remote.buffers(count, size);
      let i = 0;
      for await (const buffer of stream) {
        expect(buffer).toBeInstanceOf(ArrayBuffer);
        const bytes = new Uint8Array(buffer);
        expect([bytes.length, bytes[0], bytes[size - 1]]).toEqual([size, i & 255, i & 255]);
        i++;
      }
      expect(i).toBe(count);
      const { windowBytes } = stream as unknown as { windowBytes: number };
      expect(windowBytes).toBeGreaterThanOrEqual(DEFAULT_FLOW.windowBytes);
      expect(windowBytes).toBeLessThanOrEqual(Math.min(DEFAULT_FLOW.windowBytes * DEFAULT_FLOW.windowGrowth, DEFAULT_LIMITS.maxBufferedBytesPerStream));
    });

    test('break runs the remote finally of every nested child, reached or not', async () => {
      await remote.reset();
      const nested = await remote.nested();
      await delay(20);
      for await (const value of nested) {
        expect(value).toBe('first0');
        break;
      }
      await eventually(async () => (await remote.finallies()).length === 3);
      expect(await remote.finallies()).toEqual(['deep', 'first', 'second']);
    });

    test('errors keep their class, message, cause and own properties', async () => {
      const error = (await remote.fail().catch((e: unknown) => e)) as RangeError & { code: string };
      expect(error).toBeInstanceOf(RangeError);
      expect(error.message).toBe('outer');
      expect(error.code).toBe('E_OUTER');
      expect(error.cause).toBeInstanceOf(ComplianceError);
      expect((error.cause as ComplianceError).detail).toBe(7);
      const seen: number[] = [];
      const midway = await (async () => {
        for await (const n of await remote.failMidway()) seen.push(n);
      })().catch((e: unknown) => e);
      expect(seen).toEqual([1]);
      expect(midway).toBeInstanceOf(ComplianceError);
    });

    test('a cut connection fails open streams and pending calls with ConnectionClosedError', async () => {
      const own = await target.connect();
      const cutSession = new Session(own.endpoint, options);
      try {
        const cutRemote = cutSession.remote<ComplianceHandlers>();
        const stream = await cutRemote.endless('cut');
        await stream.next();
        const pending = cutRemote.never();
        await own.cut();
        const streamError = await collect(stream).catch((e: unknown) => e);
        expect(streamError).toBeInstanceOf(ConnectionClosedError);
        await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
      } finally {
        cutSession.close();
        await own.dispose();
      }
    });

    test('a hostile frame closes that session with a ProtocolError and the host keeps serving', async () => {
      const own = await target.connect();
      const hostileSession = new Session(own.endpoint, options);
      try {
        expect(await hostileSession.remote<ComplianceHandlers>().echo('ok')).toBe('ok');
        own.endpoint.postMessage(target.hostile);
        const reason = await hostileSession.closed;
        expect(reason).toBeInstanceOf(ConnectionClosedError);
        expect((reason as Error).cause).toBeInstanceOf(ProtocolError);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      } finally {
        hostileSession.close();
        await own.dispose();
      }
      // The shared connection (another session on the same host) still works.
      expect(await remote.echo(42)).toBe(42);
    });
  });
}
