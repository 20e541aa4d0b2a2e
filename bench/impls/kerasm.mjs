// kerasm, loaded from the built bundle exactly as a user would import it.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BUNDLE = new URL('../../dist/kerasm.js', import.meta.url);

/**
 * @param {'simd' | 'relaxed-simd' | 'auto'} flavor
 * @returns {Promise<import('./index.mjs').Engine>}
 */
export async function prepareKerasm(flavor) {
  if (!existsSync(fileURLToPath(BUNDLE))) {
    throw new Error('dist/kerasm.js not found: run `npm run build` first');
  }
  const api = await import(BUNDLE.href);
  const backend = await api.init({ flavor });
  if (flavor !== 'auto' && backend.flavor !== flavor) {
    throw new Error(`asked kerasm for flavor '${flavor}', got '${backend.flavor}'`);
  }
  return {
    name: 'kerasm',
    ctx: api,
    policy: 'fast',
    describe: { flavor: backend.flavor },
    activate: async () => {},
    // Bytes allocated in the kernel heap; with `out` tensors a timed loop must not add any.
    memory: () => backend.heap.bytesInUse,
    memoryUnit: 'heap bytes',
  };
}

/**
 * Wraps a kerasm op for the harness. `setup(api, inputs)` returns the input tensors, a
 * preallocated `out` tensor and `op(out)`; the timed run writes into `out`, so it allocates
 * nothing. `out` starts as NaN so that an op that ignores it fails the numeric check.
 */
export function kerasmOp(setup) {
  return (api, inputs) => {
    const { tensors, outShape, op } = setup(api, inputs);
    const size = outShape.reduce((a, b) => a * b, 1);
    const out = api.tensor(new Float32Array(size).fill(NaN), outShape);
    return {
      run: () => op(out),
      result: () => out.dataSync(),
      dispose: () => {
        for (const t of tensors) t.dispose();
        out.dispose();
      },
    };
  };
}
