// The agent swarm traced (issue 9, `npm start -- --trace FILE.html`): every agent is a node
// named after its section, its token stream hangs under it in the colour of the worker that
// wrote it, its sub-agents under it in document order, and a failing agent's note says where
// in the plan it failed.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseCli } from '../../examples/agent-swarm/cli.ts';
import type { ModelConfig } from '../../examples/agent-swarm/model.ts';
import { WorkerPool } from '../../examples/agent-swarm/pool.ts';
import { loadPrompts } from '../../examples/agent-swarm/prompts.ts';
import { runSwarm } from '../../examples/agent-swarm/swarm.ts';
import { startTrace, traceToHtml, type Trace, type Tracer } from '../../src/index.ts';

const prompts = loadPrompts();
const shape = { depth: 2, breadth: 2 }; // 7 agents

async function text(document: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const piece of document) out += piece;
  return out;
}

describe('the agent swarm traced', () => {
  let pool: WorkerPool;
  let tracer: Tracer | undefined;
  beforeAll(async () => {
    pool = await WorkerPool.start({ size: 2 });
  });
  afterAll(async () => {
    tracer?.stop();
    await pool.close();
  });

  test('--trace FILE.html is parsed', () => {
    expect(parseCli(['--trace', 'run.html']).trace).toBe('run.html');
    expect(parseCli([]).trace).toBeUndefined();
  });

  test('each agent is a named node with its worker-side tokens and its sub-agents under it', async () => {
    const model: ModelConfig = { kind: 'sim', seed: 1, tokensPerSecond: 2_000, startupMs: 2, tokensPerAgent: 30 };
    tracer = startTrace();
    await text(runSwarm({ subject: 'tide pools', shape, model, prompts, runner: pool }));
    const trace: Trace = tracer.stop();
    const agents = trace.nodes.filter((n) => n.label.startsWith('agent '));
    expect(agents).toHaveLength(7);
    expect(agents[0]!).toMatchObject({ depth: 0, label: 'agent root "tide pools"', context: 'main', outcome: 'done' });
    const byId = new Map(trace.nodes.map((n) => [n.id, n]));
    for (const agent of agents) {
      const tokens = trace.nodes.filter((n) => n.parent === agent.id && n.label === 'tokens');
      expect(tokens, agent.label).toHaveLength(1);
      expect(tokens[0]!.context).toMatch(/^worker \d+$/);
      expect(tokens[0]!.remote?.items).toBeGreaterThan(0);
      expect(tokens[0]!.input).toBe(true);
      if (agent.depth > 0) expect(byId.get(agent.parent!)!.label).toMatch(/^agent /);
    }
    expect(new Set(trace.clocks.map((c) => c.context)).size).toBeGreaterThanOrEqual(1);
    expect(traceToHtml(trace)).toContain('agent root &quot;tide pools&quot;');
  });

  test('a failing agent leaves a note that names its place in the plan', async () => {
    const model: ModelConfig = { kind: 'sim', seed: 7, tokensPerSecond: 2_000, startupMs: 2, tokensPerAgent: 30, failRate: 0.5 };
    tracer = startTrace();
    const document = await text(runSwarm({ subject: 'tide pools', shape, model, prompts, runner: pool }));
    tracer.stop();
    const notes = document.split('\n').filter((line) => line.startsWith('> **Note:**'));
    expect(notes.length).toBeGreaterThan(0);
    for (const note of notes) expect(note).toMatch(/\(plan: agent root "tide pools" > agent \d/);
  });
});
