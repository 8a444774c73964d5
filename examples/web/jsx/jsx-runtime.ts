/**
 * The automatic JSX runtime (`jsxImportSource`, imported as `#jsx/jsx-runtime`):
 * `jsx()` builds the element tree that `render.ts` streams as HTML, and the
 * `JSX` namespace types it, so components may be async functions and async generators.
 *
 * @module
 */
import { createElement, Fragment, type Child, type Component, type Element } from './node.ts';

export { Fragment };

/** Builds an element; the compiler calls it for every JSX expression. @example jsx('p', { children: 'hi' }); */
export function jsx(type: Element['type'], props: Record<string, unknown>, key?: unknown): Element {
  void key; // keys order nothing here: the HTML comes out in tree order
  return createElement(type, props);
}

/** The same as {@link jsx}, for elements with static children. @example jsxs('ul', { children: [a, b] }); */
export const jsxs = jsx;

/** Attributes of an intrinsic element: strings, numbers, `true` for a bare attribute, `false`/`null` to leave it out. */
export interface HtmlProps {
  children?: Child;
  /** `style` may also be an object of CSS properties (`{ fontSize: '2em' }`). */
  style?: string | Record<string, string | number>;
  [attribute: string]: unknown;
}

/** Types checked by the compiler for JSX expressions. @example const element: JSX.Element = <p />; */
export namespace JSX {
  export type Element = import('./node.ts').Element;
  /** A tag name or a component of any kind (sync, async, async generator). */
  export type ElementType = string | Component;
  export interface ElementChildrenAttribute {
    children: {};
  }
  export interface IntrinsicAttributes {
    key?: string | number;
  }
  export interface IntrinsicElements {
    [tag: string]: HtmlProps;
  }
}
