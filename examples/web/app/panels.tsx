/** @jsxImportSource #jsx */
/**
 * The demo page's other panels: a slow component (behind a Suspense budget),
 * a failing one (behind an error boundary) and a guestbook of hostile user data.
 *
 * @module
 */
import { sleep, type RequestClock } from './clock.ts';

/** A component slower than any budget: its HTML arrives at the end of the document and is swapped in. */
export async function Recommendations({ ms, clock }: { ms: number; clock: RequestClock }) {
  await sleep(ms);
  const { rank, ms: at } = clock.finished();
  return (
    <ul class="recommendations" data-node="recommendations">
      <li>Merino yarn, for the rigid heddle you viewed</li>
      <li>A second boat shuttle</li>
      <li>
        <small class="finished" data-rank={rank}>
          finished #{rank} at {at} ms, swapped in
        </small>
      </li>
    </ul>
  );
}

/** Always fails, after a short wait: its place shows the error fallback. */
export async function Weather(): Promise<never> {
  await sleep(50);
  throw new Error('weather service unreachable');
}

/** Entries as users typed them: markup in text, quotes in attributes, script URLs. */
export const GUESTBOOK: readonly { author: string; text: string; site: string }[] = [
  { author: 'Ada', text: 'Lovely shuttles, fast delivery.', site: 'https://example.org/ada' },
  {
    author: '<script>window.__pwned = "author"</script>',
    text: '"><img src=x onerror="window.__pwned=\'text\'">',
    site: 'javascript:window.__pwned="href"',
  },
  {
    author: `Eve" onmouseover="window.__pwned='attr'`,
    text: '</li></ul><script>window.__pwned = "close"</script>',
    site: ' java\tscript:window.__pwned="tab"',
  },
];

/** User data in text and in attributes: everything renders as text. */
export function Guestbook() {
  return (
    <ul class="guestbook" data-node="guestbook">
      {GUESTBOOK.map((entry) => (
        <li class="entry" title={entry.author}>
          <a href={entry.site} rel="nofollow">
            {entry.author}
          </a>
          : <span class="text">{entry.text}</span>
        </li>
      ))}
    </ul>
  );
}
