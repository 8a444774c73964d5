/**
 * Bridge benchmark: the bridge against what one would otherwise use to stream
 * across a MessagePort, measured side by side in one run (the machine is
 * noisy: only ratios of medians taken in the same run mean anything).
 *
 * Run: `npx tsx bench/bridge.ts` (or `npm run bench:bridge`); `--quick` for a
 * short run (~25 s; the full run, 7 reps, takes ~2.5 min), `--reps=N` to set the
 * repetitions. Prints tables, then one JSON line, and writes
 * `bench/results/bridge.json`, or with `--json FILE` the figures in the shape
 * `bench/index.ts` reads (`bench/lib/report.ts`) to FILE instead.
 * `--profile[=contender]` instead profiles one contender over worker_threads
 * in both threads (see `profileRun`); `--buffers` and `--items` run only the
 * buffer comparison or the small-item bridge settings over worker_threads,
 * `--latency` only the first-item latency.
 *
 * 1. Streaming small objects `{ i, text: 'item' }` from an async generator,
 *    over a same-thread MessageChannel and over worker_threads (producer in a
 *    worker, consumer in main, each contender on its own transferred port):
 *    the bridge (remote async generator read with `for await`, a few window
 *    settings), raw postMessage with 64 items per message, raw postMessage
 *    per item, Comlink with one remote `next()` per item, and Node's
 *    transferable ReadableStream. Raw consumers are async generators too;
 *    the raw producers send without flow control (their fastest setting).
 *    Whole batches: the same items as arrays of 64 from one async generator,
 *    the bridge streaming the arrays vs raw postMessage of each array, both
 *    consumers taking whole batches (raw: summed in the message listener).
 * 2. First item latency: `remote.stream()` to the first item, vs a raw
 *    postMessage ping-pong, over worker_threads.
 * 3. 64 KiB ArrayBuffers across a worker, transferred: bridge vs raw, MB/s.
 * 4. Slow consumer, fast producer of 1,000,000 items: what the producer's
 *    session holds in flight and how far the generator runs ahead, measured
 *    live through a SharedArrayBuffer, against the configured window's
 *    ceiling (`windowGrowth`; one configuration with growth off).
 *
 * Targets (issues 3 and 7), over worker_threads: >= 0.7x raw batched
 * postMessage; >= 30x the transferable ReadableStream; >= 40x Comlink;
 * first item <= 1.5x a raw round trip; buffers >= 0.8x raw transfer; the
 * slow consumer's buffered bytes and items within the window.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { nodeWorkerEndpoint, startTsWorker } from '../adapters/worker-threads.ts';
import { DEFAULT_FLOW, DEFAULT_LIMITS, sessionOf, wrap, type Endpoint, type FlowOptions, type Remote } from '../src/index.ts';
import { comlinkConsumer, nextMessage, rawConsumer, rawIterator, rawSum } from './lib/consumers.ts';
import { startProfile, summarize, type CpuProfile } from './lib/profile.ts';
import { jsonFileArg, section, target as reportTarget, writeGroupResult, type FigureInput, type GroupResult } from './lib/report.ts';
import { now, round, si, sleep, spread, table, type Spread } from './lib/stats.ts';
import { PROBE, serve, type BridgeHandlers, type Item, type ProducerRequest } from './lib/workload.ts';

const argv = process.argv.slice(2);
const argValue = (name: string): string | undefined => argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
const QUICK = argv.includes('--quick');
const JSON_FILE = jsonFileArg(argv);
const REPS = Number(argValue('--reps') ?? (QUICK ? 3 : 7));
/** Items per run for the bridge and raw batched. */
const N = QUICK ? 200_000 : 1_000_000;
/** Raw postMessage per item: ~5x slower. */
const N_SINGLE = QUICK ? 50_000 : 200_000;
/** Comlink and the transferable ReadableStream: a round trip per item. */
const N_SLOW = QUICK ? 5_000 : 20_000;
const BUFFER_SIZE = 64 * 1024;
const BUFFER_COUNT = QUICK ? 2_048 : 8_192;
const LATENCY_SAMPLES = QUICK ? 60 : 150;
/** Slow consumer: items produced at most, items read slowly, a pause every so many items. */
const SLOW_TOTAL = 1_000_000;
const SLOW_READ = 5_000;
const SLOW_PAUSE_EVERY = 50;

type Transport = 'MessageChannel' | 'worker_threads';

/** Bridge window settings tried besides the default. */
const BRIDGE_VARIANTS: Array<{ name: string; flow: Partial<FlowOptions> }> = [
  { name: 'bridge w256 b64', flow: { windowItems: 256, maxBatchItems: 64 } },
  { name: 'bridge w1024 b256', flow: { windowItems: 1024, maxBatchItems: 256 } },
  { name: 'bridge w4096 b1024', flow: { windowItems: 4096, maxBatchItems: 1024 } },
];

// ---- producers, in this thread or in a worker ------------------------------

/** Opens a contender's producer and returns the consumer's end of its port. */
class ProducerHost {
  private nextId = 0;
  private readonly waiting = new Map<number, () => void>();
  constructor(
    readonly transport: Transport,
    private readonly worker?: Worker,
  ) {
    worker?.on('message', (data: { id?: number }) => {
      if (data.id === undefined) return;
      this.waiting.get(data.id)?.();
      this.waiting.delete(data.id);
    });
  }

  static async start(transport: Transport): Promise<ProducerHost> {
    if (transport === 'MessageChannel') return new ProducerHost(transport);
    const worker = startTsWorker(new URL('./workers/producer.ts', import.meta.url));
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    return new ProducerHost(transport, worker);
  }

  async open(request: Omit<ProducerRequest, 'port'>): Promise<MessagePort> {
    const { port1, port2 } = new MessageChannel();
    if (this.worker === undefined) {
      serve({ ...request, port: port2 });
      return port1;
    }
    const id = ++this.nextId;
    const ready = new Promise<void>((resolve) => this.waiting.set(id, resolve));
    this.worker.postMessage({ id, request: { ...request, port: port2 } }, [port2]);
    await ready;
    return port1;
  }

