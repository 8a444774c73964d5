// The handlers every compliance target exposes on its far side (in-process,
// in a worker thread, a web worker, an iframe or behind a WebSocket).
import { asyncIterableSequencer } from '../../src/sequencer.ts';
import { delay } from '../helpers.ts';

/** A custom error class both sides register, to check it revives as itself. */
export class ComplianceError extends Error {
  constructor(
    message: string,
    readonly detail = 0,
  ) {
    super(message);
    this.name = 'ComplianceError';
  }
}

/** Builds a fresh handlers object with its own counters. */
export function complianceHandlers() {
  const state = { produced: 0, finallies: [] as string[] };
  async function* endless(name: string) {
    try {
      for (let i = 0; ; i++) {
        yield `${name}${i}`;
        await delay(1);
      }
    } finally {
      state.finallies.push(name);
    }
  }
  async function* leaf(name: string, ms: number) {
    await delay(ms);
    yield `${name}.1`;
    yield `${name}.2`;
  }
  return {
    async *count(n: number) {
      for (let i = 0; i < n; i++) yield i;
    },
    /** Three sections whose leaves finish in reverse order of their place in the output. */
    tree() {
      const root = asyncIterableSequencer<string>();
      for (const [name, ms] of [['a', 90], ['b', 45], ['c', 5]] as const) {
        const section = asyncIterableSequencer<string>();
        section.chain([`${name}:start`]);
        section.chain(leaf(name, ms));
        section.chain(null);
        root.chain(section.sequence);
      }
      root.chain(null);
      return root.sequence;
    },
    async *firehose() {
      for (let i = 0; i < 1_000_000; i++) {
        state.produced++;
        yield { i, text: 'item' };
      }
    },
    /** `count` fresh buffers of `size` bytes, buffer i filled with i & 255 (moved, not copied, where the wire can). */
    async *buffers(count: number, size: number) {
      for (let i = 0; i < count; i++) yield new Uint8Array(size).fill(i & 255).buffer;
    },
    produced: () => state.produced,
    finallies: () => [...state.finallies].sort(),
    reset() {
      state.produced = 0;
      state.finallies = [];
    },
    /** A chain of endless children, to cut short. */
    nested() {
      const root = asyncIterableSequencer<string>();
      root.chain(endless('first'));
      root.chain(endless('second'));
      const inner = asyncIterableSequencer<string>();
      inner.chain(endless('deep'));
      inner.chain(null);
      root.chain(inner.sequence);
      root.chain(null);
      return root.sequence;
    },
    async fail(): Promise<never> {
      const error = new RangeError('outer', { cause: new ComplianceError('inner', 7) });
      Object.assign(error, { code: 'E_OUTER' });
      throw error;
    },
    async *failMidway() {
      yield 1;
      throw new ComplianceError('midway', 3);
    },
    endless,
    never: () => new Promise<never>(() => {}),
    echo: <T>(value: T) => value,
  };
}

export type ComplianceHandlers = ReturnType<typeof complianceHandlers>;
