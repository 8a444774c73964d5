/**
 * Renders an element tree to a stream of HTML chunks. Every component starts
 * the moment it is discovered, so siblings and cousins render in parallel;
 * the HTML still comes out in tree order (each component's output is chained
 * in its place on a sequencer). Each component, and each promise or async
 * iterable among the children, has its own error boundary, so a failure
 * renders a fallback in its place and the rest goes on.
 *
 * @module
 */
import { asyncIterableSequencer, errorBoundary, explode, type Chain, type Content } from '../../../src/index.ts';
import { attributesText } from './attributes.ts';
import { ErrorBoundary, Suspense, type ErrorBoundaryProps, type SuspenseProps } from './boundaries.ts';
import { checkTagName, escapeText } from './escape.ts';
import { createElement, Fragment, isElement, isRaw, type Child, type Component, type Element } from './node.ts';

/**
 * A `<Suspense>` region met in the stream: its content is already rendering;
 * the document writer decides between it and the fallback.
 */
export interface Deferral {
  readonly kind: 'deferral';
  /** The region's HTML; regions nested in it render in place. */
  readonly content: AsyncIterable<string>;
  readonly fallback: Child;
  readonly budgetMs: number | undefined;
}

/** What {@link renderChunks} streams: HTML text, or a region for the document writer to race. */
export type Chunk = string | Deferral;

/** Options of a render. @example renderToStream(<App />, { onError: (error, name) => log.warn(name, error) }); */
export interface RenderOptions {
  /** Called with every component failure, before its fallback renders (for logging). */
  onError?(error: unknown, component: string): void;
}

/** What a subtree renders with. */
interface Scope {
  /** The nearest ErrorBoundary's fallback. */
  readonly fallback: ErrorBoundaryProps['fallback'];
  readonly report: RenderOptions['onError'];
  /** Render `<Suspense>` regions in place instead of emitting a Deferral (no document tail to race them to). */
  readonly inline: boolean;
  /** The nearest component's name, for the fallback of a failing promise or async iterable child. */
  readonly owner: string;
}

const VOID_ELEMENTS = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);
/** Raw-text elements: their content is not parsed as markup, so escaping cannot make text safe there. */
const RAW_TEXT_ELEMENTS = new Set(['script', 'style']);
const noop = (): void => {};

/** The default error fallback: the component's name and the error's message, as text. */
function defaultFallback(error: unknown, component: string): Child {
  const message = error instanceof Error ? error.message : String(error);
  return createElement('div', { class: 'sw-error', role: 'alert', children: `${component} failed: ${message}` });
}

/** Collects adjacent HTML into one chunk; everything else is chained in its place. */
class Writer {
  private text = '';
  constructor(private readonly chain: Chain<Chunk>) {}
  write(html: string): void {
    this.text += html;
  }
  content(content: Content<Chunk>): void {
    this.flush();
    this.chain(content);
  }
  end(): void {
    this.flush();
    this.chain(null);
  }
  private flush(): void {
    if (this.text === '') return;
    this.chain([this.text]);
    this.text = '';
  }
}

/**
 * The chunks of `node`: HTML strings in tree order, plus a {@link Deferral}
 * for each `<Suspense>` region outside components' error fallbacks. Components
 * start at once. A node that cannot be rendered (a function, a symbol, a plain
 * object) throws a TypeError here, or, below a component, fails that component.
 *
 * @example for await (const chunk of renderChunks(<App />)) if (typeof chunk === 'string') write(chunk);
 */
export function renderChunks(node: Child, options: RenderOptions = {}): AsyncIterable<Chunk> {
  return renderWithScope(node, { fallback: defaultFallback, report: options.onError, inline: false, owner: 'the page' });
}

/**
 * Streams `node` as HTML chunks in tree order while its components render in
 * parallel; `<Suspense>` regions render in place. Breaking out of the stream
 * abandons the rest (async generator components are closed).
 *
 * @example for await (const html of renderToStream(<App />)) response.write(html);
 */
export function renderToStream(node: Child, options: RenderOptions = {}): AsyncIterable<string> {
  return renderWithScope(node, { fallback: defaultFallback, report: options.onError, inline: true, owner: 'the page' }) as AsyncIterable<string>;
}

/** The whole HTML of `node`, as {@link renderToStream} streams it. @example list.innerHTML = await renderToString(<Items />); */
export async function renderToString(node: Child, options: RenderOptions = {}): Promise<string> {
  let html = '';
  for await (const chunk of renderToStream(node, options)) html += chunk;
  return html;
}

function renderWithScope(node: Child, scope: Scope): AsyncIterable<Chunk> {
  const { sequence, chain } = asyncIterableSequencer<Chunk>();
  const out = new Writer(chain);
  emit(node, scope, out);
  out.end();
  return sequence;
}

