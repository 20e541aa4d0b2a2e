// Core layers: Input, Dense, Flatten, Reshape, Dropout, Activation, Masking.

import { fail } from '../ops/check.js';
import * as ops from '../ops/index.js';
import { tensor, type Tensor } from '../tensor.js';
import type { Random } from '../util/random.js';
import { getActivation, type Activation, type ActivationIdentifier } from './activations.js';
import type { InitializerLike } from './initializers.js';
import { serializeInitializer, getInitializer } from './initializers.js';
import {
  Layer, Node, SymbolicTensor, formatSymbolicShape, type CallContext, type LayerArgs,
  type SymbolicShape, type Variable,
} from './layer.js';
import type { RegularizerLike } from './regularizers.js';
import { getRegularizer } from './regularizers.js';

/** The source of a functional model's input. */
export class InputLayer extends Layer {
  readonly className = 'InputLayer';
  constructor(args: LayerArgs) {
    super(args, 'input');
    if (!this.batchInputShape) fail('Input', 'expected shape (or batchInputShape), got neither');
    this.built = true;
  }
  computeOutputShape(): SymbolicShape {
    return this.batchInputShape!;
  }
  call(inputs: Tensor[]): Tensor {
    return inputs[0];
  }
}

/**
 * A symbolic input for the functional API.
 * @example
 * ```ts
 * const inputs = Input({ shape: [28, 28, 1] });
 * ```
 */
export function Input(args: { shape: readonly number[]; name?: string; batchSize?: number }): SymbolicTensor {
  for (const d of args.shape) {
    if (!Number.isInteger(d) || d < 1) fail('Input', `expected a shape of positive integers, got [${args.shape.join(', ')}]`);
  }
  const layer = new InputLayer({ inputShape: args.shape, name: args.name, batchSize: args.batchSize });
  const node = new Node(layer, []);
  node.outputs = [new SymbolicTensor(layer.batchInputShape!, node, layer.name)];
  layer.nodes.push(node);
  return node.output;
}

export interface DenseArgs extends LayerArgs {
  units: number;
  activation?: ActivationIdentifier;
  useBias?: boolean;
  kernelInitializer?: InitializerLike;
  biasInitializer?: InitializerLike;
  kernelRegularizer?: RegularizerLike;
  biasRegularizer?: RegularizerLike;
}

/**
 * A densely connected layer: activation(x · kernel + bias), over the last axis.
 * @example
 * ```ts
 * new Dense({ units: 128, activation: 'relu' })
 * ```
 */
export class Dense extends Layer {
  readonly className = 'Dense';
  /** On a sequence [batch, steps, features] it works step by step, so a mask passes through. */
  override readonly supportsMasking = true;
  readonly units: number;
  readonly activation: Activation;
  readonly useBias: boolean;
  private readonly args: DenseArgs;
  kernel!: Variable;
  bias?: Variable;

  constructor(args: DenseArgs) {
    super(args, 'dense');
    if (!Number.isInteger(args.units) || args.units < 1) fail('Dense', `expected units to be a positive integer, got ${args.units}`);
    this.units = args.units;
    this.activation = getActivation(args.activation, 'Dense');
    this.useBias = args.useBias ?? true;
    this.args = args;
  }

  protected override checkInputShapes(shapes: SymbolicShape[]): void {
    if (shapes.length !== 1 || shapes[0].length < 2) {
      fail('Dense', `expected one input of rank >= 2 for layer '${this.name}', got ${shapes.map(formatSymbolicShape).join(', ')}`);
    }
    const last = shapes[0][shapes[0].length - 1];
    if (this.built && last !== this.kernel.shape[0]) {
      fail('Dense', `expected input with last axis ${this.kernel.shape[0]} for layer '${this.name}', got shape ${formatSymbolicShape(shapes[0])}`);
    }
  }

