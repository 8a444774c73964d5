/**
 * WebSocket benchmark: the bridge against raw `ws`, with the server in a child
 * process and the client here, over 127.0.0.1, measured side by side in one
 * run (the machine is noisy: only ratios of medians from the same run mean
 * anything).
 *
 * Run: `npx tsx bench/websocket.ts` (or `npm run bench:ws`); `--quick` for a
 * short run, `--reps=N`, `--n=ITEMS`, `--windows=256,1024,4096`, `--batch=N`
 * (the bridge's flow.maxBatchItems), `--only='name|name'`
 * (contenders whose name contains one of them). `--profile` runs the server
 * with `--cpu-prof` (into $PROFILE_DIR, default <tmp>/stream-weaver-ws-profiles;
 * start this script with `node --cpu-prof --import tsx` for the client side),
 * by default only the default bridge and its baseline. Prints a table, then one
 * JSON line, and writes `bench/results/websocket.json` (full runs only), or
 * with `--json FILE` the figures in the shape `bench/index.ts` reads
 * (`bench/lib/report.ts`) to FILE instead.
 *
 * Work: N small objects `{ i, text: 'item' }` from an async generator on the
 * server, read on the client with `for await`, one item at a time.
 * Contenders (each on a fresh connection, connected and warmed before timing):
 * - raw ws, 64 items per frame, JSON and superjson: the producer sends frames as
 *   fast as ws allows while keeping bufferedAmount under 1 MiB (its best setting;
 *   no flow control). Read by an async generator or a hand-rolled async iterator
 *   over the parsed frames; the faster of the two is the baseline of the ratios.
 *   A plain loop over whole frames (no await per item) is shown as a ceiling.
 * - the bridge: `serveWebSocket` + `wrap(webSocketEndpoint(new WebSocket(url)))`,
 *   `for await` over `await remote.stream(n)`, with superjson (the default) and with
 *   `codec: jsonCodec` on both sides, at several `flow.windowItems`.
 *
 * Target (issues 4 and 7): bridge (superjson) >= 0.7x raw ws superjson 64/frame.
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SuperJSON } from 'superjson';
import { WebSocket } from 'ws';
import { webSocketEndpoint } from '../adapters/websocket.ts';
import { jsonCodec, type Codec } from '../src/codec.ts';
import { DEFAULT_FLOW, type FlowOptions } from '../src/limits.ts';
import { sessionOf, wrap } from '../src/session.ts';
import { jsonFileArg, section, target as reportTarget, writeGroupResult, type FigureInput } from './lib/report.ts';
import { now, round, si, spread, table, type Spread } from './lib/stats.ts';
import type { BenchHandlers } from './workers/ws-server.ts';

const argv = process.argv.slice(2);
const argValue = (name: string): string | undefined => argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
const QUICK = argv.includes('--quick');
const PROFILE = argv.includes('--profile');
const JSON_FILE = jsonFileArg(argv);
const REPS = Number(argValue('--reps') ?? (QUICK ? 3 : 7));
const N = Number(argValue('--n') ?? (QUICK ? 150_000 : 600_000));
const WINDOWS = (argValue('--windows') ?? '256,1024,4096').split(',').map(Number);
/** flow.maxBatchItems of the bridge on both sides (default: the library's). */
const BATCH = argValue('--batch') === undefined ? undefined : Number(argValue('--batch'));
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const PROFILE_DIR = process.env.PROFILE_DIR ?? join(os.tmpdir(), 'stream-weaver-ws-profiles');

interface Item {
  i: number;
  text: string;
}

interface Contender {
  name: string;
  group: 'raw' | 'ceiling' | 'bridge';
  codec: 'json' | 'superjson';
  /** flow.windowItems of the bridge (undefined: the default). */
  window?: number;
  /** Connects (untimed) and returns the timed run, which resolves with [count, checksum]. */
  prepare(url: string): Promise<{ run(n: number): Promise<[number, number]>; dispose(): void }>;
}

