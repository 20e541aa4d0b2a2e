// Data movement: transpose, slice, concat, pad, broadcast, gather and the ops composed of them,
// plus weightedGather (gathered rows in weighted sums, for resampling images).
//
// These ops copy values without arithmetic (weightedGather adds a few products per value), so
// they run in TypeScript directly over the heap, with no kernel. Every strided copy goes through
// one routine, `copyStrided`; each op only describes its copy as a shape plus source and
// destination strides:
//
//   op           shape         destination               source strides
//   transpose    y.shape       y, dense                  x's strides, permuted
//   slice        size          y, dense                  x's strides, from begin
//   pad          x.shape       y's window at before      x, dense
//   concat       [outer, run]  y's window at the offset  x_i, dense
//   broadcastTo  y.shape       y, dense                  x's strides, 0 on expanded axes
//
// tile, upSampling2d, stack, unstack, split, expandDims and squeeze are compositions of these
// and reshape, so they get their gradients from the rules of their parts.
//
// Copies use the heap's i32 view for both dtypes: moving a float32's bits through an Int32Array
// is exact, whereas a Float32Array round trip may quieten a signalling NaN's bits.

import { record } from '../autodiff/tape.js';
import { formatShape, sizeOf, Tensor, type DType, type Shape } from '../tensor.js';
import { describe, expectShape, fail, output, sameBackend } from './check.js';
import { sum } from './reduce.js';

// ---- The copy engine ----------------------------------------------------------------------------

/**
 * Below this many elements a plain loop beats `copyWithin`. A copyWithin costs ~30 ns whatever
 * its length up to ~64 elements (the call into the runtime), a loop ~1.5-2.5 ns per element
 * (Node 20, process CPU time over 10^6 runs): they cross between 16 and 24 elements.
 */
const SHORT_RUN = 16;

/** Row-major strides of `shape`, in elements. */
function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    strides[k] = stride;
    stride *= shape[k];
  }
  return strides;
}

/** v[dst .. dst + n) = v[src .. src + n), for regions that do not overlap. */
function copyRun(v: Int32Array, dst: number, src: number, n: number): void {
  if (n < SHORT_RUN) {
    for (let i = 0; i < n; i++) v[dst + i] = v[src + i];
  } else {
    v.copyWithin(dst, src, src + n);
  }
}

/**
 * For every index i of `shape`: v[dst + sum_k i_k dstStrides_k] = v[src + sum_k i_k srcStrides_k].
 * All offsets and strides count elements (ptr >> 2). A source stride of 0 repeats the source
 * (broadcasting); destination windows never overlap the source.
 *
 * First the copy is simplified: size-1 axes go, and two neighbouring axes merge into one when
 * both strides allow it (outer stride == inner size * inner stride, in dst and in src), so a
 * slice of whole rows becomes one run and consecutive broadcast axes become one. Then `walk`
 * visits the remaining (few) axes; see there for the three fast cases.
 */
function copyStrided(
  v: Int32Array, shape: Shape, dst: number, dstStrides: readonly number[],
  src: number, srcStrides: readonly number[],
): void {
  const dims: number[] = [];
  const ds: number[] = [];
  const ss: number[] = [];
  for (let k = 0; k < shape.length; k++) {
    const n = shape[k];
    if (n === 0) return;
    if (n === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && ds[last] === n * dstStrides[k] && ss[last] === n * srcStrides[k]) {
      dims[last] *= n;
      ds[last] = dstStrides[k];
      ss[last] = srcStrides[k];
    } else {
      dims.push(n);
      ds.push(dstStrides[k]);
      ss.push(srcStrides[k]);
    }
  }
  if (dims.length === 0) {
    v[dst] = v[src];
    return;
  }
  // dense[k]: axes k.. of the destination form one contiguous run starting at its offset.
  const dense = new Array<boolean>(dims.length);
  let length = 1;
  let ok = true;
  for (let k = dims.length - 1; k >= 0; k--) {
    ok = ok && ds[k] === length;
    dense[k] = ok;
    length *= dims[k];
  }
  walk(v, dims, ds, ss, dense, 0, dst, src);
}