  override build([shape]: SymbolicShape[]): void {
    const inputDim = shape[shape.length - 1];
    if (inputDim === null) fail('Dense', `expected a known last axis for layer '${this.name}', got ${formatSymbolicShape(shape)}`);
    this.kernel = this.addWeight('kernel', {
      shape: [inputDim, this.units], initializer: this.args.kernelInitializer ?? 'glorotUniform',
      regularizer: this.args.kernelRegularizer,
    });
    if (this.useBias) {
      this.bias = this.addWeight('bias', {
        shape: [this.units], initializer: this.args.biasInitializer ?? 'zeros',
        regularizer: this.args.biasRegularizer,
      });
    }
  }

  computeOutputShape([shape]: SymbolicShape[]): SymbolicShape {
    return [...shape.slice(0, -1), this.units];
  }

  call([x]: Tensor[]): Tensor {
    const rows = x.reshape([-1, x.shape[x.rank - 1]]);
    const fused = this.activation.fused;
    let y = ops.matmul(rows, this.kernel.value, { bias: this.bias?.value, activation: fused });
    if (!fused) y = this.activation.apply(y);
    return x.rank === 2 ? y : y.reshape([...x.shape.slice(0, -1), this.units]);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(), units: this.units, activation: this.activation.name, useBias: this.useBias,
      kernelInitializer: serializeInitializer(getInitializer(this.args.kernelInitializer ?? 'glorotUniform')),
      biasInitializer: serializeInitializer(getInitializer(this.args.biasInitializer ?? 'zeros')),
      kernelRegularizer: getRegularizer(this.args.kernelRegularizer)?.config() ?? null,
      biasRegularizer: getRegularizer(this.args.biasRegularizer)?.config() ?? null,
    };
  }
}

/** Flattens every axis but the batch. */
export class Flatten extends Layer {
  readonly className = 'Flatten';
  constructor(args: LayerArgs = {}) {
    super(args, 'flatten');
  }
  computeOutputShape([shape]: SymbolicShape[]): SymbolicShape {
    const rest = shape.slice(1);
    return [shape[0], rest.includes(null) ? null : (rest as number[]).reduce((a, b) => a * b, 1)];
  }
  call([x]: Tensor[]): Tensor {
    return x.reshape([x.shape[0], -1]);
  }
}