function openSocket(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * How the raw client hands out items: `generator`, an async generator over the
 * parsed frames; `iterator`, a hand-rolled async iterator that answers from its
 * buffer without generator machinery (what the bridge's remote stream does);
 * `frames`, a plain loop over each parsed frame with no await per item (a
 * ceiling for reference, not the same consumer shape as `for await` per item).
 */
type RawConsumer = 'generator' | 'iterator' | 'frames';

/** Raw ws: 64 items per frame, consumed item by item (or frame by frame for `frames`). */
function rawContender(codec: 'json' | 'superjson', consumer: RawConsumer): Contender {
  const superjson = new SuperJSON();
  const decode = codec === 'json' ? (s: string) => JSON.parse(s) as unknown : (s: string) => superjson.parse(s);
  return {
    name: `raw ws ${codec}, 64/frame, ${consumer}`,
    group: consumer === 'frames' ? 'ceiling' : 'raw',
    codec,
    async prepare(base) {
      const socket = await openSocket(`${base}/raw?codec=${codec}`);
      return {
        async run(n) {
          const frames: Item[][] = [];
          let head = 0;
          let index = 0;
          let ended = false;
          let wake: (() => void) | null = null;
          socket.on('message', (data) => {
            const text = String(data);
            if (text === '"end"') ended = true;
            else frames.push(decode(text) as Item[]);
            const w = wake;
            wake = null;
            w?.();
          });
          const shift = (): Item[] => {
            const frame = frames[head]!;
            frames[head++] = undefined as never;
            if (head === frames.length) {
              frames.length = 0;
              head = 0;
            }
            return frame;
          };
          let count = 0;
          let sum = 0;
          socket.send(JSON.stringify({ n }));
          if (consumer === 'frames') {
            for (;;) {
              if (head < frames.length) {
                const frame = shift();
                for (let k = 0; k < frame.length; k++) {
                  count++;
                  sum += frame[k]!.i;
                }
              } else if (ended) break;
              else await new Promise<void>((r) => (wake = r));
            }
            return [count, sum];
          }
          let iterable: AsyncIterable<Item>;
          if (consumer === 'generator') {
            iterable = (async function* () {
              for (;;) {
                if (head < frames.length) {
                  const frame = shift();
                  for (let k = 0; k < frame.length; k++) yield frame[k]!;
                } else if (ended) return;
                else await new Promise<void>((r) => (wake = r));
              }
            })();
          } else {
            let current: Item[] = [];
            const DONE = { value: undefined, done: true } as const;
            const iterator: AsyncIterator<Item> = {
              next(): Promise<IteratorResult<Item>> {
                if (index < current.length) return Promise.resolve({ value: current[index++]!, done: false });
                if (head < frames.length) {
                  current = shift();
                  index = 0;
                  return iterator.next();
                }
                if (ended) return Promise.resolve(DONE);
                return new Promise<void>((r) => (wake = r)).then(() => iterator.next());
              },
            };
            iterable = { [Symbol.asyncIterator]: () => iterator };
          }
          for await (const item of iterable) {
            count++;
            sum += item.i;
          }
          return [count, sum];
        },
        dispose: () => socket.close(),
      };
    },
  };
}

/** The bridge: a remote async generator read with `for await`. */
function bridgeContender(codec: 'json' | 'superjson', window: number | undefined, batch = BATCH): Contender {
  const label = (window === undefined ? `default (w${DEFAULT_FLOW.windowItems})` : `w${window}`) + (batch === undefined ? '' : ` b${batch}`);
  return {
    name: `bridge ${codec}, ${label}`,
    group: 'bridge',
    codec,
    window: window ?? DEFAULT_FLOW.windowItems,
    async prepare(base) {
      const flow: Partial<FlowOptions> = {};
      let query = `codec=${codec}`;
      if (window !== undefined) (flow.windowItems = window), (query += `&w=${window}`);
      if (batch !== undefined) (flow.maxBatchItems = batch), (query += `&b=${batch}`);
      const socket = new WebSocket(`${base}/bridge?${query}`, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
      const theCodec: Codec | undefined = codec === 'json' ? jsonCodec : undefined; // superjson is the default
      const remote = wrap<BenchHandlers>(webSocketEndpoint(socket), { flow, ...(theCodec && { codec: theCodec }) });
      await remote.ping(); // connected and handshaken before the clock starts
      return {
        async run(n) {
          let count = 0;
          let sum = 0;
          for await (const item of await remote.stream(n)) {
            count++;
            sum += item.i;
          }
          return [count, sum];
        },
        dispose: () => sessionOf(remote).close(),
      };
    },
  };
}

async function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const file = fileURLToPath(new URL('./workers/ws-server.ts', import.meta.url));
  const profileArgs = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const child = spawn(process.execPath, [...profileArgs, '--import', 'tsx', file], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`the server exited with code ${code}`)));
  });
  return { child, url: `ws://127.0.0.1:${port}` };
}

