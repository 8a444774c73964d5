// The agent swarm on real worker threads (one pool shared by every test):
// the document equals a sequential in-process run byte for byte, sub-agents
// start as soon as their directive is parsed, a failing agent becomes an
// error note in place, and cancelling stops every agent on every worker.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ModelConfig } from '../../examples/agent-swarm/model.ts';
import { WorkerPool } from '../../examples/agent-swarm/pool.ts';
import { loadPrompts } from '../../examples/agent-swarm/prompts.ts';
import { sequentialDocument } from '../../examples/agent-swarm/sequential.ts';
import { runSwarm } from '../../examples/agent-swarm/swarm.ts';
import { summarize, SwarmTelemetry } from '../../examples/agent-swarm/telemetry.ts';
import type { WorkerCounts } from '../../examples/agent-swarm/worker.ts';

const prompts = loadPrompts();
const shape = { depth: 2, breadth: 3 }; // 13 agents
const subject = 'tide pools';

async function text(document: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const piece of document) out += piece;
  return out;
}

const reference = (model: ModelConfig): Promise<string> =>
  text(sequentialDocument({ subject, shape, prompts, model: { ...model, tokensPerSecond: 0, startupMs: 0 } as ModelConfig }));

/** Sums the workers' counts once no agent runs any more (the cancel cascade is asynchronous). */
async function settledCounts(pool: WorkerPool): Promise<WorkerCounts> {
  for (let i = 0; ; i++) {
    const counts = (await pool.counts()).filter((c) => c !== null);
    const sum = counts.reduce((a, c) => ({ started: a.started + c.started, running: a.running + c.running, finished: a.finished + c.finished, cancelled: a.cancelled + c.cancelled }));
    if (sum.running === 0 || i === 100) return sum;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the agent swarm on a worker pool', () => {
  let pool: WorkerPool;
  beforeAll(async () => {
    pool = await WorkerPool.start({ size: 2 });
  });
  afterAll(() => pool.close());

  test('writes the same document, byte for byte, as a sequential in-process run of the same seed', async () => {
    for (const seed of [1, 2]) {
      const model: ModelConfig = { kind: 'sim', seed, tokensPerSecond: 1_000, startupMs: 5, tokensPerAgent: 40 };
      const telemetry = new SwarmTelemetry();
      const swarm = await text(runSwarm({ subject, shape, model, prompts, runner: pool, telemetry }));
      expect(swarm).toBe(await reference(model));
      expect(swarm.startsWith('# Tide pools\n\n')).toBe(true);
      expect(swarm).not.toContain('<section');
      expect(telemetry.counts()).toMatchObject({ total: 13, done: 13 });
    }
  });

  test('runs sub-agents in parallel on both workers', async () => {
    const telemetry = new SwarmTelemetry();
    const model: ModelConfig = { kind: 'sim', tokensPerSecond: 400, startupMs: 10, tokensPerAgent: 40 };
    for await (const _ of runSwarm({ subject, shape, model, prompts, runner: pool, telemetry })) telemetry.output();
    const summary = summarize(telemetry, { startupMs: 10, tokensPerSecond: 400 });
    expect(summary.speedup).toBeGreaterThan(2.5);
    expect(new Set([...telemetry.agents.values()].map((a) => a.worker))).toEqual(new Set([0, 1]));
  });

  test('spawns every sub-agent as soon as its directive is parsed, while the reader is still on the first piece', async () => {
    const telemetry = new SwarmTelemetry();
    const model: ModelConfig = { kind: 'sim', tokensPerSecond: 2_000, startupMs: 0, tokensPerAgent: 30 };
    const document = runSwarm({ subject, shape, model, prompts, runner: pool, telemetry });
    const first = await document.next();
    expect(first.done).toBe(false);
    for (let i = 0; i < 200 && telemetry.counts().done < 13; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(telemetry.counts()).toMatchObject({ total: 13, done: 13 });
    await document.return();
  });

  test('an agent that fails becomes an error note in its place, and the rest of the document goes on', async () => {
    const model: ModelConfig = { kind: 'sim', seed: 3, tokensPerSecond: 1_000, startupMs: 5, tokensPerAgent: 40, failIds: ['2', '3.1'] };
    const telemetry = new SwarmTelemetry();
    const swarm = await text(runSwarm({ subject, shape, model, prompts, runner: pool, telemetry }));
    expect(swarm).toBe(await reference(model));
    const notes = swarm.match(/> \*\*Note:\*\* agent [\d.]+ /g);
    expect(notes).toEqual(['> **Note:** agent 2 ', '> **Note:** agent 3.1 ']);
    expect(swarm.indexOf('agent 2 ')).toBeLessThan(swarm.indexOf('agent 3.1 '));
    expect(telemetry.agents.get('2')).toMatchObject({ state: 'failed', error: expect.stringContaining('SimulatedFailureError') });
    expect(telemetry.agents.get('3.2')?.state).toBe('done'); // a sibling after the failed one still wrote
    expect(swarm.trimEnd().endsWith('.')).toBe(true); // the root wrote to its end
  });

  test('cancelling the document stops every agent on every worker, and their generators\' finally ran', async () => {
    const before = await settledCounts(pool);
    const telemetry = new SwarmTelemetry();
    const model: ModelConfig = { kind: 'sim', tokensPerSecond: 40, startupMs: 20, tokensPerAgent: 80 };
    const document = runSwarm({ subject, shape, model, prompts, runner: pool, telemetry });
    let read = 0;
    for await (const _ of document) if (++read === 25) break; // return(): the cascade starts here
    expect(telemetry.counts().total).toBeGreaterThan(1); // sub-agents were running
    const after = await settledCounts(pool);
    expect(after.running).toBe(0);
    expect(after.finished - before.finished).toBe(after.started - before.started);
    expect(after.cancelled - before.cancelled).toBeGreaterThan(1);
    expect(pool.running).toBe(0);
    expect(pool.queued).toBe(0);
    expect(telemetry.counts()).toMatchObject({ running: 0, queued: 0 });
  });

  test('closing the pool terminates every worker', async () => {
    const workers = pool.workers;
    await pool.close();
    for (const worker of workers) expect(worker.threadId).toBe(-1);
  });
});

describe('a pool worker that dies mid-run', () => {
  test('turns the agents it ran into error notes, and the document still ends', async () => {
    const pool = await WorkerPool.start({ size: 1 });
    try {
      const telemetry = new SwarmTelemetry();
      const model: ModelConfig = { kind: 'sim', tokensPerSecond: 200, startupMs: 5, tokensPerAgent: 60 };
      let out = '';
      let killed = false;
      for await (const piece of runSwarm({ subject, shape: { depth: 1, breadth: 2 }, model, prompts, runner: pool, telemetry })) {
        out += piece;
        if (!killed && telemetry.counts().total === 3) {
          killed = true;
          await pool.workers[0]!.terminate();
        }
      }
      expect(killed).toBe(true);
      expect(out).toContain('ConnectionClosedError');
      expect(telemetry.counts()).toMatchObject({ running: 0, queued: 0, done: 0, failed: 3 });
    } finally {
      await pool.close();
    }
  });
});
