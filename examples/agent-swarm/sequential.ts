/**
 * The reference: the same swarm run one agent after another, in this thread,
 * with no bridge and no parallelism. A sub-agent runs when its directive is
 * reached and its text is written in place. The parallel swarm must produce
 * this exact document for the same seed; it is also `--sequential` in the CLI,
 * to feel the difference.
 *
 * @module
 */
import { acceptsChild, childRequest, errorNote, rootRequest, type AgentRequest, type SwarmShape } from './agents.ts';
import { DirectiveParser } from './directives.ts';
import { createModel, type ModelConfig } from './model.ts';
import type { Prompts } from './prompts.ts';
import { SwarmTelemetry } from './telemetry.ts';

/** Settings of {@link sequentialDocument}. */
export interface SequentialOptions {
  subject: string;
  shape: SwarmShape;
  model: ModelConfig;
  prompts: Prompts;
  telemetry?: SwarmTelemetry;
}

/**
 * The swarm's document written sequentially. Closing it early stops the agent
 * that is writing.
 *
 * @example
 * ```ts
 * let text = '';
 * for await (const piece of sequentialDocument({ subject, shape, model: { kind: 'sim', seed: 3 }, prompts })) text += piece;
 * ```
 */
export async function* sequentialDocument(options: SequentialOptions): AsyncGenerator<string, void, undefined> {
  const { shape, prompts } = options;
  const model = createModel(options.model);
  const telemetry = options.telemetry ?? new SwarmTelemetry();
  const controller = new AbortController();

  async function* agent(request: AgentRequest, parent: string | null, spawnToken: number): AsyncGenerator<string, void, undefined> {
    telemetry.spawned(request, parent, spawnToken);
    telemetry.started(request.id, 0);
    const parser = new DirectiveParser();
    let received = 0;
    let spawned = 0;
    try {
      for await (const token of model.stream(request, controller.signal)) {
        received++;
        telemetry.token(request.id);
        for (const piece of parser.push(token)) {
          if (piece.kind === 'text') yield piece.text;
          else if (!acceptsChild(request, spawned)) telemetry.ignoredDirectives++;
          else {
            const child = childRequest(request, piece.topic, ++spawned, shape, prompts);
            const before = performance.now();
            yield* agent(child, request.id, received);
            // The parent waits while the child writes: that time is the child's, not the parent's.
            telemetry.paused(request.id, performance.now() - before);
          }
        }
      }
      for (const piece of parser.end()) if (piece.kind === 'text') yield piece.text;
      telemetry.ended(request.id, 'done');
    } catch (error) {
      if (controller.signal.aborted) throw error;
      telemetry.ended(request.id, 'failed', error);
      for (const piece of parser.end()) if (piece.kind === 'text') yield piece.text;
      yield errorNote(request, error);
    }
  }

  try {
    yield* agent(rootRequest(options.subject, shape, prompts), null, 0);
  } finally {
    controller.abort();
  }
}
