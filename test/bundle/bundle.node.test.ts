// The built bundle as Node users get it: `import` and `require` of the published files (through
// the package's own `exports`, which Node lets a package use for itself), a worker_threads
// Worker, and fresh `node` processes with and without relaxed SIMD. Needs `npm run build`.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, test } from 'vitest';
import { expectProduct, request, type MatmulReply } from './matmul-case.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ESM_BUNDLE = `${ROOT}dist/kerasm.js`;
const CJS_BUNDLE = `${ROOT}dist/kerasm.cjs`;
const WORKER = new URL('./matmul.worker.mjs', import.meta.url);
const WORKER_TIMEOUT_MS = 30_000;
const require = createRequire(import.meta.url);

type Kerasm = typeof import('../../dist/kerasm.js');

function matmulWith(kerasm: Kerasm, bundle: string): MatmulReply {
  const { a, aShape, b, bShape } = request(bundle);
  const product = kerasm.ops.matmul(kerasm.tensor(a, aShape), kerasm.tensor(b, bShape));
  const reply = { shape: [...product.shape], values: Array.from(product.dataSync()) };
  product.dispose();
  return reply;
}

/** Runs matmul.worker.mjs in a worker_threads Worker; fails on error, early exit or silence. */
function runNodeWorker(bundle: string): Promise<MatmulReply> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: request(bundle) });
    let settled = false;
    const settle = (done: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      done();
    };
    const timer = setTimeout(() => settle(() => reject(new Error(
      `the worker_threads Worker did not answer within ${WORKER_TIMEOUT_MS / 1000} s`,
    ))), WORKER_TIMEOUT_MS);
    worker.once('message', (reply: MatmulReply) => settle(() => resolve(reply)));
    worker.once('error', (error) => settle(() => reject(new Error(
      `the worker_threads Worker failed: ${error.stack ?? error}`,
    ))));
    worker.once('exit', (code) => settle(() => reject(new Error(
      `the worker_threads Worker exited with code ${code} before answering`,
    ))));
  });
}

/** Runs `script` (CommonJS) in a fresh `node` from the package root; returns its JSON output. */
function runNode(nodeFlags: string[], script: string): MatmulReply {
  const stdout = execFileSync(process.execPath, [...nodeFlags, '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
    timeout: WORKER_TIMEOUT_MS,
  });
  return JSON.parse(stdout) as MatmulReply;
}

const CHILD_SCRIPT = `
const kerasm = require('kerasm');
const a = kerasm.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
const b = kerasm.tensor([1, 0, 0, 1, 1, 1], [3, 2]);
kerasm.init().then((backend) => {
  const values = Array.from(kerasm.ops.matmul(a, b).dataSync());
  process.stdout.write(JSON.stringify({ flavor: backend.flavor, values }));
});
`;

describe('the built bundle in Node', () => {
  beforeAll(() => {
    for (const file of [ESM_BUNDLE, CJS_BUNDLE]) {
      if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
    }
  });

  test('the ES bundle has no static imports, so browsers can load it', () => {
    const source = readFileSync(ESM_BUNDLE, 'utf8');
    const staticImports = source.match(/^\s*(import\s[^(]|export\s[^;]*\sfrom\s)[^\n]*/gm);
    expect(staticImports, 'static import lines in dist/kerasm.js').toBeNull();
  });

  test('import of the ES bundle, on the main thread', async () => {
    const kerasm: Kerasm = await import('../../dist/kerasm.js');
    const backend = await kerasm.init();
    expect(['simd', 'relaxed-simd']).toContain(backend.flavor);
    expectProduct(matmulWith(kerasm, ESM_BUNDLE), 'import dist/kerasm.js');
  });

  test('require() of the CommonJS bundle', async () => {
    expect(require.resolve('kerasm'), "require.resolve('kerasm')").toBe(CJS_BUNDLE);
    const kerasm = require('kerasm') as Kerasm;
    expect(kerasm).toBe(require(CJS_BUNDLE));
    const backend = await kerasm.init();
    expect(['simd', 'relaxed-simd']).toContain(backend.flavor);
    expectProduct(matmulWith(kerasm, CJS_BUNDLE), "require('kerasm')");
  });

  test('import of the ES bundle inside a worker_threads Worker', async () => {
    const reply = await runNodeWorker('kerasm');
    expectProduct(reply, 'worker_threads Worker');
    expect(reply.resolved, "import 'kerasm' in the worker").toBe(`file://${ESM_BUNDLE}`);
    expect(['simd', 'relaxed-simd']).toContain(reply.flavor);
  });

  test('a fresh node process: plain SIMD by default on Node 20, relaxed SIMD with its flag', () => {
    const expected = [1 + 3, 2 + 3, 4 + 6, 5 + 6];
    const plain = runNode([], CHILD_SCRIPT);
    expect(plain.values).toEqual(expected);
    if (process.versions.node.startsWith('20.')) expect(plain.flavor).toBe('simd');
    const relaxed = runNode(['--experimental-wasm-relaxed-simd'], CHILD_SCRIPT);
    expect(relaxed.values).toEqual(expected);
    expect(relaxed.flavor).toBe('relaxed-simd');
  });
});
