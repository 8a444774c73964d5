/** @jsxImportSource #jsx */
/**
 * The page's script (bundled by the server with esbuild): opens a bridge
 * session over a WebSocket back to the server and exposes `weave`, so the
 * server can push streams of feed updates into the page's DOM lanes.
 *
 * @module
 */
import { webSocketEndpoint } from '../../../adapters/websocket.ts';
import { Session } from '../../../src/index.ts';
import type { FeedClientApi, FeedUpdate } from '../app/feed.ts';
import { FeedItem } from '../app/feed-item.tsx';
import { domLane, type DomLane } from './weaver.ts';

const feed = document.getElementById('feed');
const status = document.getElementById('feed-status');
const setStatus = (text: string): void => {
  if (status !== null) status.textContent = text;
};

const lanes = new Map<string, DomLane<FeedUpdate>>();
if (feed !== null) lanes.set('feed', domLane(feed, (update: FeedUpdate) => <FeedItem update={update} />));

const handlers: FeedClientApi = {
  weave(target, updates) {
    const lane = lanes.get(target);
    if (lane === undefined) throw new TypeError(`no DOM lane named ${JSON.stringify(target)} on this page`);
    return lane.chain(updates);
  },
};

const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
const socket = new WebSocket(`${scheme}://${location.host}/weave`);
socket.addEventListener('open', () => setStatus('live'));
const session = new Session(webSocketEndpoint(socket), { handlers });
void session.closed.then((reason) => setStatus(`disconnected: ${reason.message}`));
