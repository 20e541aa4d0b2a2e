// Data-movement ops (src/ops/movement.ts) against plain-JS index arithmetic.
//
// One table drives the forward tests: every row runs an op on inputs of one shape and dtype,
// and an oracle computes each output element from its multi-index, independently of the copy
// engine. Moving data is exact, so outputs are compared bit for bit (as int32 words).
//
// Each row runs twice inside a StepArena: the second run gets the same output blocks, which
// are filled with a canary in between, so an element the op forgot to write still holds the
// canary, and a write past the end shows in the block's padding. Inputs must not change.
// Gradients are checked in test/autodiff/gradients.test.ts.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBackend, createReferenceBackend, getBackend, setBackend, type Backend,
} from '../../src/backend/backend.js';
import { ALIGN } from '../../src/backend/heap.js';
import * as ops from '../../src/ops/index.js';
import { StepArena, tensor, Tensor, type DType } from '../../src/tensor.js';
import { uniform } from '../helpers/kernels.js';

// ---- The oracle ------------------------------------------------------------------------------

/** A tensor as plain data: the oracle's input and output. */
interface Plain {
  shape: number[];
  data: ArrayLike<number>;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function ravel(index: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  for (let k = 0; k < shape.length; k++) flat = flat * shape[k] + index[k];
  return flat;
}

function unravel(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) {
    index[k] = flat % shape[k];
    flat = Math.floor(flat / shape[k]);
  }
  return index;
}

/** The tensor of `shape` whose element at each multi-index is `at(index)`. */
function build(shape: number[], at: (index: number[]) => number): Plain {
  return { shape, data: Array.from({ length: sizeOf(shape) }, (_, i) => at(unravel(i, shape))) };
}

const get = (x: Plain, index: readonly number[]) => x.data[ravel(index, x.shape)];

const oracle = {
  transpose: (x: Plain, perm = x.shape.map((_, i) => x.shape.length - 1 - i)) =>
    build(perm.map((p) => x.shape[p]), (idx) => {
      const source = new Array<number>(idx.length);
      perm.forEach((p, i) => (source[p] = idx[i]));
      return get(x, source);
    }),
  slice: (x: Plain, begin: number[], size: number[]) =>
    build(size, (idx) => get(x, idx.map((v, k) => v + begin[k]))),
  pad: (x: Plain, paddings: [number, number][], value: number) =>
    build(x.shape.map((d, k) => paddings[k][0] + d + paddings[k][1]), (idx) => {
      const source = idx.map((v, k) => v - paddings[k][0]);
      return source.every((v, k) => v >= 0 && v < x.shape[k]) ? get(x, source) : value;
    }),
  concat: (xs: Plain[], axis: number) => {
    const shape = xs[0].shape.slice();
    shape[axis] = xs.reduce((t, x) => t + x.shape[axis], 0);
    return build(shape, (idx) => {
      let offset = idx[axis];
      for (const x of xs) {
        if (offset < x.shape[axis]) return get(x, idx.map((v, k) => (k === axis ? offset : v)));
        offset -= x.shape[axis];
      }
      throw new Error('oracle: index past the end');
    });
  },
  broadcastTo: (x: Plain, shape: number[]) => {
    const lead = shape.length - x.shape.length;
    return build(shape, (idx) =>
      get(x, idx.slice(lead).map((v, k) => (x.shape[k] === 1 ? 0 : v))));
  },
  tile: (x: Plain, reps: number[]) =>
    build(x.shape.map((d, k) => d * reps[k]), (idx) => get(x, idx.map((v, k) => v % x.shape[k]))),
  upSampling2d: (x: Plain, [sh, sw]: [number, number]) => {
    const [n, h, w, c] = x.shape;
    return build([n, h * sh, w * sw, c], ([b, i, j, ch]) =>
      get(x, [b, Math.floor(i / sh), Math.floor(j / sw), ch]));
  },
  gather: (x: Plain, indices: Plain, axis: number) => {
    const r = indices.shape.length;
    const shape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
    return build(shape, (idx) => get(x, [
      ...idx.slice(0, axis), get(indices, idx.slice(axis, axis + r)), ...idx.slice(axis + r),
    ]));
  },
  /** Terms rounded to float32 and summed in tap order, each sum rounded: the op's contract. */
  weightedGather: (x: Plain, indices: Plain, weights: Plain, fill: number) => {
    const [taps, points] = indices.shape;
    return build([points, x.shape[1]], ([p, i]) => {
      let acc = 0;
      for (let k = 0; k < taps; k++) {
        const row = get(indices, [k, p]);
        const term = Math.fround(get(weights, [k, p]) * (row < 0 ? Math.fround(fill) : get(x, [row, i])));
        acc = k === 0 ? term : Math.fround(acc + term);
      }
      return acc;
    });
  },
  oneHot: (indices: Plain, depth: number) =>
    build([...indices.shape, depth], (idx) =>
      (get(indices, idx.slice(0, -1)) === idx[idx.length - 1] ? 1 : 0)),
  stack: (xs: Plain[], axis: number) => {
    const shape = xs[0].shape.slice();
    shape.splice(axis, 0, xs.length);
    return build(shape, (idx) => get(xs[idx[axis]], idx.filter((_, k) => k !== axis)));
  },
  unstack: (x: Plain, axis: number) =>
    Array.from({ length: x.shape[axis] }, (_, i) =>
      build(x.shape.filter((_, k) => k !== axis), (idx) => {
        const source = idx.slice();
        source.splice(axis, 0, i);
        return get(x, source);
      })),
};

