// Output sizes and padding of windowed ops (conv, pooling), computed once on the TypeScript
// side so that every kernel receives explicit numbers. Follows TensorFlow's definitions.
// see: tensorflow/core/framework/kernel_shape_util.cc (GetWindowedOutputSize)

export type Padding = 'valid' | 'same';

export interface Window2D {
  N: number; H: number; W: number; C: number;
  KH: number; KW: number;
  strideH: number; strideW: number;
  dilationH: number; dilationW: number;
  padTop: number; padLeft: number;
  OH: number; OW: number;
}

/** Output size and leading padding of one spatial axis. */
export function windowAxis(
  size: number, kernel: number, stride: number, dilation: number, padding: Padding,
): { out: number; padBefore: number } {
  const effective = (kernel - 1) * dilation + 1;
  if (padding === 'valid') {
    return { out: Math.max(0, Math.floor((size - effective) / stride) + 1), padBefore: 0 };
  }
  const out = Math.ceil(size / stride);
  const total = Math.max(0, (out - 1) * stride + effective - size);
  return { out, padBefore: Math.floor(total / 2) };
}

/** The full geometry of a 2D window over an NHWC input. */
export function window2d(
  inputShape: readonly number[], kernel: [number, number], strides: [number, number],
  dilations: [number, number], padding: Padding,
): Window2D {
  const [N, H, W, C] = inputShape;
  const y = windowAxis(H, kernel[0], strides[0], dilations[0], padding);
  const x = windowAxis(W, kernel[1], strides[1], dilations[1], padding);
  return {
    N, H, W, C, KH: kernel[0], KW: kernel[1], strideH: strides[0], strideW: strides[1],
    dilationH: dilations[0], dilationW: dilations[1], padTop: y.padBefore, padLeft: x.padBefore,
    OH: y.out, OW: x.out,
  };
}
