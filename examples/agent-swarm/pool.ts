/**
 * A pool of worker threads that run agents. Each worker is one bridge
 * session; an agent takes a slot (at most `maxRunning` across the pool, the
 * rest wait in a queue) on the worker with the fewest running agents.
 *
 * @module
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { nodeWorkerEndpoint, startTsWorker } from '../../adapters/worker-threads.ts';
import { wrap, type Remote } from '../../src/index.ts';
import type { AgentRequest } from './agents.ts';
import type { ModelConfig } from './model.ts';
import type { AgentWorkerApi, WorkerCounts } from './worker.ts';

/** Settings of {@link WorkerPool.start}. */
export interface PoolOptions {
  /** Worker threads. Default: one per core, at least 2. */
  size?: number;
  /** Agents generating at once across the pool; more wait in the queue. Default 64. */
  maxRunning?: number;
}

/** The default pool size: one worker per core, at least 2. */
export function defaultPoolSize(): number {
  return Math.max(2, availableParallelism());
}

/** A slot on one worker, held while one agent runs. */
export interface Lease {
  /** Index of the worker in the pool. */
  readonly worker: number;
  /** Starts the agent on the worker; resolves with its token stream, already flowing. */
  run(request: AgentRequest, config: ModelConfig): Promise<AsyncIterable<string>>;
  /** Gives the slot back (idempotent). */
  release(): void;
}

interface Member {
  worker: Worker;
  remote: Remote<AgentWorkerApi>;
  /** Leases held on this worker. */
  running: number;
  /** False once the worker exited. */
  alive: boolean;
  /** Resolves when the worker has exited. */
  exited: Promise<void>;
}

interface Waiter {
  resolve(lease: Lease): void;
  reject(error: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

const WORKER_ENTRY = new URL('./worker.ts', import.meta.url);

function startMember(): Member {
  const worker = startTsWorker(WORKER_ENTRY);
  const member: Member = {
    worker,
    remote: wrap<AgentWorkerApi>(nodeWorkerEndpoint(worker)),
    running: 0,
    alive: true,
    exited: new Promise((resolve) => worker.once('exit', () => resolve())),
  };
  void member.exited.then(() => (member.alive = false));
  return member;
}

/**
 * Worker threads running agents, with a bounded number of running agents and
 * a FIFO queue for the rest. `close()` terminates every worker and waits for
 * them to exit: nothing is left behind.
 *
 * @example
 * ```ts
 * const pool = await WorkerPool.start({ size: 4 });
 * const lease = await pool.acquire(signal);
 * try { for await (const t of await lease.run(request, { kind: 'sim' })) write(t); } finally { lease.release(); }
 * await pool.close();
 * ```
 */
export class WorkerPool {
  private readonly waiting: Waiter[] = [];
  private leased = 0;
  private closed = false;

  private constructor(
    private readonly members: Member[],
    private readonly maxRunning: number,
  ) {}

  /** Starts the workers and waits until every one answers. */
  static async start(options: PoolOptions = {}): Promise<WorkerPool> {
    const size = options.size ?? defaultPoolSize();
    const maxRunning = options.maxRunning ?? 64;
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`pool size must be a positive integer; got ${size}`);
    if (!(maxRunning >= 1)) throw new RangeError(`maxRunning must be at least 1; got ${maxRunning}`);
    const pool = new WorkerPool(Array.from({ length: size }, startMember), maxRunning);
    try {
      await Promise.all(pool.members.map((m) => m.remote.ping()));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /** Worker threads in the pool. */
  get size(): number {
    return this.members.length;
  }

  /** Agents holding a slot. */
  get running(): number {
    return this.leased;
  }

  /** Agents waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** The workers, for tests that check they exited. */
  get workers(): readonly Worker[] {
    return this.members.map((m) => m.worker);
  }

  /**
   * A slot for one agent: at once if fewer than `maxRunning` run, else when
   * one is released. Rejects with the signal's reason if it aborts first, and
   * with an error when the pool is closed or has no live worker.
   */
  acquire(signal?: AbortSignal): Promise<Lease> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.closed) return Promise.reject(new Error('the worker pool is closed'));
    if (this.leased < this.maxRunning) return this.lease();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          reject(signal!.reason);
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  private lease(): Promise<Lease> {
    let member: Member | undefined;
    for (const m of this.members) if (m.alive && (member === undefined || m.running < member.running)) member = m;
    if (member === undefined) return Promise.reject(new Error('no worker of the pool is alive'));
    const chosen = member;
    chosen.running++;
    this.leased++;
    let released = false;
    return Promise.resolve({
      worker: this.members.indexOf(chosen),
      run: (request, config) => chosen.remote.run(request, config),
      release: () => {
        if (released) return;
        released = true;
        chosen.running--;
        this.leased--;
        this.next();
      },
    });
  }

  /** Hands a released slot to the oldest waiter. */
  private next(): void {
    const waiter = this.waiting.shift();
    if (waiter === undefined) return;
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
    this.lease().then(waiter.resolve, waiter.reject);
  }

  /** Each live worker's agent counts (a dead worker reports `null`). */
  counts(): Promise<Array<WorkerCounts | null>> {
    return Promise.all(this.members.map((m) => (m.alive ? m.remote.counts().catch(() => null) : null)));
  }

  /** Terminates every worker and waits until all have exited. Waiters are rejected. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter.reject(new Error('the worker pool is closed'));
    await Promise.all(this.members.map((m) => m.worker.terminate().catch(() => undefined)));
    await Promise.all(this.members.map((m) => m.exited));
  }
}
