// Reference elementwise kernels: the definition of f32_unary, f32_binary, softmax and friends,
// one element at a time, in float64 between the f32 loads and stores.
//
// Conventions that the wasm kernels keep exactly:
//   - A NaN input gives a NaN output in every forward op, max and min included (Math.max,
//     like f32x4.max). Piecewise derivatives take their x <= 0 branch for a NaN x, as
//     TensorFlow's ReluGrad does.
//   - A derivative that is zero by definition gives an exact 0, not dy * 0, so an infinite
//     upstream gradient does not turn into NaN where the op is flat (relu for x <= 0, the
//     losing side of max / min).
//   - Derivatives that the contract lets read y = f(x) use it (sigmoid, tanh, exp, sqrt,
//     reciprocal, as TensorFlow's *Grad ops do); the others are written in terms of x (elu's
//     alpha e^x rather than y + alpha, which cancels as y approaches -alpha).

import type { Heap } from '../heap.js';
import type { Kernels } from '../kernels.js';
import {
  ACT_ELU, ACT_GELU, ACT_LEAKY_RELU, ACT_LINEAR, ACT_RELU, ACT_SIGMOID, ACT_SWISH, ACT_TANH,
  BINARY_ADD, BINARY_DIV, BINARY_MAX, BINARY_MIN, BINARY_MUL, BINARY_SQUARED_DIFFERENCE,
  BINARY_SUB, UNARY_ABS, UNARY_EXP, UNARY_LOG, UNARY_NEG, UNARY_RECIPROCAL, UNARY_SOFTPLUS,
  UNARY_SQRT, UNARY_SQUARE,
} from '../opcodes.js';
import { activate, erfc } from './activation.js';

const SQRT_HALF = 0.7071067811865476;
const ONE_OVER_SQRT_2PI = 0.3989422804014327;

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** y = f(x) for an ACT_* or UNARY_* code, in float64. */
export function unary(op: number, x: number, alpha: number): number {
  switch (op) {
    case UNARY_EXP:
      return Math.exp(x);
    case UNARY_LOG:
      return Math.log(x);
    case UNARY_NEG:
      return -x;
    case UNARY_ABS:
      return Math.abs(x);
    case UNARY_SQRT:
      return Math.sqrt(x);
    case UNARY_SQUARE:
      return x * x;
    case UNARY_RECIPROCAL:
      return 1 / x;
    case UNARY_SOFTPLUS:
      // log(1 + e^x) = max(x, 0) + log(1 + e^-|x|): never overflows, exact in both tails.
      return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    default:
      return activate(op, x, alpha); // the ACT_* codes, shared with the GEMM/conv epilogues
  }
}

/** f'(x) * dy for an ACT_* or UNARY_* code; y = f(x). */
export function unaryBackward(op: number, x: number, y: number, dy: number, alpha: number): number {
  switch (op) {
    case ACT_LINEAR:
      return dy;
    case ACT_RELU:
      return x > 0 ? dy : 0;
    case ACT_LEAKY_RELU:
      return x > 0 ? dy : dy * alpha;
    case ACT_ELU:
      return x > 0 ? dy : dy * alpha * Math.exp(x);
    case ACT_SIGMOID:
      return dy * y * (1 - y);
    case ACT_TANH:
      return dy * (1 - y * y);
    case ACT_GELU: {
      // d/dx x Phi(x) = Phi(x) + x phi(x)
      const cdf = 0.5 * erfc(-x * SQRT_HALF);
      return dy * (cdf + x * ONE_OVER_SQRT_2PI * Math.exp(-0.5 * x * x));
    }
    case ACT_SWISH: {
      const s = sigmoid(x);
      return dy * (s + x * s * (1 - s));
    }
    case UNARY_EXP:
      return dy * y;
    case UNARY_LOG:
      return dy / x;
    case UNARY_NEG:
      return -dy;
    case UNARY_ABS:
      return x > 0 ? dy : x < 0 ? -dy : Number.isNaN(x) ? x : 0;
    case UNARY_SQRT:
      return (dy * 0.5) / y;
    case UNARY_SQUARE:
      return dy * 2 * x;
    case UNARY_RECIPROCAL:
      return -dy * y * y;
    case UNARY_SOFTPLUS:
      return dy * sigmoid(x);
    default:
      throw new RangeError(`kerasm: ${op} is not a unary op code`);
  }
}

/** a op b for a BINARY_* code, in float64. */
export function binary(op: number, a: number, b: number): number {
  switch (op) {
    case BINARY_ADD:
      return a + b;
    case BINARY_SUB:
      return a - b;
    case BINARY_MUL:
      return a * b;
    case BINARY_DIV:
      return a / b;
    case BINARY_MAX:
      return Math.max(a, b);
    case BINARY_MIN:
      return Math.min(a, b);
    case BINARY_SQUARED_DIFFERENCE:
      return (a - b) * (a - b);
    default:
      throw new RangeError(`kerasm: ${op} is not a binary op code`);
  }
}

