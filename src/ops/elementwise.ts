import * as codes from '../backend/opcodes.js';
import { isRecording, record, type FusedAttrs } from '../autodiff/tape.js';
import { formatShape, sizeOf, Tensor } from '../tensor.js';
import { activationCode, defaultAlpha, gradientFromOutput, type ActivationName } from './activations.js';
import { expectRank, expectShape, fail, output, sameBackend } from './check.js';
import { broadcastTo } from './movement.js';

export interface UnaryOptions {
  out?: Tensor;
}

/** The op applying unary kernel `code`; `name` is used in error messages. */
export function unaryOp(name: string, code: number) {
  return (x: Tensor, options: UnaryOptions & { alpha?: number } = {}): Tensor => {
    expectShape(name, 'x', x, x.shape);
    const backend = sameBackend(name, x, options.out);
    // In place (out === x) would destroy the input the gradient needs: write a fresh tensor.
    const taped = options.out === x ? undefined : options.out;
    const y = output(name, backend, x.shape, taped);
    const alpha = options.alpha ?? defaultAlpha(code);
    backend.kernels.f32_unary(code, x.ptr, y.ptr, x.size, alpha);
    record('unary', [x], y, { code, alpha });
    return y;
  };
}

/**
 * How a matmul or conv applies its activation. In its kernel's epilogue, unless gradients are
 * recorded and the activation's derivative needs the input the tape does not keep: then the
 * kernel runs linear and `finish` applies the activation as its own op. `attrs` go on the tape.
 */
export function epilogue(
  op: string, activation: ActivationName | undefined, alphaOption: number | undefined,
): { code: number; alpha: number; attrs: FusedAttrs; finish: (y: Tensor) => Tensor } {
  const code = activationCode(op, activation);
  const alpha = alphaOption ?? defaultAlpha(code);
  if (!isRecording() || gradientFromOutput(code)) {
    const attrs = code === codes.ACT_LINEAR ? {} : { fused: { code, alpha } };
    return { code, alpha, attrs, finish: (y) => y };
  }
  return { code: codes.ACT_LINEAR, alpha, attrs: {}, finish: (y) => unaryOp(op, code)(y, { alpha }) };
}

/** max(x, 0). @example `ops.relu(tensor([-1, 2])) // [0, 2]` */
export const relu = unaryOp('relu', codes.ACT_RELU);
/** x > 0 ? x : alpha * x, alpha 0.2 by default (Keras 3). */
export const leakyRelu = unaryOp('leakyRelu', codes.ACT_LEAKY_RELU);
/** x > 0 ? x : alpha * (exp(x) - 1), alpha 1 by default. */
export const elu = unaryOp('elu', codes.ACT_ELU);
/** 1 / (1 + exp(-x)). */
export const sigmoid = unaryOp('sigmoid', codes.ACT_SIGMOID);
/** Hyperbolic tangent. */
export const tanh = unaryOp('tanh', codes.ACT_TANH);
/** x * Phi(x), the exact (erf) form. */
export const gelu = unaryOp('gelu', codes.ACT_GELU);
/** x * sigmoid(x). */
export const swish = unaryOp('swish', codes.ACT_SWISH);
export const exp = unaryOp('exp', codes.UNARY_EXP);
export const log = unaryOp('log', codes.UNARY_LOG);
export const neg = unaryOp('neg', codes.UNARY_NEG);
export const abs = unaryOp('abs', codes.UNARY_ABS);
export const sqrt = unaryOp('sqrt', codes.UNARY_SQRT);
export const square = unaryOp('square', codes.UNARY_SQUARE);
export const reciprocal = unaryOp('reciprocal', codes.UNARY_RECIPROCAL);
/** log(1 + exp(x)), without overflow. */
export const softplus = unaryOp('softplus', codes.UNARY_SOFTPLUS);

/**
 * The shape a and b broadcast to, by NumPy's rules (as in tfjs and Keras): shapes aligned on
 * the right, each pair of axes equal or one of them 1.
 */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const shape = new Array<number>(rank);
  for (let k = 0; k < rank; k++) {
    const da = a[a.length - rank + k] ?? 1;
    const db = b[b.length - rank + k] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      fail(op, `expected shapes that broadcast together (aligned on the right, each pair of axes equal or one of ` +
        `them 1), got a ${formatShape(a)} and b ${formatShape(b)}`);
    }
    shape[k] = da === 1 ? db : da;
  }
  return shape;
}

/** Whether `inner` repeats over the leading axes of `shape`: a suffix of it, or one element. */
function repeatsOver(inner: readonly number[], shape: readonly number[]): boolean {
  if (sizeOf(inner) === 1) return true;
  const offset = shape.length - inner.length;
  return offset >= 0 && inner.every((d, i) => d === shape[offset + i]);
}