  /** Starts or stops the CPU profiler inside the worker; `stop` resolves with the profile. */
  async profile(action: 'start' | 'stop'): Promise<CpuProfile | undefined> {
    const id = ++this.nextId;
    const reply = new Promise<void>((resolve) => this.waiting.set(id, resolve));
    let profile: CpuProfile | undefined;
    const grab = (data: { id?: number; profile?: CpuProfile }): void => {
      if (data.id === id) profile = data.profile;
    };
    this.worker!.on('message', grab);
    this.worker!.postMessage({ id, profile: action });
    await reply;
    this.worker!.off('message', grab);
    return profile;
  }

  async stop(): Promise<void> {
    await this.worker?.terminate();
  }
}

async function openBridge(host: ProducerHost, flow: Partial<FlowOptions> = {}): Promise<Remote<BridgeHandlers>> {
  const port = await host.open({ kind: 'bridge', flow });
  const remote = wrap<BridgeHandlers>(port as unknown as Endpoint, { flow });
  await remote.ping(); // handshake done, both sides warm
  return remote;
}

function expectSum(sum: number, n: number, what: string): void {
  if (sum !== (n * (n - 1)) / 2) throw new Error(`${what}: wrong checksum ${sum} for ${n} items`);
}

// ---- 1. throughput of small items ------------------------------------------

/** One measured workload; `run` sets up untimed and returns the timed milliseconds. */
interface Case {
  name: string;
  transport: Transport;
  /** Items (or bytes, for buffers) per run. */
  units: number;
  run(scale: number): Promise<number>;
}

function bridgeCase(host: ProducerHost, name: string, n: number, flow: Partial<FlowOptions> = {}): Case {
  return {
    name,
    transport: host.transport,
    units: n,
    async run(scale) {
      const count = Math.round(n * scale);
      const remote = await openBridge(host, flow);
      const t0 = now();
      let sum = 0;
      for await (const item of await remote.stream(count)) sum += item.i;
      const ms = now() - t0;
      sessionOf(remote).close();
      expectSum(sum, count, name);
      return ms;
    },
  };
}

/** The bridge over the worker's own parentPort, through the adapters: one session for the whole run. */
function adapterCase(remote: Remote<BridgeHandlers>, n: number): Case {
  return {
    name: 'bridge (worker adapters)',
    transport: 'worker_threads',
    units: n,
    async run(scale) {
      const count = Math.round(n * scale);
      const t0 = now();
      let sum = 0;
      for await (const item of await remote.stream(count)) sum += item.i;
      const ms = now() - t0;
      expectSum(sum, count, 'bridge (worker adapters)');
      return ms;
    },
  };
}

const BATCH = 64;
const BRIDGE_BATCHES = `bridge (default), whole batches of ${BATCH}`;
const RAW_BATCHES = `raw ${BATCH}/msg of whole batches, sum in listener`;

/** The bridge streaming arrays of 64 items; the consumer takes each array whole. */
function bridgeBatchesCase(host: ProducerHost, n: number): Case {
  return {
    name: BRIDGE_BATCHES,
    transport: host.transport,
    units: n,
    async run(scale) {
      const count = Math.round(n * scale);
      const remote = await openBridge(host);
      const t0 = now();
      let sum = 0;
      for await (const batch of await remote.batches(count, BATCH)) for (let k = 0; k < batch.length; k++) sum += batch[k]!.i;
      const ms = now() - t0;
      sessionOf(remote).close();
      expectSum(sum, count, BRIDGE_BATCHES);
      return ms;
    },
  };
}

/** Raw postMessage of the same arrays, summed in the listener (no await at all: the raw side's best). */
function rawBatchesCase(host: ProducerHost, n: number): Case {
  return {
    name: RAW_BATCHES,
    transport: host.transport,
    units: n,
    async run(scale) {
      const count = Math.round(n * scale);
      const port = await host.open({ kind: 'raw-batches', batch: BATCH });
      const total = rawSum(port, (item: Item) => item.i);
      const t0 = now();
      port.postMessage({ go: count });
      const sum = await total;
      const ms = now() - t0;
      port.close();
      expectSum(sum, count, RAW_BATCHES);
      return ms;
    },
  };
}

/** How a raw consumer reads: an async generator, a hand-written iterator, or (ceiling) a sum in the listener. */
type RawReader = 'generator' | 'iterator' | 'listener';

const RAW_NAMES: Record<RawReader, string> = {
  generator: 'raw 64/msg, async gen consumer',
  iterator: 'raw 64/msg, iterator consumer',
  listener: 'raw 64/msg, sum in listener',
};
/** The raw batched contenders read with `for await`, one item at a time: the best is the baseline. */
const RAW_BATCHED = [RAW_NAMES.generator, RAW_NAMES.iterator];

function rawCase(host: ProducerHost, batched: boolean, n: number, reader: RawReader = 'generator'): Case {
  const name = batched ? RAW_NAMES[reader] : 'raw 1/msg, async gen consumer';
  return {
    name,
    transport: host.transport,
    units: n,
    async run(scale) {
      const count = Math.round(n * scale);
      const port = await host.open(batched ? { kind: 'raw-batched', batch: 64 } : { kind: 'raw-single' });
      let sum = 0;
      let ms: number;
      if (reader === 'listener') {
        const total = rawSum(port, (item: Item) => item.i);
        const t0 = now();
        port.postMessage({ go: count });
        sum = await total;
        ms = now() - t0;
      } else {
        const consumer = reader === 'iterator' ? rawIterator<Item>(port) : rawConsumer<Item>(port, batched);
        const t0 = now();
        port.postMessage({ go: count });
        for await (const item of consumer) sum += item.i;
        ms = now() - t0;
      }
      port.close();
      expectSum(sum, count, name);
      return ms;
    },
  };
}

function comlinkCase(host: ProducerHost, n: number): Case {
  return {
    name: 'Comlink next() per item',
    transport: host.transport,
    units: n,
    async run(scale) {
      const count = Math.round(n * scale);
      const port = await host.open({ kind: 'comlink' });
      const t0 = now();
      let sum = 0;
      for await (const item of comlinkConsumer(port, count)) sum += item.i;
      const ms = now() - t0;
      port.close();
      expectSum(sum, count, 'comlink');
      return ms;
    },
  };
}

