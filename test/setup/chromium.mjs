// Finds the Chromium that the browser tests run in. Playwright cannot download its own browser
// builds on an offline machine, so the suite always launches a system Chromium through
// `executablePath`.
//
// Lookup order: $CHROMIUM_PATH if set (and then nothing else, so a wrong value is reported
// rather than silently replaced), /usr/bin/chromium, then chromium, chromium-browser and
// google-chrome on $PATH.
//
// Run directly (`node test/setup/chromium.mjs`) it prints the path found, or exits with
// status 1 and an explanation on stderr; .ci/run uses that to decide whether to install one.

import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DEFAULT_PATH = '/usr/bin/chromium';
const NAMES_ON_PATH = ['chromium', 'chromium-browser', 'google-chrome'];

/** Flags for a quiet, reproducible headless run (no sandbox: CI containers run as root). */
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

/** How to get a browser, for messages that report a missing one. */
export const INSTALL_HINT =
  'install one with `sudo apt-get install chromium`, or set CHROMIUM_PATH to a Chromium or ' +
  'Chrome executable';

function isExecutableFile(path) {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * @returns {{ path: string | null, tried: string[] }} the executable found (or null) and every
 * place that was looked at, in order.
 */
export function findChromium(env = process.env) {
  if (env.CHROMIUM_PATH) {
    const path = env.CHROMIUM_PATH;
    return { path: isExecutableFile(path) ? path : null, tried: [`CHROMIUM_PATH=${path}`] };
  }
  const candidates = [DEFAULT_PATH];
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of NAMES_ON_PATH) {
    for (const dir of dirs) candidates.push(join(dir, name));
  }
  const path = candidates.find(isExecutableFile) ?? null;
  return { path, tried: [DEFAULT_PATH, ...NAMES_ON_PATH.map((name) => `${name} on PATH`)] };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { path, tried } = findChromium();
  if (path) {
    console.log(path);
  } else {
    console.error(`No Chromium found (looked at: ${tried.join(', ')}); ${INSTALL_HINT}.`);
    process.exit(1);
  }
}