function hasShape(t: Tensor, shape: readonly number[]): boolean {
  return t.rank === shape.length && t.shape.every((d, k) => d === shape[k]);
}

/** `commutative`: a and b may trade places (add, mul), so a bias or scalar given first needs no copy. */
function binaryOp(name: string, code: number, commutative = false) {
  return (a: Tensor, b: Tensor, options: UnaryOptions = {}): Tensor => {
    expectShape(name, 'a', a, a.shape);
    expectShape(name, 'b', b, b.shape);
    const shape = broadcastShapes(name, a.shape, b.shape);
    // The kernel takes a in the output's shape and b repeating over its leading axes (the common
    // case: same shapes, a bias, a scalar). Any other broadcast expands the operands first.
    if (commutative && !hasShape(a, shape) && hasShape(b, shape) && repeatsOver(a.shape, shape)) [a, b] = [b, a];
    if (!hasShape(a, shape)) a = broadcastTo(a, shape);
    if (!repeatsOver(b.shape, shape)) b = broadcastTo(b, shape);
    const backend = sameBackend(name, a, b, options.out);
    const out = output(name, backend, shape, options.out);
    backend.kernels.f32_binary(code, a.ptr, b.ptr, out.ptr, a.size, b.size);
    record('binary', [a, b], out, { code });
    return out;
  };
}

/**
 * a + b, broadcasting as NumPy does (shapes aligned on the right, each pair of axes equal or
 * one of them 1). Same shapes, a b that is a suffix of a's shape (a bias) or one element run
 * in one kernel pass (for add and mul, also with the bias or scalar first); other broadcasts
 * expand the operands first (broadcastTo).
 * @example
 * ```ts
 * ops.add(tensor([[1, 2], [3, 4]]), tensor([10, 20])).arraySync(); // [[11, 22], [13, 24]]
 * ops.mul(tensor([[1], [2]]), tensor([1, 10, 100])).arraySync(); // [[1, 10, 100], [2, 20, 200]]
 * ```
 */
export const add = binaryOp('add', codes.BINARY_ADD, true);
export const sub = binaryOp('sub', codes.BINARY_SUB);
export const mul = binaryOp('mul', codes.BINARY_MUL, true);
export const div = binaryOp('div', codes.BINARY_DIV);
export const maximum = binaryOp('maximum', codes.BINARY_MAX);
export const minimum = binaryOp('minimum', codes.BINARY_MIN);
export const squaredDifference = binaryOp('squaredDifference', codes.BINARY_SQUARED_DIFFERENCE);

/** x * scale + shift. */
export function scaleShift(x: Tensor, scale: number, shift = 0, options: UnaryOptions = {}): Tensor {
  expectShape('scaleShift', 'x', x, x.shape);
  const backend = sameBackend('scaleShift', x, options.out);
  const y = output('scaleShift', backend, x.shape, options.out);
  backend.kernels.f32_scale_shift(x.ptr, y.ptr, x.size, scale, shift);
  record('scaleShift', [x], y, { scale });
  return y;
}

/** Softmax over the last axis. */
export function softmax(x: Tensor, options: UnaryOptions = {}): Tensor {
  const op = 'softmax';
  expectShape(op, 'x', x, x.shape);
  if (x.rank === 0) fail(op, 'expected x of rank >= 1, got a scalar');
  const cols = x.shape[x.rank - 1];
  const backend = sameBackend(op, x, options.out);
  const y = output(op, backend, x.shape, options.out);
  backend.kernels.f32_softmax(x.ptr, y.ptr, x.size / Math.max(cols, 1), cols);
  record('softmax', [x], y, {});
  return y;
}

/** The gradient of softmax (last axis) given its output y and the upstream gradient dy. */
export function softmaxGrad(y: Tensor, dy: Tensor, options: UnaryOptions = {}): Tensor {
  const op = 'softmaxGrad';
  expectRank(op, 'y', y, Math.max(y.rank, 1));
  expectShape(op, 'dy', dy, y.shape);
  const cols = y.shape[y.rank - 1];
  const backend = sameBackend(op, y, dy, options.out);
  const dx = output(op, backend, y.shape, options.out);
  backend.kernels.f32_softmax_backward(y.ptr, dy.ptr, dx.ptr, y.size / Math.max(cols, 1), cols);
  return dx;
}

/** A tensor of `shape` filled with `value`. */
export function fill(shape: readonly number[], value: number): Tensor {
  const t = Tensor.empty(shape, 'float32');
  t.backend.kernels.f32_fill(t.ptr, t.size, value);
  return t;
}

/** A tensor of zeros. @example `zeros([2, 3]).dataSync() // six 0s` */
export function zeros(shape: readonly number[]): Tensor {
  return fill(shape, 0);
}

/** A tensor of ones. */
export function ones(shape: readonly number[]): Tensor {
  return fill(shape, 1);
}
