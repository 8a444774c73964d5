/** @jsxImportSource #jsx */
/**
 * One feed update as HTML. A plain component of the same JSX runtime the
 * server renders the page with; the page's script renders every update with it.
 *
 * @module
 */
import type { FeedUpdate } from './feed.ts';

/** An update as a list item, its text escaped like any other. @example <FeedItem update={update} /> */
export function FeedItem({ update }: { update: FeedUpdate }) {
  return (
    <li class={`feed-item ${update.source}`} data-seq={update.seq}>
      <time datetime={update.at.toISOString()}>{update.at.toISOString().slice(11, 19)}</time>{' '}
      <span class="text">{update.text}</span>
    </li>
  );
}
