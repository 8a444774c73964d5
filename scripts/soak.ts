/**
 * `npm run soak`: one `ws` server process, many concurrent clients in another
 * process, nested streams for a set duration. Every item is checked for loss,
 * duplication and order; the server's memory is sampled and must level off.
 *
 *   npm run soak                              # 200 clients, 60 s
 *   npm run soak -- --clients 50 --seconds 10
 *   npm run soak -- --json                    # one JSON line at the end (CI)
 *
 * Options: --clients N (200), --seconds S (60), --sample-ms MS (1000, or S*1000/20 if smaller),
 * --seed N (1), --json. Exits 1 when an item was lost, duplicated or out of order, a stream
 * failed, the server kept sessions after the clients left, or (runs of 20 s and more) the
 * server's memory did not level off.
 *
 * Internally the same file runs as `--role server` and `--role clients`.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { serveWebSocket, webSocketEndpoint } from '../adapters/websocket.ts';
import { asyncIterableSequencer } from '../src/sequencer.ts';
import { Session } from '../src/session.ts';
import { rng } from '../test/helpers.ts';

// ---- options -------------------------------------------------------------

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`--${name} must be a positive number, got ${process.argv[index + 1]}`);
  return value;
}
const flag = (name: string) => process.argv.includes(`--${name}`);
const roleIndex = process.argv.indexOf('--role');
const role = roleIndex < 0 ? 'main' : process.argv[roleIndex + 1];

const now = () => performance.timeOrigin + performance.now(); // ms, comparable across processes on one machine

// ---- the workload ------------------------------------------------------------

/** One item: which leaf, which index, when it was produced. */
interface Item {
  l: number;
  i: number;
  t: number;
}

/** The shape of one call's tree: `width` children per level, `depth` levels, `n` items per leaf. */
interface Shape {
  width: number;
  depth: number;
  n: number;
}

function leafCount(shape: Shape): number {
  return shape.width ** (shape.depth + 1);
}

const serverHandlers = {
  /** A nested tree of sequences whose leaves are produced in parallel and read in leaf order. */
  tree(shape: Shape): AsyncIterable<Item> {
    let nextLeaf = 0;
    const level = (depth: number): AsyncIterable<Item> => {
      const { sequence, chain } = asyncIterableSequencer<Item>();
      for (let c = 0; c < shape.width; c++) {
        if (depth === 0) chain(leaf(nextLeaf++, shape.n));
        else chain(level(depth - 1));
      }
      chain(null);
      return sequence;
    };
    return level(shape.depth);
  },
};

async function* leaf(l: number, n: number): AsyncGenerator<Item> {
  for (let i = 0; i < n; i++) {
    yield { l, i, t: now() };
    if (i % 16 === 15) await new Promise((resolve) => setImmediate(resolve));
  }
}

// ---- role: server ----------------------------------------------------------------

async function runServer(): Promise<void> {
  const sampleMs = option('sample-ms', 1_000);
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  const served = serveWebSocket(server, serverHandlers);
  const started = now();
  const sample = () => {
    const memory = process.memoryUsage();
    let streams = 0;
    for (const session of served.sessions) streams += session.stats().outgoingStreams;
    console.log(JSON.stringify({ sample: { t: Math.round(now() - started), rss: memory.rss, heapUsed: memory.heapUsed, sessions: served.sessions.size, streams } }));
  };
  console.log(JSON.stringify({ port: (server.address() as AddressInfo).port }));
  const timer = setInterval(sample, sampleMs);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== 'stop') continue;
    clearInterval(timer);
    sample();
    served.close();
    server.close();
    process.exit(0);
  }
}

// ---- role: clients ------------------------------------------------------------------

/** Latencies in a fixed log-scale histogram (5% buckets): bounded memory however long the run. */
class Histogram {
  private readonly buckets = new Map<number, number>();
  count = 0;
  max = 0;
  add(ms: number): void {
    const bucket = Math.floor(Math.log(Math.max(ms, 0.001)) / Math.log(1.05));
    this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + 1);
    this.count++;
    if (ms > this.max) this.max = ms;
  }
  quantile(q: number): number {
    let seen = 0;
    for (const [bucket, count] of [...this.buckets].sort((a, b) => a[0] - b[0])) {
      seen += count;
      if (seen >= q * this.count) return 1.05 ** (bucket + 1);
    }
    return this.max;
  }
}

