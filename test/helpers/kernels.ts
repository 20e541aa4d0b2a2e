// Shared helpers for kernel tests: a wasm backend and the reference backend side by side,
// buffers copied into both, and float comparisons whose failures name the place and values.

import { createBackend, createReferenceBackend, type Backend } from '../../src/backend/backend.js';
import type { Ptr } from '../../src/backend/kernels.js';
import { hasRelaxedSimd } from '../../src/backend/wasm/features.js';
import { Random } from '../../src/util/random.js';

export type WasmFlavorUnderTest = 'simd' | 'relaxed-simd';

/** The wasm flavors this engine can run: plain SIMD always, relaxed where accepted. */
export function flavorsUnderTest(): WasmFlavorUnderTest[] {
  return hasRelaxedSimd() ? ['simd', 'relaxed-simd'] : ['simd'];
}

/** Awkward sizes: 1, SIMD width and tile sizes each +-1, odd primes, and a large one. */
export const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 13, 15, 16, 17, 31, 33, 64, 127, 257];

export interface Pair {
  wasm: Backend;
  ref: Backend;
}

const cache = new Map<string, Pair>();

/** One wasm backend of `flavor` and one reference backend, reused across a test file. */
export function pair(flavor: WasmFlavorUnderTest): Pair {
  let p = cache.get(flavor);
  if (!p) {
    p = { wasm: createBackend({ flavor }), ref: createReferenceBackend() };
    cache.set(flavor, p);
  }
  return p;
}

/** Copies `data` into a fresh block of `backend`'s heap. */
export function upload(backend: Backend, data: Float32Array | Int32Array): Ptr {
  const ptr = backend.heap.alloc(data.byteLength);
  backend.heap.write(ptr, data);
  return ptr;
}

/** Allocates `n` f32 filled with a NaN canary, so that an unwritten output is caught. */
export function allocCanary(backend: Backend, n: number): Ptr {
  const ptr = backend.heap.alloc(n * 4);
  backend.heap.f32.fill(Number.NaN, ptr >> 2, (ptr >> 2) + n);
  return ptr;
}

export function download(backend: Backend, ptr: Ptr, n: number): Float32Array {
  return backend.heap.readF32(ptr, n);
}

/** Uniform values in [low, high) from a seeded generator. */
export function uniform(n: number, seed: number, low = -1, high = 1): Float32Array {
  const rng = new Random(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniformRange(low, high);
  return out;
}

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

/**
 * Checks |actual - expected| <= atol + rtol * |expected| elementwise (NaN equals NaN). The
 * error names `label`, the flat index and both values.
 */
export function expectClose(
  actual: ArrayLike<number>, expected: ArrayLike<number>, label: string,
  { rtol = 1e-5, atol = 1e-6 }: Tolerance = {},
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: expected ${expected.length} values, got ${actual.length}`);
  }
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (a === e) continue; // also equal infinities
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      throw new Error(
        `${label}: index ${i}: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)}, ` +
          `atol ${atol}, rtol ${rtol})`,
      );
    }
  }
}

/**
 * Checks an analytic gradient against central finite differences in float64.
 * `f` maps the input to a scalar; `grad` is the analytic gradient at `x`.
 */
export function expectGradientClose(
  f: (x: Float64Array) => number, x: Float64Array, grad: ArrayLike<number>, label: string,
  { eps = 1e-3, rtol = 1e-2, atol = 1e-3 }: Tolerance & { eps?: number } = {},
): void {
  const probe = Float64Array.from(x);
  for (let i = 0; i < x.length; i++) {
    probe[i] = x[i] + eps;
    const up = f(probe);
    probe[i] = x[i] - eps;
    const down = f(probe);
    probe[i] = x[i];
    const numeric = (up - down) / (2 * eps);
    if (!(Math.abs(grad[i] - numeric) <= atol + rtol * Math.abs(numeric))) {
      throw new Error(
        `${label}: input index ${i}: analytic gradient ${grad[i]}, finite difference ${numeric}`,
      );
    }
  }
}

// ---- Buffers with guards ---------------------------------------------------------------------

/** Elements of padding either side of every placed buffer; they must stay untouched. */
export const GUARD = 3;
export const SENTINEL = 1234.5;

/** A buffer one f32 past an aligned boundary (so v128 accesses are unaligned), with guards. */
export interface Placed {
  block: Ptr;
  ptr: Ptr;
  n: number;
}

/** Places `data`, or a NaN canary of `data` elements when given a count. */
export function place(backend: Backend, data: Float32Array | Int32Array | number): Placed {
  const n = typeof data === 'number' ? data : data.length;
  const block = backend.heap.alloc((n + 2 * GUARD + 1) * 4);
  const ptr = block + (GUARD + 1) * 4;
  const f32 = backend.heap.f32;
  f32.fill(SENTINEL, block >> 2, (block >> 2) + n + 2 * GUARD + 1);
  if (typeof data === 'number') f32.fill(Number.NaN, ptr >> 2, (ptr >> 2) + n);
  else backend.heap.write(ptr, data);
  return { block, ptr, n };
}

/** Throws unless the guards either side of `buffer` still hold the sentinel. */
export function expectGuards(backend: Backend, buffer: Placed, label: string): void {
  const f32 = backend.heap.f32;
  const first = buffer.block >> 2;
  const after = (buffer.ptr >> 2) + buffer.n;
  for (let i = first; i < first + GUARD + 1; i++) {
    if (f32[i] !== SENTINEL) throw new Error(`${label}: guard ${i - first} before was written (${f32[i]})`);
  }
  for (let i = after; i < after + GUARD; i++) {
    if (f32[i] !== SENTINEL) throw new Error(`${label}: guard ${i - after} after was written (${f32[i]})`);
  }
}

/** The values of a placed buffer. */
export function readPlaced(backend: Backend, buffer: Placed): Float32Array {
  return backend.heap.readF32(buffer.ptr, buffer.n);
}

/** Checks a placed buffer's guards, reads it and frees it. */
export function takePlaced(backend: Backend, buffer: Placed, label: string): Float32Array {
  expectGuards(backend, buffer, label);
  const out = readPlaced(backend, buffer);
  backend.heap.free(buffer.block);
  return out;
}

export function release(backend: Backend, ...buffers: Placed[]): void {
  for (const buffer of buffers) backend.heap.free(buffer.block);
}
