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

export interface DepthwiseConv2DArgs extends Omit<Conv2DArgs, 'filters' | 'kernelInitializer' | 'kernelRegularizer'> {
  depthMultiplier?: number;
  depthwiseInitializer?: InitializerLike;
  depthwiseRegularizer?: RegularizerLike;
}

/** Depthwise 2-D convolution: each input channel gets its own depthMultiplier filters. */
export class DepthwiseConv2D extends Layer {
  readonly className = 'DepthwiseConv2D';
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  readonly dilationRate: [number, number];
  readonly depthMultiplier: number;
  readonly activation: Activation;
  readonly useBias: boolean;
  private readonly args: DepthwiseConv2DArgs;
  depthwiseKernel!: Variable;
  bias?: Variable;

  constructor(args: DepthwiseConv2DArgs) {
    super(args, 'depthwise_conv2d');
    this.kernelSize = toPair(args.kernelSize, 1, 'DepthwiseConv2D kernelSize');
    this.strides = toPair(args.strides, 1, 'DepthwiseConv2D strides');
    this.padding = checkPadding(args.padding, 'DepthwiseConv2D');
    this.dilationRate = toPair(args.dilationRate, 1, 'DepthwiseConv2D dilationRate');
    this.depthMultiplier = args.depthMultiplier ?? 1;
    if (!Number.isInteger(this.depthMultiplier) || this.depthMultiplier < 1) fail('DepthwiseConv2D', `expected depthMultiplier to be a positive integer, got ${args.depthMultiplier}`);
    this.activation = getActivation(args.activation, 'DepthwiseConv2D');
    this.useBias = args.useBias ?? true;
    this.args = args;
  }

  protected override checkInputShapes(shapes: SymbolicShape[]): void {
    this.expectInput(shapes, 4, 'batch, height, width, channels');
  }

  override build([shape]: SymbolicShape[]): void {
    const channels = shape[3];
    if (channels === null) fail('DepthwiseConv2D', `expected a known channel axis for layer '${this.name}', got ${formatSymbolicShape(shape)}`);
    this.depthwiseKernel = this.addWeight('depthwise_kernel', {
      shape: [...this.kernelSize, channels, this.depthMultiplier],
      initializer: this.args.depthwiseInitializer ?? 'glorotUniform', regularizer: this.args.depthwiseRegularizer,
    });
    if (this.useBias) {
      this.bias = this.addWeight('bias', { shape: [channels * this.depthMultiplier], initializer: this.args.biasInitializer ?? 'zeros', regularizer: this.args.biasRegularizer });
    }
  }

  computeOutputShape([shape]: SymbolicShape[]): SymbolicShape {
    return [
      shape[0],
      outputAxis(shape[1], this.kernelSize[0], this.strides[0], this.dilationRate[0], this.padding),
      outputAxis(shape[2], this.kernelSize[1], this.strides[1], this.dilationRate[1], this.padding),
      shape[3] === null ? null : shape[3] * this.depthMultiplier,
    ];
  }

  call([x]: Tensor[]): Tensor {
    const fused = this.activation.fused;
    const y = ops.depthwiseConv2d(x, this.depthwiseKernel.value, {
      strides: this.strides, padding: this.padding, dilations: this.dilationRate, bias: this.bias?.value, activation: fused,
    });
    return fused ? y : this.activation.apply(y);
  }

  override getConfig() {
    return {
      ...super.getConfig(), kernelSize: this.kernelSize, strides: this.strides, padding: this.padding,
      dilationRate: this.dilationRate, depthMultiplier: this.depthMultiplier, activation: this.activation.name, useBias: this.useBias,
    };
  }
}

export interface SeparableConv2DArgs extends Conv2DArgs {
  depthMultiplier?: number;
  depthwiseInitializer?: InitializerLike;
  pointwiseInitializer?: InitializerLike;
}

/** A depthwise convolution followed by a 1x1 (pointwise) convolution. */
export class SeparableConv2D extends Layer {
  readonly className = 'SeparableConv2D';
  private readonly depthwise: DepthwiseConv2D;
  private readonly pointwise: Conv2D;
  private readonly args: SeparableConv2DArgs;

