// One place for how the tests launch Debian's Chromium: the vitest browser
// project and the Playwright-driven node tests use the same path and flags.

/** The Chromium to drive: `$CHROMIUM_PATH`, or Debian's package. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags that matter as root on a closed network (see ../shared/TOOLCHAIN.md). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