function walk(
  v: Int32Array, dims: number[], ds: number[], ss: number[], dense: boolean[],
  axis: number, dst: number, src: number,
): void {
  const n = dims[axis];
  const dstStride = ds[axis];
  const srcStride = ss[axis];
  if (axis === dims.length - 1) {
    // The innermost axis: a contiguous run, one repeated value, or a scattered loop.
    if (dstStride === 1 && srcStride === 1) {
      copyRun(v, dst, src, n);
    } else if (dstStride === 1 && srcStride === 0) {
      v.fill(v[src], dst, dst + n);
    } else {
      for (let i = 0; i < n; i++) v[dst + i * dstStride] = v[src + i * srcStride];
    }
    return;
  }
  if (srcStride === 0 && dense[axis]) {
    // A broadcast axis over a dense block: write the block once, then double the written part
    // until all n copies are there (log2(n) copies instead of n walks).
    walk(v, dims, ds, ss, dense, axis + 1, dst, src);
    const total = n * dstStride;
    for (let done = dstStride; done < total; done *= 2) {
      copyRun(v, dst + done, dst, Math.min(done, total - done));
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    walk(v, dims, ds, ss, dense, axis + 1, dst + i * dstStride, src + i * srcStride);
  }
}

// ---- Boundary checks ----------------------------------------------------------------------------

/** Checks that `t` is a live tensor (of either dtype, or of `dtype` when given). */
function expectTensor(op: string, name: string, t: Tensor, dtype?: DType): void {
  if (!(t instanceof Tensor)) fail(op, `expected ${name} to be a Tensor, got ${describe(t)}`);
  expectShape(op, name, t, t.shape, dtype ?? t.dtype);
}

/** Resolves a possibly negative axis of a rank-`rank` tensor. */
function resolveAxis(op: string, axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    fail(op, `expected axis in [${-rank}, ${rank - 1}] for ${what}, got ${axis}`);
  }
  return a;
}

/** Checks an array of integers, of `length` entries when given. */
function expectIntList(op: string, name: string, values: unknown, length?: number): number[] {
  if (!Array.isArray(values) || (length !== undefined && values.length !== length)) {
    fail(op, `expected ${name} to be an array of ${length ?? 'any number of'} integers, ` +
      `got ${describe(values)}`);
  }
  values.forEach((d, i) => {
    if (!Number.isInteger(d)) fail(op, `expected ${name}[${i}] to be an integer, got ${d}`);
  });
  return values.slice() as number[];
}

/** A new tensor of `shape` and `dtype` on the backend of `like`, and that heap's i32 view. */
function allocate(op: string, like: Tensor, shape: Shape, dtype: DType = like.dtype) {
  const y = output(op, like.backend, shape, undefined, dtype);
  // Views are taken after allocating: growing the memory detaches the old ones.
  return { y, v: y.backend.heap.i32 };
}

// ---- transpose ----------------------------------------------------------------------------------

/**
 * Permutes the axes of x: output axis i is input axis perm[i]. The default reverses the axes.
 * @example
 * ```ts
 * ops.transpose(tensor([[1, 2, 3], [4, 5, 6]])).arraySync(); // [[1, 4], [2, 5], [3, 6]]
 * ops.transpose(x, [0, 2, 1]); // [N, H, W] -> [N, W, H]
 * ```
 */
export function transpose<D extends DType>(x: Tensor<D>, perm?: readonly number[]): Tensor<D> {
  const op = 'transpose';
  expectTensor(op, 'x', x);
  const rank = x.rank;
  const p = perm === undefined
    ? x.shape.map((_, i) => rank - 1 - i)
    : expectIntList(op, 'perm', perm, rank);
  const seen = new Set(p);
  if (seen.size !== rank || p.some((a) => a < 0 || a >= rank)) {
    fail(op, `expected perm to be a permutation of [0, ${rank}) for x of shape ` +
      `${formatShape(x.shape)}, got [${p.join(', ')}]`);
  }
  const shape = p.map((a) => x.shape[a]);
  const { y, v } = allocate(op, x, shape);
  const xStrides = stridesOf(x.shape);
  copyStrided(v, shape, y.ptr >> 2, stridesOf(shape), x.ptr >> 2, p.map((a) => xStrides[a]));
  record('transpose', [x], y, { perm: p });
  return y as Tensor<D>;
}

/** The permutation undoing `perm`. */
export function inversePermutation(perm: readonly number[]): number[] {
  const inverse = new Array<number>(perm.length);
  perm.forEach((a, i) => (inverse[a] = i));
  return inverse;
}

// ---- slice, split -------------------------------------------------------------------------------

/**
 * The block of x starting at `begin` with extent `size` along each axis; a size of -1 takes the
 * rest of the axis. Shorter lists (or single numbers) cover the leading axes, as in tf.slice.
 * @example
 * ```ts
 * const x = tensor([[1, 2, 3], [4, 5, 6]]);
 * ops.slice(x, [0, 1], [2, 2]).arraySync(); // [[2, 3], [5, 6]]
 * ops.slice(x, [1, 0], [1, -1]).arraySync(); // [[4, 5, 6]]
 * ```
 */
