// Reductions and softmax cross-entropy: every kernel over one table of [outer, axis, inner]
// shapes (each of them 1, prime, the SIMD width and the 16-lane block +-1) and of [rows, cols]
// loss shapes, run on the wasm kernels (both SIMD flavors) and on the reference with identical
// inputs. Buffers sit one f32 past an aligned boundary with guard elements either side. The
// reference's gradients are in turn checked against finite differences of its forward kernels.

import { describe, expect, it } from 'vitest';
import { createReferenceBackend, type Backend } from '../../src/backend/backend.js';
import type { Ptr } from '../../src/backend/kernels.js';
import { REDUCE_MAX, REDUCE_MEAN, REDUCE_MIN, REDUCE_SUM } from '../../src/backend/opcodes.js';
import { Random } from '../../src/util/random.js';
import {
  SIZES, expectClose, expectGradientClose, flavorsUnderTest, pair, uniform, type Tolerance, place, takePlaced,
} from '../helpers/kernels.js';

type Shape = [outer: number, axis: number, inner: number];

const DIMS = [1, 3, 4, 5, 15, 16, 17];
const SHAPES: Shape[] = [
  ...DIMS.flatMap((o) => DIMS.flatMap((a) => DIMS.map((i): Shape => [o, a, i]))),
  [1, 4099, 1], [2, 1000, 1], [1, 1000, 3], [3, 257, 17], [1, 1, 4099], [2, 33, 64],
  [1, 127, 33], [4, 64, 2],
];

const OPS = [
  { name: 'sum', op: REDUCE_SUM },
  { name: 'mean', op: REDUCE_MEAN },
  { name: 'max', op: REDUCE_MAX },
  { name: 'min', op: REDUCE_MIN },
];

const LOSS_SHAPES: [rows: number, cols: number][] = [
  [1, 1], [3, 2], [2, 3], [4, 4], [3, 5], [2, 7], [3, 8], [2, 9], [5, 10], [2, 16], [3, 17],
  [2, 33], [2, 127], [2, 1000], [1, 4099],
];

const EXACT: Tolerance = { rtol: 0, atol: 0 };
/** Cross-entropy with logits in +-5: a few ulp of the loss and of the probabilities. */
const LOSS: Tolerance = { rtol: 2e-6, atol: 1e-6 };
const DLOGITS: Tolerance = { rtol: 4e-6, atol: 1e-9 };
const read = takePlaced;

interface Run {
  /** The outputs, in order; each started as NaN, so an element left unwritten is caught. */
  outs: Float32Array[];
  /** What the kernel returned. */
  result: number;
}

function run(
  backend: Backend, inputs: (Float32Array | Int32Array)[], outputs: number[],
  kernel: (b: Backend, inPtrs: Ptr[], outPtrs: Ptr[]) => number | void, label: string,
): Run {
  const ins = inputs.map((data) => place(backend, data));
  const outs = outputs.map((n) => place(backend, new Float32Array(n).fill(Number.NaN)));
  const result = kernel(backend, ins.map((p) => p.ptr), outs.map((p) => p.ptr)) ?? 0;
  const where = `${label} (${backend.flavor})`;
  const outData = outs.map((p, k) => read(backend, p, `${where} output ${k}`));
  ins.forEach((p, k) => read(backend, p, `${where} input ${k}`));
  return { outs: outData, result };
}

let reference: Backend | null = null;
function sharedReference(): Backend {
  reference ??= createReferenceBackend();
  return reference;
}

function reduceOn(
  b: Backend, op: number, x: Float32Array, [outer, axis, inner]: Shape,
): Float32Array {
  return run(b, [x], [outer * inner], (be, [px], [py]) => {
    be.kernels.f32_reduce(op, px, py, outer, axis, inner);
  }, `f32_reduce ${op}`).outs[0];
}