function streamCase(host: ProducerHost, n: number, highWaterMark: number): Case {
  const name = `transferable ReadableStream hwm ${highWaterMark}`;
  return {
    name,
    transport: host.transport,
    units: n,
    async run(scale) {
      const count = Math.round(n * scale);
      const port = await host.open({ kind: 'rstream', highWaterMark });
      const arrived = nextMessage<ReadableStream<Item>>(port);
      const t0 = now();
      port.postMessage({ go: count });
      const reader = (await arrived).getReader();
      let sum = 0;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        sum += value.i;
      }
      const ms = now() - t0;
      port.close();
      expectSum(sum, count, name);
      return ms;
    },
  };
}

/**
 * Lets the threads go quiet before a timed run: what the previous run left
 * running (a session closing, a producer's last batch, a port being torn
 * down) finishes on nobody's time. (Forcing V8's gc here as well was tried:
 * it cost the bridge 15-25% against raw in the same run, 0.70-0.73x vs
 * 0.85-0.97x for 64 KiB buffers, so garbage is left to the runtime as in
 * real use.)
 */
async function settle(): Promise<void> {
  await sleep(5);
}

/**
 * Runs every case `REPS` times, round-robin (rotating the order each round)
 * after one shorter warm-up round, settling (see {@link settle}) before each
 * timed run; returns each case's milliseconds per rep.
 */
async function measure(cases: Case[], label: string): Promise<Map<Case, number[]>> {
  const times = new Map<Case, number[]>(cases.map((c) => [c, []]));
  for (const c of cases) await c.run(0.1);
  for (let rep = 0; rep < REPS; rep++) {
    const t0 = now();
    for (let k = 0; k < cases.length; k++) {
      const c = cases[(k + rep) % cases.length]!;
      await settle();
      times.get(c)!.push(await c.run(1));
    }
    process.stderr.write(`  ${label}: rep ${rep + 1}/${REPS} (${((now() - t0) / 1000).toFixed(1)} s)\n`);
  }
  return times;
}

/** A figure: per-rep rates (units per second) and their spread. */
interface Figure {
  name: string;
  transport: Transport;
  units: number;
  rate: Spread;
  /** Milliseconds per rep, in rep order (for per-rep ratios). */
  ms: number[];
}

function figures(times: Map<Case, number[]>): Figure[] {
  return [...times].map(([c, ms]) => ({
    name: c.name,
    transport: c.transport,
    units: c.units,
    rate: spread(ms.map((t) => c.units / (t / 1000))),
    ms,
  }));
}

/** Ratio of medians a/b, with the min-max of the per-rep ratios (same rep, side by side). */
interface Ratio {
  ratio: number;
  min: number;
  max: number;
}

function ratio(a: Figure, b: Figure): Ratio {
  const perRep = a.ms.map((_, i) => a.units / a.ms[i]! / (b.units / b.ms[i]!));
  const s = spread(perRep);
  return { ratio: a.rate.median / b.rate.median, min: s.min, max: s.max };
}

const fmtRatio = (r: Ratio): string => `${r.ratio.toFixed(2)}x (${r.min.toFixed(2)}-${r.max.toFixed(2)})`;

// ---- 2. first item latency ------------------------------------------------

interface LatencyResult {
  /** Per-rep medians, microseconds. */
  rawRoundTrip: Spread;
  bridgeFirstItem: Spread;
  bridgeCall: Spread;
  ratio: Ratio;
}

async function latency(host: ProducerHost): Promise<LatencyResult> {
  const remote = await openBridge(host);
  const echo = await host.open({ kind: 'echo' });
  const raw = async (): Promise<number> => {
    const t0 = now();
    const back = nextMessage(echo);
    echo.postMessage(1);
    await back;
    return now() - t0;
  };
  const firstItem = async (): Promise<number> => {
    const t0 = now();
    const stream = await remote.stream(N);
    const first = await stream.next();
    const ms = now() - t0;
    if (first.done || first.value.i !== 0) throw new Error('first item: wrong item');
    await stream.return(undefined);
    await remote.ping(); // the cancel has been handled before the next sample
    return ms;
  };
  const call = async (): Promise<number> => {
    const t0 = now();
    await remote.ping();
    return now() - t0;
  };
  for (let i = 0; i < 30; i++) {
    await raw();
    await firstItem();
    await call();
  }
  const reps = { raw: [] as number[], first: [] as number[], call: [] as number[] };
  for (let rep = 0; rep < REPS; rep++) {
    const samples = { raw: [] as number[], first: [] as number[], call: [] as number[] };
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      samples.raw.push(await raw());
      samples.first.push(await firstItem());
      samples.call.push(await call());
    }
    reps.raw.push(spread(samples.raw).median * 1000);
    reps.first.push(spread(samples.first).median * 1000);
    reps.call.push(spread(samples.call).median * 1000);
  }
  sessionOf(remote).close();
  echo.close();
  const perRep = spread(reps.first.map((f, i) => f / reps.raw[i]!));
  const rawRoundTrip = spread(reps.raw);
  const bridgeFirstItem = spread(reps.first);
  return {
    rawRoundTrip,
    bridgeFirstItem,
    bridgeCall: spread(reps.call),
    ratio: { ratio: bridgeFirstItem.median / rawRoundTrip.median, min: perRep.min, max: perRep.max },
  };
}

// ---- 3. 64 KiB buffers ------------------------------------------------------

function bridgeBufferCase(host: ProducerHost, name: string, flow: Partial<FlowOptions> = {}): Case {
  return {
    name,
    transport: host.transport,
    units: BUFFER_COUNT * BUFFER_SIZE,
    async run(scale) {
      const count = Math.round(BUFFER_COUNT * scale);
      const remote = await openBridge(host, flow);
      const t0 = now();
      let bytes = 0;
      const stream = await remote.buffers(count, BUFFER_SIZE);
      for await (const buffer of stream) bytes += buffer.byteLength;
      const ms = now() - t0;
      sessionOf(remote).close();
      if (bytes !== count * BUFFER_SIZE) throw new Error(`${name}: got ${bytes} bytes`);
      return ms;
    },
  };
}

