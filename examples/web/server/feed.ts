/**
 * The live feed's producers and the push: on every new session the server
 * pushes two streams to the page, a backlog that takes a while to load and
 * live updates that start at once; the page shows the backlog first.
 *
 * @module
 */
import type { Session } from '../../../src/index.ts';
import { sleep } from '../app/clock.ts';
import { FEED_MESSAGES, type FeedClientApi, type FeedUpdate } from '../app/feed.ts';

/** Options of the feed. @example pushFeed(session, { history: 3, count: 10, intervalMs: 50 }); */
export interface FeedOptions {
  /** Updates in the backlog. Default 4. */
  history?: number;
  /** How long the backlog takes to load, in ms. Default 600. */
  historyDelayMs?: number;
  /** Live updates pushed after the backlog. Default 1,000. */
  count?: number;
  /** Time between live updates, in ms. Default 1,000. */
  intervalMs?: number;
}

/** Default {@link FeedOptions}. @example pushFeed(session, { ...DEFAULT_FEED, intervalMs: 250 }); */
export const DEFAULT_FEED: Required<FeedOptions> = { history: 4, historyDelayMs: 600, count: 1_000, intervalMs: 1_000 };

const update = (seq: number, source: FeedUpdate['source']): FeedUpdate => ({
  seq,
  at: new Date(),
  text: FEED_MESSAGES[(seq - 1) % FEED_MESSAGES.length]!,
  source,
});

/** The backlog: updates 1..count, all after one slow load. */
export async function* historyUpdates(count: number, delayMs: number): AsyncGenerator<FeedUpdate> {
  await sleep(delayMs);
  for (let seq = 1; seq <= count; seq++) yield update(seq, 'history');
}

/** Live updates from..from+count-1, one every `intervalMs`. */
export async function* liveUpdates(from: number, count: number, intervalMs: number): AsyncGenerator<FeedUpdate> {
  for (let seq = from; seq < from + count; seq++) {
    await sleep(intervalMs);
    yield update(seq, 'live');
  }
}

/**
 * Pushes the backlog, then the live updates, to the page on `session`. Both
 * are produced at once; the page chains them in push order. When the page
 * goes away the session closes and both producers are closed.
 */
export function pushFeed(session: Session, options: FeedOptions = {}, log: (line: string) => void = () => {}): void {
  const { history, historyDelayMs, count, intervalMs } = { ...DEFAULT_FEED, ...options };
  const page = session.remote<FeedClientApi>();
  const report = (name: string) => [
    (painted: number) => log(`feed: ${name} painted (${painted} updates)`),
    (error: unknown) => log(`feed: ${name} stopped: ${error instanceof Error ? error.message : String(error)}`),
  ] as const;
  page.weave('feed', historyUpdates(history, historyDelayMs)).then(...report('backlog'));
  page.weave('feed', liveUpdates(history + 1, count, intervalMs)).then(...report('live updates'));
}