// ---- The table -------------------------------------------------------------------------------

interface Row {
  name: string;
  /** The inputs' dtype; the output's too unless `outDtype` says otherwise. */
  dtype: DType;
  outDtype?: DType;
  shapes: number[][];
  run: (...xs: Tensor[]) => Tensor | Tensor[];
  expected: (...xs: Plain[]) => Plain | Plain[];
}

/** Awkward shapes: ranks 1 to 5, size-1 axes, odd primes and one large. */
const SHAPES = [
  [1], [7], [33], [4, 1], [1, 5], [3, 4], [17, 9], [2, 1, 3], [3, 5, 4], [2, 3, 4, 5],
  [1, 2, 1, 3, 2], [2, 3, 1, 4, 5], [64, 257],
];
const DTYPES: DType[] = ['float32', 'int32'];

const rows: Row[] = [];
const add = (row: Row) => rows.push(row);
const label = (s: readonly number[]) => `[${s.join(', ')}]`;

for (const dtype of DTYPES) {
  for (const s of SHAPES) {
    const rank = s.length;
    const tag = `${label(s)} ${dtype}`;

    add({ name: `transpose ${tag}`, dtype, shapes: [s], run: (x) => ops.transpose(x), expected: (x) => oracle.transpose(x) });
    const rotate = s.map((_, i) => (i + 1) % rank);
    add({ name: `transpose [${rotate}] ${tag}`, dtype, shapes: [s], run: (x) => ops.transpose(x, rotate), expected: (x) => oracle.transpose(x, rotate) });
    if (rank >= 3) {
      const swapInner = s.map((_, i) => (i < rank - 2 ? i : 2 * rank - 3 - i));
      add({ name: `transpose [${swapInner}] ${tag}`, dtype, shapes: [s], run: (x) => ops.transpose(x, swapInner), expected: (x) => oracle.transpose(x, swapInner) });
    }

    const begin = s.map((d) => Math.floor(d / 3));
    const size = s.map((d, k) => d - begin[k] - Math.floor(d / 4));
    const sizeArg = size.map((n, k) => (k % 2 === 1 && begin[k] + n === s[k] ? -1 : n));
    add({ name: `slice ${tag}`, dtype, shapes: [s], run: (x) => ops.slice(x, begin, sizeArg), expected: (x) => oracle.slice(x, begin, size) });
    add({ name: `slice everything ${tag}`, dtype, shapes: [s], run: (x) => ops.slice(x, 0), expected: (x) => x });
    const rows2 = s.map((d, k) => (k === 0 ? 1 : d));
    if (s[0] > 1) {
      add({ name: `slice one leading row ${tag}`, dtype, shapes: [s], run: (x) => ops.slice(x, [s[0] - 1], [1]), expected: (x) => oracle.slice(x, s.map((_, k) => (k === 0 ? s[0] - 1 : 0)), rows2) });
    }

    const paddings = s.map((_, k): [number, number] => [k % 3, (k + 1) % 2]);
    const value = dtype === 'int32' ? -7 : 2.5;
    add({ name: `pad ${tag}`, dtype, shapes: [s], run: (x) => ops.pad(x, paddings, value), expected: (x) => oracle.pad(x, paddings, value) });

    for (let axis = 0; axis < rank; axis++) {
      const parts = [s[axis], 1, 2].map((d) => s.map((e, k) => (k === axis ? d : e)));
      const arg = axis % 2 === 1 ? axis - rank : axis;
      add({ name: `concat axis ${arg} ${tag}`, dtype, shapes: parts, run: (...xs) => ops.concat(xs, arg), expected: (...xs) => oracle.concat(xs, axis) });
    }

    const small = s.map((d, k) => (k % 2 === 0 ? 1 : d)).slice(rank > 1 ? 1 : 0);
    add({ name: `broadcastTo ${label(small)} -> ${tag}`, dtype, shapes: [small], run: (x) => ops.broadcastTo(x, s), expected: (x) => oracle.broadcastTo(x, s) });
    add({ name: `broadcastTo ${tag} -> [2, ...]`, dtype, shapes: [s], run: (x) => ops.broadcastTo(x, [2, ...s]), expected: (x) => oracle.broadcastTo(x, [2, ...s]) });

    const reps = s.map((_, k) => [2, 1, 3][k % 3]);
    add({ name: `tile [${reps}] ${tag}`, dtype, shapes: [s], run: (x) => ops.tile(x, reps), expected: (x) => oracle.tile(x, reps) });

    const indices: Plain = { shape: [2, 3], data: [0, s[0] - 1, 0, Math.floor(s[0] / 2), s[0] - 1, 0] };
    add({
      name: `gather rows ${tag}`, dtype, shapes: [s],
      run: (x) => ops.gather(x, tensor(indices.data, indices.shape, 'int32')),
      expected: (x) => oracle.gather(x, indices, 0),
    });
    const last = rank - 1;
    const picks: Plain = { shape: [4], data: [s[last] - 1, 0, s[last] - 1, Math.floor(s[last] / 2)] };
    add({
      name: `gather axis -1 ${tag}`, dtype, shapes: [s],
      run: (x) => ops.gather(x, tensor(picks.data, picks.shape, 'int32'), -1),
      expected: (x) => oracle.gather(x, picks, last),
    });

    for (const axis of [0, -1]) {
      const a = axis < 0 ? axis + rank + 1 : axis;
      add({ name: `stack axis ${axis} ${tag}`, dtype, shapes: [s, s, s], run: (...xs) => ops.stack(xs, axis), expected: (...xs) => oracle.stack(xs, a) });
    }
    const unstackAxis = rank - 1;
    add({ name: `unstack axis -1 ${tag}`, dtype, shapes: [s], run: (x) => ops.unstack(x, -1), expected: (x) => oracle.unstack(x, unstackAxis) });
    if (s[0] >= 3) {
      const sizes = [1, -1, 1];
      const known = [1, s[0] - 2, 1];
      add({
        name: `split [1, -1, 1] ${tag}`, dtype, shapes: [s], run: (x) => ops.split(x, sizes),
        expected: (x) => {
          let offset = 0;
          return known.map((n) => {
            const part = oracle.slice(x, s.map((_, k) => (k === 0 ? offset : 0)), s.map((d, k) => (k === 0 ? n : d)));
            offset += n;
            return part;
          });
        },
      });
    }
  }

  for (const s of [[2, 3, 4, 5], [1, 1, 1, 1], [1, 3, 2, 3], [2, 5, 7, 17]]) {
    for (const size of [[2, 2], [1, 3], [3, 1]] as [number, number][]) {
      add({ name: `upSampling2d [${size}] ${label(s)} ${dtype}`, dtype, shapes: [s], run: (x) => ops.upSampling2d(x, size), expected: (x) => oracle.upSampling2d(x, size) });
    }
  }

  // Whole-row runs, long enough for copyWithin, and a large scattered transpose.
  add({ name: `slice long rows ${dtype}`, dtype, shapes: [[9, 300]], run: (x) => ops.slice(x, [2, 5], [5, 250]), expected: (x) => oracle.slice(x, [2, 5], [5, 250]) });
  add({ name: `split 4 on axis 1 ${dtype}`, dtype, shapes: [[3, 8, 5]], run: (x) => ops.split(x, 4, 1),
    expected: (x) => [0, 2, 4, 6].map((b) => oracle.slice(x, [0, b, 0], [3, 2, 5])) });
  add({ name: `transpose heads ${dtype}`, dtype, shapes: [[2, 5, 3, 16]], run: (x) => ops.transpose(x, [0, 2, 1, 3]), expected: (x) => oracle.transpose(x, [0, 2, 1, 3]) });
  add({ name: `gather axis 1 3d indices ${dtype}`, dtype, shapes: [[3, 6, 20]],
    run: (x) => ops.gather(x, tensor([5, 0, 2, 2, 1, 5, 3, 4], [2, 2, 2], 'int32'), 1),
    expected: (x) => oracle.gather(x, { shape: [2, 2, 2], data: [5, 0, 2, 2, 1, 5, 3, 4] }, 1) });
  add({ name: `broadcastTo scalar ${dtype}`, dtype, shapes: [[]], run: (x) => ops.broadcastTo(x, [3, 1, 20]), expected: (x) => oracle.broadcastTo(x, [3, 1, 20]) });
  add({ name: `transpose scalar ${dtype}`, dtype, shapes: [[]], run: (x) => ops.transpose(x), expected: (x) => x });
  add({ name: `empty concat part ${dtype}`, dtype, shapes: [[2, 0], [2, 3]], run: (a, b) => ops.concat([a, b], 1), expected: (_, b) => b });
}

