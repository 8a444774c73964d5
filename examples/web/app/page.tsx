/** @jsxImportSource #jsx */
/**
 * The demo page: nested async components, a slow one behind a Suspense budget,
 * a failing one behind an error boundary, hostile user data, and a live feed
 * that the page's script fills over a WebSocket.
 *
 * @module
 */
import { ErrorBoundary, Suspense } from '../jsx/boundaries.ts';
import { raw } from '../jsx/node.ts';
import { Catalog } from './catalog.tsx';
import type { RequestClock } from './clock.ts';
import { Guestbook, Recommendations, Weather } from './panels.tsx';
import { STYLES } from './styles.ts';

/** Timings of the demo page. @example <Page clock={requestClock()} slowMs={1_500} budgetMs={100} /> */
export interface PageProps {
  clock: RequestClock;
  /** How long the slow component takes, in ms. */
  slowMs: number;
  /** How long the page waits for it before showing its placeholder, in ms. */
  budgetMs: number;
}

/** The `data-node` names of the page's parts in tree order, after every region is swapped in. */
export const PAGE_PARTS = ['catalog', 'recommendations', 'weather', 'guestbook', 'feed'] as const;

/** The `<head>` content. @example renderDocument(<Page … />, { head: <Head /> }); */
export function Head() {
  return (
    <>
      <title>stream-weaver: streaming UI</title>
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <style>{raw(STYLES)}</style>
    </>
  );
}

/** The page's body. */
export function Page({ clock, slowMs, budgetMs }: PageProps) {
  return (
    <>
      <header>
        <h1>The Weaving Mill</h1>
        <p>Every panel renders in parallel on the server and streams in page order; the slow one is swapped in at the end.</p>
      </header>
      <main>
        <section class="panel wide">
          <h2>Catalog</h2>
          <Catalog clock={clock} />
        </section>
        <section class="panel">
          <h2>Recommended for you</h2>
          <Suspense budgetMs={budgetMs} fallback={<p class="placeholder">Finding recommendations…</p>}>
            <Recommendations ms={slowMs} clock={clock} />
          </Suspense>
        </section>
        <section class="panel">
          <h2>Weather at the mill</h2>
          <ErrorBoundary
            fallback={(error) => (
              <p class="error-card" role="alert" data-node="weather">
                Weather is unavailable: {error instanceof Error ? error.message : 'unknown error'}
              </p>
            )}
          >
            <Weather />
          </ErrorBoundary>
        </section>
        <section class="panel">
          <h2>Guestbook</h2>
          <Guestbook />
        </section>
        <section class="panel">
          <h2>Live feed</h2>
          <p id="feed-status">connecting…</p>
          <ol id="feed" data-node="feed"></ol>
        </section>
      </main>
      <script type="module" async src="/client.js"></script>
    </>
  );
}
