// The elementwise family: every kernel, every op code, over one table of awkward sizes, run on
// the wasm kernels (both SIMD flavors) and on the reference with identical inputs. Buffers sit
// one f32 past an aligned boundary, with guard elements either side that must stay untouched.
// The reference's backward kernels are in turn checked against finite differences of its
// forward kernels.

import { describe, expect, it } from 'vitest';
import { createReferenceBackend, type Backend } from '../../src/backend/backend.js';
import type { Ptr } from '../../src/backend/kernels.js';
import {
  ACT_ELU, ACT_GELU, ACT_LEAKY_RELU, ACT_LINEAR, ACT_RELU, ACT_SIGMOID, ACT_SWISH, ACT_TANH,
  BINARY_ADD, BINARY_DIV, BINARY_MAX, BINARY_MIN, BINARY_MUL, BINARY_SQUARED_DIFFERENCE,
  BINARY_SUB, UNARY_ABS, UNARY_EXP, UNARY_LOG, UNARY_NEG, UNARY_RECIPROCAL, UNARY_SOFTPLUS,
  UNARY_SQRT, UNARY_SQUARE,
} from '../../src/backend/opcodes.js';
import {
  SIZES, expectClose, expectGradientClose, flavorsUnderTest, pair, uniform, type Tolerance, place, takePlaced, type Placed,
} from '../helpers/kernels.js';

const LENGTHS = [...SIZES, 1000, 4099];

interface UnaryCase {
  name: string;
  op: number;
  alpha?: number;
  /** Input range for the size sweep and the gradient check (kept off kinks and poles). */
  low: number;
  high: number;
  /** wasm vs reference; exp-based ops are polynomial approximations, a few ulp. */
  tol: Tolerance;
  /** wasm vs reference for the backward kernel, when it differs from BACKWARD. */
  backTol?: Tolerance;
  /** Forward and backward tolerances for the special values, when they differ from the sweep's. */
  special?: Tolerance;
  backSpecial?: Tolerance;
}

// Tolerances: exact ops (relu, neg, abs, sqrt, square, reciprocal, ...) are correctly rounded,
// so 1 ulp-ish; the polynomial exp, log and erf are within a few ulp, so rtol 2e-6. A wrong
// constant or a lane mix-up is off by far more than either.
const EXACT: Tolerance = { rtol: 1.2e-7, atol: 0 };
const POLY: Tolerance = { rtol: 2e-6, atol: 1e-30 };
const BACKWARD: Tolerance = { rtol: 4e-6, atol: 1e-37 };
// f'(x) of gelu and swish crosses zero (near x = -0.75 and -1.28): there the f32 sum of terms
// of size ~0.3 leaves an absolute error of a few 1e-8.
const CANCELLING: Tolerance = { rtol: 4e-6, atol: 5e-8 };
const UNARY: UnaryCase[] = [
  { name: 'linear', op: ACT_LINEAR, low: -3, high: 3, tol: EXACT },
  { name: 'relu', op: ACT_RELU, low: -3, high: 3, tol: EXACT },
  { name: 'leaky relu', op: ACT_LEAKY_RELU, alpha: 0.2, low: -3, high: 3, tol: EXACT },
  { name: 'elu', op: ACT_ELU, alpha: 1.5, low: -6, high: 3, tol: { rtol: 2e-6, atol: 1e-7 } },
  {
    name: 'sigmoid', op: ACT_SIGMOID, low: -12, high: 12, tol: POLY,
    // activation.ts's exp gives 0 for results below 2.2e-38 (no subnormals).
    special: { rtol: 4e-6, atol: 3e-38 },
  },
  { name: 'tanh', op: ACT_TANH, low: -6, high: 6, tol: POLY },
  {
    name: 'gelu', op: ACT_GELU, low: -6, high: 6, tol: { rtol: 4e-6, atol: 1e-7 },
    backTol: CANCELLING,
    // activation.ts rounds x^2 / 2 before exp: a relative error of about x^2 / 2 ulp in the
    // tail (6e-6 at x = -9), and 0 below 2.2e-38.
    special: { rtol: 2e-5, atol: 3e-38 },
  },
  {
    name: 'swish', op: ACT_SWISH, low: -12, high: 12, tol: { rtol: 2e-6, atol: 1e-7 },
    backTol: CANCELLING,
    // x / (1 + e^-x) is 0 once e^-x overflows (x < -88.7), where x sigmoid(x) is ~1e-37.
    special: { rtol: 4e-6, atol: 3e-37 },
    // The derivative's sigmoid is subnormal below x = -87: a few subnormal ulp times |x|.
    backSpecial: { rtol: 4e-6, atol: 1e-40 },
  },
  { name: 'exp', op: UNARY_EXP, low: -20, high: 20, tol: POLY },
  { name: 'log', op: UNARY_LOG, low: 0.01, high: 50, tol: { rtol: 2e-6, atol: 1e-7 } },
  { name: 'neg', op: UNARY_NEG, low: -3, high: 3, tol: EXACT },
  { name: 'abs', op: UNARY_ABS, low: -3, high: 3, tol: EXACT },
  { name: 'sqrt', op: UNARY_SQRT, low: 0.01, high: 50, tol: EXACT },
  { name: 'square', op: UNARY_SQUARE, low: -3, high: 3, tol: EXACT },
  { name: 'reciprocal', op: UNARY_RECIPROCAL, low: 0.1, high: 5, tol: EXACT },
  { name: 'softplus', op: UNARY_SOFTPLUS, low: -20, high: 20, tol: { rtol: 2e-6, atol: 1e-30 } },
];

