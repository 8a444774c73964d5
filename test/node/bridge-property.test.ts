// Property test: random nested trees with random errors, cancels and timing.
// Whatever happens, every stream ends or is cancelled on both sides, every
// producer that started runs its finally, and the counters return to zero.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { buildTree, expected, treeArb } from '../property-trees.ts';
import { expose, memoryEndpointPair, Session } from '../../src/index.ts';

const trees = treeArb(12);

test('random trees with random errors and cancels end or are cancelled on both sides', async () => {
  await fc.assert(
    fc.asyncProperty(trees, fc.option(fc.nat(40)), fc.nat(2), async (tree, breakAfter, windowPick) => {
      const counts = { started: 0, finished: 0 };
      const [a, b] = memoryEndpointPair();
      const windowItems = [1, 4, 256][windowPick]!;
      const server = expose({ tree: () => buildTree(tree, counts) }, a, { flow: { windowItems } });
      const client = new Session(b, { flow: { windowItems } });
      try {
        const want = expected(tree, '');
        const got: string[] = [];
        let error: unknown = null;
        try {
          for await (const value of await client.remote<{ tree(): AsyncIterable<string> }>().tree()) {
            got.push(value);
            if (breakAfter !== null && got.length >= breakAfter) break;
          }
        } catch (e) {
          error = e;
        }
        const limit = breakAfter === null ? want.values.length : Math.min(breakAfter, want.values.length);
        expect(got).toEqual(want.values.slice(0, Math.max(limit, got.length)));
        if (error !== null) {
          expect(error).toBeInstanceOf(RangeError);
          expect(want.failed).toBe(true);
        }
        // Both sides settle: producers' finally ran, no stream is left open anywhere.
        for (let i = 0; i < 200; i++) {
          const s = server.stats();
          const c = client.stats();
          if (counts.finished === counts.started && s.outgoingStreams === 0 && c.incomingStreams === 0 && s.servingCalls === 0) break;
          await new Promise((r) => setTimeout(r, 2));
        }
        expect(counts.finished).toBe(counts.started);
        expect(server.stats().outgoingStreams).toBe(0);
        expect(client.stats().incomingStreams).toBe(0);
      } finally {
        client.close();
        server.close();
      }
    }),
    { numRuns: 150 },
  );
}, 120_000);
