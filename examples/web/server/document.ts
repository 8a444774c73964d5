/**
 * A whole HTML document as a stream, with out-of-order `<Suspense>` regions:
 * the renderer's chunks go onto a fallback sequencer in order; each region
 * races its budget there, and a late one leaves a placeholder in place while
 * its HTML streams at the end of the body inside a `<template>`, followed by a
 * small inline script that swaps it in.
 *
 * @module
 */
import { asyncIterableSequencer, fallbackSequencer, type AnyIterable, type Content, type FallbackSequencerReturn } from '../../../src/index.ts';
import { raw, type Child } from '../jsx/node.ts';
import { renderChunks, renderToStream, type Chunk, type RenderOptions } from '../jsx/render.ts';

/** Options of {@link renderDocument}. @example renderDocument(<App />, { head: <title>Shop</title>, budgetMs: 80 }); */
export interface DocumentOptions extends RenderOptions {
  /** Content of `<head>` after the charset and the swap script (title, styles). */
  head?: Child;
  /** Budget of a `<Suspense>` without its own `budgetMs`, in ms. Default {@link DEFAULT_BUDGET_MS}. */
  budgetMs?: number;
  /** The `lang` of `<html>`. Default `en`. */
  lang?: string;
}

/** Default `budgetMs` of a document: 100 ms. @example renderDocument(page, { budgetMs: DEFAULT_BUDGET_MS * 2 }); */
export const DEFAULT_BUDGET_MS = 100;

/**
 * Swaps a late region in: the template's content replaces the placeholder.
 * Leaves a `sw-swap:<id>` performance mark, so the swap can be timed against paint.
 */
const SWAP_SCRIPT =
  '<script>function __swSwap(id){var t=document.getElementById(id+"-late"),p=document.getElementById(id);' +
  'if(t&&p){p.replaceWith(t.content);t.remove();performance.mark("sw-swap:"+id)}}</script>';

/** Chains each part in turn: one stream of them all. */
function concat(...parts: Content<string>[]): AsyncIterable<string> {
  const { sequence, chain } = asyncIterableSequencer<string>();
  for (const part of parts) chain(part);
  chain(null);
  return sequence;
}

/** The placeholder of a late region: the fallback in a `<sw-slot>` that the swap script replaces. */
function placeholder(id: string, fallback: Child, options: RenderOptions): AnyIterable<string> {
  return concat([`<sw-slot id="${id}" style="display:contents">`], renderToStream(fallback, options), ['</sw-slot>']);
}

/** A late region's HTML, kept inert in a template until its swap script runs. */
function late(id: string, html: AnyIterable<string>): AnyIterable<string> {
  return concat([`<template id="${id}-late">`], html, [`</template><script>__swSwap("${id}")</script>`]);
}

/** An empty iterable whose `return()` runs `callback`: the sequencer calls it only if the output is abandoned first. */
function onAbandon(callback: () => void): Iterable<never> {
  const done: IteratorResult<never, undefined> = { done: true, value: undefined };
  return { [Symbol.iterator]: () => ({ next: () => done, return: () => (callback(), done) }) };
}

/**
 * Moves the renderer's chunks onto the document in order: HTML in place, each
 * `<Suspense>` region raced by `chainWithFallback` when the document reaches it.
 */
async function place(chunks: AsyncIterator<Chunk>, page: FallbackSequencerReturn<string>, budgetMs: number, options: RenderOptions) {
  let regions = 0;
  try {
    for (let result = await chunks.next(); result.done !== true; result = await chunks.next()) {
      const chunk = result.value;
      if (typeof chunk === 'string') {
        page.chain([chunk]);
        continue;
      }
      page.chainWithFallback(chunk.content, {
        id: `sw-${++regions}`,
        timeoutMs: chunk.budgetMs ?? budgetMs,
        placeholder: (id) => placeholder(id, chunk.fallback, options),
      });
    }
  } catch (error) {
    page.chain(Promise.reject(error)); // the renderer failed outside any component: the document fails here
  }
  page.chain(null);
}

/**
 * Streams `body` as a complete HTML document. Components render in parallel
 * and the HTML comes in tree order; a `<Suspense>` region that has no HTML
 * when the document has waited `budgetMs` for it is replaced in place by its
 * fallback, and its HTML follows at the end of the body (with its swap
 * script) as soon as it starts, so the first paint never waits for it.
 * Nested regions inside a region render in place within it. Component errors
 * render error fallbacks; breaking out of the stream abandons every region
 * and closes async generator components.
 *
 * @example
 * ```ts
 * const html = renderDocument(<Shop />, { head: <title>Shop</title>, budgetMs: 100 });
 * await pipeline(Readable.from(html), response);
 * ```
 */
export function renderDocument(body: Child, options: DocumentOptions = {}): AsyncIterable<string> {
  const { head, budgetMs = DEFAULT_BUDGET_MS, lang = 'en', ...renderOptions } = options;
  if (!(budgetMs >= 0)) throw new RangeError(`renderDocument: budgetMs must be >= 0, got ${budgetMs}`);
  const tree = [
    raw('<!doctype html>'),
    raw(`<html lang="${lang.replace(/[^a-zA-Z0-9-]/g, '')}"><head><meta charset="utf-8">`),
    raw(SWAP_SCRIPT),
    head,
    raw('</head><body>'),
    body,
  ];
  const chunks = renderChunks(tree, renderOptions)[Symbol.asyncIterator]();
  // The placeholder is per region (passed to chainWithFallback); late content is the same for all.
  const page = fallbackSequencer<string>({ timeoutMs: budgetMs, placeholder: () => [], late });
  void place(chunks, page, budgetMs, renderOptions);
  return concat(page.sequence, ['</body></html>'], onAbandon(() => void chunks.return?.()?.catch(() => {})));
}