function reduceBackwardOn(
  b: Backend, op: number, x: Float32Array, y: Float32Array, dy: Float32Array, shape: Shape,
): Float32Array {
  const [outer, axis, inner] = shape;
  return run(b, [x, y, dy], [x.length], (be, [px, py, pdy], [pdx]) => {
    be.kernels.f32_reduce_backward(op, px, py, pdy, pdx, outer, axis, inner);
  }, `f32_reduce_backward ${op}`).outs[0];
}

interface Loss {
  loss: Float32Array;
  dlogits: Float32Array;
  invalid: number;
}

function crossEntropyOn(
  b: Backend, logits: Float32Array, labels: Float32Array | Int32Array, rows: number,
  cols: number, gradScale: number, withGradient = true,
): Loss {
  const sparse = labels instanceof Int32Array;
  const { outs, result } = run(b, [logits, labels], withGradient ? [rows, rows * cols] : [rows],
    (be, [pz, pt], [ploss, pdz]) => {
      const dz = withGradient ? pdz : 0;
      const k = be.kernels;
      const scale = gradScale;
      if (sparse) return k.f32_sparse_softmax_cross_entropy(pz, pt, ploss, dz, rows, cols, scale);
      k.f32_softmax_cross_entropy(pz, pt, ploss, dz, rows, cols, scale);
    }, sparse ? 'f32_sparse_softmax_cross_entropy' : 'f32_softmax_cross_entropy');
  return { loss: outs[0], dlogits: outs[1] ?? new Float32Array(0), invalid: result };
}

// ---- Inputs ----------------------------------------------------------------------------------

/** Small integers, so that max and min have many ties. */
function integers(n: number, seed: number, range: number): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: n }, () => Math.floor(rng.uniform() * range) - (range >> 1));
}

/** Each row a probability vector, some entries exactly 0. */
function softLabels(rows: number, cols: number, seed: number, total = 1): Float32Array {
  const t = uniform(rows * cols, seed, -0.5, 1).map((v) => Math.max(v, 0));
  for (let r = 0; r < rows; r++) {
    const row = t.subarray(r * cols, (r + 1) * cols);
    if (row.every((v) => v === 0)) row[0] = 1;
    const sum = row.reduce((s, v) => s + v, 0);
    row.forEach((v, c) => (row[c] = (v / sum) * total));
  }
  return t;
}

function oneHot(rows: number, cols: number, classes: Int32Array): Float32Array {
  const t = new Float32Array(rows * cols);
  classes.forEach((k, r) => (t[r * cols + k] = 1));
  return t;
}

function classes(rows: number, cols: number, seed: number): Int32Array {
  const rng = new Random(seed);
  return Int32Array.from({ length: rows }, () => Math.floor(rng.uniform() * cols));
}

// ---- Reference gradients ---------------------------------------------------------------------

/** Central differences of sum(w * g(x)) where g runs a reference kernel on f32 inputs. */
function checkGradient(
  g: (x: Float32Array) => Float32Array, x: Float32Array, w: Float32Array,
  analytic: Float32Array, label: string,
): void {
  const f = (probe: Float64Array): number => {
    const y = g(Float32Array.from(probe));
    return y.reduce((sum, v, i) => sum + w[i] * v, 0);
  };
  expectGradientClose(f, Float64Array.from(x), analytic, label);
}

