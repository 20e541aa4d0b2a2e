// Boundary checks shared by every op. Kernels trust their sizes, so each op checks here that
// shapes agree before a pointer crosses into WebAssembly. Errors name the op, what was
// expected and what was found.

import type { Backend } from '../backend/backend.js';
import type { Ptr } from '../backend/kernels.js';
import { formatShape, Tensor, type DType, type Shape } from '../tensor.js';
import { describe } from '../util/describe.js';

export { describe };

/** A shape pattern: a number must match, null matches any size. */
export type ShapePattern = readonly (number | null)[];

function formatPattern(pattern: ShapePattern): string {
  return `[${pattern.map((d) => (d === null ? '*' : String(d))).join(', ')}]`;
}

export function fail(op: string, message: string): never {
  throw new Error(`kerasm.${op}: ${message}`);
}

/** Checks that `t` is a live tensor of `dtype` whose shape matches `pattern`. */
export function expectShape(
  op: string, name: string, t: Tensor, pattern: ShapePattern, dtype: DType = 'float32',
): void {
  if (!(t instanceof Tensor)) fail(op, `expected ${name} to be a Tensor, got ${describe(t)}`);
  if (t.isDisposed) fail(op, `${name} (shape ${formatShape(t.shape)}) was disposed`);
  if (t.dtype !== dtype) fail(op, `expected ${name} of dtype ${dtype}, got ${t.dtype}`);
  const ok =
    t.shape.length === pattern.length && pattern.every((d, i) => d === null || d === t.shape[i]);
  if (!ok) {
    fail(op, `expected ${name} of shape ${formatPattern(pattern)}, got ${formatShape(t.shape)}`);
  }
}

/** Checks that `t` has the given rank; returns its shape. */
export function expectRank(
  op: string, name: string, t: Tensor, rank: number, dtype: DType = 'float32',
): Shape {
  expectShape(op, name, t, new Array<null>(rank).fill(null), dtype);
  return t.shape;
}

/** Checks that all tensors live in the same backend and returns it. */
export function sameBackend(op: string, ...tensors: (Tensor | undefined)[]): Backend {
  const present = tensors.filter((t): t is Tensor => t !== undefined);
  const backend = present[0].backend;
  for (const t of present) {
    if (t.backend !== backend) {
      fail(op, `expected all tensors on one backend, got ${backend.flavor} and ${t.backend.flavor}`);
    }
  }
  return backend;
}

/** Returns `out` after checking its shape, or a new tensor of `shape`. */
export function output(
  op: string, backend: Backend, shape: Shape, out?: Tensor, dtype: DType = 'float32',
): Tensor {
  if (out === undefined) return Tensor.empty(shape, dtype, backend);
  expectShape(op, 'out', out, shape, dtype);
  if (out.backend !== backend) fail(op, 'expected out on the same backend as the inputs');
  return out;
}

/** Checks that a parameter is a positive integer. */
export function expectPositiveInt(op: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    fail(op, `expected ${name} to be a positive integer, got ${value}`);
  }
}

const scratchBlocks = new WeakMap<Backend, { ptr: Ptr; bytes: number }>();

/**
 * A scratch block of at least `bytes` bytes, reused across calls on one backend. Ops run one at
 * a time, so one block per backend suffices; it only grows.
 */
export function scratch(backend: Backend, bytes: number): Ptr {
  if (bytes === 0) return 0;
  const block = scratchBlocks.get(backend);
  if (block && block.bytes >= bytes) return block.ptr;
  if (block) backend.heap.free(block.ptr);
  const grown = Math.max(bytes, (block?.bytes ?? 0) * 2);
  const ptr = backend.heap.alloc(grown);
  scratchBlocks.set(backend, { ptr, bytes: grown });
  return ptr;
}
