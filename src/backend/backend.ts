// A backend is a kernel table plus the heap its pointers refer to. There are two kinds:
// the WebAssembly SIMD kernels (the default) and the TypeScript reference, which is the oracle
// in tests and the fallback where WebAssembly SIMD is missing.

import { describe } from '../util/describe.js';
import { Heap, ALIGN } from './heap.js';
import type { Kernels } from './kernels.js';
import { referenceKernels } from './reference/index.js';
import { hasSimd } from './wasm/features.js';
import {
  compileKernels, compileKernelsSync, instantiateKernels, type WasmFlavor, type WasmModuleChoice,
} from './wasm/loader.js';

export type BackendFlavor = WasmFlavor | 'reference';

export interface Backend {
  /** Which kernels run: 'relaxed-simd', 'simd' or 'reference'. */
  readonly flavor: BackendFlavor;
  readonly kernels: Kernels;
  readonly heap: Heap;
  /**
   * The compiled kernel module (WebAssembly flavors only). It can be posted to workers, which
   * then instantiate it instead of compiling the kernels again (see BackendOptions.module).
   */
  readonly module?: WebAssembly.Module;
}

export interface BackendOptions {
  /**
   * 'auto' (default) picks relaxed SIMD where the engine accepts it, then plain SIMD, then
   * the reference kernels.
   */
  flavor?: BackendFlavor | 'auto';
  /** Initial heap size in 64 KiB pages. */
  initialPages?: number;
  /** The heap's growth limit in 64 KiB pages (at most 65536, i.e. 4 GiB). */
  maxPages?: number;
  /**
   * An already compiled kernel module of the given `flavor` ('simd' or 'relaxed-simd'), for
   * example another thread's `backend.module`: the backend instantiates it over a new heap
   * instead of compiling the kernels again.
   */
  module?: WebAssembly.Module;
}

function resolveFlavor(flavor: BackendOptions['flavor']): WasmFlavor | 'reference' | undefined {
  if (flavor === undefined || flavor === 'auto') return hasSimd() ? undefined : 'reference';
  return flavor;
}

function fromModule(choice: WasmModuleChoice, options: BackendOptions): Backend {
  const { kernels, heap } = instantiateKernels(choice.module, options);
  return { flavor: choice.flavor, kernels, heap, module: choice.module };
}

/** The module the options name, checked against their flavor; null to compile one. */
function givenModule(options: BackendOptions, flavor: WasmFlavor | undefined): WasmModuleChoice | null {
  const { module } = options;
  if (module === undefined) return null;
  if (!(module instanceof WebAssembly.Module)) {
    throw new Error(`kerasm.createBackend: expected module to be a WebAssembly.Module, got ${describe(module)}`);
  }
  if (flavor === undefined) {
    throw new Error("kerasm.createBackend: a module needs its flavor: pass flavor 'simd' or 'relaxed-simd' with it");
  }
  return { flavor, module };
}

/** A backend running the TypeScript reference kernels. */
export function createReferenceBackend(options: BackendOptions = {}): Backend {
  const heap = new Heap(ALIGN, options);
  return { flavor: 'reference', kernels: referenceKernels(heap), heap };
}

/**
 * Creates an independent backend synchronously. Works in Node and in workers; a browser's main
 * thread refuses to compile large modules synchronously, so use `createBackendAsync` there.
 */
export function createBackend(options: BackendOptions = {}): Backend {
  const flavor = resolveFlavor(options.flavor);
  if (flavor === 'reference') return createReferenceBackend(options);
  return fromModule(givenModule(options, flavor) ?? compileKernelsSync(flavor), options);
}

/** Creates an independent backend, compiling the kernels asynchronously. */
export async function createBackendAsync(options: BackendOptions = {}): Promise<Backend> {
  const flavor = resolveFlavor(options.flavor);
  if (flavor === 'reference') return createReferenceBackend(options);
  return fromModule(givenModule(options, flavor) ?? await compileKernels(flavor), options);
}

let current: Backend | null = null;

/**
 * Prepares kerasm's compute backend. Call it once before anything else on a browser page;
 * in Node and in workers the first operation does it lazily if you did not.
 *
 * @example
 * ```ts
 * import { init } from 'kerasm';
 * const backend = await init();
 * console.log(backend.flavor); // 'relaxed-simd' in Chromium, 'simd' in plain Node 20
 * ```
 */
export async function init(options: BackendOptions = {}): Promise<Backend> {
  current = await createBackendAsync(options);
  return current;
}

/** The active backend, created on first use with default options. */
export function getBackend(): Backend {
  if (current === null) {
    try {
      current = createBackend();
    } catch (error) {
      throw new Error(
        'kerasm: could not prepare the kernels synchronously; call `await init()` first ' +
          `(${(error as Error).message})`,
      );
    }
  }
  return current;
}

/** Makes `backend` the active one (tests, workers with their own heap). */
export function setBackend(backend: Backend): void {
  current = backend;
}
