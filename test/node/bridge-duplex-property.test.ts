// Property test in both directions at once: each side produces nested trees
// for the other (as call results and as call arguments) and consumes the
// other's, with random errors on the producing side, random breaks and throws
// on the consuming side, random windows, codecs and microtask jitter. Whatever
// happens: every stream ends or is cancelled on both sides, what each consumer
// saw is the tree's prefix in order, errors arrive typed, every producer's
// finally runs on both sides, and every counter returns to zero while the
// sessions are still open.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { buildTree, expected, treeArb, type Tree } from '../property-trees.ts';
import { memoryEndpointPair } from '../../src/memory.ts';
import { Session, type Remote } from '../../src/session.ts';

const trees = treeArb(10);

/** How a consumer reads: stop after `breakAfter` items, or throw after `throwAfter`. */
const readerArb = fc.record({ breakAfter: fc.option(fc.nat(30), { freq: 2 }), throwAfter: fc.option(fc.nat(30), { freq: 4 }) });
type Reader = { breakAfter: number | null; throwAfter: number | null };

/** One side: builds trees with its own counters, and reads streams the way it is told. */
function side() {
  const counts = { started: 0, finished: 0 };
  const build = (tree: Tree): AsyncIterable<string> => buildTree(tree, counts);
  const handlers = {
    tree: (tree: Tree) => build(tree),
    /** Reads a stream the caller passed in; returns what it read, or throws its own TypeError. */
    async consume(stream: AsyncIterable<string>, reader: Reader): Promise<string[]> {
      return read(stream, reader);
    },
  };
  return { counts, build, handlers };
}
type Api = ReturnType<typeof side>['handlers'];

async function read(stream: AsyncIterable<string>, reader: Reader): Promise<string[]> {
  const got: string[] = [];
  for await (const value of stream) {
    got.push(value);
    if (reader.throwAfter !== null && got.length >= reader.throwAfter) throw new TypeError(`consumer gave up after ${got.length}`);
    if (reader.breakAfter !== null && got.length >= reader.breakAfter) break;
  }
  return got;
}

/** What `read` must end with on a tree: it is simulated on the tree's values, rule for rule. */
function simulate(tree: Tree, reader: Reader): { got: string[] } | { error: 'consumer' | 'producer'; after: number } {
  const want = expected(tree);
  const got: string[] = [];
  for (const value of want.values) {
    got.push(value);
    if (reader.throwAfter !== null && got.length >= reader.throwAfter) return { error: 'consumer', after: got.length };
    if (reader.breakAfter !== null && got.length >= reader.breakAfter) return { got };
  }
  return want.failed ? { error: 'producer', after: got.length } : { got };
}

/** Checks one consumer's outcome against the simulation; returns a failure, or null. */
function judge(what: string, tree: Tree, reader: Reader, outcome: { got: string[] } | { error: unknown }): string | null {
  const want = simulate(tree, reader);
  const fail = () => `${what}: ${'got' in outcome ? `read ${outcome.got.join()}` : String(outcome.error)}, expected ${JSON.stringify(want)} (reader ${JSON.stringify(reader)})`;
  if ('got' in want) return 'got' in outcome && outcome.got.join() === want.got.join() ? null : fail();
  if ('got' in outcome) return fail();
  const { error } = outcome;
  // Errors arrive typed: the consumer's own TypeError, or the producer's RangeError revived as itself.
  if (want.error === 'consumer') return error instanceof TypeError && error.message === `consumer gave up after ${want.after}` ? null : fail();
  return error instanceof RangeError && /^fail /.test(error.message) ? null : fail();
}

async function settled<T>(promise: Promise<T>): Promise<{ got: T } | { error: unknown }> {
  try {
    return { got: await promise };
  } catch (error) {
    return { error };
  }
}

test('both sides produce and consume random nested trees with random errors, breaks and throws; everything ends and is released', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.tuple(trees, trees, trees, trees),
      fc.tuple(readerArb, readerArb, readerArb, readerArb),
      fc.constantFrom('clone' as const, 'text' as const),
      fc.constantFrom(1, 3, 256),
      fc.constantFrom(1, 4, 1_024),
      async ([t1, t2, t3, t4], [r1, r2, r3, r4], wire, windowA, windowB) => {
        const [a, b] = memoryEndpointPair({ wire });
        const A = side();
        const B = side();
        const sessionA = new Session(a, { handlers: A.handlers, flow: { windowItems: windowA } });
        const sessionB = new Session(b, { handlers: B.handlers, flow: { windowItems: windowB } });
        const fromA: Remote<Api> = sessionB.remote<Api>(); // B calls A
        const fromB: Remote<Api> = sessionA.remote<Api>(); // A calls B
        try {
          const outcomes = await Promise.all([
            // A reads B's tree (B produces a result stream).
            settled(fromB.tree(t1).then((s) => read(s, r1))),
            // B reads A's tree.
            settled(fromA.tree(t2).then((s) => read(s, r2))),
            // A's tree as an argument, read by B's handler (A produces an argument stream).
            settled(fromB.consume(A.build(t3), r3)),
            // B's tree as an argument, read by A's handler.
            settled(fromA.consume(B.build(t4), r4)),
          ]);
          const failures = [
            judge('A reading B.tree', t1, r1, outcomes[0]),
            judge('B reading A.tree', t2, r2, outcomes[1]),
            judge("B's handler reading A's argument", t3, r3, outcomes[2]),
            judge("A's handler reading B's argument", t4, r4, outcomes[3]),
          ].filter((f) => f !== null);
          expect(failures).toEqual([]);
          // Everything settles on both sides while the sessions are still open.
          const idle = () =>
            A.counts.finished === A.counts.started &&
            B.counts.finished === B.counts.started &&
            [sessionA.stats(), sessionB.stats()].every(
              (s) => s.state === 'open' && s.incomingStreams === 0 && s.outgoingStreams === 0 && s.pendingCalls === 0 && s.servingCalls === 0 && s.inflightBytes === 0,
            );
          for (let i = 0; i < 300 && !idle(); i++) await new Promise((r) => setTimeout(r, 2));
          expect({ A: A.counts, B: B.counts, a: sessionA.stats(), b: sessionB.stats() }).toEqual({
            A: { started: A.counts.started, finished: A.counts.started },
            B: { started: B.counts.started, finished: B.counts.started },
            a: { state: 'open', incomingStreams: 0, outgoingStreams: 0, pendingCalls: 0, servingCalls: 0, inflightBytes: 0 },
            b: { state: 'open', incomingStreams: 0, outgoingStreams: 0, pendingCalls: 0, servingCalls: 0, inflightBytes: 0 },
          });
        } finally {
          sessionA.close();
          sessionB.close();
        }
      },
    ),
    { numRuns: Number(process.env.PROPERTY_RUNS ?? 100) },
  );
}, 120_000);