// Values where approximations usually break: zeros, tiny and huge magnitudes, the edges of
// exp's range (overflow past 88.72, subnormals below -87.3, zero below -103.97), NaN, +-inf.
const SPECIAL = new Float32Array([
  0, -0, 1e-30, -1e-30, 1e-7, -1e-7, 0.3, -0.3, 0.35, -0.35, 0.6, -0.6, 1, -1, 9, -9, 10, -10,
  15, -15, 17, -17, 20, -20, 30, -30, 44, -44, 80, -80, 87, -87, 88.7, 88.72, 88.73, 89,
  -88, -90, -100, 100, -103.9, -104, -110, 1e6, -1e6, 1e30, -1e30, 3.4e38, -3.4e38, 1e-40,
  -1e-40, 1e-45, Infinity, -Infinity, NaN,
]);

/** An output of n elements that starts as NaN, so that an element left unwritten is caught. */
const placeOutput = (backend: Backend, n: number): Placed => place(backend, n);
const read = takePlaced;

/** y = f(x) computed by the reference, as an f32 array. */
function referenceUnary(op: number, x: Float32Array, alpha: number): Float32Array {
  return run(sharedReference(), [x], [x.length], (b, [px], [py]) => {
    b.kernels.f32_unary(op, px, py, x.length, alpha);
  }, 'reference unary').outs[0];
}

let reference: Backend | null = null;
function sharedReference(): Backend {
  reference ??= createReferenceBackend();
  return reference;
}

interface Run {
  /** The outputs, in order. */
  outs: Float32Array[];
  /** The inputs as the kernel left them (for in-place calls). */
  ins: Float32Array[];
}

/**
 * Places `inputs` and NaN-filled outputs of the given lengths in `backend`'s heap, runs
 * `kernel`, checks every guard and frees everything.
 */
function run(
  backend: Backend, inputs: (Float32Array | Int32Array)[], outputs: number[],
  kernel: (b: Backend, inPtrs: Ptr[], outPtrs: Ptr[]) => void, label: string,
): Run {
  const ins = inputs.map((data) => place(backend, data));
  const outs = outputs.map((n) => placeOutput(backend, n));
  kernel(backend, ins.map((p) => p.ptr), outs.map((p) => p.ptr));
  const where = `${label} (${backend.flavor})`;
  return {
    outs: outs.map((p, k) => read(backend, p, `${where} output ${k}`)),
    ins: ins.map((p, k) => read(backend, p, `${where} input ${k}`)),
  };
}