/** Section 3's contenders: the bridge as it comes, with a wider start and with growth off; raw 1 and 16 per message. */
function bufferCases(host: ProducerHost): Case[] {
  return [
    bridgeBufferCase(host, 'bridge (default)'),
    bridgeBufferCase(host, 'bridge windowBytes 8 MiB', { windowBytes: 8 * 2 ** 20 }),
    bridgeBufferCase(host, 'bridge windowGrowth 1', { windowGrowth: 1 }),
    rawBufferCase(host, 1),
    rawBufferCase(host, 16),
  ];
}

function rawBufferCase(host: ProducerHost, per: number): Case {
  const name = `raw postMessage+transfer, ${per}/msg`;
  return {
    name,
    transport: host.transport,
    units: BUFFER_COUNT * BUFFER_SIZE,
    async run(scale) {
      const count = Math.round(BUFFER_COUNT * scale);
      const port = await host.open({ kind: 'raw-buffers', batch: per });
      const consumer = rawConsumer<ArrayBuffer>(port, per > 1);
      const t0 = now();
      port.postMessage({ go: count, size: BUFFER_SIZE });
      let bytes = 0;
      for await (const buffer of consumer) bytes += buffer.byteLength;
      const ms = now() - t0;
      port.close();
      if (bytes !== count * BUFFER_SIZE) throw new Error(`${name}: got ${bytes} bytes`);
      return ms;
    },
  };
}

// ---- 4. slow consumer, fast producer ---------------------------------------

interface SlowResult {
  config: string;
  /**
   * The configured windows, their growth factor, and the ceiling the consumer
   * may grow them to (`windowGrowth`, capped by `maxBufferedBytesPerStream`):
   * the bound every measure is checked against.
   */
  flow: { windowItems: number; windowBytes: number; windowGrowth: number; ceilingItems: number; ceilingBytes: number };
  /** The consumer's windows when it stopped reading (grown or not). */
  grownTo: { items: number; bytes: number };
  /** Estimated bytes per item, as the serializer counts them. */
  itemBytes: number;
  read: number;
  producerMaxInflightBytes: number;
  producerSamples: number;
  maxProducedAhead: number;
  consumerMaxBufferedBytes: number;
  consumerMaxBufferedItems: number;
  producedWhenCancelled: number;
  producerFinallyRan: boolean;
  /** Strictly within the window's ceiling, in bytes and items, on both sides. */
  withinWindow: boolean;
  /** Within the window plus one item (the producer sends while it has any byte credit left). */
  withinWindowPlusOneItem: boolean;
}

/** `64 items / 512 B, growth 8: 512 items / 4096 B`: the configured window and its ceiling. */
function windowLabel(s: SlowResult): string {
  const f = s.flow;
  const base = `${f.windowItems} items / ${f.windowBytes} B`;
  return f.windowGrowth > 1 ? `${base}, growth ${f.windowGrowth}: ${f.ceilingItems} items / ${f.ceilingBytes} B` : `${base}, fixed`;
}

async function slowConsumer(host: ProducerHost, config: string, flow: Partial<FlowOptions>): Promise<SlowResult> {
  const remote = await openBridge(host, flow);
  const shared = new SharedArrayBuffer(PROBE.SLOTS * 8);
  const probe = new Float64Array(shared);
  const stream = await remote.probed(SLOW_TOTAL, shared);
  // The consumer side's buffer, as the bridge's local stream keeps it (public fields of its Incoming).
  const local = stream as unknown as { buffered?: number; received?: number; windowItems?: number; windowBytes?: number };
  let consumed = 0;
  let maxAhead = 0;
  let maxBufferedBytes = 0;
  let maxBufferedItems = 0;
  const sample = (): void => {
    maxAhead = Math.max(maxAhead, probe[PROBE.produced]! - consumed);
    maxBufferedBytes = Math.max(maxBufferedBytes, local.buffered ?? NaN);
    maxBufferedItems = Math.max(maxBufferedItems, (local.received ?? NaN) - consumed);
  };
  for (let k = 0; k < SLOW_READ; k++) {
    sample();
    const result = await stream.next();
    if (result.done) throw new Error('slow consumer: the stream ended early');
    consumed++;
    sample();
    if (consumed % SLOW_PAUSE_EVERY === 0) {
      await sleep(1);
      sample();
    }
  }
  await sleep(50); // the producer runs as far as its credit lets it
  sample();
  const grownTo = { items: local.windowItems ?? NaN, bytes: local.windowBytes ?? NaN };
  await stream.return(undefined);
  for (let i = 0; i < 200 && probe[PROBE.finallyRan] !== 1; i++) await sleep(5);
  sessionOf(remote).close();
  const windowItems = flow.windowItems ?? DEFAULT_FLOW.windowItems;
  const configuredBytes = flow.windowBytes ?? DEFAULT_FLOW.windowBytes;
  const windowGrowth = flow.windowGrowth ?? DEFAULT_FLOW.windowGrowth;
  // What the consumer may grow the windows to (src/deserializer.ts, Incoming.grow).
  const ceilingItems = windowItems * windowGrowth;
  const ceilingBytes = Math.min(configuredBytes * windowGrowth, Math.max(configuredBytes, DEFAULT_LIMITS.maxBufferedBytesPerStream));
  const windowBytes = ceilingBytes;
  const itemBytes = 8 + 'item'.length + 2; // the serializer's estimate for { i, text: 'item' }
  const inflight = probe[PROBE.maxInflightBytes]!;
  const boundItems = Math.min(ceilingItems, Math.ceil(windowBytes / itemBytes));
  return {
    config,
    flow: { windowItems, windowBytes: configuredBytes, windowGrowth, ceilingItems, ceilingBytes },
    grownTo,
    itemBytes,
    read: consumed,
    producerMaxInflightBytes: inflight,
    producerSamples: probe[PROBE.samples]!,
    maxProducedAhead: maxAhead,
    consumerMaxBufferedBytes: maxBufferedBytes,
    consumerMaxBufferedItems: maxBufferedItems,
    producedWhenCancelled: probe[PROBE.produced]!,
    producerFinallyRan: probe[PROBE.finallyRan] === 1,
    withinWindow: inflight <= windowBytes && maxBufferedBytes <= windowBytes && maxAhead <= boundItems && maxBufferedItems <= ceilingItems,
    withinWindowPlusOneItem:
      inflight <= windowBytes + itemBytes &&
      maxBufferedBytes <= windowBytes + itemBytes &&
      maxAhead <= boundItems + 1 &&
      maxBufferedItems <= ceilingItems,
  };
}

