// Normalization layers.

import { noGrad } from '../autodiff/tape.js';
import { fail } from '../ops/check.js';
import * as ops from '../ops/index.js';
import { tensor, type Tensor } from '../tensor.js';
import type { InitializerLike } from './initializers.js';
import { Layer, checkMaskShape, formatSymbolicShape, type CallContext, type LayerArgs, type SymbolicShape, type Variable } from './layer.js';

export interface BatchNormalizationArgs extends LayerArgs {
  /** Only the last axis (channels) is supported, Keras's default. */
  axis?: -1;
  momentum?: number;
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  betaInitializer?: InitializerLike;
  gammaInitializer?: InitializerLike;
  movingMeanInitializer?: InitializerLike;
  movingVarianceInitializer?: InitializerLike;
}

/**
 * Normalizes each channel (last axis) by the batch's mean and variance while training, and by
 * moving averages of them at inference (Keras BatchNormalization). A mask passes through;
 * while training, the statistics cover only the positions it keeps (as Keras 3), so padding
 * does not shift them.
 */
export class BatchNormalization extends Layer {
  readonly className = 'BatchNormalization';
  override readonly supportsMasking = true;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  private readonly args: BatchNormalizationArgs;
  gamma?: Variable;
  beta?: Variable;
  movingMean!: Variable;
  movingVariance!: Variable;

  constructor(args: BatchNormalizationArgs = {}) {
    super(args, 'batch_normalization');
    if (args.axis !== undefined && args.axis !== -1) fail('BatchNormalization', `expected axis -1 (channels last), got ${args.axis}`);
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.args = args;
  }

  override build([shape]: SymbolicShape[]): void {
    const channels = shape[shape.length - 1];
    if (channels === null) fail('BatchNormalization', `expected a known last axis for layer '${this.name}', got ${formatSymbolicShape(shape)}`);
    const c = [channels];
    if (this.scale) this.gamma = this.addWeight('gamma', { shape: c, initializer: this.args.gammaInitializer ?? 'ones' });
    if (this.center) this.beta = this.addWeight('beta', { shape: c, initializer: this.args.betaInitializer ?? 'zeros' });
    this.movingMean = this.addWeight('moving_mean', { shape: c, initializer: this.args.movingMeanInitializer ?? 'zeros', trainable: false });
    this.movingVariance = this.addWeight('moving_variance', { shape: c, initializer: this.args.movingVarianceInitializer ?? 'ones', trainable: false });
  }

  computeOutputShape([shape]: SymbolicShape[]): SymbolicShape {
    return shape;
  }

  call([x]: Tensor[], ctx: CallContext): Tensor {
    const channels = x.shape[x.rank - 1];
    const rows = x.reshape([-1, channels]);
    let y: Tensor;
    if (ctx.training) {
      const mask = ctx.masks?.[0] ?? null;
      const average = mask ? this.maskedAverage(mask, x) : (v: Tensor) => ops.mean(v, { axis: 0 });
      const mean = average(rows);
      const centered = ops.sub(rows, mean);
      const variance = average(ops.square(centered));
      const inv = ops.reciprocal(ops.sqrt(ops.scaleShift(variance, 1, this.epsilon)));
      y = ops.mul(centered, inv);
      noGrad(() => this.updateMoving(mean, variance));
      if (this.gamma) y = ops.mul(y, this.gamma.value);
      if (this.beta) y = ops.add(y, this.beta.value);
    } else {
      // y = x * s + t with s = gamma / sqrt(var + eps), t = beta - mean * s, folded per channel.
      const mm = this.movingMean.read();
      const mv = this.movingVariance.read();
      const gamma = this.gamma?.read();
      const beta = this.beta?.read();
      const s = new Float32Array(channels);
      const t = new Float32Array(channels);
      for (let c = 0; c < channels; c++) {
        s[c] = (gamma ? gamma[c] : 1) / Math.sqrt(mv[c] + this.epsilon);
        t[c] = (beta ? beta[c] : 0) - mm[c] * s[c];
      }
      y = ops.add(ops.mul(rows, tensor(s, [channels])), tensor(t, [channels]));
    }
    return y.reshape(x.shape);
  }

  /**
   * The average over the rows the mask keeps, sum(mask_r * v_r) / (kept + 1e-7): Keras 3's
   * masked moments (an all-masked batch gives 0, not NaN). The sum is one product of the mask
   * as a row with v, so the mask never leaves the heap; nor does the count.
   */
  private maskedAverage(mask: Tensor, x: Tensor): (v: Tensor) => Tensor {
    checkMaskShape(this, x, mask);
    const row = mask.reshape([1, mask.size]);
    const kept = ops.scaleShift(ops.sum(mask), 1, 1e-7);
    return (v) => ops.div(ops.matmul(row, v).reshape([v.shape[1]]), kept);
  }

