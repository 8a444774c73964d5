/**
 * Core benchmark: the sequencer and the conductor against the plain constructs
 * they replace, measured side by side in one run (the machine is noisy, so only
 * ratios of medians taken in the same run mean anything).
 *
 * Run: `npx tsx bench/core.ts` (or `npm run bench:core`). Prints a table, then
 * one JSON line. `BENCH_SCALE=0.1` shrinks every workload for a quick look;
 * `BENCH_REPS` sets the number of measured repetitions (default 7).
 * `--json FILE` also writes the figures in the shape `bench/index.ts` reads
 * (see `bench/lib/report.ts`).
 *
 * Targets (issue 2): sequencer >= 0.8x a plain `for await` over the same async
 * generator; per-item cost at depth 1,000 <= 1.5x depth 1; ConductorStream >=
 * 0.8x a plain TransformStream pipe doing the same transform.
 *
 * @module
 */
import { ConductorStream } from '../src/conductor.ts';
import { asyncIterableSequencer } from '../src/sequencer.ts';
import { jsonFileArg, pairedRatio, section, target, writeGroupResult, type GroupResult } from './lib/report.ts';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const REPS = Number(process.env.BENCH_REPS ?? 7);
const WARMUPS = 2;

const n = (count: number) => Math.max(1_000, Math.round(count * SCALE));
// Sized so that every measurement takes well over 100 ms on this machine.
const GENERATOR_ITEMS = n(1_000_000);
const ARRAY_ITEMS = n(2_000_000);
const ARRAY_CHUNK = 1_000;
const DEPTH_ITEMS = n(2_000_000);
const STREAM_ITEMS = n(100_000);

/** One measured workload: `prepare` builds it (untimed) and returns the timed run, which returns a checksum. */
interface Case {
  name: string;
  items: number;
  prepare(): () => Promise<number>;
}

async function* numbers(count: number): AsyncGenerator<number> {
  for (let i = 0; i < count; i++) yield i;
}

function arrays(count: number): number[][] {
  const out: number[][] = [];
  for (let start = 0; start < count; start += ARRAY_CHUNK) {
    out.push(Array.from({ length: Math.min(ARRAY_CHUNK, count - start) }, (_, i) => start + i));
  }
  return out;
}

// One consuming loop per kind of iterable, written out each time: V8 keeps type feedback per
// function, so a shared loop fed generators and sequences alike would slow every case down
// (a polymorphic `next()` call site) and blur the comparison.
async function sumGenerator(iterable: AsyncGenerator<number>): Promise<number> {
  let total = 0;
  for await (const value of iterable) total += value;
  return total;
}

async function sumSequence(iterable: AsyncGenerator<number>): Promise<number> {
  let total = 0;
  for await (const value of iterable) total += value;
  return total;
}

async function sumThenWrapper(generator: AsyncGenerator<number>): Promise<number> {
  const pass = (result: IteratorResult<number>) => result;
  const wrapper = { next: () => generator.next().then(pass), [Symbol.asyncIterator]: () => wrapper };
  let total = 0;
  for await (const value of wrapper) total += value;
  return total;
}

async function sumYieldStar(iterable: AsyncIterable<number>): Promise<number> {
  let total = 0;
  for await (const value of iterable) total += value;
  return total;
}

async function readAll(stream: ReadableStream<number>): Promise<number> {
  const reader = stream.getReader();
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return total;
    total += value;
  }
}

/** A sequence nested `depth` levels deep whose innermost level chains `sources`. */
function nested(depth: number, sources: Iterable<number>[] | AsyncIterable<number>[]): AsyncGenerator<number> {
  const innermost = asyncIterableSequencer<number>();
  for (const source of sources) innermost.chain(source);
  innermost.chain(null);
  let sequence = innermost.sequence;
  for (let level = 1; level < depth; level++) {
    const outer = asyncIterableSequencer<number>();
    outer.chain(sequence);
    outer.chain(null);
    sequence = outer.sequence;
  }
  return sequence;
}

/** The reference project's approach: every level delegates through `yield*`. */
function yieldStarNested(depth: number, source: number[][]): AsyncIterable<number> {
  async function* innermost() {
    for (const chunk of source) yield* chunk;
  }
  async function* level(inner: AsyncIterable<number>) {
    yield* inner;
  }
  let iterable: AsyncIterable<number> = innermost();
  for (let i = 1; i < depth; i++) iterable = level(iterable);
  return iterable;
}

