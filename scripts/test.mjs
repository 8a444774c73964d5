#!/usr/bin/env node
// `npm test`: makes sure a Chromium is there for the browser project, then runs
// every test project once. Arguments are passed on to `vitest run`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function haveApt() {
  return spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
}

if (!existsSync(chromium)) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (process.env.CHROMIUM_PATH === undefined && isRoot && haveApt()) {
    console.error(`[test] no Chromium at ${chromium}: installing Debian's chromium package with apt-get`);
    const run = (args) => spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (run(['update', '-qq']).status !== 0 || run(['install', '-y', '-qq', 'chromium']).status !== 0) {
      console.error('[test] apt-get could not install chromium');
      process.exit(1);
    }
  } else {
    console.error(
      `[test] no Chromium found at ${chromium}.\n` +
        `  The browser tests run in a real Chromium. Either install one\n` +
        `  (Debian/Ubuntu: sudo apt-get install chromium) or point CHROMIUM_PATH at one:\n` +
        `    CHROMIUM_PATH=/path/to/chrome npm test`,
    );
    process.exit(1);
  }
}

const vitest = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, CHROMIUM_PATH: chromium },
});
process.exit(vitest.status ?? 1);
