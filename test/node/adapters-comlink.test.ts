import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { registerComlinkStreams, remoteConductor } from '../../adapters/comlink.ts';
import { startTsWorker } from '../../adapters/worker-threads.ts';
import type { ComlinkApi } from './fixtures/comlink-api-worker.ts';
import { collect } from '../helpers.ts';

describe('Comlink over worker_threads with stream transfer handlers', () => {
  let worker: Worker;
  let api: Comlink.Remote<ComlinkApi>;
  beforeAll(() => {
    registerComlinkStreams();
    worker = startTsWorker(new URL('./fixtures/comlink-api-worker.ts', import.meta.url));
    api = Comlink.wrap<ComlinkApi>(nodeEndpoint(worker as never));
  });
  afterAll(async () => {
    await worker.terminate();
  });

  test('a Comlink method returns an async generator that arrives as a local async iterable', async () => {
    const tokens = (await api.tokens(500)) as unknown as AsyncIterable<string>;
    const out = await collect(tokens);
    expect(out).toHaveLength(500);
    expect(out[499]).toBe('t499');
  });

  test('breaking out of a returned stream runs the worker generator finally', async () => {
    const before = await api.finallies();
    for await (const token of (await api.tokens(1_000_000)) as unknown as AsyncIterable<string>) {
      expect(token).toBe('t0');
      break;
    }
    for (let i = 0; i < 100 && (await api.finallies()) === before; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await api.finallies()).toBe(before + 1);
  });

  test('an error thrown in the worker stream arrives as itself after the items before it', async () => {
    const seen: number[] = [];
    const error = await (async () => {
      for await (const n of (await api.failing()) as unknown as AsyncIterable<number>) seen.push(n);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([1]);
    expect(error).toBeInstanceOf(RangeError);
  });

  test('an async iterable passed as an argument is read by the worker', async () => {
    async function* numbers() {
      for (let i = 1; i <= 100; i++) yield i;
    }
    expect(await api.sum(numbers() as never)).toBe(5050);
  });
});

describe('a conductor offloaded to a worker with Comlink', () => {
  test('the main thread pipes a stream through a conductor running in the worker, in order', async () => {
    const worker = startTsWorker(new URL('./fixtures/comlink-conductor-worker.ts', import.meta.url));
    try {
      const conductor = remoteConductor<string, string>(nodeEndpoint(worker as never));
      const words = new ReadableStream<string>({
        start(controller) {
          for (const w of ['ab', 'cd', 'e']) controller.enqueue(w);
          controller.close();
        },
      });
      const out = await collect(words.pipeThrough(conductor) as unknown as AsyncIterable<string>);
      expect(out).toEqual(['ab:', 'A', 'B', 'cd:', 'C', 'D', 'e:', 'E']);
    } finally {
      await worker.terminate();
    }
  });
});
