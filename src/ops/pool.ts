import type { Padding, Window2D } from '../backend/geometry.js';
import { window2d } from '../backend/geometry.js';
import { record } from '../autodiff/tape.js';
import type { Shape, Tensor } from '../tensor.js';
import { expectRank, expectShape, fail, output, sameBackend } from './check.js';
import { pair } from './conv.js';

export interface Pool2DOptions {
  /** Window size, default [2, 2]. */
  poolSize?: number | [number, number];
  /** Default: the pool size, as in Keras. */
  strides?: number | [number, number];
  /** 'valid' (default) or 'same'. */
  padding?: Padding;
  out?: Tensor;
}

function poolGeometry(op: string, inputShape: Shape, options: Pool2DOptions): Window2D {
  const size = pair(op, 'poolSize', options.poolSize ?? 2);
  const strides = pair(op, 'strides', options.strides ?? size);
  const padding = options.padding ?? 'valid';
  if (padding !== 'valid' && padding !== 'same') {
    fail(op, `expected padding 'valid' or 'same', got '${padding}'`);
  }
  const g = window2d(inputShape, size, strides, [1, 1], padding);
  if (g.OH === 0 || g.OW === 0) {
    fail(op, `expected an input of at least ${size[0]}x${size[1]} pixels, got [${inputShape.join(', ')}]`);
  }
  return g;
}

type PoolKernel = 'f32_maxpool2d' | 'f32_avgpool2d';

function pool(op: string, kernel: PoolKernel, x: Tensor, options: Pool2DOptions): Tensor {
  const [N, H, W, C] = expectRank(op, 'x', x, 4);
  const g = poolGeometry(op, x.shape, options);
  const backend = sameBackend(op, x, options.out);
  const y = output(op, backend, [N, g.OH, g.OW, C], options.out);
  backend.kernels[kernel](
    x.ptr, y.ptr, N, H, W, C, g.KH, g.KW, g.strideH, g.strideW, g.padTop, g.padLeft, g.OH, g.OW,
  );
  const attrs = {
    poolSize: [g.KH, g.KW] as [number, number], strides: [g.strideH, g.strideW] as [number, number],
    padding: options.padding ?? 'valid',
  };
  record(kernel === 'f32_maxpool2d' ? 'maxPool' : 'avgPool', [x], y, attrs);
  return y;
}

/**
 * 2-D max pooling over an NHWC tensor.
 * @example
 * ```ts
 * ops.maxPool(zeros([1, 24, 24, 8]), { poolSize: 2 }).shape; // [1, 12, 12, 8]
 * ```
 */
export function maxPool(x: Tensor, options: Pool2DOptions = {}): Tensor {
  return pool('maxPool', 'f32_maxpool2d', x, options);
}

/** 2-D average pooling over an NHWC tensor; padding is not counted in the average. */
export function avgPool(x: Tensor, options: Pool2DOptions = {}): Tensor {
  return pool('avgPool', 'f32_avgpool2d', x, options);
}

/** The gradient of maxPool with respect to x: each dy goes to its window's first maximum. */
export function maxPoolGrad(dy: Tensor, x: Tensor, options: Pool2DOptions = {}): Tensor {
  const op = 'maxPoolGrad';
  const [N, H, W, C] = expectRank(op, 'x', x, 4);
  const g = poolGeometry(op, x.shape, options);
  expectShape(op, 'dy', dy, [N, g.OH, g.OW, C]);
  const backend = sameBackend(op, x, dy, options.out);
  const dx = output(op, backend, x.shape, options.out);
  backend.kernels.f32_maxpool2d_backward(
    x.ptr, dy.ptr, dx.ptr, N, H, W, C, g.KH, g.KW, g.strideH, g.strideW, g.padTop, g.padLeft, g.OH, g.OW,
  );
  return dx;
}

/** The gradient of avgPool with respect to its input of shape `inputShape`. */
export function avgPoolGrad(dy: Tensor, inputShape: Shape, options: Pool2DOptions = {}): Tensor {
  const op = 'avgPoolGrad';
  if (inputShape.length !== 4) fail(op, `expected inputShape of rank 4, got [${inputShape.join(', ')}]`);
  const [N, H, W, C] = inputShape;
  const g = poolGeometry(op, inputShape, options);
  expectShape(op, 'dy', dy, [N, g.OH, g.OW, C]);
  const backend = sameBackend(op, dy, options.out);
  const dx = output(op, backend, inputShape, options.out);
  backend.kernels.f32_avgpool2d_backward(
    dy.ptr, dx.ptr, N, H, W, C, g.KH, g.KW, g.strideH, g.strideW, g.padTop, g.padLeft, g.OH, g.OW,
  );
  return dx;
}