describe('reference reduce gradients match finite differences', () => {
  for (const { name, op } of OPS) {
    it(`f32_reduce_backward ${name}`, () => {
      for (const shape of [[1, 5, 1], [2, 3, 4], [3, 4, 5]] as Shape[]) {
        const [outer, axis, inner] = shape;
        // Distinct values 0.1 apart (> 2 eps), so that no finite-difference probe flips an
        // extremum.
        const n = outer * axis * inner;
        const x = Float32Array.from({ length: n }, (_, i) => ((i * 37) % 101) / 10);
        const dy = uniform(outer * inner, 5);
        const ref = sharedReference();
        const y = reduceOn(ref, op, x, shape);
        const dx = reduceBackwardOn(ref, op, x, y, dy, shape);
        checkGradient((v) => reduceOn(ref, op, v, shape), x, dy, dx, `reduce ${name} ${shape}`);
      }
    });
  }

  it('f32_softmax_cross_entropy and the sparse one', () => {
    const ref = sharedReference();
    for (const [rows, cols] of [[1, 1], [3, 5], [2, 17]]) {
      const z = uniform(rows * cols, rows + cols, -3, 3);
      const ones = new Float32Array(rows).fill(1);
      // Labels that do not sum to 1 too: the gradient carries sum_c t_c.
      for (const t of [softLabels(rows, cols, 3), softLabels(rows, cols, 4, 2.5)]) {
        const { dlogits } = crossEntropyOn(ref, z, t, rows, cols, 1);
        checkGradient((v) => crossEntropyOn(ref, v, t, rows, cols, 1).loss, z, ones, dlogits,
          `softmax cross-entropy ${rows}x${cols}`);
      }
      const k = classes(rows, cols, 7);
      const { dlogits } = crossEntropyOn(ref, z, k, rows, cols, 1);
      checkGradient((v) => crossEntropyOn(ref, v, k, rows, cols, 1).loss, z, ones, dlogits,
        `sparse softmax cross-entropy ${rows}x${cols}`);
    }
  });
});

// ---- wasm vs reference -----------------------------------------------------------------------