interface ClientTotals {
  calls: number;
  cancelled: number;
  items: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  failed: number;
  errors: string[];
}

async function runClient(index: number, url: string, deadline: number, totals: ClientTotals, itemLatency: Histogram, firstLatency: Histogram): Promise<void> {
  const random = rng(option('seed', 1) * 100_003 + index);
  const socket = new WebSocket(url);
  const session = new Session(webSocketEndpoint(socket));
  const remote = session.remote<typeof serverHandlers>();
  try {
    while (now() < deadline) {
      const shape: Shape = { width: 1 + Math.floor(random() * 3), depth: Math.floor(random() * 3), n: 1 + Math.floor(random() * 40) };
      const total = leafCount(shape) * shape.n;
      // One call in ten stops early, so cancellation runs under load too.
      const stopAt = random() < 0.1 ? Math.floor(random() * total) : total;
      const calledAt = now();
      let position = 0;
      const seen = new Set<number>();
      try {
        for await (const item of await remote.tree(shape)) {
          const at = now();
          if (position === 0) firstLatency.add(at - calledAt);
          itemLatency.add(at - item.t);
          const key = item.l * shape.n + item.i;
          if (seen.has(key)) totals.duplicated++;
          else if (key !== position) totals.outOfOrder++;
          seen.add(key);
          position++;
          totals.items++;
          if (position >= stopAt) break;
        }
      } catch (error) {
        totals.failed++;
        if (totals.errors.length < 5) totals.errors.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
        continue;
      }
      totals.calls++;
      if (stopAt < total) totals.cancelled++;
      else if (position < total) totals.lost += total - position;
    }
  } finally {
    session.close();
  }
}

async function runClients(): Promise<void> {
  const port = option('port', 0);
  const clients = option('clients', 200);
  const seconds = option('seconds', 60);
  const url = `ws://127.0.0.1:${port}/`;
  const totals: ClientTotals = { calls: 0, cancelled: 0, items: 0, lost: 0, duplicated: 0, outOfOrder: 0, failed: 0, errors: [] };
  const itemLatency = new Histogram();
  const firstLatency = new Histogram();
  const started = now();
  const deadline = started + seconds * 1_000;
  await Promise.all(Array.from({ length: clients }, (_, i) => runClient(i, url, deadline, totals, itemLatency, firstLatency)));
  const elapsed = (now() - started) / 1_000;
  console.log(
    JSON.stringify({
      result: {
        ...totals,
        clients,
        seconds: Math.round(elapsed * 10) / 10,
        itemsPerSecond: Math.round(totals.items / elapsed),
        itemLatencyMs: { p50: round(itemLatency.quantile(0.5)), p99: round(itemLatency.quantile(0.99)), max: round(itemLatency.max) },
        firstItemLatencyMs: { p50: round(firstLatency.quantile(0.5)), p99: round(firstLatency.quantile(0.99)), max: round(firstLatency.max) },
      },
    }),
  );
}

const round = (ms: number) => Math.round(ms * 100) / 100;

// ---- role: main (the orchestrator) ---------------------------------------------------

interface Sample {
  t: number;
  rss: number;
  heapUsed: number;
  sessions: number;
  streams: number;
}

/** Starts this file in another process with a role; yields its JSON lines. */
function child(args: string[]) {
  const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! });
  const exited = new Promise<number>((resolve) => proc.once('exit', (code) => resolve(code ?? 1)));
  return { proc, lines, exited };
}

/** Memory levels off when the last third of the run holds no more than the middle third (plus slack). */
function levelling(samples: Sample[]): { growth: number; levelled: boolean; middleMiB: number; lastMiB: number } {
  const steady = samples.slice(Math.ceil(samples.length / 10)); // skip the warm-up
  const third = Math.max(1, Math.floor(steady.length / 3));
  const mean = (xs: Sample[]) => xs.reduce((sum, s) => sum + s.heapUsed, 0) / Math.max(1, xs.length);
  const middle = mean(steady.slice(third, 2 * third));
  const last = mean(steady.slice(2 * third));
  const growth = middle > 0 ? (last - middle) / middle : 0;
  // GC makes heapUsed saw-tooth: 20% or 16 MiB of drift between thirds is noise, steady growth is not.
  return { growth: round(growth), levelled: growth < 0.2 || last - middle < 16 * 2 ** 20, middleMiB: mib(middle), lastMiB: mib(last) };
}

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