/** `run` on several backends with the same inputs; the outputs of each. */
function runBoth(
  backends: Backend[], inputs: (Float32Array | Int32Array)[], outputs: number[],
  kernel: (b: Backend, inPtrs: Ptr[], outPtrs: Ptr[]) => void, label: string,
): Float32Array[][] {
  return backends.map((b) => run(b, inputs, outputs, kernel, label).outs);
}

/** Central differences of sum(dy * g(x)) where g runs a reference kernel on f32 inputs. */
function checkGradient(
  g: (x: Float32Array) => Float32Array, x: Float32Array, dy: Float32Array,
  analytic: Float32Array, label: string, tol: Tolerance & { eps?: number } = {},
): void {
  const f = (probe: Float64Array): number => {
    const y = g(Float32Array.from(probe));
    let sum = 0;
    for (let i = 0; i < y.length; i++) sum += dy[i] * y[i];
    return sum;
  };
  expectGradientClose(f, Float64Array.from(x), analytic, label, tol);
}

/** Inputs in [low, high) kept at least `gap` away from each of `kinks`. */
function awayFrom(x: Float32Array, kinks: number[], gap: number): Float32Array {
  return x.map((v) => {
    for (const k of kinks) if (Math.abs(v - k) < gap) return k + (v < k ? -gap : gap);
    return v;
  });
}

const KINKS: Record<number, number[]> = {
  [ACT_RELU]: [0], [ACT_LEAKY_RELU]: [0], [ACT_ELU]: [0], [UNARY_ABS]: [0],
};

interface BinaryCase {
  name: string;
  op: number;
  /** Operands; `divisor` keeps b away from 0 for div. */
  operands: (n: number, seed: number, divisor?: boolean) => Float32Array;
  tol: Tolerance;
}

const signed = (n: number, seed: number) => uniform(n, seed, -3, 3);
const BINARY: BinaryCase[] = [
  { name: 'add', op: BINARY_ADD, operands: signed, tol: EXACT },
  { name: 'sub', op: BINARY_SUB, operands: signed, tol: EXACT },
  { name: 'mul', op: BINARY_MUL, operands: signed, tol: EXACT },
  {
    name: 'div', op: BINARY_DIV, tol: EXACT,
    operands: (n, seed, divisor) =>
      divisor ? awayFrom(uniform(n, seed, -3, 3), [0], 0.25) : uniform(n, seed, -3, 3),
  },
  { name: 'max', op: BINARY_MAX, operands: signed, tol: EXACT },
  { name: 'min', op: BINARY_MIN, operands: signed, tol: EXACT },
  // (a - b)^2 rounds a - b first in f32, the reference does not: a couple of ulp.
  {
    name: 'squared difference', op: BINARY_SQUARED_DIFFERENCE, operands: signed,
    tol: { rtol: 3e-7, atol: 1e-12 },
  },
];

/** (n, bn) pairs: same shape, scalar, and trailing-axis bias for several shapes. */
const BROADCASTS: [number, number][] = [
  ...LENGTHS.map((n): [number, number] => [n, n]),
  ...LENGTHS.map((n): [number, number] => [n, 1]),
  // bn = 2 and 3 take the 12-element pattern loop once there are at least 12 elements.
  ...[
    [2, 3], [3, 4], [5, 5], [7, 8], [2, 9], [3, 16], [4, 17], [5, 33], [9, 64], [3, 127],
    [2, 1000], [1, 7], [6, 2], [7, 2], [4, 3], [5, 3], [333, 3], [512, 2],
  ]
    .map(([rows, bn]): [number, number] => [rows * bn, bn]),
];

const SOFTMAX_SHAPES = [
  [1, 1], [3, 1], [1, 2], [2, 3], [3, 4], [2, 5], [4, 7], [2, 8], [3, 9], [2, 16], [3, 17],
  [2, 33], [2, 127], [1, 1000], [3, 1000], [1, 4099],
];

