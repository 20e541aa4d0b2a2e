/// <reference types="vite/client" />
// The built bundle in Chromium: imported on the page and inside a module Web Worker. The exact
// bytes of dist/kerasm.js are served from blob: URLs, so nothing (not even the test server's
// module transform) stands between the browser and the published file. Needs `npm run build`.

import { describe, expect, test } from 'vitest';
import { expectProduct, request, type MatmulReply } from './matmul-case.js';
import bundleSource from '../../dist/kerasm.js?raw';
import workerSource from './matmul.worker.mjs?raw';

const WORKER_TIMEOUT_MS = 30_000;

type Kerasm = typeof import('../../dist/kerasm.js');

function moduleUrl(source: string): string {
  return URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
}

const BUNDLE_URL = moduleUrl(bundleSource);

/** Runs matmul.worker.mjs as a module Web Worker; fails on error or silence. */
function runWebWorker(bundle: string): Promise<MatmulReply> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(moduleUrl(workerSource), { type: 'module', name: 'kerasm-matmul' });
    let settled = false;
    const settle = (done: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.terminate();
      done();
    };
    const timer = setTimeout(() => settle(() => reject(new Error(
      `the module Web Worker did not answer within ${WORKER_TIMEOUT_MS / 1000} s`,
    ))), WORKER_TIMEOUT_MS);
    worker.addEventListener('message', (event: MessageEvent<MatmulReply>) => {
      settle(() => resolve(event.data));
    });
    worker.addEventListener('messageerror', () => settle(() => reject(new Error(
      'the module Web Worker sent a message that could not be deserialized',
    ))));
    worker.addEventListener('error', (event: ErrorEvent) => {
      event.preventDefault();
      const where = event.filename ? ` at ${event.filename}:${event.lineno}` : '';
      settle(() => reject(new Error(
        `the module Web Worker failed${where}: ${event.message || 'it could not load its script'}`,
      )));
    });
    worker.postMessage(request(bundle));
  });
}

describe('the built bundle in Chromium', () => {
  test('the ES bundle imported on the page', async () => {
    const kerasm: Kerasm = await import(/* @vite-ignore */ BUNDLE_URL);
    const backend = await kerasm.init();
    expect(backend.flavor).toBe('relaxed-simd');
    const { a, aShape, b, bShape } = request(BUNDLE_URL);
    const product = kerasm.ops.matmul(kerasm.tensor(a, aShape), kerasm.tensor(b, bShape));
    expectProduct(
      { shape: [...product.shape], values: Array.from(product.dataSync()) },
      'page import of dist/kerasm.js',
    );
    product.dispose();
  });

  test('the ES bundle imported inside a module Web Worker', async () => {
    const reply = await runWebWorker(BUNDLE_URL);
    expectProduct(reply, 'module Web Worker');
    expect(reply.flavor).toBe('relaxed-simd');
  });
});
