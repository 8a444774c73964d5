// The test projects. vitest 4 ignores a top-level workspace file on its own, so
// vitest.config.ts imports this list into `test.projects`.
import { playwright } from '@vitest/browser-playwright';
import type { TestProjectInlineConfiguration } from 'vitest/config';

/** Chromium flags that matter as root on a closed network (see ../shared/TOOLCHAIN.md). */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const projects: TestProjectInlineConfiguration[] = [
  {
    test: {
      name: 'node',
      include: ['test/node/**/*.test.ts'],
      environment: 'node',
      testTimeout: 30_000,
      hookTimeout: 30_000,
      benchmark: { include: [] },
    },
  },
  {
    test: {
      name: 'browser',
      include: ['test/browser/**/*.test.ts'],
      testTimeout: 30_000,
      hookTimeout: 30_000,
      benchmark: { include: [] },
      globalSetup: ['test/browser/global-setup.ts'],
      browser: {
        enabled: true,
        headless: true,
        screenshotFailures: false,
        provider: playwright({
          launchOptions: { executablePath: chromiumPath, args: CHROMIUM_ARGS },
        }),
        instances: [{ browser: 'chromium' }],
      },
    },
  },
];