function sequencerCases(): Case[] {
  const chunks = arrays(ARRAY_ITEMS);
  return [
    { name: 'for await: async generator', items: GENERATOR_ITEMS, prepare: () => () => sumGenerator(numbers(GENERATOR_ITEMS)) },
    {
      name: 'sequencer: async generator',
      items: GENERATOR_ITEMS,
      prepare: () => () => {
        const { sequence, chain } = asyncIterableSequencer<number>();
        chain(numbers(GENERATOR_ITEMS));
        chain(null);
        return sumSequence(sequence);
      },
    },
    {
      // Something still chained after the generator: each of its results is checked for the end.
      name: 'sequencer: async generator, not last',
      items: GENERATOR_ITEMS,
      prepare: () => () => {
        const { sequence, chain } = asyncIterableSequencer<number>();
        chain(numbers(GENERATOR_ITEMS));
        chain([]);
        chain(null);
        return sumSequence(sequence);
      },
    },
    {
      // The least any reader that looks at each result can cost: one `then` per item.
      name: 'bare then() wrapper (floor)',
      items: GENERATOR_ITEMS,
      prepare: () => () => sumThenWrapper(numbers(GENERATOR_ITEMS)),
    },
    {
      name: 'for await: arrays',
      items: ARRAY_ITEMS,
      prepare: () => async () => {
        let total = 0;
        for (const chunk of chunks) for await (const value of chunk) total += value;
        return total;
      },
    },
    {
      name: 'sequencer: arrays',
      items: ARRAY_ITEMS,
      prepare: () => () => {
        const { sequence, chain } = asyncIterableSequencer<number>();
        for (const chunk of chunks) chain(chunk);
        chain(null);
        return sumSequence(sequence);
      },
    },
  ];
}

const DEPTHS = [1, 10, 1_000, 100_000];
/** The `yield*` reference costs about 0.1 us per level per item, so deeper levels get fewer items. */
const YIELD_STAR_ITEMS: Record<number, number> = { 1: n(500_000), 10: n(100_000), 1_000: n(2_000) };
const YIELD_STAR_DEPTHS = [1, 10, 1_000];

function depthCases(): Case[] {
  const chunks = arrays(DEPTH_ITEMS);
  return [
    ...DEPTHS.map((depth) => ({
      name: `sequencer depth ${depth.toLocaleString('en')}`,
      items: DEPTH_ITEMS,
      prepare: () => {
        const sequence = nested(depth, chunks);
        return () => sumSequence(sequence);
      },
    })),
    ...YIELD_STAR_DEPTHS.map((depth) => ({
      name: `yield* depth ${depth.toLocaleString('en')} (reference)`,
      items: YIELD_STAR_ITEMS[depth]!,
      prepare: () => {
        const iterable = yieldStarNested(depth, arrays(YIELD_STAR_ITEMS[depth]!));
        return () => sumYieldStar(iterable);
      },
    })),
  ];
}

