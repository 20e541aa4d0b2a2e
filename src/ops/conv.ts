import { window2d, type Padding, type Window2D } from '../backend/geometry.js';
import { conv2dWorkspaceBytes } from '../backend/workspace.js';
import { record, type WindowAttrs } from '../autodiff/tape.js';
import type { Shape, Tensor } from '../tensor.js';
import type { ActivationName } from './activations.js';
import { epilogue } from './elementwise.js';
import { expectPositiveInt, expectRank, expectShape, fail, output, sameBackend, scratch } from './check.js';

export interface Conv2DOptions {
  /** Default 1. */
  strides?: number | [number, number];
  /** 'valid' (default) or 'same', as in TensorFlow. */
  padding?: Padding;
  /** Dilation rate, default 1. */
  dilations?: number | [number, number];
  /** Shape [CO] (for depthwise, [C * M]). */
  bias?: Tensor;
  activation?: ActivationName;
  alpha?: number;
  out?: Tensor;
}

export function pair(op: string, name: string, value: number | [number, number] | undefined): [number, number] {
  const p: [number, number] = value === undefined ? [1, 1] : typeof value === 'number' ? [value, value] : value;
  expectPositiveInt(op, `${name}[0]`, p[0]);
  expectPositiveInt(op, `${name}[1]`, p[1]);
  return p;
}

function expectPadding(op: string, padding: Padding | undefined): Padding {
  const p = padding ?? 'valid';
  if (p !== 'valid' && p !== 'same') fail(op, `expected padding 'valid' or 'same', got '${p}'`);
  return p;
}

/** Geometry of a conv whose input is `inputShape` [N, H, W, C] and filter [KH, KW, ...]. */
export function convGeometry(
  op: string, inputShape: Shape, filterShape: Shape, options: Conv2DOptions,
): Window2D {
  const strides = pair(op, 'strides', options.strides);
  const dilations = pair(op, 'dilations', options.dilations);
  const g = window2d(inputShape, [filterShape[0], filterShape[1]], strides, dilations, expectPadding(op, options.padding));
  if (g.OH === 0 || g.OW === 0) {
    fail(
      op,
      `expected an input at least as large as the (dilated) kernel ${filterShape[0]}x${filterShape[1]} ` +
        `with 'valid' padding, got input of shape [${inputShape.join(', ')}]`,
    );
  }
  return g;
}

type WindowArgs = [number, number, number, number, number, number, number, number];

function windowAttrs(g: Window2D, options: Conv2DOptions): WindowAttrs {
  return {
    strides: [g.strideH, g.strideW], dilations: [g.dilationH, g.dilationW],
    padding: options.padding ?? 'valid',
  };
}

/** The window arguments every conv kernel takes, in ABI order. */
function args(g: Window2D): WindowArgs {
  return [g.strideH, g.strideW, g.dilationH, g.dilationW, g.padTop, g.padLeft, g.OH, g.OW];
}

/**
 * 2-D convolution of an NHWC input with an HWIO filter [KH, KW, C, CO], with optional fused
 * bias and activation.
 *
 * @example
 * ```ts
 * const x = zeros([8, 28, 28, 1]);
 * const w = zeros([3, 3, 1, 32]);
 * ops.conv2d(x, w, { padding: 'same', activation: 'relu' }).shape; // [8, 28, 28, 32]
 * ```
 */
export function conv2d(x: Tensor, w: Tensor, options: Conv2DOptions = {}): Tensor {
  const op = 'conv2d';
  const [N, , , C] = expectRank(op, 'x', x, 4);
  expectShape(op, 'filter', w, [null, null, C, null]);
  const [KH, KW, , CO] = w.shape;
  const g = convGeometry(op, x.shape, w.shape, options);
  if (options.bias) expectShape(op, 'bias', options.bias, [CO]);
  const backend = sameBackend(op, x, w, options.bias, options.out);
  const y = output(op, backend, [N, g.OH, g.OW, CO], options.out);
  const act = epilogue(op, options.activation, options.alpha);
  backend.kernels.f32_conv2d(
    x.ptr, w.ptr, options.bias ? options.bias.ptr : 0, y.ptr,
    N, g.H, g.W, C, KH, KW, CO, ...args(g),
    act.code, act.alpha, scratch(backend, conv2dWorkspaceBytes(g, CO)),
  );
  record('conv2d', options.bias ? [x, w, options.bias] : [x, w], y, { ...windowAttrs(g, options), ...act.attrs });
  return act.finish(y);
}

/** The gradient of conv2d with respect to its input x of shape `inputShape`. */
export function conv2dBackpropInput(
  dy: Tensor, w: Tensor, inputShape: Shape, options: Omit<Conv2DOptions, 'bias' | 'activation'> = {},
): Tensor {
  const op = 'conv2dBackpropInput';
  if (inputShape.length !== 4) fail(op, `expected inputShape of rank 4, got [${inputShape.join(', ')}]`);
  const [N, H, W, C] = inputShape;
  expectShape(op, 'filter', w, [null, null, C, null]);
  const [KH, KW, , CO] = w.shape;
  const g = convGeometry(op, inputShape, w.shape, options);
  expectShape(op, 'dy', dy, [N, g.OH, g.OW, CO]);
  const backend = sameBackend(op, dy, w, options.out);
  const dx = output(op, backend, inputShape, options.out);
  backend.kernels.f32_conv2d_backward_data(
    dy.ptr, w.ptr, dx.ptr, N, H, W, C, KH, KW, CO, ...args(g),
    scratch(backend, conv2dWorkspaceBytes(g, CO)),
  );
  return dx;
}

