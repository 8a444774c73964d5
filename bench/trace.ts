/**
 * What plan tracing (issue 9) costs while it runs: the same workloads read
 * with tracing off and on, side by side in one run (the machine is noisy, so
 * only ratios and differences of medians taken in the same run mean anything).
 * Tracing off is measured against the code before tracing existed by
 * bench/core.ts (run it on both commits); this bench prices tracing on.
 *
 * Run: `npx tsx bench/trace.ts`. Prints a table, then one JSON line.
 * `BENCH_SCALE` shrinks the workloads, `BENCH_REPS` sets the repetitions (default 7).
 *
 * @module
 */
import { asyncIterableSequencer, expose, memoryEndpointPair, startTrace, wrap } from '../src/index.ts';
import { median, round, table } from './lib/stats.ts';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const REPS = Number(process.env.BENCH_REPS ?? 7);
const n = (count: number) => Math.max(1_000, Math.round(count * SCALE));

const GENERATOR_ITEMS = n(500_000);
const CHAINS = n(100_000);
const BRIDGE_ITEMS = n(200_000);

async function* numbers(count: number): AsyncGenerator<number> {
  for (let i = 0; i < count; i++) yield i;
}

/** One workload: builds its input and reads it, returning the number of items. */
interface Case {
  name: string;
  items: number;
  run(): Promise<number>;
}

const handlers = {
  async *count(total: number) {
    for (let i = 0; i < total; i++) yield i;
  },
};
const [a, b] = memoryEndpointPair();
expose(handlers, a);
const remote = wrap<typeof handlers>(b);

const cases: Case[] = [
  {
    name: 'async generator, not last (per item)',
    items: GENERATOR_ITEMS,
    async run() {
      const { sequence, chain } = asyncIterableSequencer<number>();
      chain(numbers(GENERATOR_ITEMS));
      chain([0]);
      chain(null);
      let count = 0;
      for await (const _ of sequence) count++;
      return count;
    },
  },
  {
    name: 'one-item arrays (per chain)',
    items: CHAINS,
    async run() {
      const { sequence, chain } = asyncIterableSequencer<number>();
      for (let i = 0; i < CHAINS; i++) chain([i]);
      chain(null);
      let count = 0;
      for await (const _ of sequence) count++;
      return count;
    },
  },
  {
    name: 'bridge, memory pair (per item)',
    items: BRIDGE_ITEMS,
    async run() {
      const { sequence, chain } = asyncIterableSequencer<number>();
      chain(remote.count(BRIDGE_ITEMS));
      chain(null);
      let count = 0;
      for await (const _ of sequence) count++;
      return count;
    },
  },
];

async function measure(c: Case, traced: boolean): Promise<number> {
  const tracer = traced ? startTrace({ maxNodes: 1_000_000 }) : null;
  const start = performance.now();
  const count = await c.run();
  const ms = performance.now() - start;
  tracer?.stop();
  if (count !== c.items + (c.name.includes('not last') ? 1 : 0)) throw new Error(`${c.name}: read ${count} items`);
  return ms;
}

const rows: string[][] = [['case', 'off ns/item', 'on ns/item', 'on - off', 'on / off']];
const result: Record<string, { offNs: number; onNs: number; overheadNs: number; ratio: number }> = {};
for (const c of cases) {
  for (let i = 0; i < 2; i++) {
    await measure(c, false);
    await measure(c, true);
  }
  const off: number[] = [];
  const on: number[] = [];
  for (let i = 0; i < REPS; i++) {
    off.push(await measure(c, false));
    on.push(await measure(c, true));
  }
  const offNs = (median(off) * 1e6) / c.items;
  const onNs = (median(on) * 1e6) / c.items;
  result[c.name] = { offNs: round(offNs), onNs: round(onNs), overheadNs: round(onNs - offNs), ratio: round(onNs / offNs) };
  rows.push([c.name, offNs.toFixed(0), onNs.toFixed(0), (onNs - offNs).toFixed(0), `${(onNs / offNs).toFixed(2)}x`]);
}
console.log(table(rows));
console.log(JSON.stringify({ bench: 'trace', node: process.version, reps: REPS, scale: SCALE, cases: result }));
process.exit(0);
