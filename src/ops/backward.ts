// Backward helpers over the *_backward kernels. They are building blocks of the gradient rules
// (src/autodiff/gradients.ts), not recorded themselves.

import type { Tensor } from '../tensor.js';
import { output, sameBackend } from './check.js';

/** dx = dy * f'(x) for a unary op code, given x and y = f(x). */
export function unaryGrad(code: number, alpha: number, x: Tensor, y: Tensor, dy: Tensor): Tensor {
  const backend = sameBackend('unaryGrad', x, y, dy);
  const dx = output('unaryGrad', backend, x.shape);
  backend.kernels.f32_unary_backward(code, x.ptr, y.ptr, dy.ptr, dx.ptr, x.size, alpha);
  return dx;
}

/** Gradients of a (possibly broadcasting) binary op: da has a's shape, db b's. */
export function binaryGrad(code: number, a: Tensor, b: Tensor, dout: Tensor): [Tensor, Tensor] {
  const backend = sameBackend('binaryGrad', a, b, dout);
  const da = output('binaryGrad', backend, a.shape);
  const db = output('binaryGrad', backend, b.shape);
  backend.kernels.f32_binary_backward(code, a.ptr, b.ptr, dout.ptr, da.ptr, db.ptr, a.size, b.size);
  return [da, db];
}

/** dx of a reduction of x [outer, axis, inner] to y [outer, inner], given dy. */
export function reduceGrad(
  code: number, x: Tensor, y: Tensor, dy: Tensor, outer: number, axis: number, inner: number,
): Tensor {
  const backend = sameBackend('reduceGrad', x, y, dy);
  const dx = output('reduceGrad', backend, x.shape);
  backend.kernels.f32_reduce_backward(code, x.ptr, y.ptr, dy.ptr, dx.ptr, outer, axis, inner);
  return dx;
}