/** The same transform through a plain TransformStream pipe and through ConductorStream. */
function streamCases(): Case[] {
  const source = () => {
    let i = 0;
    return new ReadableStream<number>({
      pull(controller) {
        if (i < STREAM_ITEMS) controller.enqueue(i++);
        else controller.close();
      },
    });
  };
  const plain: Case = {
    name: 'TransformStream pipe (x2)',
    items: STREAM_ITEMS,
    prepare: () => () =>
      readAll(
        source().pipeThrough(
          new TransformStream<number, number>({
            transform(chunk, controller) {
              controller.enqueue(chunk * 2);
            },
          }),
        ),
      ),
  };
  const conductor: Case = {
    name: 'ConductorStream pipe (x2)',
    items: STREAM_ITEMS,
    prepare: () => () =>
      readAll(
        source().pipeThrough(
          new ConductorStream<number, number>({
            transform(chunk, chain) {
              chain([chunk * 2]);
            },
          }),
        ),
      ),
  };
  return [plain, conductor];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Milliseconds per measured round of every case, in round order (for paired per-round ratios). */
const SAMPLES = new Map<string, number[]>();

/** Runs every case WARMUPS times, then REPS rounds interleaved so drift hits all cases alike. */
async function measure(cases: Case[]): Promise<Map<string, number>> {
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  const checksums = new Map<string, number>();
  for (let round = 0; round < WARMUPS + REPS; round++) {
    for (const c of cases) {
      const run = c.prepare();
      const started = performance.now();
      const checksum = await run();
      const ms = performance.now() - started;
      const previous = checksums.get(c.name);
      if (previous !== undefined && previous !== checksum) throw new Error(`${c.name}: checksum changed`);
      checksums.set(c.name, checksum);
      if (round >= WARMUPS) samples.get(c.name)!.push(ms);
    }
  }
  for (const [name, ms] of samples) SAMPLES.set(name, ms);
  return new Map([...samples].map(([name, ms]) => [name, median(ms)]));
}

interface Row {
  name: string;
  items: number;
  ms: number;
  nsPerItem: number;
  ratio?: string;
}

function row(c: Case, medians: Map<string, number>): Row {
  const ms = medians.get(c.name)!;
  return { name: c.name, items: c.items, ms, nsPerItem: (ms * 1e6) / c.items };
}

function printTable(rows: Row[]): void {
  const header = ['case', 'items', 'median ms', 'ns/item', 'ratio'];
  const lines = rows.map((r) => [
    r.name,
    r.items.toLocaleString('en'),
    r.ms.toFixed(1),
    r.nsPerItem.toFixed(0),
    r.ratio ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  console.log(format(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const line of lines) console.log(format(line));
}

async function main(): Promise<void> {
  console.log(`stream-weaver core bench: node ${process.version}, ${REPS} reps (median), scale ${SCALE}\n`);
  const seq = sequencerCases();
  const depth = depthCases();
  const streams = streamCases();
  const medians = await measure([...seq, ...depth, ...streams]);
  const perItem = (name: string) => row([...seq, ...depth, ...streams].find((c) => c.name === name)!, medians).nsPerItem;

  // Throughput ratios: > 1 means the sequencer is faster than the plain construct.
  const vsGenerator = perItem('for await: async generator') / perItem('sequencer: async generator');
  const vsGeneratorNotLast = perItem('for await: async generator') / perItem('sequencer: async generator, not last');
  const floorVsGenerator = perItem('for await: async generator') / perItem('bare then() wrapper (floor)');
  const vsArrays = perItem('for await: arrays') / perItem('sequencer: arrays');
  // Depth ratios: per-item cost relative to depth 1 (< 1.5 is the target at 1,000).
  const depth1 = perItem('sequencer depth 1');
  const depthRatios = Object.fromEntries(DEPTHS.map((d) => [d, perItem(`sequencer depth ${d.toLocaleString('en')}`) / depth1]));
  // Splicing costs once per level (descend and pop), not per item: report that apart.
  const msOf = (name: string) => medians.get(name)!;
  const oneTimeNsPerLevel = ((msOf('sequencer depth 100,000') - msOf('sequencer depth 1')) * 1e6) / (100_000 - 1);
  const yieldStar1 = perItem('yield* depth 1 (reference)');
  const yieldStarRatios = Object.fromEntries(
    YIELD_STAR_DEPTHS.map((d) => [d, perItem(`yield* depth ${d.toLocaleString('en')} (reference)`) / yieldStar1]),
  );

  const rows = [...seq, ...depth, ...streams].map((c) => row(c, medians));
  const ratioOf = (name: string, text: string) => (rows.find((r) => r.name === name)!.ratio = text);
  ratioOf('sequencer: async generator', `${vsGenerator.toFixed(2)}x throughput (target >= 0.8)`);
  ratioOf('sequencer: async generator, not last', `${vsGeneratorNotLast.toFixed(2)}x throughput`);
  ratioOf('bare then() wrapper (floor)', `${floorVsGenerator.toFixed(2)}x throughput`);
  ratioOf('sequencer: arrays', `${vsArrays.toFixed(2)}x throughput`);
  for (const d of DEPTHS) {
    const target = d === 1_000 ? ' (target <= 1.5)' : '';
    ratioOf(`sequencer depth ${d.toLocaleString('en')}`, `${depthRatios[d]!.toFixed(2)}x depth 1 per item${target}`);
  }
  for (const d of YIELD_STAR_DEPTHS) {
    ratioOf(`yield* depth ${d.toLocaleString('en')} (reference)`, `${yieldStarRatios[d]!.toFixed(2)}x depth 1 per item`);
  }
  const vsTransform = perItem('TransformStream pipe (x2)') / perItem('ConductorStream pipe (x2)');
  ratioOf('ConductorStream pipe (x2)', `${vsTransform.toFixed(2)}x throughput (target >= 0.8)`);
  printTable(rows);
  console.log(`\ndepth 100,000 includes a one-time cost of ~${oneTimeNsPerLevel.toFixed(0)} ns per level (splice in, pop out).`);

  const result = {
    bench: 'core',
    node: process.version,
    reps: REPS,
    scale: SCALE,
    sequencerVsForAwaitGenerator: round(vsGenerator),
    sequencerVsForAwaitGeneratorNotLast: round(vsGeneratorNotLast),
    thenWrapperFloorVsForAwaitGenerator: round(floorVsGenerator),
    sequencerVsForAwaitArrays: round(vsArrays),
    depthPerItemRatio: Object.fromEntries(Object.entries(depthRatios).map(([d, r]) => [d, round(r)])),
    depth100000OneTimeNsPerLevel: round(oneTimeNsPerLevel),
    conductorVsTransformStream: round(vsTransform),
    yieldStarDepthPerItemRatio: Object.fromEntries(Object.entries(yieldStarRatios).map(([d, r]) => [d, round(r)])),
    nsPerItem: Object.fromEntries(rows.map((r) => [r.name, round(r.nsPerItem)])),
    targets: {
      sequencerVsGenerator: vsGenerator >= 0.8,
      depth1000: depthRatios[1_000]! <= 1.5,
      conductorVsTransformStream: vsTransform >= 0.8,
    },
  };
  console.log();
  console.log(JSON.stringify(result));
  const jsonFile = jsonFileArg(process.argv.slice(2));
  if (jsonFile !== undefined) writeGroupResult(jsonFile, groupResult([...seq, ...depth, ...streams], result));
}

/** The figures in the shape of `bench/lib/report.ts`: rates per round, depth as ns per item. */
function groupResult(cases: Case[], raw: { depth100000OneTimeNsPerLevel: number }): GroupResult {
  const byName = new Map(cases.map((c) => [c.name, c]));
  const rate = (name: string) => SAMPLES.get(name)!.map((ms) => byName.get(name)!.items / (ms / 1000));
  const nsPerItem = (name: string) => SAMPLES.get(name)!.map((ms) => (ms * 1e6) / byName.get(name)!.items);
  const items = (name: string, role: 'ours' | 'ours-variant' | 'alternative' | 'reference') =>
    ({ name, unit: 'items/s', higherIsBetter: true, role, samples: rate(name) }) as const;
  const cost = (name: string, role: 'ours' | 'ours-variant' | 'alternative' | 'reference') =>
    ({ name, unit: 'ns/item', higherIsBetter: false, role, samples: nsPerItem(name) }) as const;
  const depthName = (d: number) => `sequencer depth ${d.toLocaleString('en')}`;
  const figures = [
    ...section('sequencer vs for await over one async generator', [
      items('sequencer: async generator', 'ours'),
      items('sequencer: async generator, not last', 'ours-variant'),
      items('for await: async generator', 'alternative'),
      items('bare then() wrapper (floor)', 'reference'),
    ]),
    ...section('sequencer vs for await over 1,000-item arrays', [items('sequencer: arrays', 'ours'), items('for await: arrays', 'alternative')]),
    ...section('per-item cost by nesting depth', [
      cost(depthName(1_000), 'ours'),
      ...DEPTHS.filter((d) => d !== 1_000).map((d) => cost(depthName(d), 'ours-variant')),
      ...YIELD_STAR_DEPTHS.map((d) => cost(`yield* depth ${d.toLocaleString('en')} (reference)`, 'reference')),
    ]),
    ...section('ConductorStream vs TransformStream pipe, x2 transform', [
      items('ConductorStream pipe (x2)', 'ours'),
      items('TransformStream pipe (x2)', 'alternative'),
    ]),
  ];
  const deep = pairedRatio(nsPerItem(depthName(100_000)), nsPerItem(depthName(1)));
  return {
    group: 'core',
    title: 'In process: sequencer, ConductorStream, nesting depth',
    date: new Date().toISOString(),
    node: process.version,
    quick: SCALE < 1,
    reps: REPS,
    settings: { scale: SCALE, warmups: WARMUPS, generatorItems: GENERATOR_ITEMS, arrayItems: ARRAY_ITEMS, depthItems: DEPTH_ITEMS, streamItems: STREAM_ITEMS },
    figures,
    targets: [
      target(
        'sequencer-vs-for-await',
        'sequencer vs plain for await over the same generator (throughput)',
        '>=',
        0.8,
        pairedRatio(rate('sequencer: async generator'), rate('for await: async generator')),
      ),
      target('depth-1000', 'per-item cost at nesting depth 1,000 vs depth 1', '<=', 1.5, pairedRatio(nsPerItem(depthName(1_000)), nsPerItem(depthName(1))), {
        note:
          `depth 100,000 runs: ${deep.ratio.toFixed(2)}x depth 1 per item, which includes a one-time ` +
          `~${Math.round(raw.depth100000OneTimeNsPerLevel)} ns per level (splice in, pop out) spread over ${DEPTH_ITEMS.toLocaleString('en')} items`,
      }),
      target(
        'conductor-vs-transformstream',
        'ConductorStream vs plain TransformStream pipe (throughput)',
        '>=',
        0.8,
        pairedRatio(rate('ConductorStream pipe (x2)'), rate('TransformStream pipe (x2)')),
      ),
    ],
    notes: ['Each round runs every case once, interleaved, after 2 warm-up rounds; ranges are per-round paired ratios.'],
    raw,
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

await main();
