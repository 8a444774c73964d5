// The swarm's simulated model and prompts: the same seed writes the same
// tokens, orchestrators hand out sections with directives, writers do not,
// and the model keeps its start-up delay and rate.
import { describe, expect, test } from 'vitest';
import { childRequest, rootRequest, type AgentRequest } from '../../examples/agent-swarm/agents.ts';
import { DirectiveParser } from '../../examples/agent-swarm/directives.ts';
import { SimulatedFailureError } from '../../examples/agent-swarm/errors.ts';
import { fillTemplate, loadPrompts } from '../../examples/agent-swarm/prompts.ts';
import { simulatedModel, tokenize, type SimModelOptions } from '../../examples/agent-swarm/sim-model.ts';

const prompts = loadPrompts();
const shape = { depth: 2, breadth: 3 };
const root = rootRequest('tide pools', shape, prompts);

async function tokens(request: AgentRequest, options: SimModelOptions): Promise<string[]> {
  const out: string[] = [];
  for await (const token of simulatedModel(options).stream(request, new AbortController().signal)) out.push(token);
  return out;
}

const fast = { tokensPerSecond: 0, startupMs: 0 };

describe('the simulated model', () => {
  test('writes the same tokens for the same seed, and other text for another seed', async () => {
    const a = await tokens(root, { ...fast, seed: 7 });
    expect(await tokens(root, { ...fast, seed: 7 })).toEqual(a);
    expect((await tokens(root, { ...fast, seed: 8 })).join('')).not.toBe(a.join(''));
  });

  test('an orchestrator hands out exactly `breadth` sections, split across tokens', async () => {
    const out = await tokens(root, { ...fast, seed: 1 });
    const parser = new DirectiveParser();
    const topics = [...out.flatMap((t) => parser.push(t)), ...parser.end()].flatMap((p) => (p.kind === 'spawn' ? [p.topic] : []));
    expect(topics).toHaveLength(3);
    expect(new Set(topics).size).toBe(3);
    // Tokens are short, so every tag spans several of them.
    expect(out.some((t) => t.includes('<section topic="'))).toBe(false);
    expect(out.slice(0, 2).join('')).toBe('# Tide');
  });

  test('a writer at the bottom writes prose with a heading of its level and no directive', async () => {
    const child = childRequest(root, 'origins', 1, shape, prompts);
    const leaf = childRequest(child, 'key terms', 2, shape, prompts);
    expect(leaf).toMatchObject({ id: '1.2', role: 'writer', breadth: 0, depth: 2, path: ['tide pools', 'origins', 'key terms'] });
    const text = (await tokens(leaf, { ...fast, seed: 1 })).join('');
    expect(text.startsWith('### Key terms\n\n')).toBe(true);
    expect(text).not.toContain('<section');
    expect(text.endsWith('\n\n')).toBe(true);
  });

  test('writes about as many tokens as asked', async () => {
    const out = await tokens(childRequest(root, 'origins', 1, { depth: 1, breadth: 3 }, prompts), { ...fast, tokensPerAgent: 120 });
    expect(out.length).toBeGreaterThan(90);
    expect(out.length).toBeLessThan(150);
  });

  test('keeps its start-up delay and token rate', async () => {
    const leaf = childRequest(root, 'origins', 1, { depth: 1, breadth: 0 }, prompts);
    const start = performance.now();
    const times: number[] = [];
    for await (const _ of simulatedModel({ tokensPerSecond: 500, startupMs: 60, tokensPerAgent: 40 }).stream(leaf, new AbortController().signal)) {
      times.push(performance.now() - start);
    }
    expect(times[0]).toBeGreaterThanOrEqual(55);
    const expected = 60 + ((times.length - 1) * 1000) / 500;
    expect(times[times.length - 1]! / expected).toBeGreaterThan(0.9);
    expect(times[times.length - 1]! / expected).toBeLessThan(2);
  });

  test('stops at once when its signal aborts', async () => {
    const controller = new AbortController();
    const iterator = simulatedModel({ tokensPerSecond: 1, startupMs: 10_000 }).stream(root, controller.signal)[Symbol.asyncIterator]();
    const pending = iterator.next();
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
  });

  test('fails mid-stream the agents it is told to fail, with a typed error', async () => {
    const child = childRequest(root, 'origins', 2, shape, prompts);
    const out: string[] = [];
    const run = async (): Promise<void> => {
      for await (const token of simulatedModel({ ...fast, failIds: ['2'] }).stream(child, new AbortController().signal)) out.push(token);
    };
    await expect(run()).rejects.toBeInstanceOf(SimulatedFailureError);
    expect(out.length).toBeGreaterThan(0);
    await expect(tokens(root, { ...fast, failRate: 1 })).resolves.not.toHaveLength(0); // the root never fails by rate
  });

  test('tokenize loses no character', () => {
    const text = '# A\n\nOne  two\tthree <section topic="x y">\n\n';
    expect(tokenize(text).join('')).toBe(text);
  });
});

describe('prompts as data', () => {
  test('each role renders a system and a user message with the agent\'s place filled in', () => {
    const child = childRequest(root, 'origins', 1, shape, prompts);
    expect(child.role).toBe('orchestrator');
    expect(child.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(child.messages[1]!.content).toContain('"origins"');
    expect(child.messages[1]!.content).toContain('## Origins');
    expect(child.messages[1]!.content).toContain('exactly 3 sections');
    expect(child.messages[1]!.content).not.toMatch(/\{\w+\}/);
  });

  test('an unknown placeholder is a RangeError', () => {
    expect(() => fillTemplate('{nope}', { topic: '', title: '', subject: '', outline: '', hashes: '', breadth: '', depth: '' })).toThrow(RangeError);
  });
});