  /**
   * moving = moving * momentum + batch * (1 - momentum), in place on the heap: nothing is read
   * back, and the only temporary is the scaled batch statistic.
   */
  private updateMoving(mean: Tensor, variance: Tensor): void {
    const m = this.momentum;
    for (const [moving, batch] of [[this.movingMean, mean], [this.movingVariance, variance]] as const) {
      ops.scaleShift(moving.value, m, 0, { out: moving.value });
      ops.add(moving.value, ops.scaleShift(batch, 1 - m), { out: moving.value });
    }
  }

  override getConfig() {
    return { ...super.getConfig(), axis: -1, momentum: this.momentum, epsilon: this.epsilon, center: this.center, scale: this.scale };
  }
}

export interface LayerNormalizationArgs extends LayerArgs {
  /** Only the last axis is supported, Keras's default. */
  axis?: -1;
  epsilon?: number;
  /** Add the learned offset beta. */
  center?: boolean;
  /** Multiply by the learned scale gamma. */
  scale?: boolean;
  betaInitializer?: InitializerLike;
  gammaInitializer?: InitializerLike;
}

/**
 * Normalizes each sample over its last axis to mean 0 and variance 1, then scales by gamma and
 * shifts by beta (both of the last axis's size). Unlike BatchNormalization it uses no batch
 * statistics, so training and inference compute the same thing.
 * @example
 * ```ts
 * new LayerNormalization({ epsilon: 1e-6 }) // [batch, steps, features], over features
 * ```
 */
export class LayerNormalization extends Layer {
  readonly className = 'LayerNormalization';
  /** Each position is normalized on its own, so a mask passes through unchanged (as Keras). */
  override readonly supportsMasking = true;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  private readonly args: LayerNormalizationArgs;
  gamma?: Variable;
  beta?: Variable;

  constructor(args: LayerNormalizationArgs = {}) {
    super(args, 'layer_normalization');
    if (args.axis !== undefined && args.axis !== -1) fail('LayerNormalization', `expected axis -1 (the last axis), got ${JSON.stringify(args.axis)}`);
    this.epsilon = args.epsilon ?? 1e-3;
    if (!(this.epsilon > 0)) fail('LayerNormalization', `expected epsilon > 0, got ${args.epsilon}`);
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.args = args;
  }

  protected override checkInputShapes(shapes: SymbolicShape[]): void {
    if (shapes.length !== 1 || shapes[0].length < 2) {
      fail('LayerNormalization', `expected one input of rank >= 2 for layer '${this.name}', got ${shapes.map(formatSymbolicShape).join(', ')}`);
    }
    const last = shapes[0][shapes[0].length - 1];
    const built = this.gamma ?? this.beta;
    if (built && last !== built.shape[0]) {
      fail('LayerNormalization', `expected input with last axis ${built.shape[0]} for layer '${this.name}', got shape ${formatSymbolicShape(shapes[0])}`);
    }
  }

  override build([shape]: SymbolicShape[]): void {
    const features = shape[shape.length - 1];
    if (features === null) fail('LayerNormalization', `expected a known last axis for layer '${this.name}', got ${formatSymbolicShape(shape)}`);
    if (this.scale) this.gamma = this.addWeight('gamma', { shape: [features], initializer: this.args.gammaInitializer ?? 'ones' });
    if (this.center) this.beta = this.addWeight('beta', { shape: [features], initializer: this.args.betaInitializer ?? 'zeros' });
  }

  computeOutputShape([shape]: SymbolicShape[]): SymbolicShape {
    return shape;
  }

  call([x]: Tensor[]): Tensor {
    const features = x.shape[x.rank - 1];
    const rows = x.reshape([-1, features]);
    const shape = rows.shape;
    // Statistics are [rows, 1]; broadcastTo spreads them over the row (binary ops broadcast a
    // suffix only). The variance is the biased one, as in Keras.
    const mean = ops.mean(rows, { axis: 1, keepDims: true });
    const centered = ops.sub(rows, ops.broadcastTo(mean, shape));
    const variance = ops.mean(ops.square(centered), { axis: 1, keepDims: true });
    const inv = ops.reciprocal(ops.sqrt(ops.scaleShift(variance, 1, this.epsilon)));
    let y = ops.mul(centered, ops.broadcastTo(inv, shape));
    if (this.gamma) y = ops.mul(y, this.gamma.value);
    if (this.beta) y = ops.add(y, this.beta.value);
    return y.reshape(x.shape);
  }

  override getConfig() {
    return { ...super.getConfig(), axis: -1, epsilon: this.epsilon, center: this.center, scale: this.scale };
  }
}
