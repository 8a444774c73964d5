/**
 * What happened in a swarm run: one record per agent (when it was spawned,
 * started, wrote its first and last token), and the figures of the final
 * summary computed from them.
 *
 * @module
 */
import type { AgentRequest } from './agents.ts';

/** Where an agent is in its life. */
export type AgentState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** One agent's timeline, in ms since the run started. */
export interface AgentRecord {
  id: string;
  topic: string;
  depth: number;
  /** The spawning agent's id, `null` for the root. */
  parent: string | null;
  /** Tokens the parent had streamed when the directive for this agent was parsed. */
  spawnToken: number;
  state: AgentState;
  /** When the directive was parsed (the agent entered the queue). */
  spawnedAt: number;
  /** When it got a worker slot and was started. */
  startedAt?: number;
  firstTokenAt?: number;
  endedAt?: number;
  tokens: number;
  /** Time it waited for its reader (sequential runs): not part of its own time. */
  pausedMs?: number;
  /** The pool worker it ran on. */
  worker?: number;
  /** The failure, as `name: message`. */
  error?: string;
}

/** Collects the records of one run. Times are `performance.now()` relative to `t0`. */
export class SwarmTelemetry {
  /** The run's start. */
  readonly t0 = performance.now();
  readonly agents = new Map<string, AgentRecord>();
  /** Tokens received from all agents. */
  tokens = 0;
  /** Directives dropped because the agent had handed out all its sections. */
  ignoredDirectives = 0;
  /** When the consumer wrote the document's first piece. */
  firstOutputAt: number | undefined;
  /** When the consumer wrote the document's last piece. */
  lastOutputAt: number | undefined;

  /** Milliseconds since the run started. */
  now(): number {
    return performance.now() - this.t0;
  }

  spawned(request: AgentRequest, parent: string | null, spawnToken: number): void {
    const { id, topic, depth } = request;
    this.agents.set(id, { id, topic, depth, parent, spawnToken, state: 'queued', spawnedAt: this.now(), tokens: 0 });
  }

  started(id: string, worker: number): void {
    const record = this.agents.get(id);
    if (record === undefined) return;
    record.state = 'running';
    record.startedAt = this.now();
    record.worker = worker;
  }

  token(id: string): void {
    this.tokens++;
    const record = this.agents.get(id);
    if (record === undefined) return;
    record.tokens++;
    record.firstTokenAt ??= this.now();
  }

  ended(id: string, state: 'done' | 'failed' | 'cancelled', error?: unknown): void {
    const record = this.agents.get(id);
    if (record === undefined || record.endedAt !== undefined) return;
    record.state = state;
    record.endedAt = this.now();
    if (state === 'failed') record.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }

  /** The agent waited `ms` for its reader (a sequential run writing a sub-agent in its place). */
  paused(id: string, ms: number): void {
    const record = this.agents.get(id);
    if (record !== undefined) record.pausedMs = (record.pausedMs ?? 0) + ms;
  }

  /** The consumer wrote a piece of the document. */
  output(): void {
    const now = this.now();
    this.firstOutputAt ??= now;
    this.lastOutputAt = now;
  }

  /** Agents by state, for the status line. */
  counts(): Record<AgentState, number> & { total: number } {
    const counts = { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0, total: this.agents.size };
    for (const record of this.agents.values()) counts[record.state]++;
    return counts;
  }
}

/** The simulated model's timing, to compute the critical path it implies. */
export interface NominalTiming {
  startupMs: number;
  tokensPerSecond: number;
}

/** The figures of a finished (or interrupted) run. Times in ms. */
export interface SwarmSummary {
  agents: number;
  done: number;
  failed: number;
  cancelled: number;
  tokens: number;
  /** Run start to the document's last piece. */
  wallMs: number;
  /** Run start to the document's first piece. */
  ttftMs: number | null;
  /** The sum of every agent's time (start to last token): what one agent after another would take. */
  sequentialMs: number;
  /** `sequentialMs / wallMs`. */
  speedup: number;
  /**
   * The longest chain of spawns: each child starting the moment its directive
   * was parsed, on an idle worker, with no queueing or thread contention.
   * From the simulated model's timing when given, else from measured times.
   */
  criticalPathMs: number;
  /** Mean agent time. */
  meanAgentMs: number;
}

/** The longest root-to-agent chain of (offset of the child's directive in its parent) + (the agent's own time). */
function criticalPath(records: AgentRecord[], offset: (r: AgentRecord, parent: AgentRecord) => number, duration: (r: AgentRecord) => number): number {
  const byId = new Map(records.map((r) => [r.id, r]));
  const start = new Map<string, number>();
  let longest = 0;
  // Parents are spawned (and recorded) before their children: one pass in spawn order suffices.
  for (const r of records) {
    const parent = r.parent === null ? undefined : byId.get(r.parent);
    const s = parent === undefined ? 0 : (start.get(parent.id) ?? 0) + offset(r, parent);
    start.set(r.id, s);
    longest = Math.max(longest, s + duration(r));
  }
  return longest;
}

/** Computes the summary; `nominal` switches the critical path to the simulated model's timing. */
export function summarize(telemetry: SwarmTelemetry, nominal?: NominalTiming): SwarmSummary {
  const records = [...telemetry.agents.values()];
  const counts = telemetry.counts();
  const ran = records.filter((r) => r.startedAt !== undefined && r.endedAt !== undefined);
  const own = (r: AgentRecord): number => r.endedAt! - r.startedAt! - (r.pausedMs ?? 0);
  const sequentialMs = ran.reduce((sum, r) => sum + own(r), 0);
  const wallMs = telemetry.lastOutputAt ?? telemetry.now();
  let criticalPathMs: number;
  if (nominal !== undefined) {
    const interval = nominal.tokensPerSecond > 0 ? 1000 / nominal.tokensPerSecond : 0;
    const at = (tokens: number): number => nominal.startupMs + Math.max(0, tokens - 1) * interval;
    criticalPathMs = criticalPath(records, (r) => at(r.spawnToken), (r) => at(r.tokens));
  } else {
    criticalPathMs = criticalPath(
      ran,
      (r, parent) => r.spawnedAt - (parent.startedAt ?? 0),
      own,
    );
  }
  return {
    agents: counts.total,
    done: counts.done,
    failed: counts.failed,
    cancelled: counts.cancelled + counts.queued + counts.running,
    tokens: telemetry.tokens,
    wallMs,
    ttftMs: telemetry.firstOutputAt ?? null,
    sequentialMs,
    speedup: wallMs > 0 ? sequentialMs / wallMs : 0,
    criticalPathMs,
    meanAgentMs: ran.length > 0 ? sequentialMs / ran.length : 0,
  };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** The summary as plain text lines (no control characters). */
export function formatSummary(s: SwarmSummary, extra: Record<string, string> = {}): string {
  const rows: Array<[string, string]> = [
    ['agents', `${s.agents} (${s.done} done, ${s.failed} failed${s.cancelled > 0 ? `, ${s.cancelled} cancelled` : ''})`],
    ['tokens', s.tokens.toLocaleString('en-US')],
    ['wall time', seconds(s.wallMs)],
    ['time to first token', s.ttftMs === null ? 'none' : `${Math.round(s.ttftMs)} ms`],
    ['sequential time (sum of agent times)', seconds(s.sequentialMs)],
    ['speedup', `${s.speedup.toFixed(1)}x`],
    ['critical path', `${seconds(s.criticalPathMs)} (wall / critical path = ${(s.wallMs / Math.max(1, s.criticalPathMs)).toFixed(2)})`],
    ...Object.entries(extra),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return ['swarm summary', ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join('\n');
}
