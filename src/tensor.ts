// A tensor is a shape plus a place in a backend's heap.
//
// Memory: a tensor's bytes belong to a Storage block. When no tensor refers to the Storage any
// more, the garbage collector's FinalizationRegistry returns the block to the heap, so a
// Keras-level user never calls dispose(). dispose() exists for code that wants the memory back
// at once; views made by reshape() share their Storage, and disposing any of them frees it.

import { getBackend, type Backend } from './backend/backend.js';
import type { Ptr } from './backend/kernels.js';
import { record } from './autodiff/tape.js';

export type DType = 'float32' | 'int32';
export type Shape = readonly number[];
export type TypedArrayFor<D extends DType> = D extends 'int32' ? Int32Array : Float32Array;

/** A heap block shared by a tensor and its views. */
class Storage {
  constructor(
    readonly backend: Backend,
    public ptr: Ptr,
    readonly bytes: number,
    /** Owned by a StepArena, which frees it; dispose() leaves it alone. */
    readonly inArena = false,
  ) {}
}

const registry =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<{ backend: Backend; ptr: Ptr; freed: boolean }>((held) => {
        if (!held.freed) held.backend.heap.free(held.ptr);
      })
    : null;

const tokens = new WeakMap<Storage, { backend: Backend; ptr: Ptr; freed: boolean }>();

/**
 * Replays one step's allocations. A training step makes the same tensors in the same order
 * every time; the first pass allocates a block per tensor, later passes hand out the same
 * blocks again. So after the first step, a step allocates nothing, and the heap stays flat.
 * Tensors made inside a step are valid only until the step runs again.
 */
export class StepArena {
  private readonly blocks: Storage[] = [];
  private cursor = 0;

  /** Number of blocks the step uses. */
  get size(): number {
    return this.blocks.length;
  }

  /** Runs one step: every tensor allocated by `f` comes from the arena. */
  run<T>(f: () => T): T {
    const previous = activeArena;
    activeArena = this;
    this.cursor = 0;
    try {
      return f();
    } finally {
      activeArena = previous;
    }
  }

  /** @internal */
  take(backend: Backend, bytes: number): Storage {
    const existing = this.blocks[this.cursor];
    if (existing && existing.backend === backend && existing.bytes >= bytes) {
      this.cursor++;
      return existing;
    }
    // The step changed shape (last batch, new model): replace this slot.
    if (existing) existing.backend.heap.free(existing.ptr);
    const block = new Storage(backend, backend.heap.alloc(bytes), bytes, true);
    this.blocks[this.cursor++] = block;
    return block;
  }

  /** Returns every block to the heap. */
  dispose(): void {
    for (const block of this.blocks) {
      block.backend.heap.free(block.ptr);
      block.ptr = 0;
    }
    this.blocks.length = 0;
  }
}

let activeArena: StepArena | null = null;

/** Runs `f` with no arena active: its tensors are ordinary, collected ones. */
export function outsideArena<T>(f: () => T): T {
  const previous = activeArena;
  activeArena = null;
  try {
    return f();
  } finally {
    activeArena = previous;
  }
}

/** Storages allocated inside each open tidy() scope, innermost last. */
const tidyScopes: Storage[][] = [];

function allocStorage(backend: Backend, bytes: number): Storage {
  if (activeArena !== null) return activeArena.take(backend, bytes);
  const ptr = backend.heap.alloc(bytes);
  const storage = new Storage(backend, ptr, bytes);
  const token = { backend, ptr, freed: false };
  tokens.set(storage, token);
  registry?.register(storage, token, storage);
  tidyScopes.at(-1)?.push(storage);
  return storage;
}

type TensorContainer = Tensor | readonly TensorContainer[] | { readonly [key: string]: TensorContainer } | number | string | boolean | null | undefined | void;

function collectStorages(value: unknown, out: Set<unknown>): void {
  if (value instanceof Tensor) out.add((value as unknown as { storage: Storage }).storage);
  else if (Array.isArray(value)) for (const v of value) collectStorages(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) collectStorages(v, out);
}

