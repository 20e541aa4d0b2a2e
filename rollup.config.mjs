// Builds the published bundle from src/index.ts:
//
//   dist/kerasm.js      ES module      (import 'kerasm'; browsers, module workers, Node)
//   dist/kerasm.cjs     CommonJS       (require('kerasm') in Node 20)
//   dist/kerasm.d.ts    types for `import`  (re-exports dist/types/index.d.ts)
//   dist/kerasm.d.cts   types for `require` (re-exports dist/types/index.d.cts)
//   dist/types/**       one declaration file per source module, as .d.ts and .d.cts
//   *.map               source maps
//
// The wasm kernels are already inlined as base64 (src/backend/wasm/binary.generated.ts, written
// by `npm run build:wasm`), so each bundle is one self-contained file that works unchanged in
// Node, browsers, module Web Workers and worker_threads. What must stay true, and is checked
// below at build time:
//   - a bundle is a single file with no static imports at all, so a browser can load it from
//     any URL (a Node built-in imported at the top level would break every browser);
//   - Node-only code reaches Node built-ins only through dynamic `import('node:...')`, which
//     stays a lazy `import()` in both bundles (Node allows it in CommonJS too). Marking it
//     `import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs')` keeps an app's own
//     bundler from trying to resolve it for the browser; the comments survive this build.

import { existsSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import typescript from '@rollup/plugin-typescript';

const INPUT = 'src/index.ts';
const TYPES_DIR = 'dist/types';

const nodeBuiltins = new Set(builtinModules);

function isNodeBuiltin(id) {
  return id.startsWith('node:') || nodeBuiltins.has(id) || nodeBuiltins.has(id.split('/')[0]);
}

/** Fails the build if a bundle would need anything at load time besides itself. */
function selfContained() {
  return {
    name: 'kerasm-self-contained',
    generateBundle(options, bundle) {
      const chunks = Object.values(bundle).filter((file) => file.type === 'chunk');
      if (chunks.length !== 1) {
        this.error(`expected one ${options.format} chunk, got ${chunks.map((c) => c.fileName)}`);
      }
      const [chunk] = chunks;
      if (chunk.imports.length > 0) {
        this.error(
          `${chunk.fileName} imports ${chunk.imports.join(', ')} at the top level; the bundle ` +
            'must load in browsers, so reach Node built-ins through dynamic import() only',
        );
      }
      const foreign = chunk.dynamicImports.filter((id) => !isNodeBuiltin(id));
      if (foreign.length > 0) {
        this.error(`${chunk.fileName} dynamically imports ${foreign.join(', ')}: inline it`);
      }
    },
  };
}

/**
 * Declarations for both module systems. TypeScript (`module: node16`/`nodenext`) takes a `.d.ts`
 * inside a `"type": "module"` package for an ES module, which `require('kerasm')` may not load;
 * so the CommonJS output gets a `.d.cts` twin of every declaration, with its relative imports
 * pointing at the other twins. The two entry points re-export the per-module declarations:
 *
 *   dist/kerasm.d.ts   -> ./types/index.js   (dist/types/index.d.ts)
 *   dist/kerasm.d.cts  -> ./types/index.cjs  (dist/types/index.d.cts)
 */
function typeEntries() {
  const header =
    '// Type entry point; the declarations live in ./types, one file per source module.\n';
  const RELATIVE_JS = /((?:from\s+|import\s*\(\s*)['"]\.{1,2}\/[^'"]*)\.js(['"])/g;
  // `export const X = "<base64 of the wasm>"` would otherwise be declared with its literal
  // type, copying the whole module into the declarations.
  const LONG_LITERAL = /^(export declare const \w+) = "[^"\n]{200,}";$/gm;
  return {
    name: 'kerasm-type-entries',
    generateBundle(options, bundle) {
      const cjs = options.format === 'cjs';
      for (const file of Object.values(bundle)) {
        if (file.type !== 'asset' || !/^types\/.*\.d\.ts$/.test(file.fileName)) continue;
        const source = String(file.source).replace(LONG_LITERAL, '$1: string;');
        if (!cjs) {
          file.source = source;
          continue;
        }
        delete bundle[file.fileName]; // the ES output writes the .d.ts files
        this.emitFile({
          type: 'asset',
          fileName: file.fileName.replace(/\.d\.ts$/, '.d.cts'),
          source: source.replace(RELATIVE_JS, '$1.cjs$2'),
        });
      }
      this.emitFile({
        type: 'asset',
        fileName: cjs ? 'kerasm.d.cts' : 'kerasm.d.ts',
        source: `${header}export * from './types/index.${cjs ? 'cjs' : 'js'}';\n`,
      });
    },
  };
}

/**
 * Deletes files in dist/ that this build did not write (declarations of deleted source files,
 * for example). Pruning afterwards rather than emptying dist/ first means the previous bundle
 * stays in place, and usable by anything running against it, while the new one is built.
 */
function pruneDist() {
  const written = new Set();
  return {
    name: 'kerasm-prune-dist',
    buildStart() {
      written.clear();
    },
    writeBundle(options, bundle) {
      const dir = dirname(options.file);
      for (const fileName of Object.keys(bundle)) written.add(join(dir, fileName));
    },
    closeBundle() {
      if (written.size === 0 || !existsSync('dist')) return; // the build failed: keep what is there
      const entries = readdirSync('dist', { recursive: true }).map((entry) => join('dist', entry));
      for (const path of entries) {
        if (statSync(path).isFile() && !written.has(path)) rmSync(path);
      }
      // Deepest first, so that a directory emptied of empty directories goes too.
      for (const path of entries.sort().reverse()) {
        if (existsSync(path) && statSync(path).isDirectory() && readdirSync(path).length === 0) {
          rmdirSync(path);
        }
      }
    },
  };
}

export default {
  input: INPUT,
  external: isNodeBuiltin,
  plugins: [
    typescript({
      tsconfig: './tsconfig.json',
      compilerOptions: {
        rootDir: 'src',
        declaration: true,
        declarationDir: TYPES_DIR,
        declarationMap: false,
        sourceMap: true,
      },
    }),
    selfContained(),
    typeEntries(),
    pruneDist(),
  ],
  output: [
    {
      file: 'dist/kerasm.js',
      format: 'es',
      sourcemap: true,
      inlineDynamicImports: true,
    },
    {
      file: 'dist/kerasm.cjs',
      format: 'cjs',
      exports: 'named',
      sourcemap: true,
      inlineDynamicImports: true,
    },
  ],
  onwarn(warning, warn) {
    // A circular import between source modules is legal ES and common in layered code; every
    // other warning (unresolved imports, missing exports, type errors) is worth seeing.
    if (warning.code === 'CIRCULAR_DEPENDENCY') return;
    warn(warning);
  },
};
