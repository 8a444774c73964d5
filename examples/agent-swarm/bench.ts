/**
 * The swarm benchmark: depth 4, breadth 2 (31 agents), each agent about 1 s
 * of simulated model time. Reports, per run and as medians: wall time against
 * the critical path (the longest chain of spawns under the model's own
 * timing; target <= 1.3x) and against the sequential time (the sum of agent
 * times, ~31 agent-times), and the time to first token from the start of the
 * run (target <= 50 ms; the model's own start-up delay is 20 ms of it).
 * The document is checked byte for byte against a sequential in-process run.
 *
 * Run: `npm run swarm:bench` or `npm start -- --bench` (`--runs N`, `--workers N`).
 * Prints a table, then one JSON line; `--json FILE` also writes the per-run
 * figures in the shape `npm run bench` reads (`bench/lib/report.ts`).
 *
 * @module
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { pairedRatio, section, target, writeGroupResult } from '../../bench/lib/report.ts';
import { agentCount } from './cli.ts';
import type { ModelConfig } from './model.ts';
import { defaultPoolSize, WorkerPool } from './pool.ts';
import { loadPrompts } from './prompts.ts';
import { sequentialDocument } from './sequential.ts';
import { runSwarm } from './swarm.ts';
import { summarize, SwarmTelemetry, type SwarmSummary } from './telemetry.ts';

/** Settings of {@link runBench}. */
export interface BenchOptions {
  workers?: number;
  /** Measured runs (after one warm-up). Default 3. */
  runs?: number;
  /** Also write the per-run figures here, for `npm run bench`. */
  json?: string;
}

const SHAPE = { depth: 4, breadth: 2 };
const MODEL = { kind: 'sim', seed: 1, tokensPerSecond: 100, tokensPerAgent: 98, startupMs: 20 } as const satisfies ModelConfig;
const TOPIC = 'the lighthouse';
const TARGET_RATIO = 1.3;
const TARGET_TTFT_MS = 50;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, digits = 0): number => Number(x.toFixed(digits));

async function collect(document: AsyncIterable<string>, telemetry: SwarmTelemetry): Promise<string> {
  let text = '';
  for await (const piece of document) {
    telemetry.output();
    text += piece;
  }
  return text;
}