export function slice<D extends DType>(
  x: Tensor<D>, begin: number | readonly number[], size?: number | readonly number[],
): Tensor<D> {
  const op = 'slice';
  expectTensor(op, 'x', x);
  const rank = x.rank;
  const b = sliceList(op, 'begin', begin, rank, 0);
  const s = sliceList(op, 'size', size ?? [], rank, -1);
  const shape = x.shape.map((d, i) => {
    if (b[i] < 0 || b[i] > d) {
      fail(op, `expected begin[${i}] in [0, ${d}] for x of shape ${formatShape(x.shape)}, ` +
        `got ${b[i]}`);
    }
    const n = s[i] === -1 ? d - b[i] : s[i];
    if (n < 0 || b[i] + n > d) {
      fail(op, `expected begin[${i}] + size[${i}] <= ${d} (size -1 or >= 0) for x of shape ` +
        `${formatShape(x.shape)}, got ${b[i]} + ${s[i]}`);
    }
    return n;
  });
  const { y, v } = allocate(op, x, shape);
  const xStrides = stridesOf(x.shape);
  const start = b.reduce((offset, bi, i) => offset + bi * xStrides[i], x.ptr >> 2);
  copyStrided(v, shape, y.ptr >> 2, stridesOf(shape), start, xStrides);
  record('slice', [x], y, { begin: b });
  return y as Tensor<D>;
}

function sliceList(
  op: string, name: string, value: number | readonly number[], rank: number, fill: number,
): number[] {
  const list = typeof value === 'number' ? [value] : value;
  if (!Array.isArray(list) || list.length > rank) {
    fail(op, `expected ${name} to be a number or an array of at most ${rank} integers, ` +
      `got ${describe(value)}`);
  }
  list.forEach((d, i) => {
    if (!Number.isInteger(d)) fail(op, `expected ${name}[${i}] to be an integer, got ${d}`);
  });
  return Array.from({ length: rank }, (_, i) => (i < list.length ? list[i] : fill));
}

/**
 * Splits x along `axis` into `numOrSizes` equal parts, or into parts of the given sizes (one
 * may be -1: the rest).
 * @example
 * ```ts
 * const [a, b] = ops.split(tensor([[1, 2, 3, 4]]), 2, 1); // [[1, 2]] and [[3, 4]]
 * ops.split(tensor([1, 2, 3, 4, 5]), [1, -1]);           // [1] and [2, 3, 4, 5]
 * ```
 */
export function split<D extends DType>(
  x: Tensor<D>, numOrSizes: number | readonly number[], axis = 0,
): Tensor<D>[] {
  const op = 'split';
  expectTensor(op, 'x', x);
  const a = resolveAxis(op, axis, x.rank, `x of shape ${formatShape(x.shape)}`);
  const d = x.shape[a];
  let sizes: number[];
  if (typeof numOrSizes === 'number') {
    if (!Number.isInteger(numOrSizes) || numOrSizes < 1 || d % numOrSizes !== 0) {
      fail(op, `expected a number of parts dividing ${d} (axis ${a} of x of shape ` +
        `${formatShape(x.shape)}), got ${numOrSizes}`);
    }
    sizes = new Array<number>(numOrSizes).fill(d / numOrSizes);
  } else {
    sizes = expectIntList(op, 'sizes', numOrSizes);
    const rest = sizes.filter((s) => s === -1).length;
    const known = sizes.reduce((t, s) => (s === -1 ? t : t + s), 0);
    if (rest > 1 || sizes.some((s) => s < -1) || (rest === 0 ? known !== d : known > d)) {
      fail(op, `expected sizes >= 0 summing to ${d} (axis ${a} of x of shape ` +
        `${formatShape(x.shape)}; one may be -1), got [${sizes.join(', ')}]`);
    }
    sizes = sizes.map((s) => (s === -1 ? d - known : s));
  }
  const begin = new Array<number>(x.rank).fill(0);
  const size = x.shape.slice();
  return sizes.map((s) => {
    size[a] = s;
    const part = slice(x, begin, size);
    begin[a] += s;
    return part;
  });
}

// ---- pad ----------------------------------------------------------------------------------------

