// Random nested trees for the bridge's property tests: leaves that yield a few
// items (and may fail part-way, with microtask jitter), and sequences of trees.
import fc from 'fast-check';
import { asyncIterableSequencer } from '../src/sequencer.ts';

/** A leaf yields `leaf` items, failing before item `failAt` if it is set; a node chains its children. */
export type Tree = { leaf: number; failAt: number | null; jitter: number } | { children: Tree[] };

/** Trees whose leaves yield at most `maxItems` items, at most four children per node. */
export function treeArb(maxItems: number): fc.Arbitrary<Tree> {
  return fc.letrec<{ tree: Tree }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.record({ leaf: fc.nat(maxItems), failAt: fc.option(fc.nat(maxItems), { freq: 4 }), jitter: fc.nat(3) }),
      fc.record({ children: fc.array(tie('tree'), { maxLength: 4 }) }),
    ),
  })).tree;
}

/** The values a tree yields in order, and whether it fails after them. */
export function expected(tree: Tree, prefix = ''): { values: string[]; failed: boolean } {
  if ('leaf' in tree) {
    const stop = tree.failAt !== null && tree.failAt < tree.leaf ? tree.failAt : tree.leaf;
    return { values: Array.from({ length: stop }, (_, i) => `${prefix}${i}`), failed: stop < tree.leaf };
  }
  const values: string[] = [];
  for (let i = 0; i < tree.children.length; i++) {
    const child = expected(tree.children[i]!, `${prefix}${i}.`);
    values.push(...child.values);
    if (child.failed) return { values, failed: true };
  }
  return { values, failed: false };
}

/** Yields to the microtask queue `n` times: jitter without timers. */
export async function tick(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

/** Leaf producers started, and their `finally` blocks run. */
export interface TreeCounts {
  started: number;
  finished: number;
}

/**
 * The streams of a tree: each leaf an async generator (counted in `counts`,
 * failing where the tree says, with its jitter), each node a sequence that
 * chains its children; values are named by their path, as `expected` names them.
 */
export function buildTree(node: Tree, counts: TreeCounts, prefix = ''): AsyncIterable<string> {
  if ('leaf' in node) {
    return (async function* () {
      counts.started++;
      try {
        for (let i = 0; i < node.leaf; i++) {
          if (node.failAt === i) throw new RangeError(`fail ${prefix}${i}`);
          await tick(node.jitter);
          yield `${prefix}${i}`;
        }
      } finally {
        counts.finished++;
      }
    })();
  }
  const { sequence, chain } = asyncIterableSequencer<string>();
  node.children.forEach((child, i) => chain(buildTree(child, counts, `${prefix}${i}.`)));
  chain(null);
  return sequence;
}
