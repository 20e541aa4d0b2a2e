// Convolution layers over NHWC images (Keras's channels_last).

import { windowAxis, type Padding } from '../backend/geometry.js';
import { fail } from '../ops/check.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { getActivation, type Activation, type ActivationIdentifier } from './activations.js';
import { getInitializer, serializeInitializer, type InitializerLike } from './initializers.js';
import { Layer, formatSymbolicShape, type LayerArgs, type SymbolicShape, type Variable } from './layer.js';
import { getRegularizer, type RegularizerLike } from './regularizers.js';

export type Pair = number | [number, number];

export function toPair(value: Pair | undefined, fallback: number, what: string): [number, number] {
  const p: [number, number] = value === undefined ? [fallback, fallback] : typeof value === 'number' ? [value, value] : value;
  if (!p.every((v) => Number.isInteger(v) && v >= 1)) fail(what, `expected positive integers, got ${JSON.stringify(value)}`);
  return p;
}

export function checkPadding(padding: string | undefined, what: string): Padding {
  const p = padding ?? 'valid';
  if (p !== 'valid' && p !== 'same') fail(what, `expected padding 'valid' or 'same', got '${p}'`);
  return p;
}

/** Output size of one spatial axis, null when unknown. */
export function outputAxis(size: number | null, kernel: number, stride: number, dilation: number, padding: Padding): number | null {
  return size === null ? null : windowAxis(size, kernel, stride, dilation, padding).out;
}

export interface Conv2DArgs extends LayerArgs {
  filters: number;
  kernelSize: Pair;
  strides?: Pair;
  padding?: Padding;
  dilationRate?: Pair;
  activation?: ActivationIdentifier;
  useBias?: boolean;
  kernelInitializer?: InitializerLike;
  biasInitializer?: InitializerLike;
  kernelRegularizer?: RegularizerLike;
  biasRegularizer?: RegularizerLike;
}

/**
 * 2-D convolution over NHWC images, kernel [KH, KW, C, filters].
 * @example
 * ```ts
 * new Conv2D({ filters: 32, kernelSize: [3, 3], activation: 'relu', inputShape: [28, 28, 1] })
 * ```
 */
export class Conv2D extends Layer {
  readonly className = 'Conv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  readonly dilationRate: [number, number];
  readonly activation: Activation;
  readonly useBias: boolean;
  private readonly args: Conv2DArgs;
  kernel!: Variable;
  bias?: Variable;

  constructor(args: Conv2DArgs) {
    super(args, 'conv2d');
    if (!Number.isInteger(args.filters) || args.filters < 1) fail('Conv2D', `expected filters to be a positive integer, got ${args.filters}`);
    this.filters = args.filters;
    this.kernelSize = toPair(args.kernelSize, 1, 'Conv2D kernelSize');
    this.strides = toPair(args.strides, 1, 'Conv2D strides');
    this.padding = checkPadding(args.padding, 'Conv2D');
    this.dilationRate = toPair(args.dilationRate, 1, 'Conv2D dilationRate');
    this.activation = getActivation(args.activation, 'Conv2D');
    this.useBias = args.useBias ?? true;
    this.args = args;
  }

  protected override checkInputShapes(shapes: SymbolicShape[]): void {
    const [, h, w, c] = this.expectInput(shapes, 4, 'batch, height, width, channels');
    if (this.built && c !== this.kernel.shape[2]) {
      fail('Conv2D', `expected input with ${this.kernel.shape[2]} channels for layer '${this.name}', got shape ${formatSymbolicShape(shapes[0])}`);
    }
    const out = [outputAxis(h, this.kernelSize[0], this.strides[0], this.dilationRate[0], this.padding), outputAxis(w, this.kernelSize[1], this.strides[1], this.dilationRate[1], this.padding)];
    if (out.includes(0)) {
      fail('Conv2D', `expected an input of at least the kernel size ${this.kernelSize.join('x')} for layer '${this.name}', got shape ${formatSymbolicShape(shapes[0])}`);
    }
  }

  override build([shape]: SymbolicShape[]): void {
    const channels = shape[3];
    if (channels === null) fail('Conv2D', `expected a known channel axis for layer '${this.name}', got ${formatSymbolicShape(shape)}`);
    this.kernel = this.addWeight('kernel', {
      shape: [...this.kernelSize, channels, this.filters],
      initializer: this.args.kernelInitializer ?? 'glorotUniform', regularizer: this.args.kernelRegularizer,
    });
    if (this.useBias) {
      this.bias = this.addWeight('bias', {
        shape: [this.filters], initializer: this.args.biasInitializer ?? 'zeros', regularizer: this.args.biasRegularizer,
      });
    }
  }

  computeOutputShape([shape]: SymbolicShape[]): SymbolicShape {
    return [
      shape[0],
      outputAxis(shape[1], this.kernelSize[0], this.strides[0], this.dilationRate[0], this.padding),
      outputAxis(shape[2], this.kernelSize[1], this.strides[1], this.dilationRate[1], this.padding),
      this.filters,
    ];
  }

  call([x]: Tensor[]): Tensor {
    const fused = this.activation.fused;
    const y = ops.conv2d(x, this.kernel.value, {
      strides: this.strides, padding: this.padding, dilations: this.dilationRate,
      bias: this.bias?.value, activation: fused,
    });
    return fused ? y : this.activation.apply(y);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize, strides: this.strides,
      padding: this.padding, dilationRate: this.dilationRate, activation: this.activation.name, useBias: this.useBias,
      kernelInitializer: serializeInitializer(getInitializer(this.args.kernelInitializer ?? 'glorotUniform')),
      biasInitializer: serializeInitializer(getInitializer(this.args.biasInitializer ?? 'zeros')),
      kernelRegularizer: getRegularizer(this.args.kernelRegularizer)?.config() ?? null,
      biasRegularizer: getRegularizer(this.args.biasRegularizer)?.config() ?? null,
    };
  }
}
