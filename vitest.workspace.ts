// The test projects. vitest 4 ignores a top-level workspace file on its own, so
// vitest.config.ts imports this list into `test.projects`.
import { playwright } from '@vitest/browser-playwright';
import type { TestProjectInlineConfiguration } from 'vitest/config';
import { CHROMIUM_ARGS, chromiumPath } from './test/chromium.ts';

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
