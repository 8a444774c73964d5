/**
 * The two boundary components the renderer knows: `Suspense` (slow content
 * may give its place to a fallback) and `ErrorBoundary` (what a failing
 * component renders instead). Called as plain functions they render their
 * children in place.
 *
 * @module
 */
import type { Child } from './node.ts';

/** Props of {@link Suspense}. @example const props: SuspenseProps = { budgetMs: 100, fallback: 'Loading…' }; */
export interface SuspenseProps {
  /** Shown in place while the children are late; default nothing. */
  fallback?: Child;
  /**
   * How long the page may wait for the children's first HTML once it reaches
   * them, in ms; later, the fallback takes their place and they stream at the
   * end of the document. Default: the document's `budgetMs`.
   */
  budgetMs?: number;
  children?: Child;
}

/**
 * Marks a region that must not hold up the page. In a document stream
 * (`renderDocument`) a late region is replaced by `fallback` in place and its
 * HTML is streamed at the end of the document, with a script that swaps it
 * in; elsewhere (`renderToStream`, or inside another late region) the
 * children render in place.
 *
 * @example <Suspense budgetMs={100} fallback={<p>Loading…</p>}><Recommendations /></Suspense>
 */
export function Suspense(props: SuspenseProps): Child {
  return props.children;
}

/** Props of {@link ErrorBoundary}. @example const props: ErrorBoundaryProps = { fallback: () => 'Unavailable' }; */
export interface ErrorBoundaryProps {
  /** What a component below that throws or rejects renders in its own place. */
  fallback(error: unknown, component: string): Child;
  children?: Child;
}

/**
 * Sets the error fallback of every component below it. Each component is its
 * own boundary: the one that fails renders the fallback in its place (after
 * whatever complete children an async generator yielded first), and its
 * siblings and parents render as usual.
 *
 * @example <ErrorBoundary fallback={() => <p>Weather unavailable</p>}><Weather /></ErrorBoundary>
 */
export function ErrorBoundary(props: ErrorBoundaryProps): Child {
  return props.children;
}