/**
 * Runs `f` and frees every tensor it allocated except those it returns (also inside arrays
 * or objects), as tfjs's tidy does. The garbage collector frees tensors too, but it does not
 * see the WebAssembly heap's size, so loops of eager ops are best wrapped in tidy.
 * @example
 * ```ts
 * const y = tidy(() => ops.relu(ops.add(x, b))); // the intermediate sum is freed here
 * ```
 */
export function tidy<T extends TensorContainer>(f: () => T): T {
  const scope: Storage[] = [];
  tidyScopes.push(scope);
  let result: T;
  try {
    result = f();
  } finally {
    tidyScopes.pop();
  }
  const kept = new Set<unknown>();
  collectStorages(result, kept);
  for (const storage of scope) {
    if (kept.has(storage)) tidyScopes.at(-1)?.push(storage);
    else freeStorage(storage);
  }
  return result;
}

function freeStorage(storage: Storage): void {
  if (storage.inArena) return;
  const token = tokens.get(storage);
  if (token && !token.freed) {
    token.freed = true;
    registry?.unregister(storage);
    storage.backend.heap.free(storage.ptr);
  }
  storage.ptr = 0;
}

export function sizeOf(shape: Shape): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

function checkShape(shape: Shape, where: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(
        `kerasm.${where}: expected a shape of non-negative integers, got ${formatShape(shape)}`,
      );
    }
  }
}

export class Tensor<D extends DType = DType> {
  readonly shape: Shape;
  readonly dtype: D;
  readonly size: number;
  private readonly storage: Storage;

  /** @internal Use `tensor()`, `zeros()` or an op to make tensors. */
  constructor(storage: Storage, shape: Shape, dtype: D) {
    this.storage = storage;
    this.shape = Object.freeze(shape.slice());
    this.dtype = dtype;
    this.size = sizeOf(shape);
  }

  /** @internal Allocates an uninitialized tensor. */
  static empty<D extends DType>(shape: Shape, dtype: D, backend: Backend = getBackend()): Tensor<D> {
    checkShape(shape, 'tensor');
    return new Tensor(allocStorage(backend, sizeOf(shape) * 4), shape, dtype);
  }

  get rank(): number {
    return this.shape.length;
  }

  /** @internal The backend whose heap holds this tensor. */
  get backend(): Backend {
    return this.storage.backend;
  }

  /** @internal The tensor's byte offset in its backend's heap. */
  get ptr(): Ptr {
    if (this.storage.ptr === 0) {
      throw new Error(`kerasm: tensor of shape ${formatShape(this.shape)} was disposed`);
    }
    return this.storage.ptr;
  }

  get isDisposed(): boolean {
    return this.storage.ptr === 0;
  }

  /**
   * A copy of the values, in row-major order.
   * @example
   * ```ts
   * tensor([[1, 2], [3, 4]]).dataSync(); // Float32Array [1, 2, 3, 4]
   * ```
   */
  dataSync(): TypedArrayFor<D> {
    const start = this.ptr >> 2;
    const heap = this.backend.heap;
    const view = this.dtype === 'int32' ? heap.i32 : heap.f32;
    return view.slice(start, start + this.size) as TypedArrayFor<D>;
  }

  /** The values, asynchronously (for tfjs-style code; the work is already done). */
  async data(): Promise<TypedArrayFor<D>> {
    return this.dataSync();
  }