async function measure(contender: Contender, url: string, n: number): Promise<number> {
  const { run, dispose } = await contender.prepare(url);
  try {
    const start = now();
    const [count, sum] = await run(n);
    const seconds = (now() - start) / 1000;
    if (count !== n || sum !== (n * (n - 1)) / 2) throw new Error(`${contender.name}: got ${count} items, checksum ${sum}`);
    return n / seconds;
  } finally {
    dispose();
  }
}

async function main(): Promise<void> {
  const consumers: RawConsumer[] = ['generator', 'iterator', 'frames'];
  let contenders: Contender[] = [];
  for (const codec of ['json', 'superjson'] as const) for (const consumer of consumers) contenders.push(rawContender(codec, consumer));
  for (const codec of ['superjson', 'json'] as const) {
    contenders.push(bridgeContender(codec, undefined));
    for (const w of WINDOWS) if (w !== DEFAULT_FLOW.windowItems) contenders.push(bridgeContender(codec, w));
  }
  // --profile: by default the default bridge and its baseline only; --only='a|b' keeps names containing a or b.
  const only = argValue('--only')?.split('|') ?? (PROFILE ? ['superjson, 64/frame, iterator', 'superjson, default'] : undefined);
  if (only !== undefined) contenders = contenders.filter((c) => only.some((o) => c.name.includes(o)));
  if (contenders.length === 0) throw new Error('no contender matches --only');

  const { child, url } = await startServer();
  const samples = new Map<Contender, number[]>(contenders.map((c) => [c, []]));
  try {
    // Warm both processes' JITs on every path, untimed.
    for (const c of contenders) await measure(c, url, Math.min(N, 50_000));
    for (let rep = 0; rep < REPS; rep++) {
      // Rotate the order so that no contender always runs right after the same one.
      for (let k = 0; k < contenders.length; k++) {
        const c = contenders[(k + rep) % contenders.length]!;
        samples.get(c)!.push(await measure(c, url, N));
      }
      process.stderr.write(`rep ${rep + 1}/${REPS} done\n`);
    }
  } finally {
    child.disconnect();
    await new Promise((r) => child.once('exit', r));
  }

  const stats = new Map<Contender, Spread>(contenders.map((c) => [c, spread(samples.get(c)!)]));
  /** The baseline: the faster raw consumer of the same shape (for await per item), i.e. the alternative's best. */
  const raw = (codec: 'json' | 'superjson') =>
    contenders
      .filter((c) => c.group === 'raw' && c.codec === codec)
      .reduce<Contender | undefined>((a, c) => (a === undefined || stats.get(c)!.median > stats.get(a)!.median ? c : a), undefined);
  /** Ratio of medians, with the range of the per-repetition paired ratios. */
  const ratio = (c: Contender, base: Contender | undefined) => {
    if (base === undefined) return undefined;
    const paired = samples.get(c)!.map((v, i) => v / samples.get(base)![i]!);
    const r = spread(paired);
    return { median: stats.get(c)!.median / stats.get(base)!.median, min: r.min, max: r.max };
  };
  const fmtRatio = (r: ReturnType<typeof ratio>) => (r === undefined ? '-' : `${r.median.toFixed(2)}x (${r.min.toFixed(2)}-${r.max.toFixed(2)})`);

  const rows = [['contender', 'items/s median', 'min-max', `vs ${raw('superjson')?.name ?? '-'}`, `vs ${raw('json')?.name ?? '-'}`]];
  for (const c of contenders) {
    const s = stats.get(c)!;
    rows.push([c.name, si(s.median), `${si(s.min)}-${si(s.max)}`, fmtRatio(ratio(c, raw('superjson'))), fmtRatio(ratio(c, raw('json')))]);
  }
  console.log(`\nWebSocket, server in a child process, 127.0.0.1: ${si(N)} items { i, text } per run, ${REPS} reps (medians; ratio ranges are per-rep pairs)\n`);
  console.log(table(rows));

  const bridges = (codec: 'json' | 'superjson') => contenders.filter((c) => c.group === 'bridge' && c.codec === codec);
  const best = (codec: 'json' | 'superjson') =>
    bridges(codec).reduce<Contender | undefined>((a, c) => (a === undefined || stats.get(c)!.median > stats.get(a)!.median ? c : a), undefined);
  const defaultBridge = contenders.find((c) => c.group === 'bridge' && c.codec === 'superjson' && c.name.includes('default'));
  const bestSj = best('superjson');
  const target = 0.7;
  const baseline = raw('superjson');
  const defaultRatio = defaultBridge && ratio(defaultBridge, baseline);
  const bestRatio = bestSj && ratio(bestSj, baseline);
  if (defaultRatio !== undefined && bestRatio !== undefined) {
    console.log(
      `\ntarget: bridge superjson >= ${target}x raw ws superjson 64/frame: default ${defaultRatio.median.toFixed(2)}x ` +
        `(${defaultRatio.median >= target ? 'met' : 'MISSED'}), best ${bestSj!.name} ${bestRatio.median.toFixed(2)}x ` +
        `(${bestRatio.median >= target ? 'met' : 'MISSED'})`,
    );
  }
  const bestJson = best('json');
  const rawJson = raw('json');
  if (bestJson !== undefined && rawJson !== undefined) {
    console.log(`bridge json (best ${bestJson.name}) vs raw ws json 64/frame: ${ratio(bestJson, rawJson)!.median.toFixed(2)}x`);
  }

  const report = {
    bench: 'websocket',
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    quick: QUICK,
    items: N,
    reps: REPS,
    unit: 'items/s',
    results: Object.fromEntries(
      contenders.map((c) => {
        const s = stats.get(c)!;
        return [
          c.name,
          {
            median: round(s.median),
            min: round(s.min),
            max: round(s.max),
            samples: s.samples.map((v) => round(v)),
            ...(c.window !== undefined && { windowItems: c.window }),
            vsRawSuperjson: ratio(c, raw('superjson')) && round(ratio(c, raw('superjson'))!.median),
            vsRawJson: ratio(c, raw('json')) && round(ratio(c, raw('json'))!.median),
          },
        ];
      }),
    ),
    target: defaultRatio &&
      bestRatio && {
        what: 'bridge superjson vs raw ws superjson 64/frame (the faster per-item raw consumer)',
        baseline: baseline!.name,
        min: target,
        default: round(defaultRatio.median),
        best: round(bestRatio.median),
        bestConfig: bestSj!.name,
        met: defaultRatio.median >= target,
      },
  };
  console.log(JSON.stringify(report));
  if (JSON_FILE !== undefined && defaultBridge !== undefined && baseline !== undefined && defaultRatio !== undefined && bestSj !== undefined) {
    const role = (c: Contender): FigureInput['role'] =>
      c === defaultBridge || (c.group === 'bridge' && c.codec === 'json' && c.name.includes('default'))
        ? 'ours'
        : c.group === 'bridge'
          ? 'ours-variant'
          : c.group === 'ceiling'
            ? 'reference'
            : 'alternative';
    const inputs = (codec: 'json' | 'superjson') =>
      contenders.filter((c) => c.codec === codec).map((c) => ({ name: c.name, unit: 'items/s', higherIsBetter: true, role: role(c), samples: samples.get(c)! }));
    writeGroupResult(JSON_FILE, {
      group: 'websocket',
      title: 'Bridge over a WebSocket to a child process (ws, 127.0.0.1)',
      date: report.date,
      node: process.version,
      quick: QUICK,
      reps: REPS,
      settings: { items: N, windows: WINDOWS, rawItemsPerFrame: 64, ...(BATCH !== undefined && { maxBatchItems: BATCH }) },
      figures: [
        ...section('small objects { i, text } over ws, superjson, for await per item', inputs('superjson')),
        ...section('small objects { i, text } over ws, plain JSON, for await per item', inputs('json')),
      ],
      targets: [
        reportTarget('ws-vs-raw-superjson', 'bridge over ws (child process) vs raw ws superjson, 64 per frame', '>=', target, { ratio: defaultRatio.median, min: defaultRatio.min, max: defaultRatio.max }, {
          best: { ratio: bestRatio!.median, config: bestSj.name },
          note: `baseline: ${baseline.name} (the faster raw consumer that hands out items one by one with for await)`,
        }),
      ],
      notes: [
        'Each contender on a fresh connection, connected and handshaken before timing; one warm-up pass; reps round-robin with the order rotated; ranges are per-rep paired ratios.',
        'Raw producers send as fast as ws allows while bufferedAmount stays under 1 MiB (their best setting, no flow control).',
      ],
      raw: report,
    });
  } else if (!PROFILE && only === undefined) {
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(`${RESULTS}websocket.json`, `${JSON.stringify(report, null, 2)}\n`);
  }
}

await main();