// weightedGather: one, two and four taps (nearest, linear, bilinear), one channel (grey images)
// and odd channel counts, repeated rows, the fill row (-1) and weights of any sign.
for (const [xRows, c, taps, points] of [[1, 1, 1, 1], [7, 1, 4, 37], [9, 3, 2, 20], [5, 17, 4, 11], [30, 1, 1, 64]]) {
  const n = taps * points;
  const ids = Array.from({ length: n }, (_, j) => (j % 5 === 3 ? -1 : (j * 7 + 3) % xRows));
  const ws = Array.from({ length: n }, (_, j) => Math.fround(Math.sin(j + 1) * 1.3));
  const indices: Plain = { shape: [taps, points], data: ids };
  const weights: Plain = { shape: [taps, points], data: ws };
  add({
    name: `weightedGather ${taps} taps of [${xRows}, ${c}] to ${points} points`, dtype: 'float32', shapes: [[xRows, c]],
    run: (x) => ops.weightedGather(x, tensor(ids, [taps, points], 'int32'), tensor(ws, [taps, points]), -0.3),
    expected: (x) => oracle.weightedGather(x, indices, weights, -0.3),
  });
}

for (const shape of [[5], [2, 3], [1, 1, 4]]) {
  const n = sizeOf(shape);
  // Out-of-range indices (negative included) give an all-zero row, as in tf.oneHot.
  const data = Array.from({ length: n }, (_, i) => [0, 3, 1, -1, 4, 2][i % 6]);
  add({
    name: `oneHot ${label(shape)}`, dtype: 'int32', outDtype: 'float32', shapes: [],
    run: () => ops.oneHot(tensor(data, shape, 'int32'), 4),
    expected: () => oracle.oneHot({ shape, data }, 4),
  });
}

