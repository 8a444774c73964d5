/**
 * The simulated language model: deterministic for a seed, no network. It
 * writes readable Markdown about the agent's topic, hands out sections with
 * `<section topic="...">` directives when its role is orchestrator, and
 * streams it token by token at a set rate after a start-up delay.
 *
 * It reads the structured fields of the request (topic, role, breadth), not
 * the prompt's prose: a stand-in for a model that follows its prompt.
 *
 * @module
 */
import { titleOf, type AgentRequest } from './agents.ts';
import { SimulatedFailureError } from './errors.ts';
import { DEEP_FACETS, LEADS, SENTENCES, TOP_FACETS, WORDS } from './lexicon.ts';
import type { Model } from './model.ts';

/** Settings of {@link simulatedModel}. */
export interface SimModelOptions {
  /** Seed of every choice the model makes. Default 1. */
  seed?: number;
  /** Tokens per second each agent streams; 0 streams without delay. Default 60. */
  tokensPerSecond?: number;
  /** Delay before an agent's first token, in ms. Default 250. */
  startupMs?: number;
  /** About how many tokens each agent writes. Default 80. */
  tokensPerAgent?: number;
  /** Share of sub-agents (never the root) that fail mid-stream, chosen by the seed. Default 0. */
  failRate?: number;
  /** Ids of agents that fail mid-stream, for tests (`"1"`, `"2.1"`). */
  failIds?: string[];
}

/** The defaults of {@link SimModelOptions}. */
export const DEFAULT_SIM: Readonly<Required<SimModelOptions>> = Object.freeze({
  seed: 1,
  tokensPerSecond: 60,
  startupMs: 250,
  tokensPerAgent: 80,
  failRate: 0,
  failIds: [],
});

/** FNV-1a over a string: seeds a generator per agent, so agents do not depend on each other's timing. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** mulberry32: small, fast and good enough for prose. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Splits text into model-like tokens: leading whitespace plus up to 6 characters, so tags split too. */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S{1,6}|\s+/g) ?? [];
}

function pick<T>(rng: () => number, list: readonly T[]): T {
  return list[Math.floor(rng() * list.length)]!;
}

function sentence(rng: () => number, template: string, request: AgentRequest, extra: Record<string, string> = {}): string {
  const focus = request.depth === 0 ? request.subject : request.topic.toLowerCase();
  const text = template.replace(/\{(\w+)\}/g, (_, slot: string) => {
    if (slot in extra) return extra[slot]!;
    if (slot === 'focus') return focus;
    if (slot === 'subject') return request.subject;
    if (slot === 'number') return String(10 + Math.floor(rng() * 80));
    if (slot === 'Person') return titleOf(pick(rng, WORDS.person));
    return pick(rng, WORDS[slot as keyof typeof WORDS]);
  });
  return titleOf(text);
}

/** A paragraph of about `tokens` tokens (whole sentences, at least one), ending with `last`. */
function paragraph(rng: () => number, request: AgentRequest, tokens: number, last = ''): string {
  const sentences: string[] = [];
  let count = tokenize(last).length;
  for (;;) {
    const next = sentence(rng, pick(rng, SENTENCES), request);
    const size = tokenize(` ${next}`).length;
    // Stop where the count is closest to the target.
    if (sentences.length > 0 && count + size / 2 > tokens) break;
    sentences.push(next);
    count += size;
  }
  return [...sentences, ...(last === '' ? [] : [last])].join(' ');
}

/** Section topics for an orchestrator: distinct, and none already on its path. */
function facets(rng: () => number, request: AgentRequest): string[] {
  const taken = new Set(request.path.map((t) => t.toLowerCase()));
  const pool = (request.depth === 0 ? TOP_FACETS : DEEP_FACETS).filter((f) => !taken.has(f));
  const chosen: string[] = [];
  for (let i = 0; i < request.breadth; i++) {
    chosen.push(pool.length > 0 ? pool.splice(Math.floor(rng() * pool.length), 1)[0]! : `part ${i + 1}`);
  }
  return chosen;
}

/** The whole text one agent writes, directives included. Ends with a blank line. */
export function composeText(request: AgentRequest, options: SimModelOptions = {}): string {
  const { seed, tokensPerAgent } = { ...DEFAULT_SIM, ...options };
  const rng = random(hash(`${seed}|${request.id}|${request.path.join('|')}`));
  let text = `${'#'.repeat(Math.min(request.depth + 1, 6))} ${titleOf(request.topic)}\n\n`;
  const children = request.role === 'orchestrator' ? facets(rng, request) : [];
  const paragraphs = Math.max(children.length + 1, 2);
  const tag = (topic: string): string => `<section topic="${topic}">`;
  const fixed = tokenize(text + children.map(tag).join('')).length;
  const budget = Math.max(4, Math.round((tokensPerAgent - fixed) / paragraphs));
  for (let i = 0; i < paragraphs; i++) {
    const child = children[i];
    const lead = child === undefined ? '' : sentence(rng, pick(rng, LEADS), request, { child });
    text += `${paragraph(rng, request, budget, lead)}\n\n`;
    if (child !== undefined) text += tag(child);
  }
  return text;
}

/** After how many tokens the agent fails, or -1 if it does not. */
function failurePoint(request: AgentRequest, tokens: number, options: Required<SimModelOptions>): number {
  const rng = random(hash(`${options.seed}|fail|${request.id}`));
  const chance = rng();
  const fails = options.failIds.includes(request.id) || (request.depth > 0 && chance < options.failRate);
  return fails ? 1 + Math.floor(rng() * (tokens - 1)) : -1;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The simulated model. Token `k` of an agent is due `startupMs + k / tokensPerSecond`
 * after the agent starts, not counting the time its reader took to ask for the
 * next token (a schedule rather than a delay per token, so late timers on a
 * busy thread are caught up instead of adding up); aborting `signal` stops it
 * at once.
 *
 * @example
 * ```ts
 * const model = simulatedModel({ seed: 7, tokensPerSecond: 100 });
 * for await (const token of model.stream(request, signal)) process.stdout.write(token);
 * ```
 */
export function simulatedModel(options: SimModelOptions = {}): Model {
  const settings: Required<SimModelOptions> = { ...DEFAULT_SIM, ...options };
  const interval = settings.tokensPerSecond > 0 ? 1000 / settings.tokensPerSecond : 0;
  return {
    async *stream(request, signal) {
      const tokens = tokenize(composeText(request, settings));
      const failAt = failurePoint(request, tokens.length, settings);
      let start = performance.now();
      for (let k = 0; k < tokens.length; k++) {
        if (k === failAt) throw new SimulatedFailureError(`the simulated model failed after ${k} tokens`);
        const wait = start + settings.startupMs + k * interval - performance.now();
        if (wait >= 1) await sleep(wait, signal);
        else if (signal.aborted) throw signal.reason;
        const yielded = performance.now();
        yield tokens[k]!;
        // Time the reader kept us waiting shifts the schedule: a pull model, so a sequential reader sees agents one after another.
        start += performance.now() - yielded;
      }
    },
  };
}