/** [d(a op b)/da, d(a op b)/db] * dout. Ties of max and min send the gradient to a. */
export function binaryBackward(op: number, a: number, b: number, dout: number): [number, number] {
  switch (op) {
    case BINARY_ADD:
      return [dout, dout];
    case BINARY_SUB:
      return [dout, -dout];
    case BINARY_MUL:
      return [dout * b, dout * a];
    case BINARY_DIV:
      return [dout / b, (-dout * a) / (b * b)];
    case BINARY_MAX:
      return a >= b ? [dout, 0] : [0, dout];
    case BINARY_MIN:
      return a <= b ? [dout, 0] : [0, dout];
    case BINARY_SQUARED_DIFFERENCE:
      return [2 * dout * (a - b), -2 * dout * (a - b)];
    default:
      throw new RangeError(`kerasm: ${op} is not a binary op code`);
  }
}

export function elementwiseReference(
  heap: Heap,
): Pick<
  Kernels,
  | 'f32_unary' | 'f32_unary_backward' | 'f32_binary' | 'f32_binary_backward' | 'f32_scale_shift'
  | 'f32_fill' | 'f32_softmax' | 'f32_softmax_backward'
> {
  return {
    f32_unary(op, x, y, n, alpha) {
      const f32 = heap.f32;
      // Numbers cross the wasm boundary as f32; round them the same way here.
      const alpha32 = Math.fround(alpha);
      for (let i = 0; i < n; i++) f32[(y >> 2) + i] = unary(op, f32[(x >> 2) + i], alpha32);
    },

    f32_unary_backward(op, x, y, dy, dx, n, alpha) {
      const f32 = heap.f32;
      const alpha32 = Math.fround(alpha);
      for (let i = 0; i < n; i++) {
        const [xi, yi, dyi] = [f32[(x >> 2) + i], f32[(y >> 2) + i], f32[(dy >> 2) + i]];
        f32[(dx >> 2) + i] = unaryBackward(op, xi, yi, dyi, alpha32);
      }
    },

    f32_binary(op, a, b, out, n, bn) {
      const f32 = heap.f32;
      for (let i = 0; i < n; i++) {
        f32[(out >> 2) + i] = binary(op, f32[(a >> 2) + i], f32[(b >> 2) + (i % bn)]);
      }
    },

    f32_binary_backward(op, a, b, dout, da, db, n, bn) {
      const f32 = heap.f32;
      const dbAcc = new Float64Array(bn);
      for (let i = 0; i < n; i++) {
        const j = i % bn;
        const [ai, bj, douti] = [f32[(a >> 2) + i], f32[(b >> 2) + j], f32[(dout >> 2) + i]];
        const [ga, gb] = binaryBackward(op, ai, bj, douti);
        if (da !== 0) f32[(da >> 2) + i] = ga;
        dbAcc[j] += gb;
      }
      if (db !== 0) f32.set(dbAcc, db >> 2);
    },

    f32_scale_shift(x, y, n, scale, shift) {
      const f32 = heap.f32;
      const [scale32, shift32] = [Math.fround(scale), Math.fround(shift)];
      for (let i = 0; i < n; i++) f32[(y >> 2) + i] = f32[(x >> 2) + i] * scale32 + shift32;
    },

    f32_fill(y, n, value) {
      heap.f32.fill(Math.fround(value), y >> 2, (y >> 2) + n);
    },

    f32_softmax(x, y, rows, cols) {
      const f32 = heap.f32;
      for (let r = 0; r < rows; r++) {
        const [xr, yr] = [(x >> 2) + r * cols, (y >> 2) + r * cols];
        // Subtracting the row max keeps every exp in [0, 1]: no overflow, and the largest
        // term is exactly 1, so the sum is at least 1.
        let max = -Infinity;
        for (let c = 0; c < cols; c++) max = Math.max(max, f32[xr + c]);
        const e = new Float64Array(cols);
        let sum = 0;
        for (let c = 0; c < cols; c++) {
          e[c] = Math.exp(f32[xr + c] - max);
          sum += e[c];
        }
        for (let c = 0; c < cols; c++) f32[yr + c] = e[c] / sum;
      }
    },

    f32_softmax_backward(y, dy, dx, rows, cols) {
      const f32 = heap.f32;
      for (let r = 0; r < rows; r++) {
        const [yr, dyr, dxr] = [(y >> 2) + r * cols, (dy >> 2) + r * cols, (dx >> 2) + r * cols];
        let dot = 0;
        for (let c = 0; c < cols; c++) dot += f32[yr + c] * f32[dyr + c];
        for (let c = 0; c < cols; c++) f32[dxr + c] = f32[yr + c] * (f32[dyr + c] - dot);
      }
    },
  };
}