// ---- Running a row -----------------------------------------------------------------------------

/** A NaN as float32, and a value no int32 input below uses. */
const CANARY = 0x7fbadbad;

function input(shape: number[], dtype: DType, seed: number): Tensor {
  const n = sizeOf(shape);
  const values = dtype === 'int32'
    ? Int32Array.from({ length: n }, (_, i) => ((i * 7919 + seed * 104729) % 2001) - 1000)
    : uniform(n, seed, -10, 10);
  return tensor(values, shape, dtype);
}

const asList = (t: Tensor | Tensor[]) => (Array.isArray(t) ? t : [t]);
const blockWords = (t: Tensor) => Math.max(ALIGN, Math.ceil((t.size * 4) / ALIGN) * ALIGN) / 4;

/** Bits of the oracle's values in `dtype`, as int32 words. */
function bits(values: ArrayLike<number>, dtype: DType): Int32Array {
  return dtype === 'int32'
    ? Int32Array.from(values)
    : new Int32Array(Float32Array.from(values).buffer);
}

function checkRow(row: Row): void {
  const xs = row.shapes.map((s, i) => input(s, row.dtype, i + 1));
  const before = xs.map((x) => x.dataSync().slice());
  const arena = new StepArena();
  try {
    const first = asList(arena.run(() => row.run(...xs)));
    const heap = getBackend().heap;
    for (const y of first) heap.i32.fill(CANARY, y.ptr >> 2, (y.ptr >> 2) + blockWords(y));
    const outputs = asList(arena.run(() => row.run(...xs)));
    const plains = asList(row.expected(...xs.map((x) => ({ shape: x.shape.slice(), data: x.dataSync() }))) as Plain | Plain[]);
    expect(outputs.length, `${row.name}: number of outputs`).toBe(plains.length);
    outputs.forEach((y, o) => {
      const where = `${row.name}, output ${o}`;
      expect(y.ptr, `${where}: the arena's block`).toBe(first[o].ptr);
      expect(y.shape, `${where}: shape`).toEqual(plains[o].shape);
      const dtype = row.outDtype ?? row.dtype;
      expect(y.dtype, `${where}: dtype`).toBe(dtype);
      const want = bits(plains[o].data, dtype);
      const start = y.ptr >> 2;
      const words = heap.i32;
      for (let i = 0; i < y.size; i++) {
        if (words[start + i] !== want[i]) {
          const got = words[start + i] === CANARY ? 'the canary (never written)' : words[start + i];
          throw new Error(`${where}: flat index ${i} of ${label(y.shape)}: got bits ${got}, expected ${want[i]}`);
        }
      }
      for (let i = y.size; i < blockWords(y); i++) {
        if (words[start + i] !== CANARY) throw new Error(`${where}: wrote past the end, at flat index ${i}`);
      }
    });
    xs.forEach((x, i) => {
      const now = x.dataSync();
      // Bits, not numbers: toEqual on large typed arrays is slow, and NaN-safe this way.
      const a = new Int32Array(now.buffer, now.byteOffset, now.length);
      const b = new Int32Array(before[i].buffer, before[i].byteOffset, before[i].length);
      if (a.some((w, j) => w !== b[j])) throw new Error(`${row.name}: input ${i} changed`);
    });
  } finally {
    arena.dispose();
  }
}

