/**
 * `npm start`: the agent swarm. Parses the options, starts the worker pool,
 * streams the document to stdout in order, shows a status line on a terminal
 * and prints a summary. Ctrl-C cancels every agent on every worker, keeps
 * what was written, stops the workers and exits with 130.
 *
 * @module
 */
import { writeFile } from 'node:fs/promises';
import { startTrace, traceToHtml } from '../../src/index.ts';
import { agentCount, helpText, parseCli, type CliOptions } from './cli.ts';
import { WorkerPool } from './pool.ts';
import { loadPrompts } from './prompts.ts';
import { sequentialDocument } from './sequential.ts';
import { DocumentWriter } from './status.ts';
import { runSwarm } from './swarm.ts';
import { formatSummary, summarize, SwarmTelemetry } from './telemetry.ts';

/** Exit code of a run stopped by SIGINT (128 + 2), as shells report it. */
const EXIT_INTERRUPTED = 130;
/** How long an interrupted run waits for the workers to report every agent stopped. */
const SETTLE_MS = 1_000;

const log = (line: string): void => void process.stderr.write(`${line}\n`);

function describe(options: CliOptions): string {
  const m = options.model;
  const model =
    m.kind === 'sim'
      ? `simulated model (seed ${m.seed}, ${m.tokensPerSecond} tok/s, ~${m.tokensPerAgent} tokens per agent)`
      : `${m.model} at ${m.url}${m.apiKey ? '' : ' (no API key)'}`;
  const where = options.sequential ? 'one after another in this thread' : `on ${options.workers} worker threads`;
  return `agent swarm: "${options.topic}", up to ${agentCount(options.shape)} agents (depth ${options.shape.depth}, breadth ${options.shape.breadth}) ${where}, ${model}`;
}

/** Polls the workers until none runs an agent any more: the cancel cascade has reached every generator. */
async function settle(pool: WorkerPool): Promise<boolean> {
  const deadline = performance.now() + SETTLE_MS;
  while (performance.now() < deadline) {
    const counts = await pool.counts();
    if (counts.every((c) => c === null || c.running === 0)) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

async function run(options: CliOptions): Promise<number> {
  let interrupted = false;
  let stop = (): void => {};
  process.on('SIGINT', () => {
    if (interrupted) process.exit(EXIT_INTERRUPTED); // a second Ctrl-C: no more waiting (worker threads end with the process)
    interrupted = true;
    stop();
  });
  log(describe(options));
  let pool: WorkerPool | undefined;
  if (!options.sequential) {
    const before = performance.now();
    pool = await WorkerPool.start({ size: options.workers, maxRunning: options.maxRunning });
    log(`workers ready in ${Math.round(performance.now() - before)} ms\n`);
  }
  try {
    if (interrupted) return EXIT_INTERRUPTED;
    const tracer = options.trace === undefined ? undefined : startTrace();
    const telemetry = new SwarmTelemetry();
    const settings = { subject: options.topic, shape: options.shape, model: options.model, prompts: loadPrompts(), telemetry };
    const document = pool === undefined ? sequentialDocument(settings) : runSwarm({ ...settings, runner: pool });
    // Settles the pending read at once, even while it waits on an agent; the cancel cascades from there.
    stop = () => void document.return();
    const writer = new DocumentWriter(telemetry, process.stdout, process.stderr, options.status);
    try {
      for await (const piece of document) await writer.write(piece);
    } finally {
      writer.stop();
    }
    const m = options.model;
    const summary = summarize(telemetry, m.kind === 'sim' ? { startupMs: m.startupMs ?? 0, tokensPerSecond: m.tokensPerSecond ?? 0 } : undefined);
    if (interrupted) {
      const stopped = pool === undefined || (await settle(pool));
      const agents = stopped ? 'every agent stopped' : 'some agents were still stopping';
      const workers = pool === undefined ? '' : '; the workers are terminated';
      log(`\ninterrupted after ${(telemetry.now() / 1000).toFixed(1)} s: the document so far went to stdout; ${agents}${workers}`);
    }
    log(`\n${formatSummary(summary, { workers: pool === undefined ? 'none (sequential)' : String(pool.size) })}`);
    if (tracer !== undefined && options.trace !== undefined) {
      await writeFile(options.trace, traceToHtml(tracer.stop(), { title: `agent swarm: ${options.topic}` }));
      log(`plan trace written to ${options.trace}`);
    }
    return interrupted ? EXIT_INTERRUPTED : 0;
  } finally {
    await pool?.close();
  }
}

async function main(argv: string[]): Promise<number> {
  let options: CliOptions;
  try {
    options = parseCli(argv);
  } catch (error) {
    log(`error: ${error instanceof Error ? error.message : String(error)}\nRun with --help to see the options.`);
    return 2;
  }
  if (options.command === 'help') {
    process.stdout.write(helpText());
    return 0;
  }
  if (options.command === 'bench') {
    const { runBench } = await import('./bench.ts');
    return runBench({ workers: options.workers });
  }
  return run(options);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`agent swarm failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