function emit(node: Child, scope: Scope, out: Writer): void {
  if (node === null || node === undefined || typeof node === 'boolean') return;
  if (typeof node === 'string') return out.write(escapeText(node));
  if (typeof node === 'number' || typeof node === 'bigint') return out.write(escapeText(String(node)));
  if (typeof node !== 'object') throw new TypeError(`cannot render a ${typeof node}${typeof node === 'function' ? ' (write <Component />)' : ''}`);
  if (isRaw(node)) return out.write(node.html);
  if (isElement(node)) return emitElement(node, scope, out);
  if (typeof (node as PromiseLike<Child>).then === 'function') {
    // Typed as unknown: Awaited<Child> is infinitely deep for the compiler.
    const later = Promise.resolve<unknown>(node).then((resolved) => renderWithScope(resolved as Child, scope));
    return out.content(guarded(later, scope, scope.owner));
  }
  if (Symbol.iterator in node) {
    for (const child of node as Iterable<Child>) emit(child, scope, out);
    return;
  }
  if (Symbol.asyncIterator in node) return out.content(guarded(renderEach(node, scope), scope, scope.owner));
  throw new TypeError(`cannot render a plain object (keys: ${Object.keys(node).slice(0, 5).join(', ')})`);
}

function emitElement(element: Element, scope: Scope, out: Writer): void {
  const { type, props } = element;
  if (typeof type === 'string') return emitIntrinsic(type, props, scope, out);
  if (type === Fragment) return emit(props.children as Child, scope, out);
  if (type === ErrorBoundary) {
    const { fallback, children } = props as unknown as ErrorBoundaryProps;
    if (typeof fallback !== 'function') throw new TypeError('<ErrorBoundary> needs a fallback function');
    return emit(children, { ...scope, fallback }, out);
  }
  if (type === Suspense) {
    const { fallback, budgetMs, children } = props as SuspenseProps;
    if (budgetMs !== undefined && !(budgetMs >= 0)) throw new RangeError(`<Suspense> budgetMs must be >= 0, got ${budgetMs}`);
    if (scope.inline) return emit(children, scope, out);
    const content = renderWithScope(children, { ...scope, inline: true }) as AsyncIterable<string>;
    return out.content([{ kind: 'deferral', content, fallback, budgetMs } satisfies Deferral]);
  }
  out.content(renderComponent(type, props, scope));
}

function emitIntrinsic(tag: string, props: Readonly<Record<string, unknown>>, scope: Scope, out: Writer): void {
  const children = props.children as Child;
  const lower = checkTagName(tag).toLowerCase();
  const empty = children === undefined || children === null;
  if (VOID_ELEMENTS.has(lower) && !empty) throw new TypeError(`<${tag}> is a void element and cannot have children`);
  if (RAW_TEXT_ELEMENTS.has(lower) && !empty) {
    // Text in <script>/<style> ends at the first `</script` whatever the escaping: only trusted markup goes there.
    if (!isRaw(children)) throw new TypeError(`<${tag}> takes raw() content only`);
    if (children.html.toLowerCase().includes(`</${lower}`)) throw new TypeError(`raw() content of <${tag}> closes its tag`);
  }
  out.write(`<${tag}${attributesText(props)}>`);
  if (VOID_ELEMENTS.has(lower)) return;
  emit(children, scope, out);
  out.write(`</${tag}>`);
}

/** A component's output, behind its own error boundary. The component is called now. */
function renderComponent(type: Component, props: Readonly<Record<string, unknown>>, scope: Scope): AsyncIterable<Chunk> {
  const name = type.displayName ?? (type.name || 'anonymous component');
  const inner: Scope = { ...scope, owner: name };
  const output = new Promise<Child>((resolve) => resolve(type(props))).then((result) => renderWithScope(result, inner));
  return guarded(output, scope, name);
}

/**
 * Asynchronous output behind an error boundary: its error renders the
 * fallback in its place. Every asynchronous child (component, promise, async
 * iterable) gets one, so an error never lands inside an element that is half
 * written: before it there is only complete HTML of the children that ended.
 */
function guarded(output: Promise<AsyncIterable<Chunk>> | AsyncIterable<Chunk>, scope: Scope, name: string): AsyncIterable<Chunk> {
  if (output instanceof Promise) output.catch(noop); // read (and its rejection recovered) only when the page reaches it
  return errorBoundary(output, (error) => {
    scope.report?.(error, name);
    // A failure inside the fallback gets the default fallback, so a failing fallback cannot loop.
    return renderWithScope(scope.fallback(error, name), { ...scope, fallback: defaultFallback });
  });
}

/**
 * An async iterable of children (an async generator component): each child
 * renders after the previous one, and starts as soon as it is yielded; the
 * generator is pulled ahead of the page and closed if the page is abandoned.
 */
function renderEach(children: AsyncIterable<Child>, scope: Scope): AsyncIterable<Chunk> {
  return explode<AsyncIterable<Child>, Chunk>(children, async (source, { chain, signal }) => {
    const iterator = source[Symbol.asyncIterator]();
    signal.addEventListener('abort', () => void iterator.return?.()?.then(noop, noop), { once: true });
    for (;;) {
      const result = await iterator.next();
      if (result.done === true || signal.aborted) return;
      chain(renderWithScope(result.value, scope));
    }
  });
}