async function main(): Promise<void> {
  const clients = option('clients', 200);
  const seconds = option('seconds', 60);
  const sampleMs = option('sample-ms', Math.min(1_000, Math.max(100, (seconds * 1_000) / 20)));
  const json = flag('json');
  const log = (line: string) => {
    if (!json) console.log(line);
  };

  const server = child(['--role', 'server', '--sample-ms', String(sampleMs)]);
  const samples: Sample[] = [];
  let port = 0;
  const portKnown = new Promise<void>((resolve) => {
    server.lines.on('line', (line) => {
      const message = JSON.parse(line) as { port?: number; sample?: Sample };
      if (message.port !== undefined) {
        port = message.port;
        resolve();
      }
      if (message.sample !== undefined) samples.push(message.sample);
    });
  });
  await portKnown;
  log(`soak: ${clients} clients for ${seconds} s against a ws server on port ${port} (server memory sampled every ${sampleMs} ms)`);

  const runner = child(['--role', 'clients', '--port', String(port), '--clients', String(clients), '--seconds', String(seconds), '--seed', String(option('seed', 1))]);
  let result: (ClientTotals & Record<string, unknown>) | undefined;
  runner.lines.on('line', (line) => {
    const message = JSON.parse(line) as { result?: ClientTotals & Record<string, unknown> };
    if (message.result !== undefined) result = message.result;
  });
  const runnerCode = await runner.exited;

  // The clients are gone: the server must drop every session (wait for a sample that says so).
  const leftAt = samples.length;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !(samples.length > leftAt && samples[samples.length - 1]!.sessions === 0)) await new Promise((r) => setTimeout(r, 50));
  server.proc.stdin!.write('stop\n');
  await server.exited;

  if (result === undefined) throw new Error(`the clients process exited with code ${runnerCode} and no result`);
  const during = samples.slice(0, leftAt);
  const memory = {
    samples: during.length,
    peakRssMiB: mib(Math.max(...samples.map((s) => s.rss))),
    peakHeapMiB: mib(Math.max(...samples.map((s) => s.heapUsed))),
    ...levelling(during),
    sessionsAfter: samples[samples.length - 1]?.sessions ?? -1,
    streamsAfter: samples[samples.length - 1]?.streams ?? -1,
  };
  const correct = result.lost === 0 && result.duplicated === 0 && result.outOfOrder === 0 && result.failed === 0;
  const released = memory.sessionsAfter === 0;
  const judgeMemory = seconds >= 20;
  const ok = correct && released && (!judgeMemory || memory.levelled);
  const report = { ok, ...result, memory };
  if (json) {
    console.log(JSON.stringify(report));
  } else {
    log(`clients ${result.clients}, ${result.seconds} s, ${result.calls} calls (${result.cancelled} cancelled early), ${result.items} items, ${result.itemsPerSecond} items/s`);
    log(`item latency ms p50 ${(result.itemLatencyMs as { p50: number }).p50}, p99 ${(result.itemLatencyMs as { p99: number }).p99}; first item p99 ${(result.firstItemLatencyMs as { p99: number }).p99}`);
    log(`lost ${result.lost}, duplicated ${result.duplicated}, out of order ${result.outOfOrder}, failed streams ${result.failed}${result.errors.length ? ` (${result.errors.join('; ')})` : ''}`);
    log(
      `server memory: peak RSS ${memory.peakRssMiB} MiB, peak heap ${memory.peakHeapMiB} MiB; heap middle third ${memory.middleMiB} MiB, last third ${memory.lastMiB} MiB (growth ${Math.round(memory.growth * 100)}%: ${memory.levelled ? 'levelled off' : 'STILL GROWING'}${judgeMemory ? '' : ', not judged under 20 s'})`,
    );
    log(`server after the clients left: ${memory.sessionsAfter} sessions, ${memory.streamsAfter} streams`);
    log(ok ? 'soak: OK' : 'soak: FAILED');
  }
  process.exitCode = ok ? 0 : 1;
}

if (role === 'server') await runServer();
else if (role === 'clients') await runClients();
else await main();