/** The gradient of conv2d with respect to its filter of shape `filterShape` [KH, KW, C, CO]. */
export function conv2dBackpropFilter(
  x: Tensor, dy: Tensor, filterShape: Shape, options: Omit<Conv2DOptions, 'bias' | 'activation'> = {},
): Tensor {
  const op = 'conv2dBackpropFilter';
  const [N, H, W, C] = expectRank(op, 'x', x, 4);
  if (filterShape.length !== 4 || filterShape[2] !== C) {
    fail(op, `expected filterShape [KH, KW, ${C}, CO], got [${filterShape.join(', ')}]`);
  }
  const [KH, KW, , CO] = filterShape;
  const g = convGeometry(op, x.shape, filterShape, options);
  expectShape(op, 'dy', dy, [N, g.OH, g.OW, CO]);
  const backend = sameBackend(op, x, dy, options.out);
  const dw = output(op, backend, filterShape, options.out);
  backend.kernels.f32_conv2d_backward_filter(
    x.ptr, dy.ptr, dw.ptr, N, H, W, C, KH, KW, CO, ...args(g),
    scratch(backend, conv2dWorkspaceBytes(g, CO)),
  );
  return dw;
}

/**
 * Depthwise 2-D convolution: filter [KH, KW, C, M] applies M filters to each input channel,
 * giving C * M output channels.
 */
export function depthwiseConv2d(x: Tensor, w: Tensor, options: Conv2DOptions = {}): Tensor {
  const op = 'depthwiseConv2d';
  const [N, , , C] = expectRank(op, 'x', x, 4);
  expectShape(op, 'filter', w, [null, null, C, null]);
  const [KH, KW, , M] = w.shape;
  const g = convGeometry(op, x.shape, w.shape, options);
  if (options.bias) expectShape(op, 'bias', options.bias, [C * M]);
  const backend = sameBackend(op, x, w, options.bias, options.out);
  const y = output(op, backend, [N, g.OH, g.OW, C * M], options.out);
  const act = epilogue(op, options.activation, options.alpha);
  backend.kernels.f32_depthwise_conv2d(
    x.ptr, w.ptr, options.bias ? options.bias.ptr : 0, y.ptr,
    N, g.H, g.W, C, KH, KW, M, ...args(g), act.code, act.alpha,
  );
  record('depthwiseConv2d', options.bias ? [x, w, options.bias] : [x, w], y, { ...windowAttrs(g, options), ...act.attrs });
  return act.finish(y);
}

/** The gradient of depthwiseConv2d with respect to its input. */
export function depthwiseConv2dBackpropInput(
  dy: Tensor, w: Tensor, inputShape: Shape, options: Omit<Conv2DOptions, 'bias' | 'activation'> = {},
): Tensor {
  const op = 'depthwiseConv2dBackpropInput';
  if (inputShape.length !== 4) fail(op, `expected inputShape of rank 4, got [${inputShape.join(', ')}]`);
  const [N, H, W, C] = inputShape;
  expectShape(op, 'filter', w, [null, null, C, null]);
  const [KH, KW, , M] = w.shape;
  const g = convGeometry(op, inputShape, w.shape, options);
  expectShape(op, 'dy', dy, [N, g.OH, g.OW, C * M]);
  const backend = sameBackend(op, dy, w, options.out);
  const dx = output(op, backend, inputShape, options.out);
  backend.kernels.f32_depthwise_conv2d_backward_data(
    dy.ptr, w.ptr, dx.ptr, N, H, W, C, KH, KW, M, ...args(g),
  );
  return dx;
}

/** The gradient of depthwiseConv2d with respect to its filter [KH, KW, C, M]. */
export function depthwiseConv2dBackpropFilter(
  x: Tensor, dy: Tensor, filterShape: Shape, options: Omit<Conv2DOptions, 'bias' | 'activation'> = {},
): Tensor {
  const op = 'depthwiseConv2dBackpropFilter';
  const [N, H, W, C] = expectRank(op, 'x', x, 4);
  if (filterShape.length !== 4 || filterShape[2] !== C) {
    fail(op, `expected filterShape [KH, KW, ${C}, M], got [${filterShape.join(', ')}]`);
  }
  const [KH, KW, , M] = filterShape;
  const g = convGeometry(op, x.shape, filterShape, options);
  expectShape(op, 'dy', dy, [N, g.OH, g.OW, C * M]);
  const backend = sameBackend(op, x, dy, options.out);
  const dw = output(op, backend, filterShape, options.out);
  backend.kernels.f32_depthwise_conv2d_backward_filter(
    x.ptr, dy.ptr, dw.ptr, N, H, W, C, KH, KW, M, ...args(g),
  );
  return dw;
}
