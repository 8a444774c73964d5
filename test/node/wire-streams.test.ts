import { describe, expect, test } from 'vitest';
import {
  asyncIterableSequencer,
  ConnectionClosedError,
  DeserializerConductor,
  jsonCodec,
  ProtocolError,
  SerializerConductor,
  superjsonCodec,
} from '../../src/index.ts';
import { collect, delay } from '../helpers.ts';

function source<T>(values: T[]): ReadableStream<T> {
  return new ReadableStream<T>({
    start(controller) {
      for (const v of values) controller.enqueue(v);
      controller.close();
    },
  });
}

interface Section {
  title: string;
  body: AsyncIterable<string>;
}

describe('SerializerConductor and DeserializerConductor', () => {
  test('values with nested streams cross a text transport and come out live and in order', async () => {
    const slow = async function* (name: string, ms: number) {
      await delay(ms);
      yield `${name}-1`;
      yield `${name}-2`;
    };
    const sections: Section[] = [
      { title: 'a', body: slow('a', 40) },
      { title: 'b', body: slow('b', 5) },
    ];
    const wire: string[] = [];
    const text = source(sections)
      .pipeThrough(new SerializerConductor<Section>({ codec: jsonCodec }))
      .pipeThrough(
        new TransformStream<unknown, string>({
          transform(chunk, controller) {
            expect(typeof chunk).toBe('string');
            wire.push(chunk as string);
            controller.enqueue(chunk as string);
          },
        }),
      );
    const values = text.pipeThrough(new DeserializerConductor<Section>({ codec: jsonCodec }));
    const out: string[] = [];
    for await (const section of values as unknown as AsyncIterable<Section>) {
      out.push(section.title);
      for await (const line of section.body) out.push(line);
    }
    expect(out).toEqual(['a', 'a-1', 'a-2', 'b', 'b-1', 'b-2']);
    expect(wire.length).toBeGreaterThan(0);
  });

  test('a sequence written whole crosses as its chain of sub-streams', async () => {
    const { sequence, chain } = asyncIterableSequencer<string>();
    chain(['x']);
    chain((async function* () { yield 'y'; })());
    chain(null);
    const values = source([{ seq: sequence }])
      .pipeThrough(new SerializerConductor<{ seq: AsyncIterable<string> }>({ codec: superjsonCodec() }))
      .pipeThrough(new DeserializerConductor<{ seq: AsyncIterable<string> }>({ codec: superjsonCodec() }));
    const [first] = await collect(values as unknown as AsyncIterable<{ seq: AsyncIterable<string> }>);
    expect(await collect(first!.seq)).toEqual(['x', 'y']);
  });

  test('an error inside a nested stream reaches the reader after the items before it', async () => {
    const body = (async function* () {
      yield 1;
      throw new RangeError('late');
    })();
    const values = source([{ body }])
      .pipeThrough(new SerializerConductor<{ body: AsyncIterable<number> }>())
      .pipeThrough(new DeserializerConductor<{ body: AsyncIterable<number> }>());
    const [value] = await collect(values as unknown as AsyncIterable<{ body: AsyncIterable<number> }>);
    const seen: number[] = [];
    const error = await (async () => {
      for await (const n of value!.body) seen.push(n);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([1]);
    expect(error).toBeInstanceOf(RangeError);
  });

  test('a malformed message errors the readable with a ProtocolError', async () => {
    const deserializer = new DeserializerConductor<unknown>();
    const writer = deserializer.writable.getWriter();
    await expect(writer.write({ v: 1, f: [{ t: 'nonsense' }] })).rejects.toBeInstanceOf(ProtocolError);
    await expect(deserializer.readable.getReader().read()).rejects.toBeInstanceOf(ProtocolError);
  });

  test('input that ends before its streams fails them with ConnectionClosedError', async () => {
    const serializer = new SerializerConductor<{ body: AsyncIterable<number> }>();
    const writer = serializer.writable.getWriter();
    void writer.write({ body: (async function* () { yield 1; await delay(10_000); })() });
    const reader = serializer.readable.getReader();
    const deserializer = new DeserializerConductor<{ body: AsyncIterable<number> }>();
    const input = deserializer.writable.getWriter();
    // Pass messages on until the body's first item crossed, but not its end (it never ends).
    for (;;) {
      const { value: message } = await reader.read();
      await input.write(message);
      const frames = (message as { f: Array<{ t: string; s?: number }> }).f;
      if (frames.some((f) => f.t === 'items' && f.s === 1)) break;
    }
    const out = deserializer.readable.getReader();
    const { value } = await out.read();
    await input.close();
    const error = await collect(value!.body).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionClosedError);
    await reader.cancel();
  });

  test('a slow reader of the wire holds the serializer back (backpressure, no credit needed)', async () => {
    let produced = 0;
    const body = (async function* () {
      for (let i = 0; i < 100_000; i++) {
        produced++;
        yield i;
      }
    })();
    const serializer = new SerializerConductor<{ body: AsyncIterable<number> }>({ maxBatchItems: 64 });
    void serializer.writable.getWriter().write({ body });
    const reader = serializer.readable.getReader();
    for (let i = 0; i < 3; i++) await reader.read();
    await delay(50);
    // The readable queues a few messages of 64 items; the producer is not run to its end.
    expect(produced).toBeLessThan(2_000);
    await reader.cancel();
  });

  test('a value with thousands of nested streams crosses in messages the deserializer accepts', async () => {
    const many = Array.from({ length: 5_000 }, (_, i) => Promise.resolve(i));
    const values = source([{ many }])
      .pipeThrough(new SerializerConductor<{ many: Promise<number>[] }>())
      .pipeThrough(new DeserializerConductor<{ many: Promise<number>[] }>());
    const [value] = await collect(values as unknown as AsyncIterable<{ many: Promise<number>[] }>);
    const numbers = await Promise.all(value!.many);
    expect(numbers).toEqual(Array.from({ length: 5_000 }, (_, i) => i));
  });
});