/**
 * Pads x with `value`: paddings[i] = [before, after] elements along axis i.
 * @example
 * ```ts
 * ops.pad(tensor([[1, 2]]), [[1, 0], [0, 1]]).arraySync(); // [[0, 0, 0], [1, 2, 0]]
 * ```
 */
export function pad<D extends DType>(
  x: Tensor<D>, paddings: readonly (readonly [number, number])[], value = 0,
): Tensor<D> {
  const op = 'pad';
  expectTensor(op, 'x', x);
  if (!Array.isArray(paddings) || paddings.length !== x.rank) {
    fail(op, `expected paddings to be ${x.rank} [before, after] pairs for x of shape ` +
      `${formatShape(x.shape)}, got ${describe(paddings)}`);
  }
  const pads = paddings.map((p, i): [number, number] => {
    if (!Array.isArray(p) || p.length !== 2 || !p.every((n) => Number.isInteger(n) && n >= 0)) {
      fail(op, `expected paddings[${i}] to be [before, after], non-negative integers, got ` +
        (Array.isArray(p) ? `[${p.join(', ')}]` : describe(p)));
    }
    return [p[0], p[1]];
  });
  if (x.dtype === 'int32' && !Number.isInteger(value)) {
    fail(op, `expected an integer value to pad an int32 tensor, got ${value}`);
  }
  const shape = x.shape.map((d, i) => pads[i][0] + d + pads[i][1]);
  const { y } = allocate(op, x, shape);
  const start = y.ptr >> 2;
  const heap = y.backend.heap;
  (x.dtype === 'int32' ? heap.i32 : heap.f32).fill(value, start, start + y.size);
  const yStrides = stridesOf(shape);
  const window = pads.reduce((offset, [before], i) => offset + before * yStrides[i], start);
  copyStrided(heap.i32, x.shape, window, yStrides, x.ptr >> 2, stridesOf(x.shape));
  record('pad', [x], y, { paddings: pads });
  return y as Tensor<D>;
}

// ---- concat, stack, unstack ---------------------------------------------------------------------

/**
 * Joins tensors along `axis` (negative counts from the end); all other axes must agree.
 * @example
 * ```ts
 * const a = tensor([[1], [2]]);
 * ops.concat([a, tensor([[3, 4], [5, 6]])], 1).arraySync(); // [[1, 3, 4], [2, 5, 6]]
 * ```
 */
export function concat<D extends DType>(tensors: readonly Tensor<D>[], axis = 0): Tensor<D> {
  const op = 'concat';
  const first = checkList(op, tensors);
  const a = resolveAxis(op, axis, first.rank, `tensors of shape ${formatShape(first.shape)}`);
  tensors.forEach((t, i) => {
    const ok = t.rank === first.rank && t.shape.every((d, k) => k === a || d === first.shape[k]);
    if (!ok) {
      const pattern = first.shape.map((d, k) => (k === a ? '*' : String(d)));
      fail(op, `expected tensors[${i}] of shape [${pattern.join(', ')}] (all axes but ${a} ` +
        `as tensors[0]), got ${formatShape(t.shape)}`);
    }
  });
  const backend = sameBackend(op, ...tensors);
  const shape = first.shape.slice();
  shape[a] = tensors.reduce((total, t) => total + t.shape[a], 0);
  const y = output(op, backend, shape, undefined, first.dtype);
  const v = backend.heap.i32;
  // Each input is [outer, run] with run = its axis and everything inside; the output row is
  // the inputs' runs side by side.
  const outer = sizeOf(shape.slice(0, a));
  const row = sizeOf(shape.slice(a));
  let offset = y.ptr >> 2;
  for (const t of tensors) {
    const run = sizeOf(t.shape.slice(a));
    copyStrided(v, [outer, run], offset, [row, 1], t.ptr >> 2, [run, 1]);
    offset += run;
  }
  record('concat', tensors.slice(), y, { axis: a });
  return y as Tensor<D>;
}

/** Checks a non-empty list of live tensors of one dtype; returns the first. */
function checkList<D extends DType>(op: string, tensors: readonly Tensor<D>[]): Tensor<D> {
  if (!Array.isArray(tensors) || tensors.length === 0) {
    fail(op, `expected a non-empty array of tensors, got ${describe(tensors)}`);
  }
  tensors.forEach((t, i) => expectTensor(op, `tensors[${i}]`, t));
  tensors.forEach((t, i) => {
    if (t.dtype !== tensors[0].dtype) {
      fail(op, `expected tensors[${i}] of dtype ${tensors[0].dtype} (as tensors[0]), ` +
        `got ${t.dtype}`);
    }
  });
  return tensors[0];
}

