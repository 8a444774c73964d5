// The streaming JSX renderer of examples/web: tree order with parallel
// components, escaping of hostile data, error fallbacks in place, and the
// document writer's Suspense regions (in place within budget, swapped in at
// the end past it).
import { describe, expect, test } from 'vitest';
import { ErrorBoundary, Suspense } from '../../examples/web/jsx/boundaries.ts';
import { Fragment, jsx } from '../../examples/web/jsx/jsx-runtime.ts';
import { raw, type Child, type Component, type Element } from '../../examples/web/jsx/node.ts';
import { renderToStream, renderToString } from '../../examples/web/jsx/render.ts';
import { renderDocument } from '../../examples/web/server/document.ts';

/** Hyperscript over the runtime's jsx(), since test files are not compiled as JSX. */
function h(type: Element['type'], props: Record<string, unknown> | null, ...children: Child[]): Element {
  return jsx(type, { ...props, ...(children.length > 0 ? { children: children.length === 1 ? children[0] : children } : {}) });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Each chunk with the ms since `started` it arrived at. */
async function timedChunks(stream: AsyncIterable<string>, started = performance.now()) {
  const chunks: { at: number; html: string }[] = [];
  for await (const html of stream) chunks.push({ at: performance.now() - started, html });
  return chunks;
}

async function collect(stream: AsyncIterable<string>): Promise<string> {
  let html = '';
  for await (const chunk of stream) html += chunk;
  return html;
}

describe('renderToStream', () => {
  test('renders elements, attributes, void elements, fragments and numbers, and leaves out null, undefined and booleans', async () => {
    const tree = h(
      'div',
      { class: 'box', hidden: true, title: undefined, draggable: false, tabindex: 0, style: { fontSize: '2em', marginTop: 4 } },
      h(Fragment, null, 'a', 1, null, undefined, true, false, 2n),
      h('br', null),
      [h('i', null, 'x'), [h('b', null, 'y')]],
      h('label', { htmlFor: 'f', className: 'c' }, 'L'),
    );
    expect(await renderToString(tree)).toBe(
      '<div class="box" hidden tabindex="0" style="font-size:2em;margin-top:4">a12<br><i>x</i><b>y</b><label for="f" class="c">L</label></div>',
    );
  });

  test('streams the HTML in tree order while the components finish in reverse order', async () => {
    const finished: string[] = [];
    const Delayed: Component<{ ms: number; label: string }> = async ({ ms, label }) => {
      await sleep(ms);
      finished.push(label);
      return h('li', null, label);
    };
    const tree = h('ul', null, ...[60, 40, 20, 0].map((ms, i) => h(Delayed, { ms, label: `c${i}` })));
    expect(await renderToString(tree)).toBe('<ul><li>c0</li><li>c1</li><li>c2</li><li>c3</li></ul>');
    expect(finished).toEqual(['c3', 'c2', 'c1', 'c0']);
  });

  test('renders sibling and nested components in parallel: the time is the longest path, not the sum', async () => {
    const ms = 80;
    const Leaf: Component = async () => (await sleep(ms), 'leaf');
    const Branch: Component = async () => (await sleep(ms), h('p', null, h(Leaf, null), h(Leaf, null)));
    const tree = h('main', null, ...Array.from({ length: 6 }, () => h(Branch, null)));
    const started = performance.now();
    const html = await renderToString(tree);
    const took = performance.now() - started;
    expect(html).toBe(`<main>${'<p>leafleaf</p>'.repeat(6)}</main>`);
    // 6 branches + 12 leaves of 80 ms would take 1,440 ms one after another; the longest path is 160 ms.
    expect(took).toBeLessThan(18 * ms * 0.4);
  });

  test('streams the HTML before a slow component as soon as it is there', async () => {
    let slowDoneAt = 0;
    const started = performance.now();
    const Slow: Component = async () => {
      await sleep(200);
      slowDoneAt = performance.now() - started;
      return 'slow';
    };
    const chunks = await timedChunks(renderToStream(h('div', null, h('h1', null, 'title'), h(Slow, null))), started);
    expect(chunks[0]!.html).toBe('<div><h1>title</h1>');
    expect(chunks[0]!.at).toBeLessThan(slowDoneAt * 0.5);
    expect(chunks.map((c) => c.html).join('')).toBe('<div><h1>title</h1>slow</div>');
  });

  test('an async generator component renders its yields in order, each starting as soon as it is yielded', async () => {
    const started: number[] = [];
    const Part: Component<{ n: number; ms: number }> = async ({ n, ms }) => {
      started.push(n);
      await sleep(ms);
      return h('b', null, n);
    };
    async function* List() {
      yield h(Part, { n: 1, ms: 60 });
      yield h(Part, { n: 2, ms: 0 });
      yield [h(Part, { n: 3, ms: 20 }), '!'];
    }
    const t = performance.now();
    expect(await renderToString(h('p', null, h(List, null)))).toBe('<p><b>1</b><b>2</b><b>3</b>!</p>');
    expect(started).toEqual([1, 2, 3]);
    expect(performance.now() - t).toBeLessThan(60 + 20 + 60); // 3 started before 1 finished
  });

  test('breaking out of the stream closes an async generator component', async () => {
    let closed = false;
    async function* Ticker() {
      try {
        for (let i = 0; ; i++) {
          yield h('i', null, i);
          await sleep(5);
        }
      } finally {
        closed = true;
      }
    }
    for await (const html of renderToStream(h('div', null, 'x', h(Ticker, null)))) {
      if (html.includes('<i>')) break;
    }
    await expect.poll(() => closed, { timeout: 1_000 }).toBe(true);
  });
});

describe('escaping', () => {
  const hostile = '<script>alert("x")</script> & \'q\'';

  test('hostile text renders as text, and hostile attribute values stay inside their quotes', async () => {
    const html = await renderToString(h('p', { title: hostile, 'data-x': '"><img src=x onerror=alert(1)>' }, hostile, 42));
    expect(html).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;" data-x="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;">' +
        '&lt;script&gt;alert("x")&lt;/script&gt; &amp; \'q\'42</p>',
    );
  });

  test('text from promises, async generators and error messages is escaped too', async () => {
    async function* Gen() {
      yield '<b>gen</b>';
    }
    const Boom: Component = () => {
      throw new Error('<img src=x onerror=alert(1)>');
    };
    const html = await renderToString(h('div', null, Promise.resolve('<i>p</i>'), h(Gen, null), h(Boom, null)));
    expect(html).not.toMatch(/<(b|i|img)[ >]/);
    expect(html).toContain('&lt;i&gt;p&lt;/i&gt;&lt;b&gt;gen&lt;/b&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  test('tag and attribute names that could break out are refused with a TypeError', async () => {
    await expect(renderToString(h('img src=x onerror=alert(1)', null))).rejects.toBeInstanceOf(TypeError);
    await expect(renderToString(h('p', { 'onclick="alert(1)"': 'x' }))).rejects.toBeInstanceOf(TypeError);
    await expect(renderToString(h('p', { 'a>b': 'x' }))).rejects.toBeInstanceOf(TypeError);
    await expect(renderToString(h('p', { style: { 'color:red;}</style><script>': 'x' } }))).rejects.toBeInstanceOf(TypeError);
    await expect(renderToString(h('p', { onclick: () => {} }))).rejects.toBeInstanceOf(TypeError);
    expect(await renderToString(h('sw-slot', { 'data-ok': 'y', 'aria-label': 'z' }))).toBe('<sw-slot data-ok="y" aria-label="z"></sw-slot>');
  });

  test('script URLs in URL attributes are neutralised, however they are spelled', async () => {
    for (const href of ['javascript:alert(1)', ' JaVaScRiPt:alert(1)', 'java\tscript:alert(1)', '\u0001javascript:x', 'vbscript:x']) {
      expect(await renderToString(h('a', { href }))).toBe('<a href="about:blank#blocked"></a>');
    }
    expect(await renderToString(h('a', { href: 'https://example.org/?a=1&b="2"' }))).toBe('<a href="https://example.org/?a=1&amp;b=&quot;2&quot;"></a>');
    expect(await renderToString(h('p', { title: 'javascript:fine-as-text' }))).toBe('<p title="javascript:fine-as-text"></p>');
  });

  test('<script> and <style> take trusted raw() content only, and it may not close them', async () => {
    await expect(renderToString(h('script', null, 'alert(1)'))).rejects.toBeInstanceOf(TypeError);
    await expect(renderToString(h('style', null, raw('a{}</style><script>alert(1)</script>')))).rejects.toBeInstanceOf(TypeError);
    expect(await renderToString(h('script', null, raw('let a = 1 < 2')))).toBe('<script>let a = 1 < 2</script>');
  });

  test('an object that only looks like an element is not rendered as markup', async () => {
    const forged = JSON.parse('{"type":"script","props":{"children":"alert(1)"}}') as Child;
    await expect(renderToString(h('div', null, forged))).rejects.toBeInstanceOf(TypeError);
    const Echo: Component = () => forged;
    expect(await renderToString(h('div', null, h(Echo, null)))).toMatch(/^<div><div class="sw-error" role="alert">Echo failed: cannot render a plain object/);
  });

  test('a void element with children is refused', async () => {
    await expect(renderToString(h('br', null, 'x'))).rejects.toBeInstanceOf(TypeError);
  });
});

describe('error fallbacks', () => {
  test('a throwing, a rejecting and a failing generator component each render a fallback in place; the rest renders', async () => {
    const Throws: Component = () => {
      throw new Error('sync');
    };
    const Rejects: Component = async () => {
      await sleep(10);
      throw new Error('async');
    };
    async function* FailsLater() {
      yield h('li', null, 'first');
      throw new Error('later');
    }
    const Fine: Component = async () => h('li', null, 'fine');
    const html = await renderToString(h('ul', null, h(Throws, null), h(Fine, null), h(Rejects, null), h(FailsLater, null), 'end'));
    expect(html).toBe(
      '<ul><div class="sw-error" role="alert">Throws failed: sync</div><li>fine</li>' +
        '<div class="sw-error" role="alert">Rejects failed: async</div><li>first</li>' +
        '<div class="sw-error" role="alert">FailsLater failed: later</div>end</ul>',
    );
  });

  test('ErrorBoundary sets the fallback below it, a rejected promise child renders it in its own place, and onError reports each failure', async () => {
    const reported: string[] = [];
    const Inner: Component = () => h('span', null, 'before', Promise.reject(new Error('child promise')));
    const Outer: Component = async () => h('section', null, h(Inner, null), 'after');
    const tree = h(
      'div',
      null,
      h(ErrorBoundary, { fallback: (error: unknown, name: string) => h('em', null, `${name}: ${(error as Error).message}`) }, h(Outer, null)),
      h(Outer, null),
    );
    const html = await renderToString(tree, { onError: (error, name) => reported.push(`${name}/${(error as Error).message}`) });
    // The promise owns its place: the fallback lands inside the <span>, which stays well formed.
    expect(html).toBe(
      '<div><section><span>before<em>Inner: child promise</em></span>after</section>' +
        '<section><span>before<div class="sw-error" role="alert">Inner failed: child promise</div></span>after</section></div>',
    );
    expect(reported).toEqual(['Inner/child promise', 'Inner/child promise']);
  });
});

describe('renderDocument', () => {
  const Delayed: Component<{ ms: number; text: string }> = async ({ ms, text }) => (await sleep(ms), h('b', null, text));

  test('a Suspense region that has its HTML within its budget renders in place, with no swap', async () => {
    const html = await collect(renderDocument(h('main', null, h(Suspense, { budgetMs: 200, fallback: 'wait' }, h(Delayed, { ms: 10, text: 'quick' })))));
    expect(html).toMatch(/^<!doctype html><html lang="en"><head><meta charset="utf-8"><script>.*<\/script><\/head><body>/);
    expect(html).toContain('<main><b>quick</b></main></body></html>');
    expect(html).not.toContain('sw-slot');
    expect(html).not.toContain('<template');
  });

  test('a region past its budget leaves its fallback in place and its HTML streams at the end with a swap script', async () => {
    const started = performance.now();
    const tree = h(
      'main',
      null,
      h('h1', null, 'shop'),
      h(Suspense, { budgetMs: 20, fallback: h('i', null, 'loading') }, h(Delayed, { ms: 300, text: 'slow' })),
      h(Delayed, { ms: 30, text: 'after' }),
    );
    const chunks = await timedChunks(renderDocument(tree, { head: h('title', null, 't') }), started);
    const html = chunks.map((c) => c.html).join('');
    expect(html).toContain('<title>t</title></head><body><main><h1>shop</h1><sw-slot id="sw-1" style="display:contents"><i>loading</i></sw-slot><b>after</b></main>');
    expect(html).toMatch(/<\/main><template id="sw-1-late"><b>slow<\/b><\/template><script>__swSwap\("sw-1"\)<\/script><\/body><\/html>$/);
    const at = (text: string) => chunks.find((c) => c.html.includes(text))!.at;
    // The first bytes and the placeholder come long before the slow HTML.
    expect(chunks[0]!.at).toBeLessThan(at('<b>slow</b>') * 0.25);
    expect(at('loading')).toBeLessThan(at('<b>slow</b>') * 0.5);
  });

  test('a region inside a late region renders in place within it, and a failing component there gets its fallback', async () => {
    const Boom: Component = async () => {
      throw new Error('boom');
    };
    const inner = h(Suspense, { budgetMs: 0, fallback: 'never shown' }, h(Delayed, { ms: 60, text: 'inner' }), h(Boom, null));
    const tree = h('main', null, h(Suspense, { budgetMs: 10, fallback: 'outer wait' }, h(Delayed, { ms: 40, text: 'outer' }), inner));
    const html = await collect(renderDocument(tree));
    expect(html).toContain('<main><sw-slot id="sw-1" style="display:contents">outer wait</sw-slot></main>');
    expect(html).toContain('<template id="sw-1-late"><b>outer</b><b>inner</b><div class="sw-error" role="alert">Boom failed: boom</div></template>');
    expect(html).not.toContain('never shown');
  });

  test('abandoning the document closes a late region\'s async generator component', async () => {
    let closed = false;
    async function* Slow() {
      try {
        await sleep(50);
        yield 'late';
        await sleep(10_000);
      } finally {
        closed = true;
      }
    }
    for await (const html of renderDocument(h('main', null, h(Suspense, { budgetMs: 0 }, h(Slow, null)), 'x'))) {
      if (html.includes('</main>')) break;
    }
    await expect.poll(() => closed, { timeout: 2_000 }).toBe(true);
  });
});
