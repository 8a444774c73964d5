/**
 * The work every contender carries, and the producing side of each contender.
 * `serve()` runs wherever the producer lives: in the main thread for the
 * same-thread MessageChannel runs, in `bench/workers/producer.ts` for the
 * worker_threads runs. The consuming sides are in `consumers.ts`.
 *
 * @module
 */
import type { MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { expose, type CallContext, type Endpoint, type FlowOptions, type Session } from '../../src/index.ts';

/** The small object streamed by the throughput runs. */
export interface Item {
  i: number;
  text: string;
}

/** The producer of every contender: a plain async generator of small objects. */
export async function* items(n: number): AsyncGenerator<Item> {
  for (let i = 0; i < n; i++) yield { i, text: 'item' };
}

/** The same items in arrays of `size`: for a consumer that takes whole batches. */
export async function* batches(n: number, size: number): AsyncGenerator<Item[]> {
  for (let start = 0; start < n; start += size) {
    const batch: Item[] = [];
    for (let i = start; i < Math.min(n, start + size); i++) batch.push({ i, text: 'item' });
    yield batch;
  }
}

/** Fresh buffers of `size` bytes (allocation is the same work for every contender). */
export async function* buffers(count: number, size: number): AsyncGenerator<ArrayBuffer> {
  for (let i = 0; i < count; i++) yield new ArrayBuffer(size);
}

/**
 * Slots of the shared probe of the slow-consumer run (a Float64Array over a
 * SharedArrayBuffer, so the consumer thread sees the producer's state live).
 */
export const PROBE = {
  /** Items the producer's generator has handed out so far. */
  produced: 0,
  /** Highest `session.stats().inflightBytes` seen on the producer side. */
  maxInflightBytes: 1,
  /** `session.stats().inflightBytes` at the last sample. */
  inflightBytes: 2,
  /** 1 once the producer's `finally` ran. */
  finallyRan: 3,
  /** Producer-side samples taken. */
  samples: 4,
  SLOTS: 5,
} as const;

/** A fast producer that records how far it ran ahead and what its session holds in flight. */
async function* probedItems(session: Session, n: number, shared: SharedArrayBuffer): AsyncGenerator<Item> {
  const probe = new Float64Array(shared);
  const sample = (): void => {
    const inflight = session.stats().inflightBytes;
    probe[PROBE.inflightBytes] = inflight;
    if (inflight > probe[PROBE.maxInflightBytes]!) probe[PROBE.maxInflightBytes] = inflight;
    probe[PROBE.samples]!++;
  };
  // The peak is reached while the pump waits for credit, i.e. while this generator is parked: a timer sees it.
  const timer = setInterval(sample, 1);
  try {
    for (let i = 0; i < n; i++) {
      sample();
      probe[PROBE.produced] = i + 1;
      yield { i, text: 'item' };
    }
  } finally {
    clearInterval(timer);
    sample();
    probe[PROBE.finallyRan] = 1;
  }
}

/** What the bridge serves, on a transferred port or on the worker's parentPort. */
export function bridgeHandlers() {
  return {
    ping(): string {
      return 'pong';
    },
    stream(n: number): AsyncGenerator<Item> {
      return items(n);
    },
    batches(n: number, size: number): AsyncGenerator<Item[]> {
      return batches(n, size);
    },
    buffers(count: number, size: number): AsyncGenerator<ArrayBuffer> {
      return buffers(count, size);
    },
    probed(this: CallContext, n: number, shared: SharedArrayBuffer): AsyncGenerator<Item> {
      return probedItems(this.session, n, shared);
    },
  };
}
export type BridgeHandlers = ReturnType<typeof bridgeHandlers>;

/** The contenders. */
export type ProducerKind = 'bridge' | 'raw-batched' | 'raw-single' | 'raw-batches' | 'raw-buffers' | 'comlink' | 'rstream' | 'echo';

/** Sets up one producer on `port`. */
export interface ProducerRequest {
  kind: ProducerKind;
  port: MessagePort;
  /** bridge: the producer side's flow options (`maxBatchItems` is the sender's). */
  flow?: Partial<FlowOptions>;
  /** raw-batched / raw-batches / raw-buffers: items per message. */
  batch?: number;
  /** rstream: the source stream's highWaterMark. */
  highWaterMark?: number;
}

/** Raw go-command: stream `n` items (or `n` buffers of `size` bytes). */
export interface Go {
  go: number;
  size?: number;
}

/**
 * Starts the producer of `request.kind` on its port. Raw producers wait for a
 * `Go` message, send their data, then `null` as the end mark.
 */
export function serve(request: ProducerRequest): void {
  const { port } = request;
  switch (request.kind) {
    case 'bridge':
      expose(bridgeHandlers(), port as unknown as Endpoint, { flow: request.flow ?? {} });
      return;
    case 'echo':
      port.on('message', (data: unknown) => port.postMessage(data));
      return;
    case 'raw-batched':
    case 'raw-single': {
      const size = request.kind === 'raw-single' ? 1 : (request.batch ?? 64);
      port.on('message', (data: Go) => void rawItems(port, data.go, size));
      return;
    }
    case 'raw-batches':
      port.on('message', (data: Go) => void rawBatches(port, data.go, request.batch ?? 64));
      return;
    case 'raw-buffers':
      port.on('message', (data: Go) => void rawBuffers(port, data.go, data.size ?? 65536, request.batch ?? 1));
      return;
    case 'comlink': {
      let it: AsyncIterator<Item> | null = null;
      Comlink.expose(
        {
          start(n: number): void {
            it = items(n);
          },
          next(): Promise<IteratorResult<Item>> {
            return it!.next();
          },
        },
        nodeEndpoint(port as unknown as Parameters<typeof nodeEndpoint>[0]),
      );
      return;
    }
    case 'rstream': {
      const highWaterMark = request.highWaterMark ?? 1;
      port.on('message', (data: Go) => {
        const it = items(data.go);
        const stream = new ReadableStream<Item>(
          {
            async pull(controller) {
              const r = await it.next();
              if (r.done) controller.close();
              else controller.enqueue(r.value);
            },
          },
          { highWaterMark },
        );
        port.postMessage(stream, [stream as never]);
      });
      return;
    }
  }
}

async function rawItems(port: MessagePort, n: number, size: number): Promise<void> {
  if (size === 1) {
    for await (const item of items(n)) port.postMessage(item);
  } else {
    let batch: Item[] = [];
    for await (const item of items(n)) {
      batch.push(item);
      if (batch.length === size) {
        port.postMessage(batch);
        batch = [];
      }
    }
    if (batch.length > 0) port.postMessage(batch);
  }
  port.postMessage(null);
}

/** Whole batches from {@link batches}, one message each: the raw side of the whole-batch comparison. */
async function rawBatches(port: MessagePort, n: number, size: number): Promise<void> {
  for await (const batch of batches(n, size)) port.postMessage(batch);
  port.postMessage(null);
}

async function rawBuffers(port: MessagePort, count: number, size: number, per: number): Promise<void> {
  let batch: ArrayBuffer[] = [];
  for await (const buffer of buffers(count, size)) {
    batch.push(buffer);
    if (batch.length === per) {
      port.postMessage(per === 1 ? batch[0] : batch, batch);
      batch = [];
    }
  }
  if (batch.length > 0) port.postMessage(batch, batch);
  port.postMessage(null);
}
