// Instantiates the kernel module over a Heap. The module imports its memory (env.memory) so
// that TypeScript owns it; the module's own static data ends at `kernels_heap_base()`.

import { Heap } from '../heap.js';
import { KERNEL_NAMES, type Kernels } from '../kernels.js';
import { RELAXED_WASM_BASE64, SIMD_WASM_BASE64 } from './binary.generated.js';
import { hasRelaxedSimd } from './features.js';

export type WasmFlavor = 'simd' | 'relaxed-simd';

export interface WasmModuleChoice {
  flavor: WasmFlavor;
  module: WebAssembly.Module;
}

interface KernelExports {
  kernels_heap_base(): number;
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Picks the relaxed build where the engine accepts it, unless `flavor` says otherwise. */
export function chooseFlavor(flavor?: WasmFlavor): WasmFlavor {
  if (flavor === 'relaxed-simd' && !hasRelaxedSimd()) {
    throw new Error(
      'kerasm: the relaxed-simd kernels were requested, but this engine does not accept ' +
        'relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd)',
    );
  }
  return flavor ?? (hasRelaxedSimd() ? 'relaxed-simd' : 'simd');
}

function bytesOf(flavor: WasmFlavor): Uint8Array {
  return decodeBase64(flavor === 'relaxed-simd' ? RELAXED_WASM_BASE64 : SIMD_WASM_BASE64);
}

/** Compiles the kernel module asynchronously (required on a browser's main thread). */
export async function compileKernels(flavor?: WasmFlavor): Promise<WasmModuleChoice> {
  const chosen = chooseFlavor(flavor);
  return { flavor: chosen, module: await WebAssembly.compile(bytesOf(chosen) as BufferSource) };
}

/** Compiles synchronously: fine in Node and workers, refused for large modules on a page. */
export function compileKernelsSync(flavor?: WasmFlavor): WasmModuleChoice {
  const chosen = chooseFlavor(flavor);
  return { flavor: chosen, module: new WebAssembly.Module(bytesOf(chosen) as BufferSource) };
}

/** Instantiates a compiled module over a fresh heap. */
export function instantiateKernels(
  module: WebAssembly.Module, heapOptions?: { initialPages?: number; maxPages?: number },
): { kernels: Kernels; heap: Heap } {
  // The module's static data is small; give it a first page, then let the heap start after it.
  const probeMemory = new WebAssembly.Memory({ initial: 1 });
  const probeInstance = new WebAssembly.Instance(module, { env: { memory: probeMemory } });
  const base = (probeInstance.exports as unknown as KernelExports).kernels_heap_base();
  const heap = new Heap(base, heapOptions);
  const instance = new WebAssembly.Instance(module, { env: { memory: heap.memory } });
  const exports = instance.exports as Record<string, unknown>;
  const missing = KERNEL_NAMES.filter((name) => typeof exports[name] !== 'function');
  if (missing.length > 0) {
    throw new Error(`kerasm: the kernel module lacks ${missing.join(', ')}`);
  }
  return { kernels: exports as unknown as Kernels, heap };
}