// ---- Tests ---------------------------------------------------------------------------------------

let saved: Backend;
beforeAll(() => {
  saved = getBackend();
});
afterAll(() => setBackend(saved));

const BACKENDS: [string, () => Backend][] = [
  ['reference', () => createReferenceBackend()],
  ['wasm', () => createBackend({ flavor: 'simd' })],
];

for (const [flavor, make] of BACKENDS) {
  describe(`movement ops on the ${flavor} heap match the oracle`, () => {
    beforeAll(() => setBackend(make()));
    it(`${rows.length} table rows`, () => {
      for (const row of rows) checkRow(row);
    });
  });
}

describe('views and composition', () => {
  beforeAll(() => setBackend(createReferenceBackend()));

  it('expandDims and squeeze are views sharing memory', () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 1, 3]);
    expect(ops.expandDims(x, -1).shape).toEqual([2, 1, 3, 1]);
    expect(ops.expandDims(x, 0).shape).toEqual([1, 2, 1, 3]);
    expect(ops.expandDims(x, 3).ptr).toBe(x.ptr);
    expect(ops.squeeze(x).shape).toEqual([2, 3]);
    expect(ops.squeeze(x, -2).shape).toEqual([2, 3]);
    expect(ops.squeeze(tensor([[[1]]])).shape).toEqual([]);
    expect(ops.squeeze(x, [1]).ptr).toBe(x.ptr);
  });

  it('tile and upSampling2d follow their documented examples', () => {
    expect(ops.tile(tensor([[1, 2]]), [2, 2]).arraySync()).toEqual([[1, 2, 1, 2], [1, 2, 1, 2]]);
    expect(ops.upSampling2d(tensor([1, 2], [1, 1, 2, 1]), 2).reshape([2, 4]).arraySync())
      .toEqual([[1, 1, 2, 2], [1, 1, 2, 2]]);
    expect(ops.oneHot(tensor([0, 2, -1], [3], 'int32'), 3).arraySync())
      .toEqual([[1, 0, 0], [0, 0, 1], [0, 0, 0]]);
    expect(ops.oneHot(tensor([1], [1], 'int32'), 2, 5, -1).arraySync()).toEqual([[-1, 5]]);
  });

  it('subtracts a [rows, 1] mean from [rows, cols] through broadcastTo', () => {
    const x = tensor([[1, 2, 3], [10, 20, 30]]);
    const centred = ops.sub(x, ops.broadcastTo(tensor([[2], [20]]), [2, 3]));
    expect(centred.arraySync()).toEqual([[-1, 0, 1], [-10, 0, 10]]);
  });

  it('a training-like step of movement ops keeps the heap flat', () => {
    const backend = getBackend();
    const x = input([8, 12, 5], 'float32', 3);
    const ids = tensor([3, 1, 3, 0, 7], [5], 'int32');
    const arena = new StepArena();
    const step = () => arena.run(() => {
      // [8, 12, 5] -> pad [10, 14, 5] -> transpose [14, 10, 5] -> 14 x [10, 5] -> [10, 3, 5]
      const parts = ops.unstack(ops.transpose(ops.pad(x, [[1, 1], [0, 2], [0, 0]]), [1, 0, 2]));
      const stacked = ops.stack(parts.slice(0, 3), 1);
      const gathered = ops.slice(ops.gather(x, ids), [0, 0, 0], [5, 3, 5]);
      const joined = ops.tile(ops.concat([stacked, gathered], 0), [1, 2, 1]);
      return ops.sum(ops.broadcastTo(ops.slice(joined, [1], [3]), [2, 3, 6, 5]));
    });
    const expected = step().dataSync()[0];
    const bytes = backend.heap.byteLength;
    const inUse = backend.heap.bytesInUse;
    for (let i = 0; i < 50; i++) expect(step().dataSync()[0]).toBe(expected);
    expect(backend.heap.byteLength).toBe(bytes);
    expect(backend.heap.bytesInUse).toBe(inUse);
    arena.dispose();
  });
});