/** expectClose, naming the input value at the failing index. */
function expectCloseAt(
  actual: Float32Array, expected: Float32Array, x: Float32Array, label: string, tol: Tolerance,
): void {
  try {
    expectClose(actual, expected, label, tol);
  } catch (error) {
    const i = Number(/index (\d+)/.exec((error as Error).message)?.[1]);
    throw new Error(`${(error as Error).message}, at x = ${x[i]}`);
  }
}

describe('reference elementwise backward matches finite differences', () => {
  const ref = () => sharedReference();
  for (const c of UNARY) {
    it(`unary ${c.name}`, () => {
      const n = 33;
      // Away from kinks and poles, where a central difference with step 1e-3 is not a
      // derivative; the second derivative of log and reciprocal stays below ~100 here.
      const low = c.low > 0 ? Math.max(c.low, 0.2) : c.low / 2;
      const x = awayFrom(uniform(n, 11, low, c.high / 2), KINKS[c.op] ?? [], 0.05);
      const dy = uniform(n, 12);
      const alpha = c.alpha ?? 0;
      const y = referenceUnary(c.op, x, alpha);
      const [[dx]] = runBoth([ref()], [x, y, dy], [n], (b, [px, py, pdy], [pdx]) => {
        b.kernels.f32_unary_backward(c.op, px, py, pdy, pdx, n, alpha);
      }, c.name);
      checkGradient((v) => referenceUnary(c.op, v, alpha), x, dy, dx, `unary ${c.name}`);
    });
  }

  for (const bc of BINARY) {
    for (const [n, bn] of [[12, 12], [12, 1], [15, 5]]) {
      it(`binary ${bc.name} n=${n} bn=${bn}`, () => {
        const a = bc.operands(n, 21);
        const b = bc.operands(bn, 22, true);
        const dout = uniform(n, 23);
        const [[da, db]] = runBoth([ref()], [a, b, dout], [n, bn],
          (be, [pa, pb, pd], [pda, pdb]) => {
            be.kernels.f32_binary_backward(bc.op, pa, pb, pd, pda, pdb, n, bn);
          }, bc.name);
        const forward = (av: Float32Array, bv: Float32Array): Float32Array => {
          const [[out]] = runBoth([ref()], [av, bv], [n], (be, [pa, pb], [po]) => {
            be.kernels.f32_binary(bc.op, pa, pb, po, n, bn);
          }, bc.name);
          return out;
        };
        checkGradient((v) => forward(v, b), a, dout, da, `binary ${bc.name} da`);
        checkGradient((v) => forward(a, v), b, dout, db, `binary ${bc.name} db`);
      });
    }
  }

  it('softmax', () => {
    for (const [rows, cols] of [[1, 1], [3, 5], [2, 17]]) {
      const x = uniform(rows * cols, 31, -3, 3);
      const dy = uniform(rows * cols, 32);
      const forward = (v: Float32Array): Float32Array => runBoth([ref()], [v], [rows * cols],
        (b, [px], [py]) => b.kernels.f32_softmax(px, py, rows, cols), 'softmax')[0][0];
      const y = forward(x);
      const [[dx]] = runBoth([ref()], [y, dy], [rows * cols], (b, [py, pdy], [pdx]) => {
        b.kernels.f32_softmax_backward(py, pdy, pdx, rows, cols);
      }, 'softmax backward');
      checkGradient(forward, x, dy, dx, `softmax ${rows}x${cols}`);
    }
  });
});

