/**
 * What the JSX runtime builds: elements, the children they hold, and the
 * component types that make them. Elements carry a private brand, so an
 * object that merely looks like one (parsed JSON, user data) renders as an
 * error instead of as markup.
 *
 * @module
 */

const ELEMENT = Symbol.for('stream-weaver.web.element');
const RAW = Symbol.for('stream-weaver.web.raw');

/**
 * Anything a component may return or hold as children. Promises and async
 * iterables render where they stand once they resolve; arrays and other
 * iterables render their items in order; `null`, `undefined` and booleans render nothing.
 *
 * @example const child: Child = [<b>now</b>, fetchName().then((name) => <i>{name}</i>)];
 */
export type Child =
  | Element
  | Raw
  | string
  | number
  | bigint
  | boolean
  | null
  | undefined
  | Iterable<Child>
  | PromiseLike<Child>
  | AsyncIterable<Child>;

/**
 * A component: a function of its props, sync or async, or an async generator
 * whose every yielded child renders after the previous one.
 *
 * @example const Greeting: Component<{ name: string }> = async ({ name }) => <p>Hello, {name}</p>;
 */
export type Component<P = any> = ((props: P) => Child) & { displayName?: string };

/** Marks the fragment type `<>…</>`. @example jsx(Fragment, { children: ['a', 'b'] }); */
export const Fragment = Symbol.for('stream-weaver.web.fragment');

/** One JSX element: a tag name, a component or a fragment, and its props (children included). */
export interface Element {
  readonly [ELEMENT]: true;
  readonly type: string | Component | typeof Fragment;
  readonly props: Readonly<Record<string, unknown>>;
}

/** Markup that is written as is, never escaped: see {@link raw}. */
export interface Raw {
  readonly [RAW]: true;
  readonly html: string;
}

/** Builds an element; what `jsx()` compiles to. @example createElement('p', { children: 'hi' }); */
export function createElement(type: Element['type'], props: Record<string, unknown>): Element {
  if (typeof type !== 'string' && typeof type !== 'function' && type !== Fragment) {
    throw new TypeError(`a JSX element type must be a tag name, a component or Fragment, got ${typeof type}`);
  }
  return { [ELEMENT]: true, type, props };
}

/**
 * Trusted markup written without escaping, for the page's own inline scripts
 * and styles. Never pass it user data.
 *
 * @example <script>{raw('window.started = performance.now()')}</script>
 */
export function raw(html: string): Raw {
  if (typeof html !== 'string') throw new TypeError(`raw() takes a string, got ${typeof html}`);
  return { [RAW]: true, html };
}

/** True for an element made by this runtime. @example isElement(<p />) === true; isElement({ type: 'p' }) === false */
export function isElement(value: unknown): value is Element {
  return typeof value === 'object' && value !== null && (value as Partial<Element>)[ELEMENT] === true;
}

/** True for a value made by {@link raw}. @example isRaw(raw('<hr>')) === true; isRaw('<hr>') === false */
export function isRaw(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && (value as Partial<Raw>)[RAW] === true;
}