/**
 * Stacks tensors of one shape along a new axis (expandDims, then concat).
 * @example
 * ```ts
 * ops.stack([tensor([1, 2]), tensor([3, 4])], 1).arraySync(); // [[1, 3], [2, 4]]
 * ```
 */
export function stack<D extends DType>(tensors: readonly Tensor<D>[], axis = 0): Tensor<D> {
  const op = 'stack';
  const first = checkList(op, tensors);
  tensors.forEach((t, i) => {
    if (formatShape(t.shape) !== formatShape(first.shape)) {
      fail(op, `expected tensors[${i}] of shape ${formatShape(first.shape)} (as tensors[0]), ` +
        `got ${formatShape(t.shape)}`);
    }
  });
  const a = resolveAxis(op, axis, first.rank + 1, `a stack of shape ${formatShape(first.shape)}`);
  return concat(tensors.map((t) => expandDims(t, a)), a);
}

/**
 * Splits x along `axis` into x.shape[axis] tensors without that axis (slice, then reshape).
 * @example
 * ```ts
 * ops.unstack(tensor([[1, 2], [3, 4]]), 1).map((t) => t.arraySync()); // [[1, 3], [2, 4]]
 * ```
 */
export function unstack<D extends DType>(x: Tensor<D>, axis = 0): Tensor<D>[] {
  const op = 'unstack';
  expectTensor(op, 'x', x);
  const a = resolveAxis(op, axis, x.rank, `x of shape ${formatShape(x.shape)}`);
  const begin = new Array<number>(x.rank).fill(0);
  const size = x.shape.slice();
  size[a] = 1;
  const shape = x.shape.filter((_, k) => k !== a);
  return Array.from({ length: x.shape[a] }, (_, i) => {
    begin[a] = i;
    return slice(x, begin, size).reshape(shape);
  });
}

/**
 * Inserts a size-1 axis at `axis` (in [-rank - 1, rank]); a view sharing x's memory.
 * @example `ops.expandDims(tensor([1, 2]), 1).shape // [2, 1]`
 */
export function expandDims<D extends DType>(x: Tensor<D>, axis = 0): Tensor<D> {
  const op = 'expandDims';
  expectTensor(op, 'x', x);
  const a = resolveAxis(op, axis, x.rank + 1, `x of shape ${formatShape(x.shape)}`);
  const shape = x.shape.slice();
  shape.splice(a, 0, 1);
  return x.reshape(shape);
}

/**
 * Removes size-1 axes: those listed, or all of them; a view sharing x's memory.
 * @example `ops.squeeze(tensor([[[1], [2]]])).shape // [2]`
 */
export function squeeze<D extends DType>(
  x: Tensor<D>, axis?: number | readonly number[],
): Tensor<D> {
  const op = 'squeeze';
  expectTensor(op, 'x', x);
  const what = `x of shape ${formatShape(x.shape)}`;
  const axes = axis === undefined
    ? x.shape.flatMap((d, k) => (d === 1 ? [k] : []))
    : (typeof axis === 'number' ? [axis] : axis).map((k) => resolveAxis(op, k, x.rank, what));
  for (const k of axes) {
    if (x.shape[k] !== 1) {
      fail(op, `expected axis ${k} of ${what} to have size 1, got ${x.shape[k]}`);
    }
  }
  return x.reshape(x.shape.filter((_, k) => !axes.includes(k)));
}

// ---- broadcastTo, tile, upSampling2d ------------------------------------------------------------

/**
 * Repeats x to `shape` under numpy broadcasting: shapes align on the right, and each axis of x
 * must be 1 (repeated) or equal to the target; missing leading axes are added.
 * @example
 * ```ts
 * ops.broadcastTo(tensor([[1], [2]]), [2, 3]).arraySync(); // [[1, 1, 1], [2, 2, 2]]
 * ```
 */
export function broadcastTo<D extends DType>(x: Tensor<D>, shape: readonly number[]): Tensor<D> {
  const op = 'broadcastTo';
  expectTensor(op, 'x', x);
  const target = expectIntList(op, 'shape', shape);
  const lead = target.length - x.rank;
  const ok = lead >= 0 && target.every((d) => d >= 0) &&
    x.shape.every((d, i) => d === 1 || d === target[lead + i]);
  if (!ok) {
    fail(op, `expected a shape that x of shape ${formatShape(x.shape)} broadcasts to (aligned ` +
      `on the right, each axis of x 1 or equal), got ${formatShape(target)}`);
  }
  const { y, v } = allocate(op, x, target);
  const xStrides = stridesOf(x.shape);
  const srcStrides = target.map((_, k) =>
    k < lead || x.shape[k - lead] === 1 ? 0 : xStrides[k - lead]);
  copyStrided(v, target, y.ptr >> 2, stridesOf(target), x.ptr >> 2, srcStrides);
  record('broadcastTo', [x], y, {});
  return y as Tensor<D>;
}

