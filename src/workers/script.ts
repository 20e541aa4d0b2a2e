// The script pool workers run unless told otherwise: the module this code was bundled into. In
// dist/kerasm.js that is the ES bundle's own URL; in dist/kerasm.cjs rollup turns import.meta.url
// into the file URL of the CommonJS bundle. Code run from the TypeScript sources (tests) has no
// bundle to point at and must name one.

/** The URL of the bundle holding this code. */
export function bundleUrl(): string {
  return import.meta.url;
}
