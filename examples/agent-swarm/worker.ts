/**
 * A pool worker: runs agents on the model they ask for and streams their
 * tokens back through the bridge. Started by `pool.ts` with `startTsWorker`.
 *
 * @module
 */
import { parentPortEndpoint } from '../../adapters/worker-threads.ts';
import { expose, type CallContext } from '../../src/index.ts';
import type { AgentRequest } from './agents.ts';
import { createModel, type ModelConfig } from './model.ts';

/** Counts of this worker's agents, for the status line and the cancellation tests. */
export interface WorkerCounts {
  /** Agents started. */
  started: number;
  /** Agents generating now. */
  running: number;
  /** Agents whose generator's `finally` ran (ended, failed or cancelled). */
  finished: number;
  /** Agents stopped by their caller before the end. */
  cancelled: number;
}

const counts: WorkerCounts = { started: 0, running: 0, finished: 0, cancelled: 0 };

/** What the main thread may call. */
export const handlers = {
  /** Answers once the worker is listening: the pool waits for it. */
  ping(): string {
    return 'pong';
  },
  /** Streams one agent's tokens. The caller's cancel aborts `this.signal` and runs `return()`. */
  async *run(this: CallContext, request: AgentRequest, config: ModelConfig): AsyncGenerator<string, void, undefined> {
    counts.started++;
    counts.running++;
    try {
      yield* createModel(config).stream(request, this.signal);
    } finally {
      counts.running--;
      counts.finished++;
      if (this.signal.aborted) counts.cancelled++;
    }
  },
  counts(): WorkerCounts {
    return { ...counts };
  },
};

/** The typed face of a pool worker. */
export type AgentWorkerApi = typeof handlers;

expose(handlers, parentPortEndpoint());