/**
 * The gradient of broadcastTo: dy summed over the axes that broadcasting expanded, in x's
 * shape. Runs of expanded axes are merged so that each costs one ops.sum call.
 */
export function sumToShape(dy: Tensor, shape: Shape): Tensor {
  const lead = dy.rank - shape.length;
  const groups: { size: number; summed: boolean }[] = [];
  dy.shape.forEach((d, k) => {
    const summed = k < lead || (shape[k - lead] === 1 && d !== 1);
    const last = groups[groups.length - 1];
    if (last && last.summed === summed) last.size *= d;
    else groups.push({ size: d, summed });
  });
  let g = dy.reshape(groups.map((group) => group.size));
  // Innermost first, so the indices of the groups still to sum do not move.
  for (let k = groups.length - 1; k >= 0; k--) {
    if (groups[k].summed) g = sum(g, { axis: k });
  }
  return g.reshape(shape);
}

/**
 * Repeats x reps[i] times along each axis i (broadcastTo over interleaved size-1 axes).
 * @example
 * ```ts
 * ops.tile(tensor([[1, 2]]), [2, 2]).arraySync(); // [[1, 2, 1, 2], [1, 2, 1, 2]]
 * ```
 */
export function tile<D extends DType>(x: Tensor<D>, reps: readonly number[]): Tensor<D> {
  const op = 'tile';
  expectTensor(op, 'x', x);
  const r = expectIntList(op, 'reps', reps, x.rank);
  if (r.some((n) => n < 0)) fail(op, `expected reps >= 0, got [${r.join(', ')}]`);
  // [d0, d1] -> [1, d0, 1, d1] -> [r0, d0, r1, d1] -> [r0 * d0, r1 * d1]
  const spread = x.shape.flatMap((d) => [1, d]);
  const repeated = x.shape.flatMap((d, i) => [r[i], d]);
  return broadcastTo(x.reshape(spread), repeated).reshape(x.shape.map((d, i) => r[i] * d));
}

/**
 * Nearest-neighbour upsampling of NHWC images by [sh, sw], as Keras UpSampling2D: each pixel
 * becomes an sh x sw block.
 * @example
 * ```ts
 * ops.upSampling2d(tensor([1, 2], [1, 1, 2, 1]), 2).reshape([2, 4]).arraySync();
 * // [[1, 1, 2, 2], [1, 1, 2, 2]]
 * ```
 */
export function upSampling2d<D extends DType>(
  x: Tensor<D>, size: number | readonly [number, number] = 2,
): Tensor<D> {
  const op = 'upSampling2d';
  expectTensor(op, 'x', x);
  if (x.rank !== 4) fail(op, `expected x of shape [N, H, W, C], got ${formatShape(x.shape)}`);
  const [sh, sw] = typeof size === 'number' ? [size, size] : expectIntList(op, 'size', size, 2);
  if (!Number.isInteger(sh) || !Number.isInteger(sw) || sh < 1 || sw < 1) {
    fail(op, `expected size to be positive integers [sh, sw], got [${sh}, ${sw}]`);
  }
  const [N, H, W, C] = x.shape;
  // [N, H, 1, W, 1, C] -> [N, H, sh, W, sw, C] -> [N, H * sh, W * sw, C]
  return broadcastTo(x.reshape([N, H, 1, W, 1, C]), [N, H, sh, W, sw, C])
    .reshape([N, H * sh, W * sw, C]);
}

// ---- gather, oneHot -----------------------------------------------------------------------------

/**
 * Picks slices of x along `axis` by integer `indices` of any shape: the output's shape is
 * x.shape[:axis] + indices.shape + x.shape[axis + 1:]. An index outside [0, x.shape[axis]) is
 * an error naming the first one. (Embedding is gather on axis 0 of a [vocab, dim] matrix.)
 * @example
 * ```ts
 * const table = tensor([[0, 0], [1, 1], [2, 2]]);
 * ops.gather(table, tensor([2, 0, 2], [3], 'int32')).arraySync(); // [[2, 2], [0, 0], [2, 2]]
 * ```
 */
