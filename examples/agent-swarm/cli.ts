/**
 * Command-line options of the swarm: parsing, checking and `--help`.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import type { SwarmShape } from './agents.ts';
import type { ModelConfig } from './model.ts';
import { DEFAULT_SIM } from './sim-model.ts';
import { defaultPoolSize } from './pool.ts';

/** The document's topic when none is given. */
export const DEFAULT_TOPIC = 'the lighthouse';

/** Most agents one run may spawn: breadth ** depth grows fast. */
export const MAX_AGENTS = 2_000;

/** Everything the CLI decided. */
export interface CliOptions {
  command: 'run' | 'help' | 'bench';
  topic: string;
  shape: SwarmShape;
  workers: number;
  maxRunning: number;
  model: ModelConfig;
  /** Run the agents one after another in this thread instead. */
  sequential: boolean;
  /** Show the live status line (when stderr is a terminal). */
  status: boolean;
  /** Write the run's plan trace (src/trace.ts) to this HTML file. */
  trace?: string;
}

/** The `--help` text. */
export function helpText(): string {
  return `Usage: npm start -- [options] [topic]

A swarm of agents writes one Markdown document about the topic: each agent
runs on a worker thread and hands out sections to sub-agents while it keeps
writing; the document streams to stdout in order from its first token.
A status line goes to stderr on a terminal; a summary at the end.

Options:
  -d, --depth <n>              levels of sub-agents below the root (default 2)
  -b, --breadth <n>            sections each orchestrating agent hands out (default 3)
  -w, --workers <n>            worker threads (default: one per core, at least 2; here ${defaultPoolSize()})
      --max-running <n>        agents generating at once; the rest queue (default 64)
  -r, --tokens-per-second <n>  simulated model: tokens per second per agent, 0 = no delay (default ${DEFAULT_SIM.tokensPerSecond})
      --tokens <n>             simulated model: about how many tokens each agent writes (default ${DEFAULT_SIM.tokensPerAgent})
      --startup-ms <n>         simulated model: delay before an agent's first token (default ${DEFAULT_SIM.startupMs})
  -s, --seed <n>               simulated model: seed; same seed, same document (default ${DEFAULT_SIM.seed})
      --fail-rate <p>          simulated model: share of sub-agents that fail mid-stream, 0..1 (default 0)
      --model-url <url>        model source: an OpenAI-compatible chat-completions endpoint (streaming),
                               e.g. https://api.openai.com/v1 (default: the simulated model)
      --model <name>           model name at --model-url (default gpt-4o-mini)
      --api-key-env <NAME>     environment variable with the API key (default OPENAI_API_KEY)
      --sequential             run the agents one after another in this thread, for comparison
      --no-status              no status line
      --trace <file.html>      write a timeline of the run's plan to an HTML file: every agent,
                               its worker, its tokens and sub-agents, and where the reader waited
      --bench                  run the benchmark instead (depth 4, breadth 2, ~1 s agents); see bench.ts
  -h, --help                   this text

Examples:
  npm start
  npm start -- "tide pools" --depth 3 --breadth 2
  npm start -- --fail-rate 0.2 --seed 7
  OPENAI_API_KEY=... npm start -- --model-url https://api.openai.com/v1 --model gpt-4o-mini "tide pools"
  npm start -- "tide pools" > tide-pools.md
`;
}

/** A whole number within bounds, or a `RangeError` naming the option. */
function integer(name: string, raw: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`--${name} must be a whole number from ${min} to ${max}; got ${JSON.stringify(raw)}`);
  return value;
}

function number(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) throw new RangeError(`--${name} must be a number from ${min} to ${max}; got ${JSON.stringify(raw)}`);
  return value;
}

/** Agents a full swarm of this shape spawns. */
export function agentCount(shape: SwarmShape): number {
  let total = 0;
  for (let level = 0, width = 1; level <= shape.depth; level++, width *= shape.breadth) total += width;
  return total;
}

/** Parses `argv` (without node and the script). Throws `TypeError`/`RangeError` on bad input. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv = process.env): CliOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      depth: { type: 'string', short: 'd' },
      breadth: { type: 'string', short: 'b' },
      workers: { type: 'string', short: 'w' },
      'max-running': { type: 'string' },
      'tokens-per-second': { type: 'string', short: 'r' },
      tokens: { type: 'string' },
      'startup-ms': { type: 'string' },
      seed: { type: 'string', short: 's' },
      'fail-rate': { type: 'string' },
      'model-url': { type: 'string' },
      model: { type: 'string' },
      'api-key-env': { type: 'string' },
      sequential: { type: 'boolean' },
      'no-status': { type: 'boolean' },
      trace: { type: 'string' },
      bench: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const shape = { depth: integer('depth', values.depth, 2, 0, 8), breadth: integer('breadth', values.breadth, 3, 0, 10) };
  if (agentCount(shape) > MAX_AGENTS) throw new RangeError(`--depth ${shape.depth} --breadth ${shape.breadth} would spawn ${agentCount(shape)} agents; the limit is ${MAX_AGENTS}`);
  const seed = integer('seed', values.seed, DEFAULT_SIM.seed, 0);
  let model: ModelConfig;
  if (values['model-url'] !== undefined) {
    const url = values['model-url'];
    if (!/^https?:\/\//.test(url)) throw new TypeError(`--model-url must be an http(s) URL; got ${JSON.stringify(url)}`);
    const keyName = values['api-key-env'] ?? 'OPENAI_API_KEY';
    model = { kind: 'openai', url, model: values.model ?? 'gpt-4o-mini', apiKey: env[keyName] || undefined, seed };
  } else {
    model = {
      kind: 'sim',
      seed,
      tokensPerSecond: number('tokens-per-second', values['tokens-per-second'], DEFAULT_SIM.tokensPerSecond, 0, 1_000_000),
      tokensPerAgent: integer('tokens', values.tokens, DEFAULT_SIM.tokensPerAgent, 10, 100_000),
      startupMs: number('startup-ms', values['startup-ms'], DEFAULT_SIM.startupMs, 0, 60_000),
      failRate: number('fail-rate', values['fail-rate'], 0, 0, 1),
    };
  }
  return {
    command: values.help ? 'help' : values.bench ? 'bench' : 'run',
    topic: positionals.join(' ').trim() || DEFAULT_TOPIC,
    shape,
    workers: integer('workers', values.workers, defaultPoolSize(), 1, 256),
    maxRunning: integer('max-running', values['max-running'], 64, 1),
    model,
    sequential: values.sequential ?? false,
    status: !(values['no-status'] ?? false),
    trace: values.trace,
  };
}