  constructor(args: SeparableConv2DArgs) {
    super(args, 'separable_conv2d');
    this.args = args;
    this.depthwise = new DepthwiseConv2D({
      name: `${this.name}_depthwise`, kernelSize: args.kernelSize, strides: args.strides, padding: args.padding,
      dilationRate: args.dilationRate, depthMultiplier: args.depthMultiplier, useBias: false,
      depthwiseInitializer: args.depthwiseInitializer,
    });
    this.pointwise = new Conv2D({
      name: `${this.name}_pointwise`, filters: args.filters, kernelSize: 1, activation: args.activation,
      useBias: args.useBias, kernelInitializer: args.pointwiseInitializer, biasInitializer: args.biasInitializer,
    });
  }

  protected override sublayers(): Layer[] {
    return [this.depthwise, this.pointwise];
  }

  protected override checkInputShapes(shapes: SymbolicShape[]): void {
    this.expectInput(shapes, 4, 'batch, height, width, channels');
  }

  override build(shapes: SymbolicShape[]): void {
    this.depthwise.ensureBuilt(shapes);
    this.pointwise.ensureBuilt([this.depthwise.computeOutputShape(shapes)]);
  }

  computeOutputShape(shapes: SymbolicShape[]): SymbolicShape {
    return this.pointwise.computeOutputShape([this.depthwise.computeOutputShape(shapes)]);
  }

  call(inputs: Tensor[]): Tensor {
    return this.pointwise.call([this.depthwise.call(inputs)]);
  }

  override getConfig() {
    return { ...super.getConfig(), filters: this.args.filters, kernelSize: this.depthwise.kernelSize, strides: this.depthwise.strides, padding: this.depthwise.padding, dilationRate: this.depthwise.dilationRate, depthMultiplier: this.depthwise.depthMultiplier, activation: this.pointwise.activation.name, useBias: this.pointwise.useBias };
  }
}

export interface Conv1DArgs extends Omit<Conv2DArgs, 'kernelSize' | 'strides' | 'dilationRate'> {
  kernelSize: number;
  strides?: number;
  dilationRate?: number;
}

/** 1-D convolution over [batch, steps, channels], run as a 2-D convolution of height 1. */
export class Conv1D extends Layer {
  readonly className = 'Conv1D';
  private readonly conv: Conv2D;
  constructor(args: Conv1DArgs) {
    super(args, 'conv1d');
    this.conv = new Conv2D({ ...args, name: `${this.name}_2d`, inputShape: undefined, batchInputShape: undefined, kernelSize: [1, args.kernelSize], strides: [1, args.strides ?? 1], dilationRate: [1, args.dilationRate ?? 1] });
  }
  /** The kernel, [kernelSize, channels, filters] as in Keras (stored as [1, k, c, f]). */
  get kernel(): Variable {
    return this.conv.kernel;
  }
  protected override sublayers(): Layer[] {
    return [this.conv];
  }
  protected override checkInputShapes(shapes: SymbolicShape[]): void {
    this.expectInput(shapes, 3, 'batch, steps, channels');
  }
  override build([shape]: SymbolicShape[]): void {
    this.conv.ensureBuilt([[shape[0], 1, shape[1], shape[2]]]);
  }
  computeOutputShape([shape]: SymbolicShape[]): SymbolicShape {
    const out = this.conv.computeOutputShape([[shape[0], 1, shape[1], shape[2]]]);
    return [out[0], out[2], out[3]];
  }
  call([x]: Tensor[]): Tensor {
    const [n, steps, c] = x.shape;
    const y = this.conv.call([x.reshape([n, 1, steps, c])]);
    return y.reshape([n, y.shape[2], y.shape[3]]);
  }
  override getConfig() {
    const c = this.conv.getConfig();
    return { ...super.getConfig(), filters: c.filters, kernelSize: this.conv.kernelSize[1], strides: this.conv.strides[1], padding: c.padding, dilationRate: this.conv.dilationRate[1], activation: c.activation, useBias: c.useBias };
  }
}