export function gather<D extends DType>(x: Tensor<D>, indices: Tensor, axis = 0): Tensor<D> {
  const op = 'gather';
  expectTensor(op, 'x', x);
  expectTensor(op, 'indices', indices, 'int32');
  const a = resolveAxis(op, axis, x.rank, `x of shape ${formatShape(x.shape)}`);
  const backend = sameBackend(op, x, indices);
  const { outer, n, inner } = gatherView(x.shape, a);
  const idx = checkIndices(op, indices, n, `axis ${a} of x of shape ${formatShape(x.shape)}`);
  const shape = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
  const y = output(op, backend, shape, undefined, x.dtype);
  const v = backend.heap.i32;
  const k = idx.length;
  let dst = y.ptr >> 2;
  for (let o = 0; o < outer; o++) {
    const base = (x.ptr >> 2) + o * n * inner;
    for (let j = 0; j < k; j++, dst += inner) copyRun(v, dst, base + idx[j] * inner, inner);
  }
  record('gather', [x, indices], y, { axis: a });
  return y as Tensor<D>;
}

/** x viewed as [outer, n, inner] around `axis`. */
function gatherView(shape: Shape, axis: number) {
  return {
    outer: sizeOf(shape.slice(0, axis)), n: shape[axis], inner: sizeOf(shape.slice(axis + 1)),
  };
}

/** A copy of the indices after checking that each is in [0, n). */
function checkIndices(op: string, indices: Tensor, n: number, what: string): Int32Array {
  checkIndexRange(op, indices, n, what);
  return indices.dataSync() as Int32Array;
}

/** Fails unless every index is in [lowest, n), reading them where they are. */
function checkIndexRange(op: string, indices: Tensor, n: number, what: string, lowest = 0): void {
  const v = indices.backend.heap.i32;
  const start = indices.ptr >> 2;
  for (let j = 0; j < indices.size; j++) {
    const i = v[start + j];
    if (i < lowest || i >= n) {
      fail(op, `expected indices in [${lowest}, ${n - 1}] (${what}), got ${i} at flat index ${j} ` +
        `of indices of shape ${formatShape(indices.shape)}`);
    }
  }
}

/**
 * The gradient of gather: zeros of x's shape with each slice of dy added at its index. Indices
 * may repeat (a word used twice in a batch), so slices add up rather than overwrite.
 */
export function gatherGrad(dy: Tensor, indices: Tensor, shape: Shape, axis: number): Tensor {
  const op = 'gatherGrad';
  const backend = sameBackend(op, dy, indices);
  const { outer, n, inner } = gatherView(shape, axis);
  const idx = checkIndices(op, indices, n, `axis ${axis} of x of shape ${formatShape(shape)}`);
  const dx = output(op, backend, shape);
  const f = backend.heap.f32;
  const start = dx.ptr >> 2;
  f.fill(0, start, start + dx.size);
  const k = idx.length;
  let src = dy.ptr >> 2;
  for (let o = 0; o < outer; o++) {
    const base = start + o * n * inner;
    for (let j = 0; j < k; j++, src += inner) {
      const dst = base + idx[j] * inner;
      for (let i = 0; i < inner; i++) f[dst + i] += f[src + i];
    }
  }
  return dx;
}

/**
 * Weighted sums of rows of x [rows, c]: output row p is the sum over taps k of
 * weights[k, p] * x[indices[k, p]], an index of -1 standing for a row of `fillValue`. indices
 * and weights are [taps, points]; the output is [points, c]. This is how images are resampled
 * through a map (bilinear interpolation takes four taps): one pass instead of a gather, a
 * product and a sum per tap.
 *
 * Each product is rounded to float32 and the terms are added in tap order, each sum rounded,
 * so the result equals the composition of gather, mul and add.
 * @example
 * ```ts
 * const x = tensor([[1], [3]]);
 * ops.weightedGather(x, tensor([0, 1, 1, -1], [2, 2], 'int32'), tensor([0.5, 0.25, 0.5, 0.75], [2, 2]), 8).arraySync(); // [[2], [6.75]]
 * ```
 */
