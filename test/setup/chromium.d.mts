// Types for chromium.mjs, which stays plain JavaScript so that scripts/test.mjs can run it.

/** Flags for a quiet, reproducible headless run. */
export const CHROMIUM_ARGS: string[];
/** How to get a browser, for messages that report a missing one. */
export const INSTALL_HINT: string;
/** The Chromium executable found (or null) and every place that was looked at, in order. */
export function findChromium(env?: NodeJS.ProcessEnv): { path: string | null; tried: string[] };
