/**
 * A real model: an OpenAI-compatible chat-completions endpoint with
 * `stream: true`, read as server-sent events (see `sse.ts`). Each `data:`
 * event holds a JSON chunk whose `choices[0].delta.content` is the next piece
 * of text; `data: [DONE]` ends the stream. An error event, an `error` object
 * in a chunk, a malformed chunk or a connection lost before `[DONE]` (and
 * before a `finish_reason`) is a `ModelStreamError`; an HTTP error status is
 * a `ModelHttpError`.
 *
 * @module
 */
import type { AgentRequest } from './agents.ts';
import { ModelHttpError, ModelStreamError } from './errors.ts';
import type { Model } from './model.ts';
import { sseEvents } from './sse.ts';

/** Settings of {@link openAiChatModel}. */
export interface OpenAiModelOptions {
  /** The endpoint: `.../v1/chat/completions`, or a base URL such as `.../v1` to which that path is added. */
  url: string;
  /** The model name. */
  model: string;
  /** Sent as `Authorization: Bearer ...` when given. */
  apiKey?: string;
  /** Most tokens per agent. Default 600. */
  maxTokens?: number;
  /** Sampling temperature. Default 0.7. */
  temperature?: number;
  /** Passed on as `seed`, for endpoints that honour it. */
  seed?: number;
}

/** The chat-completions URL for a full or base URL. */
export function completionsUrl(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return /\/chat\/completions$/.test(trimmed) ? trimmed : `${trimmed}/chat/completions`;
}

/** The most useful message in an error body: `{ error: { message } }`, `{ error: "..." }`, or the text. */
function errorMessage(body: string): string {
  try {
    const json = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown };
    const error = json.error;
    if (typeof error === 'string') return error;
    if (typeof error?.message === 'string') return error.message;
    if (typeof json.message === 'string') return json.message;
  } catch {
    // not JSON: the text itself
  }
  return body.trim().slice(0, 200) || 'no message';
}

interface Chunk {
  error?: unknown;
  choices?: Array<{ delta?: { content?: unknown }; finish_reason?: unknown }>;
}

async function post(options: OpenAiModelOptions, request: AgentRequest, signal: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  const body = {
    model: options.model,
    messages: request.messages,
    stream: true,
    max_tokens: options.maxTokens ?? 600,
    temperature: options.temperature ?? 0.7,
    ...(options.seed !== undefined && { seed: options.seed }),
  };
  const response = await fetch(completionsUrl(options.url), { method: 'POST', headers, body: JSON.stringify(body), signal });
  if (!response.ok) throw new ModelHttpError(response.status, errorMessage(await response.text().catch(() => '')));
  if (response.body === null) throw new ModelStreamError('the response has no body');
  return response;
}

/**
 * The model behind an OpenAI-compatible streaming endpoint. Closing the token
 * stream early (or aborting `signal`) aborts the HTTP request.
 *
 * @example
 * ```ts
 * const model = openAiChatModel({ url: 'https://api.openai.com/v1', model: 'gpt-4o-mini', apiKey });
 * for await (const token of model.stream(request, signal)) process.stdout.write(token);
 * ```
 */
export function openAiChatModel(options: OpenAiModelOptions): Model {
  return {
    async *stream(request, signal) {
      const controller = new AbortController();
      const both = AbortSignal.any([signal, controller.signal]);
      let finished = false;
      try {
        const response = await post(options, request, both);
        const events = sseEvents(response.body as unknown as AsyncIterable<Uint8Array>);
        try {
          for await (const event of events) {
            if (event.data === '[DONE]') return;
            if (event.event === 'error') throw new ModelStreamError(`error event: ${errorMessage(event.data)}`);
            let chunk: Chunk;
            try {
              chunk = JSON.parse(event.data) as Chunk;
            } catch (cause) {
              throw new ModelStreamError(`malformed chunk: ${event.data.slice(0, 80)}`, { cause });
            }
            if (chunk.error !== undefined) throw new ModelStreamError(`error chunk: ${errorMessage(event.data)}`);
            const choice = chunk.choices?.[0];
            if (typeof choice?.delta?.content === 'string' && choice.delta.content !== '') yield choice.delta.content;
            if (typeof choice?.finish_reason === 'string') finished = true;
          }
        } catch (error) {
          if (error instanceof ModelStreamError || signal.aborted) throw error;
          throw new ModelStreamError('the connection was lost mid-stream', { cause: error });
        }
        if (!finished) throw new ModelStreamError('the stream ended before [DONE]');
      } finally {
        // Stops the request when the consumer leaves early; a no-op after a full read.
        controller.abort();
      }
    },
  };
}
