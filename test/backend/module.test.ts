// A backend built from another backend's compiled module (what trial workers receive): its own
// heap, the same kernels, the same results; and clear errors for a wrong module argument.

import { describe, expect, it } from 'vitest';
import { createBackend, createBackendAsync, getBackend, setBackend, type Backend } from '../../src/backend/backend.js';
import { ops, tensor } from '../../src/index.js';

describe('createBackend({ module })', () => {
  it('instantiates a given module over a new heap and computes the same values', async () => {
    const first = await createBackendAsync({ flavor: 'simd' });
    expect(first.module).toBeInstanceOf(WebAssembly.Module);
    const second = createBackend({ flavor: 'simd', module: first.module });
    expect(second.module).toBe(first.module);
    expect(second.heap).not.toBe(first.heap);
    const a = Float32Array.from({ length: 5 * 7 }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: 7 * 3 }, (_, i) => Math.cos(i));
    const product = (backend: Backend) => {
      const before = getBackend();
      setBackend(backend);
      try {
        return ops.matmul(tensor(a, [5, 7]), tensor(b, [7, 3])).dataSync();
      } finally {
        setBackend(before);
      }
    };
    expect(Array.from(product(second))).toEqual(Array.from(product(first)));
  });

  it('refuses a module that is not a WebAssembly.Module, or one without its flavor', async () => {
    const { module } = await createBackendAsync({ flavor: 'simd' });
    expect(() => createBackend({ flavor: 'simd', module: new Uint8Array(8) as unknown as WebAssembly.Module }))
      .toThrow('expected module to be a WebAssembly.Module, got Uint8Array');
    expect(() => createBackend({ module })).toThrow("a module needs its flavor: pass flavor 'simd' or 'relaxed-simd'");
    await expect(createBackendAsync({ module })).rejects.toThrow('a module needs its flavor');
  });
});