export function weightedGather(x: Tensor, indices: Tensor, weights: Tensor, fillValue = 0): Tensor {
  const op = 'weightedGather';
  expectTensor(op, 'x', x, 'float32');
  expectTensor(op, 'indices', indices, 'int32');
  expectTensor(op, 'weights', weights, 'float32');
  if (x.rank !== 2) fail(op, `expected x of rank 2 ([rows, channels]), got shape ${formatShape(x.shape)}`);
  if (indices.rank !== 2) fail(op, `expected indices of rank 2 ([taps, points]), got shape ${formatShape(indices.shape)}`);
  if (weights.shape.length !== 2 || weights.shape[0] !== indices.shape[0] || weights.shape[1] !== indices.shape[1]) {
    fail(op, `expected weights of the shape of indices ${formatShape(indices.shape)}, got ${formatShape(weights.shape)}`);
  }
  if (!Number.isFinite(fillValue)) fail(op, `expected a finite fillValue, got ${fillValue}`);
  const backend = sameBackend(op, x, indices, weights);
  const [rows, c] = x.shape;
  const [taps, points] = indices.shape;
  checkIndexRange(op, indices, rows, `rows of x of shape ${formatShape(x.shape)}, or -1 for the fill`, -1);
  const y = output(op, backend, [points, c]);
  // Views are taken after allocating: growing the memory detaches the old ones.
  const { f32, i32 } = backend.heap;
  weightedSums(f32, i32, x.ptr >> 2, y.ptr >> 2, indices.ptr >> 2, weights.ptr >> 2, c, taps, points, Math.fround(fillValue));
  record('weightedGather', [x, indices, weights], y, {});
  return y;
}

/**
 * weightedGather's loop over the heap: rows of x from element `src`, the output from `dst`, the
 * indices from `idx` (of the i32 view) and the weights from `w`. A function of its own, so that
 * V8 optimizes the loop alone instead of compiling it on the stack together with the op's
 * bookkeeping, which it then deoptimized at every call.
 */
function weightedSums(
  f: Float32Array, v: Int32Array, src: number, dst: number, idx: number, w: number, c: number, taps: number, points: number, fill: number,
): void {
  for (let p = 0; p < points; p++) {
    for (let i = 0; i < c; i++) {
      let acc = 0;
      for (let k = 0, j = p; k < taps; k++, j += points) {
        const row = v[idx + j];
        const term = Math.fround(f[w + j] * (row < 0 ? fill : f[src + row * c + i]));
        acc = k === 0 ? term : Math.fround(acc + term);
      }
      f[dst + p * c + i] = acc;
    }
  }
}

/**
 * The gradient of weightedGather for x: weights[k, p] * dy[p] added into row indices[k, p].
 * Called by the gradient rule with the op's own inputs, whose indices the op has checked.
 */
export function weightedGatherGrad(dy: Tensor, indices: Tensor, weights: Tensor, shape: Shape): Tensor {
  const op = 'weightedGatherGrad';
  const backend = sameBackend(op, dy, indices, weights);
  const c = shape[1];
  const [taps, points] = indices.shape;
  const dx = output(op, backend, shape);
  const { f32: f, i32: v } = backend.heap;
  const start = dx.ptr >> 2;
  f.fill(0, start, start + dx.size);
  const g = dy.ptr >> 2;
  const idx = indices.ptr >> 2;
  const w = weights.ptr >> 2;
  for (let j = 0; j < taps * points; j++) {
    const row = v[idx + j];
    if (row < 0) continue;
    const weight = f[w + j];
    const p = j % points;
    for (let i = 0; i < c; i++) f[start + row * c + i] += weight * f[g + p * c + i];
  }
  return dx;
}

/**
 * One-hot rows: float32 of shape [...indices.shape, depth], `onValue` at each index and
 * `offValue` elsewhere. As in tf.oneHot, an index outside [0, depth) (negative included) gives
 * a row of `offValue`, not an error: a padding label such as -1 encodes to zeros.
 * @example
 * ```ts
 * ops.oneHot(tensor([0, 2, -1], [3], 'int32'), 3).arraySync(); // [[1, 0, 0], [0, 0, 1], [0, 0, 0]]
 * ```
 */
export function oneHot(indices: Tensor, depth: number, onValue = 1, offValue = 0): Tensor {
  const op = 'oneHot';
  expectTensor(op, 'indices', indices, 'int32');
  if (!Number.isInteger(depth) || depth < 1) {
    fail(op, `expected depth to be a positive integer, got ${depth}`);
  }
  const idx = indices.dataSync() as Int32Array;
  const { y } = allocate(op, indices, [...indices.shape, depth], 'float32');
  const f = y.backend.heap.f32;
  const start = y.ptr >> 2;
  f.fill(offValue, start, start + y.size);
  for (let j = 0; j < idx.length; j++) {
    if (idx[j] >= 0 && idx[j] < depth) f[start + j * depth + idx[j]] = onValue;
  }
  return y;
}
