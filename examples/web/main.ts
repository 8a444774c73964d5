/**
 * `npm run demo:web`: the streaming UI demo on http://127.0.0.1:PORT/ (PORT
 * from the environment, default 5173). Ctrl-C stops it.
 */
import { startWebServer } from './server/server.tsx';

const DEFAULT_PORT = 5173;
const port = process.env.PORT === undefined || process.env.PORT === '' ? DEFAULT_PORT : Number(process.env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`PORT must be a port number (0-65535), got ${JSON.stringify(process.env.PORT)}`);
  process.exit(2);
}

const server = await startWebServer({ port, log: (line) => console.log(line) });
console.log(`stream-weaver web demo on ${server.url} (PORT=${server.port}${process.env.PORT ? '' : ', the default'}); Ctrl-C to stop`);
process.once('SIGINT', () => {
  void server.close().then(() => process.exit(130));
});
