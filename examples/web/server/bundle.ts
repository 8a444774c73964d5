/**
 * The page's script, bundled from TypeScript with esbuild in memory, once per server.
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ENTRY = fileURLToPath(new URL('../client/main.tsx', import.meta.url));

/**
 * Bundles the client entry (the bridge, the WebSocket adapter, the JSX runtime
 * and the feed item component) into one ES module for browsers.
 *
 * @example const js = await bundleClient(); response.end(js);
 */
export async function bundleClient(): Promise<string> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}
