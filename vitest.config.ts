// Two projects run the same tests:
//   node     every test/**/*.test.ts except *.browser.test.ts, in Node with relaxed SIMD enabled;
//   browser  every test/**/*.test.ts except *.node.test.ts, in a real headless Chromium.
// Tests that need Node itself (fs, worker_threads, child_process) are named *.node.test.ts;
// tests that need a page or Web Workers are named *.browser.test.ts.
//
// `npm test` (scripts/test.mjs) builds what is stale, runs both projects one after the other
// and reports the total. By hand: `npx vitest run --project node` (or `--project browser`).

import { fileURLToPath } from 'node:url';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { CHROMIUM_ARGS, findChromium, INSTALL_HINT } from './test/setup/chromium.mjs';

const TESTS = ['test/**/*.test.ts'];
const DIST = fileURLToPath(new URL('./dist/', import.meta.url));

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const nodeProject: TestProjectInlineConfiguration = {
  extends: true,
  test: {
    name: 'node',
    environment: 'node',
    include: TESTS,
    exclude: ['**/node_modules/**', 'test/**/*.browser.test.ts'],
    setupFiles: ['test/setup/node.ts'],
    server: {
      deps: {
        // The bundle tests load dist/ with Node's own loader, exactly as a user's `import`
        // or `require` would, not through Vite's transform.
        external: [new RegExp(`^${escapeRegExp(DIST)}`)],
      },
    },
  },
};

// Playwright cannot download its browser builds offline, so the system Chromium is launched.
const chromium = findChromium();

const browserProject: TestProjectInlineConfiguration = {
  extends: true,
  test: {
    name: 'browser',
    include: TESTS,
    exclude: ['**/node_modules/**', 'test/**/*.node.test.ts'],
    browser: {
      enabled: true,
      headless: true,
      provider: playwright({
        launchOptions: { executablePath: chromium.path ?? undefined, args: CHROMIUM_ARGS },
      }),
      instances: [{ browser: 'chromium' }],
      // Failures are reported as text; screenshots of a blank test page would add nothing.
      screenshotFailures: false,
    },
  },
};

if (!chromium.path) {
  // scripts/test.mjs reports this as well, and fails under CI=true.
  console.warn(
    `vitest.config.ts: no Chromium found (looked at: ${chromium.tried.join(', ')}), so the ` +
      `browser project is left out; to run it, ${INSTALL_HINT}.`,
  );
}

export default defineConfig({
  test: {
    testTimeout: 60_000,
    projects: chromium.path ? [nodeProject, browserProject] : [nodeProject],
  },
});
