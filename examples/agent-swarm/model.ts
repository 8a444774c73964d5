/**
 * What an agent needs from a language model, and the model sources the
 * swarm knows: the embedded simulation (default) or an OpenAI-compatible
 * streaming endpoint.
 *
 * @module
 */
import type { AgentRequest } from './agents.ts';
import { openAiChatModel, type OpenAiModelOptions } from './openai-model.ts';
import { simulatedModel, type SimModelOptions } from './sim-model.ts';

/** A streaming text model. */
export interface Model {
  /**
   * The text the agent writes, token by token. Aborting `signal` (or closing
   * the iterator) stops the generation; a failure is thrown from the iterator.
   */
  stream(request: AgentRequest, signal: AbortSignal): AsyncIterable<string>;
}

/** Which model to use, as plain data: it crosses to the workers with each agent. */
export type ModelConfig = ({ kind: 'sim' } & SimModelOptions) | ({ kind: 'openai' } & OpenAiModelOptions);

/** Builds the model a config describes. */
export function createModel(config: ModelConfig): Model {
  return config.kind === 'sim' ? simulatedModel(config) : openAiChatModel(config);
}
