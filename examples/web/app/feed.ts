/**
 * The live feed's contract, shared by the server (which pushes streams of
 * updates) and the browser (which weaves them into the DOM).
 *
 * @module
 */

/** One feed update; crosses the socket as superjson, so `at` stays a Date. */
export interface FeedUpdate {
  /** 1, 2, 3, ... across every stream pushed to one page: the order they must show in. */
  seq: number;
  at: Date;
  text: string;
  /** `history`: the backlog sent first; `live`: pushed as it happens. */
  source: 'history' | 'live';
}

/**
 * What the page's script exposes to the server over its WebSocket session.
 * @example await session.remote<FeedClientApi>().weave('feed', updates());
 */
export interface FeedClientApi {
  /**
   * Chains `updates` onto the DOM lane `target` after the streams pushed to it
   * before; resolves with the number of updates painted once the stream ended.
   */
  weave(target: string, updates: AsyncIterable<FeedUpdate>): Promise<number>;
}

/** What the mill reports, in turn; one of them is hostile and must show as text. */
export const FEED_MESSAGES: readonly string[] = [
  'Loom 3 finished a bolt of merino',
  'Shuttle restocked: 40 boat shuttles',
  'New order: 2 inkle looms',
  '<img src=x onerror="window.__pwned=\'feed\'"> tried to sneak in',
  'Dye vat 2 at 80 °C',
  'Order shipped: tapestry frame',
];