// ---- main --------------------------------------------------------------------

function throughputCases(host: ProducerHost): Case[] {
  return [
    bridgeCase(host, 'bridge (default)', N),
    ...BRIDGE_VARIANTS.map((v) => bridgeCase(host, v.name, N, v.flow)),
    rawCase(host, true, N, 'generator'),
    rawCase(host, true, N, 'iterator'),
    rawCase(host, true, N, 'listener'),
    bridgeBatchesCase(host, N),
    rawBatchesCase(host, N),
    rawCase(host, false, N_SINGLE),
    comlinkCase(host, N_SLOW),
    streamCase(host, N_SLOW, 1),
    streamCase(host, N_SLOW, 64),
  ];
}

/** A table of rates; `base` picks, per transport, the figure the last column divides by. */
function rateTable(figs: Figure[], base: (t: Transport) => Figure, unit: string, scale: (v: number) => string): string {
  const rows = [['transport', 'contender', unit === 'items/s' ? 'items' : 'MiB', `${unit} median`, 'min-max', 'vs baseline (per-rep range)']];
  for (const f of figs) {
    const b = base(f.transport);
    rows.push([
      f.transport,
      f.name + (f === b ? ' [baseline]' : ''),
      unit === 'items/s' ? si(f.units) : String(f.units / 2 ** 20),
      scale(f.rate.median),
      `${scale(f.rate.min)}-${scale(f.rate.max)}`,
      fmtRatio(ratio(f, b)),
    ]);
  }
  return table(rows);
}

const mbs = (v: number): string => (v / 1e6).toFixed(0);

const fastest = (figs: Figure[]): Figure => [...figs].sort((a, b) => b.rate.median - a.rate.median)[0]!;

/**
 * `--profile[=name]`: runs one contender over worker_threads (default the
 * bridge) with the V8 profiler on in both threads, prints where each side's
 * time goes, and writes the profiles to bench/results/*.cpuprofile.
 */
async function profileRun(which: string): Promise<void> {
  const host = await ProducerHost.start('worker_threads');
  const all = [
    ...throughputCases(host),
    bridgeBufferCase(host, 'buffers: bridge (default)'),
    rawBufferCase(host, 16),
  ];
  const c = all.find((x) => x.name === which) ?? all.find((x) => x.name.startsWith(which));
  if (c === undefined) throw new Error(`--profile: no contender named ${which}; one of: ${all.map((x) => x.name).join(', ')}`);
  await c.run(0.2);
  await host.profile('start');
  const main = await startProfile();
  const ms = await c.run(2);
  const mainProfile = await main.stop();
  const workerProfile = (await host.profile('stop'))!;
  await host.stop();
  console.log(`${c.name}: ${si((2 * c.units) / (ms / 1000))} items/s while profiling\n`);
  console.log('consumer (main thread):');
  console.log(summarize(mainProfile));
  console.log('\nproducer (worker):');
  console.log(summarize(workerProfile));
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const slug = c.name.replace(/[^a-z0-9]+/gi, '-').replace(/-$/, '');
  writeFileSync(new URL(`./results/${slug}.main.cpuprofile`, import.meta.url), JSON.stringify(mainProfile));
  writeFileSync(new URL(`./results/${slug}.worker.cpuprofile`, import.meta.url), JSON.stringify(workerProfile));
}