/** Reshapes every sample to `targetShape` (one entry may be -1). */
export class Reshape extends Layer {
  readonly className = 'Reshape';
  readonly targetShape: number[];
  constructor(args: LayerArgs & { targetShape: number[] }) {
    super(args, 'reshape');
    this.targetShape = args.targetShape;
  }
  protected override checkInputShapes([shape]: SymbolicShape[]): void {
    const size = (shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
    const known = this.targetShape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const ok = this.targetShape.includes(-1) ? size % known === 0 : size === known;
    if (!ok) {
      fail('Reshape', `expected input with ${known}${this.targetShape.includes(-1) ? 'k' : ''} elements per sample for target shape [${this.targetShape.join(', ')}], got shape ${formatSymbolicShape(shape)}`);
    }
  }
  computeOutputShape([shape]: SymbolicShape[]): SymbolicShape {
    const size = (shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
    const known = this.targetShape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    return [shape[0], ...this.targetShape.map((d) => (d === -1 ? size / known : d))];
  }
  call([x]: Tensor[]): Tensor {
    return x.reshape([x.shape[0], ...this.targetShape]);
  }
  override getConfig() {
    return { ...super.getConfig(), targetShape: this.targetShape };
  }
}

/**
 * `size` dropout mask values: each 1 / keep with probability keep = 1 - rate, else 0. A function
 * of its own so that the loop, which V8 compiles mid-call once it is hot (on-stack replacement),
 * is compiled alone: inside a layer's call it took along the code after the loop, which had no
 * type feedback yet, and that compiled code could then deoptimize at every call.
 */
export function dropoutMaskValues(size: number, rate: number, rng: Random): Float32Array {
  const keep = 1 - rate;
  const mask = new Float32Array(size);
  for (let i = 0; i < size; i++) mask[i] = rng.uniform() < keep ? 1 / keep : 0;
  return mask;
}

/** Zeroes a fraction `rate` of inputs during training and scales the rest by 1 / (1 - rate). */
export class Dropout extends Layer {
  readonly className = 'Dropout';
  override readonly supportsMasking = true;
  readonly rate: number;
  constructor(args: LayerArgs & { rate: number; seed?: number }) {
    super(args, 'dropout');
    if (!(args.rate >= 0 && args.rate < 1)) fail('Dropout', `expected rate in [0, 1), got ${args.rate}`);
    this.rate = args.rate;
  }
  computeOutputShape([shape]: SymbolicShape[]): SymbolicShape {
    return shape;
  }
  call([x]: Tensor[], ctx: CallContext): Tensor {
    if (!ctx.training || this.rate === 0) return x;
    return ops.mul(x, tensor(dropoutMaskValues(x.size, this.rate, ctx.rng), x.shape));
  }
  override getConfig() {
    return { ...super.getConfig(), rate: this.rate };
  }
}

/** Applies an activation function. */
export class ActivationLayer extends Layer {
  readonly className = 'Activation';
  override readonly supportsMasking = true;
  readonly activation: Activation;
  constructor(args: LayerArgs & { activation: ActivationIdentifier }) {
    super(args, 'activation');
    this.activation = getActivation(args.activation, 'Activation');
  }
  computeOutputShape([shape]: SymbolicShape[]): SymbolicShape {
    return shape;
  }
  call([x]: Tensor[]): Tensor {
    return this.activation.apply(x);
  }
  override getConfig() {
    return { ...super.getConfig(), activation: this.activation.name };
  }
}

/**
 * Marks the timesteps of a sequence [batch, steps, features] whose features all equal
 * `maskValue` as padding: it zeroes them and gives the layers after it a mask, so that
 * recurrent layers skip them (Keras's Masking).
 * @example
 * ```ts
 * const model = new Sequential([
 *   new Masking({ maskValue: 0, inputShape: [10, 3] }), // all-zero steps are padding
 *   new LSTM({ units: 8 }),
 * ]);
 * ```
 */
export class Masking extends Layer {
  readonly className = 'Masking';
  override readonly supportsMasking = true;
  readonly maskValue: number;

  constructor(args: LayerArgs & { maskValue?: number } = {}) {
    super(args, 'masking');
    this.maskValue = args.maskValue ?? 0;
    if (typeof this.maskValue !== 'number' || Number.isNaN(this.maskValue)) {
      fail('Masking', `expected maskValue to be a number, got ${String(args.maskValue)}`);
    }
  }

  protected override checkInputShapes(shapes: SymbolicShape[]): void {
    if (shapes.length !== 1 || shapes[0].length < 2) {
      fail('Masking', `expected one input of rank >= 2 (batch, ..., features) for layer '${this.name}', got ${shapes.map(formatSymbolicShape).join(', ')}`);
    }
  }

  computeOutputShape([shape]: SymbolicShape[]): SymbolicShape {
    return shape;
  }

  /** 1 where a step has any feature other than maskValue, per [batch, ...] position. */
  private keep(x: Tensor): Float32Array {
    const data = x.dataSync();
    const features = x.shape[x.rank - 1];
    const keep = new Float32Array(x.size / features);
    for (let p = 0; p < keep.length; p++) {
      for (let f = 0; f < features; f++) {
        if (data[p * features + f] !== this.maskValue) {
          keep[p] = 1;
          break;
        }
      }
    }
    return keep;
  }

  call([x]: Tensor[]): Tensor {
    const keep = this.keep(x);
    const features = x.shape[x.rank - 1];
    const spread = new Float32Array(x.size);
    keep.forEach((k, p) => spread.fill(k, p * features, (p + 1) * features));
    return ops.mul(x, tensor(spread, x.shape));
  }

  override computeMask([x]: Tensor[]): (Tensor | null)[] {
    return [tensor(this.keep(x), x.shape.slice(0, -1))];
  }

  override outputsMasked(): boolean[] {
    return [true];
  }

  override getConfig() {
    return { ...super.getConfig(), maskValue: this.maskValue };
  }
}
