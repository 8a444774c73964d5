/**
 * The development flavour of the JSX runtime, which some compilers (Vite in
 * tests) import instead: the same elements, source positions ignored.
 *
 * @module
 */
import { jsx } from './jsx-runtime.ts';
import type { Element } from './node.ts';

export { Fragment, type JSX } from './jsx-runtime.ts';

/** Builds an element, ignoring the compiler's debug arguments. @example jsxDEV('p', { children: 'hi' }, undefined, false); */
export function jsxDEV(type: Element['type'], props: Record<string, unknown>, key?: unknown): Element {
  return jsx(type, props, key);
}
