/**
 * The swarm's conductor, in the main thread. Each agent runs on a pool worker
 * and streams its raw tokens back through the bridge; here they are parsed as
 * they flow. Prose is chained onto the agent's place in the document, and a
 * `<section topic="...">` directive spawns the sub-agent at once (as soon as
 * it is parsed, not when the reader gets there) and chains the sub-agent's
 * own document in place, while the parent keeps writing. The document reads
 * in order from its first token; every agent writes in parallel.
 *
 * Each agent sits behind an error boundary: one that fails leaves what it
 * wrote plus an error note, and the rest of the document goes on. Closing the
 * document (`return()`) aborts every agent, queued or running, on every worker.
 *
 * @module
 */
import { errorBoundary, explode, type ExplodeContext } from '../../src/index.ts';
import { acceptsChild, childRequest, errorNote, rootRequest, type AgentRequest, type SwarmShape } from './agents.ts';
import { DirectiveParser, type Piece } from './directives.ts';
import type { ModelConfig } from './model.ts';
import type { Lease } from './pool.ts';
import type { Prompts } from './prompts.ts';
import { SwarmTelemetry } from './telemetry.ts';

/** Where agents run: the worker pool (or anything that hands out leases like it). */
export interface AgentRunner {
  acquire(signal?: AbortSignal): Promise<Lease>;
}

/** Settings of {@link runSwarm}. */
export interface SwarmOptions {
  /** What the document is about. */
  subject: string;
  shape: SwarmShape;
  model: ModelConfig;
  prompts: Prompts;
  runner: AgentRunner;
  /** Collects the agents' timelines; a fresh one by default. */
  telemetry?: SwarmTelemetry;
}

interface Run {
  shape: SwarmShape;
  model: ModelConfig;
  prompts: Prompts;
  runner: AgentRunner;
  telemetry: SwarmTelemetry;
}

/**
 * Starts the swarm and returns its document, in order, as it is written.
 * `return()` (a `break`) cancels every agent; the workers' generators stop.
 *
 * @example
 * ```ts
 * const pool = await WorkerPool.start();
 * const doc = runSwarm({ subject: 'lighthouses', shape: { depth: 2, breadth: 3 }, model: { kind: 'sim' }, prompts: loadPrompts(), runner: pool });
 * for await (const text of doc) process.stdout.write(text);
 * ```
 */
export function runSwarm(options: SwarmOptions): AsyncGenerator<string, void, undefined> {
  const run: Run = { ...options, telemetry: options.telemetry ?? new SwarmTelemetry() };
  return agentDocument(rootRequest(options.subject, options.shape, options.prompts), null, 0, run);
}

/** One agent's place in the document: its text and its sub-agents' documents, or an error note where it failed. */
function agentDocument(request: AgentRequest, parent: string | null, spawnToken: number, run: Run): AsyncGenerator<string, void, undefined> {
  run.telemetry.spawned(request, parent, spawnToken);
  const output = explode<AgentRequest, string>(request, (node, context) => conduct(node, context, run), {
    label: (node) => `agent ${node.id} "${node.topic}"`, // in traces (--trace) and error plan paths
  });
  return errorBoundary(output, (error) => [errorNote(request, error)]);
}

/** Runs one agent: takes a worker slot, reads its tokens as they come, chains text and spawns sub-agents. */
async function conduct(request: AgentRequest, { chain, signal, traceInput }: ExplodeContext<AgentRequest, string>, run: Run): Promise<void> {
  const { telemetry } = run;
  let lease: Lease | undefined;
  let iterator: AsyncIterator<string> | undefined;
  const stop = (): void => void iterator?.return?.();
  signal.addEventListener('abort', stop, { once: true });
  try {
    lease = await run.runner.acquire(signal);
    telemetry.started(request.id, lease.worker);
    const tokens = await lease.run(request, run.model);
    traceInput(tokens, { label: 'tokens' }); // the worker's side of this agent, in traces (--trace)
    iterator = tokens[Symbol.asyncIterator]();
    if (signal.aborted) stop();
    const parser = new DirectiveParser();
    let received = 0;
    let spawned = 0;
    const emit = (pieces: Piece[]): void => {
      for (const piece of pieces) {
        if (piece.kind === 'text') chain([piece.text]);
        else if (signal.aborted) return;
        else if (!acceptsChild(request, spawned)) telemetry.ignoredDirectives++;
        else chain(agentDocument(childRequest(request, piece.topic, ++spawned, run.shape, run.prompts), request.id, received, run));
      }
    };
    try {
      for (let r = await iterator.next(); r.done !== true; r = await iterator.next()) {
        received++;
        telemetry.token(request.id);
        emit(parser.push(r.value));
      }
    } finally {
      // What was held back as a possible tag is text after all, even when the agent failed.
      emit(parser.end());
    }
    telemetry.ended(request.id, signal.aborted ? 'cancelled' : 'done');
  } catch (error) {
    telemetry.ended(request.id, signal.aborted ? 'cancelled' : 'failed', error);
    throw error;
  } finally {
    signal.removeEventListener('abort', stop);
    lease?.release();
  }
}