async function main(): Promise<void> {
  const started = now();
  console.log(
    `stream-weaver bridge bench: node ${process.version}, ${os.cpus().length} cpus, ${REPS} reps (median, min-max)${QUICK ? ', quick' : ''}\n`,
  );
  const [local, remoteHost] = await Promise.all([ProducerHost.start('MessageChannel'), ProducerHost.start('worker_threads')]);
  const adapterWorker = startTsWorker(new URL('./workers/bridge-parent-port.ts', import.meta.url));
  const adapterRemote = wrap<BridgeHandlers>(nodeWorkerEndpoint(adapterWorker));
  await adapterRemote.ping();

  // 1. throughput
  const cases = [...throughputCases(local), ...throughputCases(remoteHost), adapterCase(adapterRemote, N)];
  const items = figures(await measure(cases, 'items'));

  // 2. latency
  const lat = await latency(remoteHost);
  process.stderr.write('  latency: done\n');

  // 3. buffers
  const buffers = figures(await measure(bufferCases(remoteHost), 'buffers'));

  // 4. slow consumer
  const slow = [
    await slowConsumer(remoteHost, 'default window', {}),
    await slowConsumer(remoteHost, 'windowItems 64, windowBytes 512', { windowItems: 64, windowBytes: 512 }),
    await slowConsumer(remoteHost, 'windowItems 64, windowBytes 512, windowGrowth 1', { windowItems: 64, windowBytes: 512, windowGrowth: 1 }),
  ];
  process.stderr.write('  slow consumer: done\n\n');

  sessionOf(adapterRemote).close();
  await Promise.all([local.stop(), remoteHost.stop(), adapterWorker.terminate()]);

  // ---- report
  const W: Transport = 'worker_threads';
  const pick = (transport: Transport, name: string) => items.find((f) => f.transport === transport && f.name === name)!;
  const rawBase = (t: Transport) => fastest(RAW_BATCHED.map((n) => pick(t, n)));
  const bridgeDefault = (t: Transport) => pick(t, 'bridge (default)');
  const bestBridge = (t: Transport) => fastest(['bridge (default)', ...BRIDGE_VARIANTS.map((v) => v.name)].map((n) => pick(t, n)));
  const bestStream = (t: Transport) => fastest(items.filter((f) => f.transport === t && f.name.startsWith('transferable')));
  const comlink = (t: Transport) => pick(t, 'Comlink next() per item');

  console.log('1. Streaming small objects { i, text } from an async generator, consumed with for await');
  console.log('   (baseline: the faster raw 64/msg consumer that hands out items one by one with for await)\n');
  console.log(rateTable(items, rawBase, 'items/s', si));
  console.log();

  console.log('2. First item latency over worker_threads (median of per-rep medians, microseconds)\n');
  const us = (x: Spread) => [x.median.toFixed(1), `${x.min.toFixed(1)}-${x.max.toFixed(1)}`];
  console.log(
    table([
      ['what', 'median us', 'min-max'],
      ['raw postMessage round trip (ping-pong)', ...us(lat.rawRoundTrip)],
      ['bridge: remote.stream() to first item', ...us(lat.bridgeFirstItem)],
      ['bridge: remote.ping() call round trip', ...us(lat.bridgeCall)],
    ]),
  );
  console.log();

  const rawBuffers = fastest(buffers.filter((f) => f.name.startsWith('raw')));
  const bridgeBuffers = buffers.find((f) => f.name === 'bridge (default)')!;
  const bestBridgeBuffers = fastest(buffers.filter((f) => f.name.startsWith('bridge')));
  console.log(`3. ${BUFFER_SIZE / 1024} KiB ArrayBuffers across a worker thread, transferred (MB/s; baseline: the faster raw)\n`);
  console.log(rateTable(buffers, () => rawBuffers, 'MB/s', mbs));
  console.log();

  console.log(
    `4. Slow consumer (reads ${si(SLOW_READ)} items, 1 ms pause every ${SLOW_PAUSE_EVERY}), fast producer of ${si(SLOW_TOTAL)} items, worker_threads\n`,
  );
  console.log(
    table([
      ['configured window (growth: ceiling)', 'window at the end', 'producer inflight max', 'produced ahead max', 'consumer buffered max', 'produced at cancel', 'finally ran', 'within ceiling'],
      ...slow.map((s) => [
        windowLabel(s),
        `${s.grownTo.items} items / ${s.grownTo.bytes} B`,
        `${s.producerMaxInflightBytes} B`,
        `${s.maxProducedAhead} items`,
        `${s.consumerMaxBufferedBytes} B / ${s.consumerMaxBufferedItems} items`,
        `${s.producedWhenCancelled}`,
        s.producerFinallyRan ? 'yes' : 'NO',
        s.withinWindow ? 'yes' : s.withinWindowPlusOneItem ? 'by 1 item over' : 'NO',
      ]),
    ]),
  );
  console.log(
    `   bytes are the bridge's estimate (${slow[0]!.itemBytes} B per item); "produced ahead" = items the producer's generator\n` +
      '   handed out minus items the consumer read, sampled live through a SharedArrayBuffer. The consumer may grow a\n' +
      '   window (windowGrowth) while it waits on a producer that used it up; the ceiling is what bounds memory.\n',
  );

  const target = (what: string, goal: string, def: Ratio, best: number, ok: (r: number) => boolean) => ({
    what,
    target: goal,
    ...def,
    best,
    pass: ok(def.ratio),
  });
  const targets = [
    target('bridge vs raw batched postMessage (64)', '>= 0.7x', ratio(bridgeDefault(W), rawBase(W)), ratio(bestBridge(W), rawBase(W)).ratio, (r) => r >= 0.7),
    target(
      'same, both consumers take whole batches of 64',
      '>= 0.9x',
      ratio(pick(W, BRIDGE_BATCHES), pick(W, RAW_BATCHES)),
      ratio(pick(W, BRIDGE_BATCHES), pick(W, RAW_BATCHES)).ratio,
      (r) => r >= 0.9,
    ),
    target('bridge vs transferable ReadableStream', '>= 30x', ratio(bridgeDefault(W), bestStream(W)), ratio(bestBridge(W), bestStream(W)).ratio, (r) => r >= 30),
    target('bridge vs Comlink next() per item', '>= 40x', ratio(bridgeDefault(W), comlink(W)), ratio(bestBridge(W), comlink(W)).ratio, (r) => r >= 40),
    target('first item vs raw round trip', '<= 1.5x', lat.ratio, lat.ratio.ratio, (r) => r <= 1.5),
    target('64 KiB buffers vs raw transfer, MB/s', '>= 0.8x', ratio(bridgeBuffers, rawBuffers), ratio(bestBridgeBuffers, rawBuffers).ratio, (r) => r >= 0.8),
  ];
  const slowPass = slow.every((s) => s.withinWindow && s.producerFinallyRan);
  console.log('Targets over worker_threads (ratio of medians, per-rep range; "best" = the best bridge setting)\n');
  console.log(
    table([
      ['what', 'target', 'bridge default', 'best', 'pass'],
      ...targets.map((t) => [t.what, t.target, fmtRatio(t), `${t.best.toFixed(2)}x`, t.pass ? 'yes' : 'NO']),
      ['slow consumer: buffered bytes and items', 'within window', slowPass ? 'within' : 'over', '', slowPass ? 'yes' : 'NO'],
    ]),
  );
  const M: Transport = 'MessageChannel';
  console.log(
    `\nSame-thread MessageChannel: bridge ${fmtRatio(ratio(bridgeDefault(M), rawBase(M)))} raw batched, ` +
      `${ratio(bridgeDefault(M), bestStream(M)).ratio.toFixed(1)}x the transferable stream, ${ratio(bridgeDefault(M), comlink(M)).ratio.toFixed(1)}x Comlink`,
  );
  console.log(`total ${((now() - started) / 1000).toFixed(1)} s\n`);

  const fig = (f: Figure) => ({
    transport: f.transport,
    name: f.name,
    units: f.units,
    median: round(f.rate.median),
    min: round(f.rate.min),
    max: round(f.rate.max),
  });
  const result = {
    bench: 'bridge',
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    quick: QUICK,
    reps: REPS,
    itemsPerSec: items.map(fig),
    latencyUs: {
      rawRoundTrip: round(lat.rawRoundTrip.median),
      bridgeFirstItem: round(lat.bridgeFirstItem.median),
      bridgeCall: round(lat.bridgeCall.median),
    },
    buffersBytesPerSec: buffers.map(fig),
    slowConsumer: slow,
    targets: targets.map((t) => ({ what: t.what, target: t.target, ratio: round(t.ratio), min: round(t.min), max: round(t.max), best: round(t.best), pass: t.pass })),
    slowConsumerPass: slowPass,
  };
  if (JSON_FILE !== undefined) {
    const group = groupResult({ items, lat, buffers, slow, slowPass, result });
    writeGroupResult(JSON_FILE, group);
  } else {
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
    writeFileSync(new URL('./results/bridge.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  }
  console.log(JSON.stringify(result));
}

/** The figures in the shape of `bench/lib/report.ts` (for `bench/index.ts`). */
function groupResult(m: { items: Figure[]; lat: LatencyResult; buffers: Figure[]; slow: SlowResult[]; slowPass: boolean; result: unknown }): GroupResult {
  const W: Transport = 'worker_threads';
  const rates = (f: Figure) => f.ms.map((ms) => f.units / (ms / 1000));
  const input = (f: Figure, role: FigureInput['role'], unit = 'items/s'): FigureInput => ({ name: f.name, unit, higherIsBetter: true, role, samples: rates(f) });
  const bridgeNames = ['bridge (default)', ...BRIDGE_VARIANTS.map((v) => v.name)];
  const roleOf = (name: string): FigureInput['role'] =>
    name === 'bridge (default)'
      ? 'ours'
      : name.startsWith('bridge')
        ? 'ours-variant'
        : name === RAW_NAMES.listener
          ? 'reference'
          : 'alternative';
  const perItem = (t: Transport) =>
    m.items.filter((f) => f.transport === t && f.name !== BRIDGE_BATCHES && f.name !== RAW_BATCHES).map((f) => input(f, roleOf(f.name)));
  const whole = (t: Transport) => [
    input(m.items.find((f) => f.transport === t && f.name === BRIDGE_BATCHES)!, 'ours'),
    input(m.items.find((f) => f.transport === t && f.name === RAW_BATCHES)!, 'alternative'),
  ];
  const us = (name: string, role: FigureInput['role'], s: Spread): FigureInput => ({ name, unit: 'us', higherIsBetter: false, role, samples: s.samples });
  const one = (name: string, unit: string, role: FigureInput['role'], value: number): FigureInput => ({ name, unit, higherIsBetter: false, role, samples: [value] });
  const slowFigures = m.slow.flatMap((s) =>
    section(`slow consumer, window ${windowLabel(s)}`, [
      one('producer session in flight, max', 'B', 'ours-variant', s.producerMaxInflightBytes),
      one('consumer buffered, max', 'B', 'ours-variant', s.consumerMaxBufferedBytes),
      one('window ceiling', 'B', 'reference', s.flow.ceilingBytes),
      one('produced ahead of the consumer, max', 'items', 'ours-variant', s.maxProducedAhead),
      one('consumer buffered, max', 'items', 'ours-variant', s.consumerMaxBufferedItems),
      one('window ceiling', 'items', 'reference', s.flow.ceilingItems),
    ]).map((f) => ({ ...f, id: `${f.section} / ${f.name} (${f.unit})` })),
  );
  const figures = [
    ...section('small objects { i, text } over worker_threads, for await per item', perItem(W)),
    ...section('whole batches of 64 over worker_threads', whole(W)),
    ...section('first item latency over worker_threads', [
      us('bridge: remote.stream() to first item', 'ours', m.lat.bridgeFirstItem),
      us('bridge: remote.ping() call round trip', 'ours-variant', m.lat.bridgeCall),
      us('raw postMessage round trip (ping-pong)', 'alternative', m.lat.rawRoundTrip),
    ]),
    ...section(
      `${BUFFER_SIZE / 1024} KiB ArrayBuffers over worker_threads, transferred`,
      m.buffers.map((f) => ({ ...input(f, roleOf(f.name), 'MB/s'), samples: rates(f).map((b) => b / 1e6) })),
    ),
    ...slowFigures,
    ...section('small objects { i, text } over a same-thread MessageChannel, for await per item', perItem('MessageChannel')),
    ...section('whole batches of 64 over a same-thread MessageChannel', whole('MessageChannel')),
  ];

  const pick = (name: string) => m.items.find((f) => f.transport === W && f.name === name)!;
  const rawBase = fastest(RAW_BATCHED.map(pick));
  const bestBridge = fastest(bridgeNames.map(pick));
  const bestStream = fastest(m.items.filter((f) => f.transport === W && f.name.startsWith('transferable')));
  const comlink = pick('Comlink next() per item');
  const rawBuffers = fastest(m.buffers.filter((f) => f.name.startsWith('raw')));
  const bridgeBuffers = m.buffers.find((f) => f.name === 'bridge (default)')!;
  const bestBridgeBuffers = fastest(m.buffers.filter((f) => f.name.startsWith('bridge')));
  const best = (f: Figure, base: Figure) => ({ ratio: ratio(f, base).ratio, config: f.name });
  // Slow consumer: per configuration, the largest share of its window any measure reached (<= 1 is within);
  // the figure is the largest over the configurations, the range spans them.
  const shares = m.slow.map((s) => {
    const boundItems = Math.min(s.flow.ceilingItems, Math.ceil(s.flow.ceilingBytes / s.itemBytes));
    return Math.max(
      s.producerMaxInflightBytes / s.flow.ceilingBytes,
      s.consumerMaxBufferedBytes / s.flow.ceilingBytes,
      s.maxProducedAhead / boundItems,
      s.consumerMaxBufferedItems / s.flow.ceilingItems,
    );
  });
  const share = Math.max(...shares);
  const shareMin = Math.min(...shares);
  return {
    group: 'bridge',
    title: 'Bridge over worker_threads (and a same-thread MessageChannel)',
    date: new Date().toISOString(),
    node: process.version,
    quick: QUICK,
    reps: REPS,
    settings: { items: N, itemsPerMessageRaw: BATCH, itemsSingle: N_SINGLE, itemsRoundTripContenders: N_SLOW, bufferSize: BUFFER_SIZE, buffers: BUFFER_COUNT, latencySamplesPerRep: LATENCY_SAMPLES, slowConsumer: { total: SLOW_TOTAL, read: SLOW_READ, pauseEvery: SLOW_PAUSE_EVERY } },
    figures,
    targets: [
      reportTarget('bridge-vs-raw-batched', 'bridge over worker_threads vs raw batched postMessage (64)', '>=', 0.7, ratio(pick('bridge (default)'), rawBase), {
        best: best(bestBridge, rawBase),
        note: `baseline: ${rawBase.name} (the faster raw consumer that hands out items one by one with for await)`,
      }),
      reportTarget('bridge-whole-batches-vs-raw', 'same, when the consumer takes whole batches of 64', '>=', 0.9, ratio(pick(BRIDGE_BATCHES), pick(RAW_BATCHES)), {
        note: 'both stream the same arrays of 64 from one async generator; raw sums each message in its listener',
      }),
      reportTarget('bridge-vs-transferable-stream', 'bridge vs Node transferable ReadableStream', '>=', 30, ratio(pick('bridge (default)'), bestStream), {
        best: best(bestBridge, bestStream),
        note: `baseline: ${bestStream.name} (the faster highWaterMark)`,
      }),
      reportTarget('bridge-vs-comlink', 'bridge vs Comlink next() per item', '>=', 40, ratio(pick('bridge (default)'), comlink), { best: best(bestBridge, comlink) }),
      reportTarget('buffers-vs-raw', '64 KiB ArrayBuffers over worker_threads vs raw transfer (MB/s)', '>=', 0.8, ratio(bridgeBuffers, rawBuffers), {
        best: best(bestBridgeBuffers, rawBuffers),
        note: `baseline: ${rawBuffers.name}`,
      }),
      reportTarget('first-item-vs-round-trip', 'first item of a remote stream vs raw round trip', '<=', 1.5, m.lat.ratio, {
        note: `${m.lat.bridgeFirstItem.median.toFixed(0)} us vs ${m.lat.rawRoundTrip.median.toFixed(0)} us (medians of per-rep medians)`,
      }),
      reportTarget('slow-consumer-within-window', 'slow consumer, fast producer of 1,000,000 items: buffered bytes and items / the configured window (its growth ceiling)', '<=', 1, { ratio: share, min: shareMin, max: share }, {
        pass: m.slowPass,
        note:
          'largest share of its window reached by producer in-flight bytes, consumer buffered bytes, items produced ahead or items buffered ' +
          `(range: over the configurations ${m.slow.map(windowLabel).join(', ')}); ` +
          `producer finally ran: ${m.slow.every((s) => s.producerFinallyRan) ? 'yes' : 'NO'}`,
      }),
    ],
    notes: [
      'Every case runs once per rep, round-robin with the order rotated each rep, after one warm-up at a tenth of the size; with a 5 ms pause before each timed run; ranges are per-rep paired ratios.',
      'Raw producers send without flow control (their fastest setting); the bridge runs with its flow control on.',
      `Slow consumer bytes are the bridge's own estimate (${m.slow[0]?.itemBytes} B per item); items produced ahead are counted live in the producer's generator through a SharedArrayBuffer.`,
    ],
    raw: m.result,
  };
}

/**
 * `--items`: only the small-item bridge settings against raw 64/msg over
 * worker_threads (section 1, without the slow round-trip contenders).
 */
async function itemsOnly(): Promise<void> {
  const host = await ProducerHost.start('worker_threads');
  const cases = [
    bridgeCase(host, 'bridge (default)', N),
    ...BRIDGE_VARIANTS.map((v) => bridgeCase(host, v.name, N, v.flow)),
    bridgeCase(host, 'bridge windowGrowth 1', N, { windowGrowth: 1 }),
    rawCase(host, true, N, 'generator'),
    rawCase(host, true, N, 'iterator'),
  ];
  const items = figures(await measure(cases, 'items'));
  await host.stop();
  const raw = fastest(items.filter((f) => f.name.startsWith('raw')));
  console.log(rateTable(items, () => raw, 'items/s', si));
}

/** `--latency`: only the first-item latency against a raw round trip (section 2). */
async function latencyOnly(): Promise<void> {
  const host = await ProducerHost.start('worker_threads');
  const lat = await latency(host);
  await host.stop();
  const us = (x: Spread) => `${x.median.toFixed(1)} us (${x.min.toFixed(1)}-${x.max.toFixed(1)})`;
  console.log(`raw round trip ${us(lat.rawRoundTrip)}, first item ${us(lat.bridgeFirstItem)}, call ${us(lat.bridgeCall)}`);
  console.log(`first item / round trip: ${lat.ratio.ratio.toFixed(2)}x (${lat.ratio.min.toFixed(2)}-${lat.ratio.max.toFixed(2)})`);
}

/**
 * `--buffers`: only the 64 KiB buffer comparison (section 3), with the same
 * contenders and reps, for working on that target without the rest.
 */
async function buffersOnly(): Promise<void> {
  const host = await ProducerHost.start('worker_threads');
  const buffers = figures(await measure(bufferCases(host), 'buffers'));
  await host.stop();
  const raw = fastest(buffers.filter((f) => f.name.startsWith('raw')));
  console.log(rateTable(buffers, () => raw, 'MB/s', mbs));
}

const profileArg = argv.find((a) => a === '--profile' || a.startsWith('--profile='));
if (profileArg !== undefined) await profileRun(profileArg.includes('=') ? profileArg.slice('--profile='.length) : 'bridge (default)');
else if (argv.includes('--buffers')) await buffersOnly();
else if (argv.includes('--items')) await itemsOnly();
else if (argv.includes('--latency')) await latencyOnly();
else await main();