  /** The values as nested arrays in the tensor's shape (a number for a scalar). */
  arraySync(): unknown {
    const flat = Array.from(this.dataSync() as ArrayLike<number>);
    if (this.rank === 0) return flat[0];
    const build = (axis: number, offset: number): unknown[] => {
      const n = this.shape[axis];
      if (axis === this.rank - 1) return flat.slice(offset, offset + n);
      const stride = sizeOf(this.shape.slice(axis + 1));
      return Array.from({ length: n }, (_, i) => build(axis + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /**
   * The same values in a new shape, sharing memory. One dimension may be -1 (inferred).
   * @example
   * ```ts
   * tensor([1, 2, 3, 4, 5, 6]).reshape([2, -1]).shape; // [2, 3]
   * ```
   */
  reshape(shape: Shape): Tensor<D> {
    const resolved = resolveReshape(this.shape, shape);
    const view = new Tensor(this.storage, resolved, this.dtype);
    record('reshape', [this as Tensor], view as Tensor, {});
    return view;
  }

  /** Returns the memory now rather than when the tensor is collected. Views become unusable. */
  dispose(): void {
    freeStorage(this.storage);
  }

  toString(): string {
    return `Tensor(${this.dtype}, ${formatShape(this.shape)})`;
  }
}

export function resolveReshape(from: Shape, to: Shape): number[] {
  const size = sizeOf(from);
  const unknown = to.filter((d) => d === -1).length;
  const known = sizeOf(to.filter((d) => d !== -1));
  const bad = () =>
    new Error(
      `kerasm.reshape: expected a shape with ${size} elements (one dimension may be -1), ` +
        `got ${formatShape(to)} for a tensor of shape ${formatShape(from)}`,
    );
  if (unknown > 1 || to.some((d) => d !== -1 && (!Number.isInteger(d) || d < 0))) throw bad();
  if (unknown === 1) {
    if (known === 0 || size % known !== 0) throw bad();
    return to.map((d) => (d === -1 ? size / known : d));
  }
  if (known !== size) throw bad();
  return to.slice();
}

type NestedNumbers = number | readonly NestedNumbers[];

function inferShape(values: NestedNumbers): number[] {
  const shape: number[] = [];
  let level: NestedNumbers = values;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  return shape;
}

function flatten(values: NestedNumbers, shape: Shape, out: number[], axis = 0): void {
  if (axis === shape.length) {
    if (typeof values !== 'number') {
      throw new Error(`kerasm.tensor: expected a number at depth ${axis}, got ${typeof values}`);
    }
    out.push(values);
    return;
  }
  if (!Array.isArray(values) || values.length !== shape[axis]) {
    const got = Array.isArray(values) ? `length ${values.length}` : typeof values;
    throw new Error(
      `kerasm.tensor: ragged nested array: expected length ${shape[axis]} at depth ${axis}, ` +
        `got ${got}`,
    );
  }
  for (const v of values) flatten(v, shape, out, axis + 1);
}

/**
 * Creates a tensor from nested arrays, a flat array or a typed array.
 *
 * @param values the values, row-major
 * @param shape the shape; inferred from nested arrays when omitted
 * @param dtype 'float32' (default) or 'int32' (integer labels, indices)
 * @example
 * ```ts
 * const x = tensor([[1, 2, 3], [4, 5, 6]]);            // shape [2, 3]
 * const y = tensor(new Float32Array(6), [3, 2]);        // from a typed array
 * const labels = tensor([0, 2, 1], [3], 'int32');
 * ```
 */
export function tensor<D extends DType = 'float32'>(
  values: NestedNumbers | Float32Array | Int32Array | ArrayLike<number>,
  shape?: Shape,
  dtype?: D,
): Tensor<D> {
  const type = (dtype ?? (values instanceof Int32Array ? 'int32' : 'float32')) as D;
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (typeof values === 'number') {
    flat = [values];
    inferred = [];
  } else if (ArrayBuffer.isView(values) || !Array.isArray(values)) {
    flat = values as ArrayLike<number>;
    inferred = [flat.length];
  } else {
    inferred = inferShape(values as NestedNumbers);
    const out: number[] = [];
    flatten(values as NestedNumbers, inferred, out);
    flat = out;
  }
  const finalShape = shape ?? inferred;
  checkShape(finalShape, 'tensor');
  if (sizeOf(finalShape) !== flat.length) {
    throw new Error(
      `kerasm.tensor: expected ${sizeOf(finalShape)} values for shape ` +
        `${formatShape(finalShape)}, got ${flat.length}`,
    );
  }
  const t = Tensor.empty(finalShape, type);
  const start = t.ptr >> 2;
  const view = type === 'int32' ? t.backend.heap.i32 : t.backend.heap.f32;
  view.set(flat, start);
  return t;
}