for (const flavor of flavorsUnderTest()) {
  describe(`reduce kernels, ${flavor} vs reference`, () => {
    const both = (): Backend[] => [pair(flavor).wasm, pair(flavor).ref];
    const wasm = (): Backend => pair(flavor).wasm;

    for (const { name, op } of OPS) {
      it(`f32_reduce and f32_reduce_backward ${name}: shapes, ties, NaN`, () => {
        for (const shape of SHAPES) {
          const [outer, axis, inner] = shape;
          const n = outer * axis * inner;
          const inputs: [string, Float32Array][] = [
            ['uniform', uniform(n, n + axis, -1, 1)],
            ['ties', integers(n, n, 5)],
          ];
          if (op === REDUCE_MAX || op === REDUCE_MIN) {
            const withNaN = uniform(n, n + 1);
            for (let k = 0; k < n; k += 7) withNaN[k] = Number.NaN;
            inputs.push(['NaN', withNaN]);
          }
          for (const [kind, x] of inputs) {
            const label = `f32_reduce ${name} [${shape}] ${kind}`;
            const [yw, yr] = both().map((b) => reduceOn(b, op, x, shape));
            // Sums round in f32 on the wasm side: allow about one ulp of the sum of |x| per
            // term; max / min are exact.
            const tol = op === REDUCE_SUM ? { rtol: 1e-6, atol: 6e-8 * axis }
              : op === REDUCE_MEAN ? { rtol: 1e-6, atol: 6e-8 } : EXACT;
            expectClose(yw, yr, label, tol);
            // Both backends get the same y, so that max / min route to the same element.
            const dy = uniform(outer * inner, n + 2);
            const [dxw, dxr] = both().map((b) => reduceBackwardOn(b, op, x, yr, dy, shape));
            expectClose(dxw, dxr, `f32_reduce_backward ${name} [${shape}] ${kind}`, EXACT);
          }
        }
      });
    }

    it('f32_reduce_backward max / min route to the first extremum only', () => {
      const x = Float32Array.from([2, 5, 5, 1, 5, 1, 1, 3]);
      const dy = Float32Array.from([10]);
      const max = reduceBackwardOn(wasm(), REDUCE_MAX, x, Float32Array.from([5]), dy, [1, 8, 1]);
      expect(Array.from(max)).toEqual([0, 10, 0, 0, 0, 0, 0, 0]);
      const min = reduceBackwardOn(wasm(), REDUCE_MIN, x, Float32Array.from([1]), dy, [1, 8, 1]);
      expect(Array.from(min)).toEqual([0, 0, 0, 10, 0, 0, 0, 0]);
      // Across inner: column 0 is [2, 5, 5, 1], column 1 is [5, 1, 1, 3].
      const y = reduceOn(wasm(), REDUCE_MIN, x, [1, 4, 2]);
      expect(Array.from(y)).toEqual([1, 1]);
      const dy2 = Float32Array.from([7, 8]);
      const columns = reduceBackwardOn(wasm(), REDUCE_MIN, x, y, dy2, [1, 4, 2]);
      expect(Array.from(columns)).toEqual([0, 0, 0, 8, 0, 0, 7, 0]);
    });

    it('f32_sum_squares: sizes, beyond f32 range, NaN and inf', () => {
      for (const n of [...SIZES, 1000, 4099]) {
        for (const scale of [1, 1e20]) {
          const x = uniform(n, n, -scale, scale);
          const label = `f32_sum_squares n=${n} scale=${scale}`;
          const [sw, sr] = both().map((b) => run(b, [x], [], (be, [px]) => {
            return be.kernels.f32_sum_squares(px, n);
          }, label).result);
          // Summation order differs; float64 leaves about n * 1e-16 of relative error.
          expectClose([sw], [sr], label, { rtol: 1e-13, atol: 0 });
          if (scale > 1) expect(Number.isFinite(sw)).toBe(true);
        }
      }
      const sumSquares = (values: number[]) => run(wasm(), [Float32Array.from(values)], [],
        (be, [px]) => be.kernels.f32_sum_squares(px, values.length), 'f32_sum_squares').result;
      expect(sumSquares([3, 4, 1, 1, 1])).toBe(28);
      expect(sumSquares([1, 2, 3, 4, NaN])).toBeNaN();
      expect(sumSquares([1, 2, 3, 4, 5, -Infinity])).toBe(Infinity);
      expect(sumSquares([])).toBe(0);
    });

    it('f32_softmax_cross_entropy: one-hot and soft labels, with and without dlogits', () => {
      for (const [rows, cols] of LOSS_SHAPES) {
        for (const [scale, seed] of [[3, 1], [60, 2]]) {
          const z = uniform(rows * cols, seed * cols + rows, -scale, scale);
          const labelSets: [string, Float32Array][] = [
            ['one-hot', oneHot(rows, cols, classes(rows, cols, seed))],
            ['soft', softLabels(rows, cols, seed)],
            ['soft, sum 2.5', softLabels(rows, cols, seed + 1, 2.5)],
          ];
          for (const [kind, t] of labelSets) {
            const label = `f32_softmax_cross_entropy ${rows}x${cols} ${kind} logits +-${scale}`;
            const [w, r] = both().map((b) => crossEntropyOn(b, z, t, rows, cols, 1 / rows));
            // The loss sums cols terms in f32; probabilities below e^-20 carry the f32
            // rounding of z - max (see the softmax test) and are compared absolutely.
            expectClose(w.loss, r.loss, `${label} loss`, { rtol: 2e-6, atol: 2e-6 * scale });
            // softmax * sum(t) - t cancels where the prediction matches the label: an
            // absolute error of a few ulp of the labels remains.
            expectClose(w.dlogits, r.dlogits, `${label} dlogits`, { rtol: 4e-6, atol: 4e-7 });
            const lossOnly = crossEntropyOn(wasm(), z, t, rows, cols, 1 / rows, false);
            expectClose(lossOnly.loss, w.loss, `${label} without dlogits`, EXACT);
          }
        }
      }
    });

    it('f32_softmax_cross_entropy: -inf logits with zero labels, NaN', () => {
      const z = Float32Array.from([-Infinity, 1, 2, -Infinity, NaN, 0, 1, 2]);
      const t = Float32Array.from([0, 0.5, 0.5, 0, 0, 0, 1, 0]);
      const [w, r] = both().map((b) => crossEntropyOn(b, z, t, 2, 4, 1));
      expect(Number.isFinite(w.loss[0])).toBe(true);
      expect(w.dlogits[0]).toBe(0);
      expect(w.loss[1]).toBeNaN();
      expectClose(w.loss, r.loss, 'masked loss', { rtol: 2e-6, atol: 0 });
      expectClose(w.dlogits, r.dlogits, 'masked dlogits', DLOGITS);
    });

    it('f32_sparse_softmax_cross_entropy: valid and out-of-range labels', () => {
      for (const [rows, cols] of LOSS_SHAPES) {
        const z = uniform(rows * cols, rows * 31 + cols, -5, 5);
        const k = classes(rows, cols, rows + cols);
        const label = `f32_sparse_softmax_cross_entropy ${rows}x${cols}`;
        const [w, r] = both().map((b) => crossEntropyOn(b, z, k, rows, cols, 0.5));
        expect(w.invalid).toBe(0);
        expectClose(w.loss, r.loss, `${label} loss`, LOSS);
        expectClose(w.dlogits, r.dlogits, `${label} dlogits`, DLOGITS);
        // The same loss as one-hot dense labels.
        const dense = crossEntropyOn(wasm(), z, oneHot(rows, cols, k), rows, cols, 0.5);
        expectClose(w.loss, dense.loss, `${label} vs one-hot`, LOSS);
        expectClose(w.dlogits, dense.dlogits, `${label} vs one-hot dlogits`, DLOGITS);
      }
      // Labels +-2^28 address 1 GiB beyond the logits (the heap is far smaller), so reading
      // the row at such a label traps rather than passing unnoticed.
      const rows = 6;
      const cols = 5;
      const z = uniform(rows * cols, 9, -2, 2);
      const k = Int32Array.from([2, -1, 5, 1 << 28, -(1 << 28), 4]);
      const [w, r] = both().map((b) => crossEntropyOn(b, z, k, rows, cols, 1));
      expect([w.invalid, r.invalid]).toEqual([4, 4]);
      for (const bad of [1, 2, 3, 4]) {
        expect(w.loss[bad]).toBeNaN();
        expect(w.dlogits.subarray(bad * cols, (bad + 1) * cols).every(Number.isNaN)).toBe(true);
      }
      expectClose(w.loss, r.loss, 'sparse with bad labels, loss', LOSS);
      expectClose(w.dlogits, r.dlogits, 'sparse with bad labels, dlogits', DLOGITS);
      const lossOnly = crossEntropyOn(wasm(), z, k, rows, cols, 1, false);
      expect(lossOnly.invalid).toBe(4);
      expectClose(lossOnly.loss, w.loss, 'sparse without dlogits', EXACT);
    });

    it('repeated calls keep the heap flat', () => {
      const be = wasm();
      const [rows, cols] = [64, 100];
      const n = rows * cols;
      const x = place(be, uniform(n, 1));
      const t = place(be, softLabels(rows, cols, 2));
      const k = place(be, classes(rows, cols, 3));
      const out = place(be, new Float32Array(n));
      const small = place(be, new Float32Array(rows * 2));
      const before = be.heap.byteLength;
      for (let rep = 0; rep < 50; rep++) {
        for (const { op } of OPS) {
          be.kernels.f32_reduce(op, x.ptr, small.ptr, rows, cols, 1);
          be.kernels.f32_reduce(op, x.ptr, small.ptr, 2, rows / 2, cols);
          be.kernels.f32_reduce_backward(op, x.ptr, small.ptr, small.ptr, out.ptr, rows, cols, 1);
        }
        be.kernels.f32_sum_squares(x.ptr, n);
        be.kernels.f32_softmax_cross_entropy(x.ptr, t.ptr, small.ptr, out.ptr, rows, cols, 1);
        const sparse = be.kernels.f32_sparse_softmax_cross_entropy;
        sparse(x.ptr, k.ptr, small.ptr, out.ptr, rows, cols, 1);
      }
      expect(be.heap.byteLength).toBe(before);
      for (const p of [x, t, k, out, small]) be.heap.free(p.block);
    });
  });
}