/** Runs the benchmark and prints its figures; resolves with the exit code. */
export async function runBench(options: BenchOptions = {}): Promise<number> {
  const prompts = loadPrompts();
  const runs = options.runs ?? 3;
  const pool = await WorkerPool.start({ size: options.workers ?? defaultPoolSize(), maxRunning: 64 });
  try {
    const reference = await collect(sequentialDocument({ subject: TOPIC, shape: SHAPE, model: { ...MODEL, tokensPerSecond: 0, startupMs: 0 }, prompts }), new SwarmTelemetry());
    // Warm-up: JIT and the first-call paths of every worker, at full speed.
    await collect(runSwarm({ subject: TOPIC, shape: SHAPE, model: { ...MODEL, tokensPerSecond: 0, startupMs: 0 }, prompts, runner: pool }), new SwarmTelemetry());
    const results: Array<SwarmSummary & { matches: boolean }> = [];
    for (let i = 0; i < runs; i++) {
      const telemetry = new SwarmTelemetry();
      const text = await collect(runSwarm({ subject: TOPIC, shape: SHAPE, model: MODEL, prompts, runner: pool, telemetry }), telemetry);
      results.push({ ...summarize(telemetry, MODEL), matches: text === reference });
    }
    const row = (label: string, pick: (s: SwarmSummary) => number, unit = 's'): string => {
      const xs = results.map(pick);
      const f = (x: number): string => (unit === 's' ? (x / 1000).toFixed(2) : unit === 'ms' ? x.toFixed(1) : x.toFixed(2));
      return `  ${label.padEnd(34)} ${f(median(xs)).padStart(7)} ${unit.padEnd(3)} (runs: ${xs.map(f).join(', ')})`;
    };
    const ratio = (s: SwarmSummary): number => s.wallMs / s.criticalPathMs;
    const agentTimes = (s: SwarmSummary): number => s.sequentialMs / s.meanAgentMs;
    const med = {
      wallMs: median(results.map((s) => s.wallMs)),
      criticalPathMs: median(results.map((s) => s.criticalPathMs)),
      sequentialMs: median(results.map((s) => s.sequentialMs)),
      meanAgentMs: median(results.map((s) => s.meanAgentMs)),
      ttftMs: median(results.map((s) => s.ttftMs ?? Infinity)),
      wallOverCritical: median(results.map(ratio)),
      speedup: median(results.map((s) => s.speedup)),
    };
    const ok = med.wallOverCritical <= TARGET_RATIO && med.ttftMs <= TARGET_TTFT_MS && results.every((r) => r.matches);
    console.log(`swarm bench: depth ${SHAPE.depth}, breadth ${SHAPE.breadth} (${agentCount(SHAPE)} agents), ${pool.size} workers, ${runs} runs (medians)`);
    console.log(row('mean agent time', (s) => s.meanAgentMs));
    console.log(row('wall time', (s) => s.wallMs));
    console.log(row('critical path (model timing)', (s) => s.criticalPathMs));
    console.log(row(`wall / critical path (<= ${TARGET_RATIO})`, ratio, 'x'));
    console.log(row('sequential time (sum of agents)', (s) => s.sequentialMs));
    console.log(row('sequential / mean agent time', agentTimes, 'x'));
    console.log(row('speedup (sequential / wall)', (s) => s.speedup, 'x'));
    console.log(row(`time to first token (<= ${TARGET_TTFT_MS} ms)`, (s) => s.ttftMs ?? NaN, 'ms'));
    console.log(`  document equals the sequential run byte for byte: ${results.every((r) => r.matches) ? 'yes' : 'NO'}`);
    console.log(`  targets: ${ok ? 'met' : 'MISSED'}`);
    console.log(
      JSON.stringify({
        bench: 'agent-swarm',
        agents: agentCount(SHAPE),
        workers: pool.size,
        runs,
        wallMs: round(med.wallMs),
        criticalPathMs: round(med.criticalPathMs),
        wallOverCritical: round(med.wallOverCritical, 3),
        sequentialMs: round(med.sequentialMs),
        meanAgentMs: round(med.meanAgentMs),
        speedup: round(med.speedup, 2),
        ttftMs: round(med.ttftMs, 1),
        modelStartupMs: MODEL.startupMs,
        matchesSequential: results.every((r) => r.matches),
        targetsMet: ok,
      }),
    );
    if (options.json !== undefined) {
      const seconds = (pick: (s: SwarmSummary) => number) => results.map((s) => pick(s) / 1000);
      const wall = seconds((s) => s.wallMs);
      const critical = seconds((s) => s.criticalPathMs);
      writeGroupResult(options.json, {
        group: 'swarm',
        title: `Agent swarm: ${agentCount(SHAPE)} agents of about 1 s (depth ${SHAPE.depth}, breadth ${SHAPE.breadth}) over ${pool.size} worker threads`,
        date: new Date().toISOString(),
        node: process.version,
        quick: runs < 3,
        reps: runs,
        settings: { shape: SHAPE, model: MODEL, workers: pool.size },
        figures: [
          ...section(`${agentCount(SHAPE)} agents of ~1 s: wall time`, [
            { name: 'wall time, swarm over worker threads', unit: 's', higherIsBetter: false, role: 'ours', samples: wall },
            { name: 'critical path (model timing)', unit: 's', higherIsBetter: false, role: 'reference', samples: critical },
            { name: 'sequential (sum of agent times)', unit: 's', higherIsBetter: false, role: 'alternative', samples: seconds((s) => s.sequentialMs) },
          ]),
          ...section('first token from the start of the run', [
            { name: 'time to first token', unit: 'ms', higherIsBetter: false, role: 'ours', samples: results.map((s) => s.ttftMs ?? NaN) },
            { name: 'model start-up delay', unit: 'ms', higherIsBetter: false, role: 'reference', samples: results.map(() => MODEL.startupMs) },
          ]),
        ],
        targets: [
          target('swarm-wall-vs-critical-path', `agent swarm, ${agentCount(SHAPE)} agents of about 1 s each: wall vs critical path`, '<=', TARGET_RATIO, pairedRatio(wall, critical), {
            pass: med.wallOverCritical <= TARGET_RATIO && results.every((r) => r.matches),
            note: `speedup over the sum of agent times ${med.speedup.toFixed(1)}x; document equals the sequential run byte for byte: ${results.every((r) => r.matches) ? 'yes' : 'NO'}`,
          }),
        ],
        notes: ['One warm-up run at full model speed, then measured runs with the simulated model (seeded); the critical path is the longest chain of spawns under the model\'s own timing.'],
      });
    }
    return 0;
  } finally {
    await pool.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { runs: { type: 'string' }, workers: { type: 'string' }, json: { type: 'string' } } });
  const runs = values.runs === undefined ? undefined : Number(values.runs);
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  runBench({ runs, workers, json: values.json }).then((code) => process.exit(code));
}