describe('boundary errors name the op, the expectation and the value found', () => {
  beforeAll(() => setBackend(createReferenceBackend()));

  it.each([
    ['transpose', () => ops.transpose(tensor([[1, 2]]), [0, 0]), 'kerasm.transpose: expected perm to be a permutation of [0, 2) for x of shape [1, 2], got [0, 0]'],
    ['transpose', () => ops.transpose(tensor([[1, 2]]), [1]), 'kerasm.transpose: expected perm to be an array of 2 integers, got an array of length 1'],
    ['transpose', () => ops.transpose(tensor([[1, 2]]), [0.5, 1]), 'kerasm.transpose: expected perm[0] to be an integer, got 0.5'],
    ['transpose', () => ops.transpose([1, 2] as unknown as Tensor), 'kerasm.transpose: expected x to be a Tensor, got an array of length 2'],
    ['slice', () => ops.slice(tensor([[1, 2, 3]]), [0, 4]), 'kerasm.slice: expected begin[1] in [0, 3] for x of shape [1, 3], got 4'],
    ['slice', () => ops.slice(tensor([[1, 2, 3]]), [0, 1], [1, 3]), 'kerasm.slice: expected begin[1] + size[1] <= 3 (size -1 or >= 0) for x of shape [1, 3], got 1 + 3'],
    ['slice', () => ops.slice(tensor([1, 2]), [0, 0]), 'kerasm.slice: expected begin to be a number or an array of at most 1 integers, got an array of length 2'],
    ['split', () => ops.split(tensor([1, 2, 3]), 2), 'kerasm.split: expected a number of parts dividing 3 (axis 0 of x of shape [3]), got 2'],
    ['split', () => ops.split(tensor([1, 2, 3]), [1, 1]), 'kerasm.split: expected sizes >= 0 summing to 3 (axis 0 of x of shape [3]; one may be -1), got [1, 1]'],
    ['split', () => ops.split(tensor([1, 2, 3]), 3, 1), 'kerasm.split: expected axis in [-1, 0] for x of shape [3], got 1'],
    ['pad', () => ops.pad(tensor([1, 2]), [[1, 1], [0, 0]]), 'kerasm.pad: expected paddings to be 1 [before, after] pairs for x of shape [2], got an array of length 2'],
    ['pad', () => ops.pad(tensor([1, 2]), [[1, -1]]), 'kerasm.pad: expected paddings[0] to be [before, after], non-negative integers, got [1, -1]'],
    ['pad', () => ops.pad(tensor([1, 2], [2], 'int32'), [[1, 0]], 0.5), 'kerasm.pad: expected an integer value to pad an int32 tensor, got 0.5'],
    ['concat', () => ops.concat([]), 'kerasm.concat: expected a non-empty array of tensors, got an array of length 0'],
    ['concat', () => ops.concat([tensor([[1, 2]]), tensor([[1, 2, 3]])], 0), 'kerasm.concat: expected tensors[1] of shape [*, 2] (all axes but 0 as tensors[0]), got [1, 3]'],
    ['concat', () => ops.concat([tensor([[1, 2]]), tensor([[1, 2]])], 2), 'kerasm.concat: expected axis in [-2, 1] for tensors of shape [1, 2], got 2'],
    ['concat', () => ops.concat([tensor([1]), tensor([1], [1], 'int32')]), 'kerasm.concat: expected tensors[1] of dtype float32 (as tensors[0]), got int32'],
    ['concat', () => ops.concat([tensor([1]), tensor([2]).reshape([1, 1])]), 'kerasm.concat: expected tensors[1] of shape [*] (all axes but 0 as tensors[0]), got [1, 1]'],
    ['concat', () => ops.concat([tensor([1]), createReferenceBackendTensor()]), 'kerasm.concat: expected all tensors on one backend, got reference and reference'],
    ['stack', () => ops.stack([tensor([1, 2]), tensor([1, 2, 3])]), 'kerasm.stack: expected tensors[1] of shape [2] (as tensors[0]), got [3]'],
    ['stack', () => ops.stack([tensor([1, 2])], 2), 'kerasm.stack: expected axis in [-2, 1] for a stack of shape [2], got 2'],
    ['unstack', () => ops.unstack(tensor([1, 2]), -2), 'kerasm.unstack: expected axis in [-1, 0] for x of shape [2], got -2'],
    ['expandDims', () => ops.expandDims(tensor([1, 2]), 2), 'kerasm.expandDims: expected axis in [-2, 1] for x of shape [2], got 2'],
    ['squeeze', () => ops.squeeze(tensor([[1, 2]]), 1), 'kerasm.squeeze: expected axis 1 of x of shape [1, 2] to have size 1, got 2'],
    ['broadcastTo', () => ops.broadcastTo(tensor([1, 2]), [3]), 'kerasm.broadcastTo: expected a shape that x of shape [2] broadcasts to (aligned on the right, each axis of x 1 or equal), got [3]'],
    ['broadcastTo', () => ops.broadcastTo(tensor([[1, 2]]), [2]), 'kerasm.broadcastTo: expected a shape that x of shape [1, 2] broadcasts to (aligned on the right, each axis of x 1 or equal), got [2]'],
    ['tile', () => ops.tile(tensor([1, 2]), [2, 2]), 'kerasm.tile: expected reps to be an array of 1 integers, got an array of length 2'],
    ['tile', () => ops.tile(tensor([1, 2]), [-1]), 'kerasm.tile: expected reps >= 0, got [-1]'],
    ['upSampling2d', () => ops.upSampling2d(tensor([1, 2])), 'kerasm.upSampling2d: expected x of shape [N, H, W, C], got [2]'],
    ['upSampling2d', () => ops.upSampling2d(tensor([1], [1, 1, 1, 1]), [2, 0]), 'kerasm.upSampling2d: expected size to be positive integers [sh, sw], got [2, 0]'],
    ['gather', () => ops.gather(tensor([[1], [2]]), tensor([0, 1, 2, 1], [2, 2], 'int32')), 'kerasm.gather: expected indices in [0, 1] (axis 0 of x of shape [2, 1]), got 2 at flat index 2 of indices of shape [2, 2]'],
    ['gather', () => ops.gather(tensor([[1], [2]]), tensor([-1], [1], 'int32')), 'kerasm.gather: expected indices in [0, 1] (axis 0 of x of shape [2, 1]), got -1 at flat index 0 of indices of shape [1]'],
    ['gather', () => ops.gather(tensor([[1], [2]]), tensor([0])), 'kerasm.gather: expected indices of dtype int32, got float32'],
    ['gather', () => ops.gather(tensor([[1], [2]]), tensor([0], [1], 'int32'), -3), 'kerasm.gather: expected axis in [-2, 1] for x of shape [2, 1], got -3'],
    ['weightedGather', () => ops.weightedGather(tensor([1, 2]), tensor([0], [1, 1], 'int32'), tensor([1], [1, 1])), 'kerasm.weightedGather: expected x of rank 2 ([rows, channels]), got shape [2]'],
    ['weightedGather', () => ops.weightedGather(tensor([[1], [2]]), tensor([0, 1], [2], 'int32'), tensor([1, 1], [2])), 'kerasm.weightedGather: expected indices of rank 2 ([taps, points]), got shape [2]'],
    ['weightedGather', () => ops.weightedGather(tensor([[1], [2]]), tensor([0, 1], [1, 2], 'int32'), tensor([1, 1], [2, 1])), 'kerasm.weightedGather: expected weights of the shape of indices [1, 2], got [2, 1]'],
    ['weightedGather', () => ops.weightedGather(tensor([[1], [2]]), tensor([0, 2], [1, 2], 'int32'), tensor([1, 1], [1, 2])), 'kerasm.weightedGather: expected indices in [-1, 1] (rows of x of shape [2, 1], or -1 for the fill), got 2 at flat index 1 of indices of shape [1, 2]'],
    ['weightedGather', () => ops.weightedGather(tensor([[1], [2]]), tensor([-2, 0], [1, 2], 'int32'), tensor([1, 1], [1, 2])), 'kerasm.weightedGather: expected indices in [-1, 1] (rows of x of shape [2, 1], or -1 for the fill), got -2 at flat index 0 of indices of shape [1, 2]'],
    ['weightedGather', () => ops.weightedGather(tensor([[1], [2]]), tensor([0], [1, 1]), tensor([1], [1, 1])), 'kerasm.weightedGather: expected indices of dtype int32, got float32'],
    ['weightedGather', () => ops.weightedGather(tensor([[1], [2]]), tensor([0], [1, 1], 'int32'), tensor([1], [1, 1]), NaN), 'kerasm.weightedGather: expected a finite fillValue, got NaN'],
    ['oneHot', () => ops.oneHot(tensor([0], [1], 'int32'), 0), 'kerasm.oneHot: expected depth to be a positive integer, got 0'],
    ['oneHot', () => ops.oneHot(tensor([0]), 2), 'kerasm.oneHot: expected indices of dtype int32, got float32'],
  ])('%s (case %#)', (_, f, message) => {
    expect(f).toThrow(message);
  });
});

/** A tensor on a second backend (concat must refuse to mix heaps). */
function createReferenceBackendTensor(): Tensor {
  const other = createReferenceBackend();
  const t = Tensor.empty([1], 'float32', other);
  other.heap.f32[t.ptr >> 2] = 1;
  return t;
}