for (const flavor of flavorsUnderTest()) {
  describe(`elementwise kernels, ${flavor} vs reference`, () => {
    const backends = (): Backend[] => {
      const p = pair(flavor);
      return [p.wasm, p.ref];
    };
    const wasm = (): Backend => pair(flavor).wasm;

    for (const c of UNARY) {
      it(`f32_unary ${c.name}: sizes, in place, special values`, () => {
        const alpha = c.alpha ?? 0;
        for (const n of LENGTHS) {
          const x = uniform(n, n, c.low, c.high);
          const label = `f32_unary ${c.name} n=${n}`;
          const [[yw], [yr]] = runBoth(backends(), [x], [n], (b, [px], [py]) => {
            b.kernels.f32_unary(c.op, px, py, n, alpha);
          }, label);
          expectClose(yw, yr, label, c.tol);
          const { ins: [inPlace] } = run(wasm(), [x], [], (b, [px]) => {
            b.kernels.f32_unary(c.op, px, px, n, alpha);
          }, label);
          expectClose(inPlace, yw, `${label} in place`, EXACT);
        }
        const label = `f32_unary ${c.name} special values`;
        const [[sw], [sr]] = runBoth(backends(), [SPECIAL], [SPECIAL.length], (b, [px], [py]) => {
          b.kernels.f32_unary(c.op, px, py, SPECIAL.length, alpha);
        }, label);
        // Subnormal results carry fewer bits, so an absolute floor covers them.
        const special = c.special ?? { rtol: Math.max(c.tol.rtol ?? 0, 4e-6), atol: 1e-44 };
        expectCloseAt(sw, sr, SPECIAL, label, special);
      });

      it(`f32_unary_backward ${c.name}: sizes, dx aliasing dy, special values`, () => {
        const alpha = c.alpha ?? 0;
        const tol = c.backTol ?? BACKWARD;
        for (const n of LENGTHS) {
          const x = awayFrom(uniform(n, n + 1, c.low, c.high), KINKS[c.op] ?? [], 1e-3);
          const y = referenceUnary(c.op, x, alpha);
          const dy = uniform(n, n + 2);
          const label = `f32_unary_backward ${c.name} n=${n}`;
          const [[dw], [dr]] = runBoth(backends(), [x, y, dy], [n], (b, [px, py, pdy], [pdx]) => {
            b.kernels.f32_unary_backward(c.op, px, py, pdy, pdx, n, alpha);
          }, label);
          expectClose(dw, dr, label, tol);
          const { ins: [, , inPlace] } = run(wasm(), [x, y, dy], [], (b, [px, py, pdy]) => {
            b.kernels.f32_unary_backward(c.op, px, py, pdy, pdy, n, alpha);
          }, label);
          expectClose(inPlace, dw, `${label} dx == dy`, EXACT);
        }
        const y = referenceUnary(c.op, SPECIAL, alpha);
        const dy = uniform(SPECIAL.length, 3, 0.5, 2);
        const label = `f32_unary_backward ${c.name} special values`;
        const [[dw], [dr]] = runBoth(backends(), [SPECIAL, y, dy], [SPECIAL.length],
          (b, [px, py, pdy], [pdx]) => {
            b.kernels.f32_unary_backward(c.op, px, py, pdy, pdx, SPECIAL.length, alpha);
          }, label);
        const special = c.backSpecial ?? { ...(c.backTol ?? BACKWARD), atol: 1e-44 };
        expectCloseAt(dw, dr, SPECIAL, label, special);
      });
    }

    it('f32_unary special values keep their meaning', () => {
      const at = (op: number, values: number[], alpha = 0): number[] => Array.from(
        run(wasm(), [Float32Array.from(values)], [values.length], (b, [px], [py]) => {
          b.kernels.f32_unary(op, px, py, values.length, alpha);
        }, 'special').outs[0]);
      const [rNaN, rZero, ...rRest] = at(ACT_RELU, [NaN, -0, -1, Infinity]);
      expect([rNaN, ...rRest]).toEqual([NaN, 0, Infinity]);
      expect(rZero === 0).toBe(true); // either zero
      const [s100, sm100, s0, sNaN] = at(ACT_SIGMOID, [100, -100, 0, NaN]);
      expect([s100, s0, sNaN]).toEqual([1, 0.5, NaN]);
      expect(sm100 >= 0 && sm100 < 1e-37).toBe(true); // 3.7e-44, or 0
      const [p100, pm100, ...pRest] = at(UNARY_SOFTPLUS, [100, -100, 1e30, -Infinity, Infinity]);
      expect([p100, ...pRest]).toEqual([100, 1e30, 0, Infinity].map(Math.fround));
      expect(pm100 > 0 && pm100 < 1e-43).toBe(true);
      expect(at(UNARY_LOG, [0, -1, Infinity, 1, NaN])).toEqual([-Infinity, NaN, Infinity, 0, NaN]);
      expect(at(UNARY_EXP, [89, -104, 0, -Infinity, Infinity, NaN])).toEqual(
        [Infinity, 0, 1, 0, Infinity, NaN]);
      const [t100, tm100, t0, tm0, tNaN] = at(ACT_TANH, [100, -100, 0, -0, NaN]);
      expect([t100, tm100, t0, tNaN]).toEqual([1, -1, 0, NaN]);
      expect(tm0 === 0).toBe(true); // either zero
      const [g0, g10, gm10, gInf, gNaN] = at(ACT_GELU, [0, 10, -10, Infinity, NaN]);
      expect([g0, g10, gInf, gNaN]).toEqual([0, 10, Infinity, NaN]);
      expect(Math.abs(gm10 / -7.619853e-23 - 1)).toBeLessThan(1e-5);
      expect(at(ACT_ELU, [-Infinity, 0, 2], 0.5)).toEqual([-0.5, 0, 2]);
      expect(at(UNARY_SQRT, [-1, 0, 4])).toEqual([NaN, 0, 2]);
      expect(at(UNARY_RECIPROCAL, [0, -0, 4])).toEqual([Infinity, -Infinity, 0.25]);
    });

    for (const bc of BINARY) {
      it(`f32_binary ${bc.name}: broadcasts, aliasing`, () => {
        for (const [n, bn] of BROADCASTS) {
          const a = bc.operands(n, n);
          const b = bc.operands(bn, bn + 7, true);
          const label = `f32_binary ${bc.name} n=${n} bn=${bn}`;
          const [[ow], [or]] = runBoth(backends(), [a, b], [n], (be, [pa, pb], [po]) => {
            be.kernels.f32_binary(bc.op, pa, pb, po, n, bn);
          }, label);
          expectClose(ow, or, label, bc.tol);
          // out == a, and out == b when bn == n.
          const { ins: [overA] } = run(wasm(), [a, b], [], (be, [pa, pb]) => {
            be.kernels.f32_binary(bc.op, pa, pb, pa, n, bn);
          }, label);
          expectClose(overA, ow, `${label} out == a`, EXACT);
          if (bn !== n) continue;
          const { ins: [, overB] } = run(wasm(), [a, b], [], (be, [pa, pb]) => {
            be.kernels.f32_binary(bc.op, pa, pb, pb, n, bn);
          }, label);
          expectClose(overB, ow, `${label} out == b`, EXACT);
        }
      });

      it(`f32_binary_backward ${bc.name}: broadcasts, absent outputs, da aliasing dout`, () => {
        for (const [n, bn] of BROADCASTS) {
          const a = bc.operands(n, n + 3);
          const b = bc.operands(bn, bn + 5, true);
          const dout = uniform(n, n + 9);
          const label = `f32_binary_backward ${bc.name} n=${n} bn=${bn}`;
          const [[daw, dbw], [dar, dbr]] = runBoth(backends(), [a, b, dout], [n, bn],
            (be, [pa, pb, pd], [pda, pdb]) => {
              be.kernels.f32_binary_backward(bc.op, pa, pb, pd, pda, pdb, n, bn);
            }, label);
          expectClose(daw, dar, `${label} da`, { rtol: 3e-7, atol: 1e-12 });
          // db sums n / bn terms of size <= ~20 in f32, the reference in f64.
          expectClose(dbw, dbr, `${label} db`, { rtol: 1e-6, atol: 2e-6 * Math.sqrt(n / bn) });
          const [[onlyDb]] = runBoth([wasm()], [a, b, dout], [bn], (be, [pa, pb, pd], [pdb]) => {
            be.kernels.f32_binary_backward(bc.op, pa, pb, pd, 0, pdb, n, bn);
          }, label);
          expectClose(onlyDb, dbw, `${label} db without da`, EXACT);
          const [[onlyDa]] = runBoth([wasm()], [a, b, dout], [n], (be, [pa, pb, pd], [pda]) => {
            be.kernels.f32_binary_backward(bc.op, pa, pb, pd, pda, 0, n, bn);
          }, label);
          expectClose(onlyDa, daw, `${label} da without db`, EXACT);
          const { ins: [, , overDout], outs: [dbAliased] } = run(wasm(), [a, b, dout], [bn],
            (be, [pa, pb, pd], [pdb]) => {
              be.kernels.f32_binary_backward(bc.op, pa, pb, pd, pd, pdb, n, bn);
            }, label);
          expectClose(overDout, daw, `${label} da == dout`, EXACT);
          expectClose(dbAliased, dbw, `${label} db with da == dout`, EXACT);
        }
      });
    }

    it('f32_binary max / min: NaN propagates, ties send the gradient to a', () => {
      const a = Float32Array.from([1, NaN, 2, -0, 3, 5, 5, 5]);
      const b = Float32Array.from([NaN, 1, 2, 0, 3, 5, 5, 5]);
      const dout = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
      for (const op of [BINARY_MAX, BINARY_MIN]) {
        const label = `f32_binary ${op === BINARY_MAX ? 'max' : 'min'} ties`;
        const [[ow], [or]] = runBoth(backends(), [a, b], [8], (be, [pa, pb], [po]) => {
          be.kernels.f32_binary(op, pa, pb, po, 8, 8);
        }, label);
        expect(Number.isNaN(ow[0]) && Number.isNaN(ow[1])).toBe(true);
        expectClose(ow, or, label, EXACT);
        const [[daw, dbw], [dar, dbr]] = runBoth(backends(), [a, b, dout], [8, 8],
          (be, [pa, pb, pd], [pda, pdb]) => {
            be.kernels.f32_binary_backward(op, pa, pb, pd, pda, pdb, 8, 8);
          }, label);
        expect(Array.from(daw.slice(2))).toEqual([3, 4, 5, 6, 7, 8]);
        expect(Array.from(dbw.slice(2))).toEqual([0, 0, 0, 0, 0, 0]);
        expectClose(daw, dar, `${label} da`, EXACT);
        expectClose(dbw, dbr, `${label} db`, EXACT);
      }
    });

    it('f32_scale_shift and f32_fill: sizes, in place', () => {
      for (const n of LENGTHS) {
        const x = uniform(n, n, -5, 5);
        const label = `f32_scale_shift n=${n}`;
        const [[yw], [yr]] = runBoth(backends(), [x], [n], (b, [px], [py]) => {
          b.kernels.f32_scale_shift(px, py, n, -1.7, 0.3);
        }, label);
        // The reference rounds once (like a fused multiply-add), plain SIMD twice.
        expectClose(yw, yr, label, { rtol: 2.4e-7, atol: 1e-7 });
        const { ins: [inPlace] } = run(wasm(), [x], [], (b, [px]) => {
          b.kernels.f32_scale_shift(px, px, n, -1.7, 0.3);
        }, label);
        expectClose(inPlace, yw, `${label} in place`, EXACT);
        const [[fw], [fr]] = runBoth(backends(), [], [n], (b, _, [py]) => {
          b.kernels.f32_fill(py, n, 0.1);
        }, `f32_fill n=${n}`);
        expect(fr.every((v) => v === Math.fround(0.1))).toBe(true);
        expectClose(fw, fr, `f32_fill n=${n}`, EXACT);
      }
    });

    it('f32_softmax and f32_softmax_backward: shapes, in place, large logits', () => {
      for (const [rows, cols] of SOFTMAX_SHAPES) {
        const n = rows * cols;
        for (const [scale, seed] of [[3, 1], [80, 2], [1e30, 3]]) {
          const x = uniform(n, seed * n, -scale, scale);
          const label = `f32_softmax ${rows}x${cols} logits in +-${scale}`;
          const [[yw], [yr]] = runBoth(backends(), [x], [n], (b, [px], [py]) => {
            b.kernels.f32_softmax(px, py, rows, cols);
          }, label);
          // x - max rounds in f32 when it is large, which costs e^(x - max) a relative
          // |x - max| * 2^-24; such tiny probabilities are compared absolutely.
          expectClose(yw, yr, label, { rtol: 4e-6, atol: scale > 10 ? 1e-12 : 1e-44 });
          const { ins: [inPlace] } = run(wasm(), [x], [], (b, [px]) => {
            b.kernels.f32_softmax(px, px, rows, cols);
          }, label);
          expectClose(inPlace, yw, `${label} in place`, EXACT);
        }
        const y = uniform(n, n, 0, 1);
        const dy = uniform(n, n + 1);
        const label = `f32_softmax_backward ${rows}x${cols}`;
        const [[dw], [dr]] = runBoth(backends(), [y, dy], [n], (b, [py, pdy], [pdx]) => {
          b.kernels.f32_softmax_backward(py, pdy, pdx, rows, cols);
        }, label);
        // dx = y * (dy - dot): the dot sums cols terms in f32 on the wasm side.
        expectClose(dw, dr, label, { rtol: 1e-5, atol: 2e-7 * Math.sqrt(cols) });
        const { ins: [, inPlace] } = run(wasm(), [y, dy], [], (b, [py, pdy]) => {
          b.kernels.f32_softmax_backward(py, pdy, pdy, rows, cols);
        }, label);
        expectClose(inPlace, dw, `${label} dx == dy`, EXACT);
      }
    });

    it('f32_softmax rows with -inf, +inf and NaN', () => {
      const x = Float32Array.from([-Infinity, 0, 1, -Infinity, 2, Infinity, NaN, 1, 0, 0]);
      const [[yw], [yr]] = runBoth(backends(), [x], [10], (b, [px], [py]) => {
        b.kernels.f32_softmax(px, py, 2, 5);
      }, 'f32_softmax special');
      expect(yw[0]).toBe(0); // a -inf logit has probability 0
      expectClose(yw, yr, 'f32_softmax special', { rtol: 2e-6, atol: 0 });
    });

    it('repeated calls keep the heap flat', () => {
      const be = wasm();
      const n = 4099;
      const [x, b] = [place(be, uniform(n, 5, 0.1, 2)), place(be, uniform(n, 6, 0.1, 2))];
      const [y, d] = [placeOutput(be, n), placeOutput(be, n)];
      const before = be.heap.byteLength;
      for (let rep = 0; rep < 20; rep++) {
        for (const c of UNARY) {
          be.kernels.f32_unary(c.op, x.ptr, y.ptr, n, 0.1);
          be.kernels.f32_unary_backward(c.op, x.ptr, y.ptr, y.ptr, d.ptr, n, 0.1);
        }
        for (const bc of BINARY) {
          be.kernels.f32_binary(bc.op, x.ptr, b.ptr, y.ptr, n, n);
          be.kernels.f32_binary_backward(bc.op, x.ptr, b.ptr, y.ptr, d.ptr, b.ptr, n, 1);
        }
        be.kernels.f32_scale_shift(x.ptr, y.ptr, n, 2, 1);
        be.kernels.f32_fill(y.ptr, n, 1);
        be.kernels.f32_softmax(x.ptr, y.ptr, 1, n);
        be.kernels.f32_softmax_backward(y.ptr, x.ptr, d.ptr, 1, n);
      }
      expect(be.heap.byteLength).toBe(before);
      for (const p of [x, b, y, d]) be.heap.free(p.block);
    });
  });
}
