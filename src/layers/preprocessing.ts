// Preprocessing layers: they live inside the model, so an exported model takes raw data.
//
// RandomTranslation is active only while training (like Dropout) and is the identity at
// inference. Normalization holds the mean and variance of its training data as non-trainable
// weights, set once by adapt().
// see: keras/src/layers/preprocessing/image_preprocessing/random_translation.py,
//      keras/src/layers/preprocessing/normalization.py

import { fail } from '../ops/check.js';
import * as ops from '../ops/index.js';
import { tensor, type Tensor } from '../tensor.js';
import { Layer, formatSymbolicShape, type CallContext, type LayerArgs, type SymbolicShape, type Variable } from './layer.js';

export type FillMode = 'constant' | 'reflect' | 'nearest' | 'wrap';
const FILL_MODES: readonly FillMode[] = ['constant', 'reflect', 'nearest', 'wrap'];

/** A fraction of the height or width: `f` means [-f, f], a pair means [lower, upper]. */
export type Factor = number | readonly [number, number];

export interface RandomTranslationArgs extends LayerArgs {
  heightFactor: Factor;
  widthFactor?: Factor;
  /** How pixels shifted in from outside the image are filled (default 'reflect', as in Keras). */
  fillMode?: FillMode;
  /** The value of 'constant' fill (default 0). */
  fillValue?: number;
  /** Only 'nearest': shifts are whole pixels. */
  interpolation?: 'nearest';
  seed?: number;
}

function checkFactor(name: string, factor: Factor): [number, number] {
  const [lower, upper] = typeof factor === 'number' ? [-Math.abs(factor), Math.abs(factor)] : factor;
  if (!(Number.isFinite(lower) && Number.isFinite(upper) && lower <= upper && lower >= -1 && upper <= 1)) {
    fail('RandomTranslation', `expected ${name} to be a fraction in [-1, 1] or a pair [lower, upper] with lower <= upper, got ${JSON.stringify(factor)}`);
  }
  return [lower, upper];
}

/** Where source index `i` lands in [0, n) under `mode`, or -1 for the constant fill. */
function sourceIndex(i: number, n: number, mode: FillMode): number {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case 'constant':
      return -1;
    case 'nearest':
      return i < 0 ? 0 : n - 1;
    case 'wrap':
      return ((i % n) + n) % n;
    case 'reflect': {
      // Keras's 'reflect' is (d c b a | a b c d | d c b a): the edge pixel repeats.
      const period = 2 * n;
      const j = ((i % period) + period) % period;
      return j < n ? j : period - 1 - j;
    }
  }
}

/**
 * Shifts each training image by a random whole number of pixels (Keras RandomTranslation);
 * at inference it passes images through unchanged. Images are [batch, height, width, channels].
 * @example
 * ```ts
 * new Sequential([
 *   new RandomTranslation({ heightFactor: 0.1, widthFactor: 0.1, fillMode: 'constant', inputShape: [28, 28, 1] }),
 *   new Conv2D({ filters: 32, kernelSize: 3, activation: 'relu' }),
 * ]);
 * ```
 */
export class RandomTranslation extends Layer {
  readonly className = 'RandomTranslation';
  readonly heightFactor: [number, number];
  readonly widthFactor: [number, number];
  readonly fillMode: FillMode;
  readonly fillValue: number;
  readonly seed: number | undefined;

  constructor(args: RandomTranslationArgs) {
    super(args, 'random_translation');
    this.heightFactor = checkFactor('heightFactor', args.heightFactor);
    this.widthFactor = checkFactor('widthFactor', args.widthFactor ?? args.heightFactor);
    this.fillMode = args.fillMode ?? 'reflect';
    if (!FILL_MODES.includes(this.fillMode)) fail('RandomTranslation', `expected fillMode one of ${FILL_MODES.join(', ')}, got '${String(this.fillMode)}'`);
    if ((args.interpolation ?? 'nearest') !== 'nearest') {
      fail('RandomTranslation', `expected interpolation 'nearest' (whole-pixel shifts), got '${String(args.interpolation)}'`);
    }
    this.fillValue = args.fillValue ?? 0;
    this.seed = args.seed;
  }

  protected override checkInputShapes([shape]: SymbolicShape[]): void {
    if (shape.length !== 4 || shape.slice(1).some((d) => d === null)) {
      fail('RandomTranslation', `expected images of shape (batch, height, width, channels) with known sizes for layer '${this.name}', got ${formatSymbolicShape(shape)}`);
    }
  }

  computeOutputShape([shape]: SymbolicShape[]): SymbolicShape {
    return shape;
  }

  call([x]: Tensor[], ctx: CallContext): Tensor {
    if (!ctx.training) return x;
    const [n, h, w, c] = x.shape;
    const pixels = n * h * w;
    // out pixel (b, r, col) = in pixel (b, r - dy, col - dx); index `pixels` is the fill row.
    const index = new Int32Array(pixels);
    const shift = (range: [number, number], size: number) => Math.round((range[0] + ctx.rng.uniform() * (range[1] - range[0])) * size);
    for (let b = 0; b < n; b++) {
      const dy = shift(this.heightFactor, h);
      const dx = shift(this.widthFactor, w);
      for (let r = 0; r < h; r++) {
        const sr = sourceIndex(r - dy, h, this.fillMode);
        for (let col = 0; col < w; col++) {
          const sc = sourceIndex(col - dx, w, this.fillMode);
          index[(b * h + r) * w + col] = sr < 0 || sc < 0 ? pixels : (b * h + sr) * w + sc;
        }
      }
    }
    const fill = tensor(new Float32Array(c).fill(this.fillValue), [1, c]);
    const rows = ops.concat([x.reshape([pixels, c]), fill], 0);
    return ops.gather(rows, tensor(index, [pixels], 'int32'), 0).reshape(x.shape);
  }

  override getConfig() {
    return {
      ...super.getConfig(), heightFactor: this.heightFactor, widthFactor: this.widthFactor,
      fillMode: this.fillMode, fillValue: this.fillValue, seed: this.seed,
    };
  }
}

export interface NormalizationArgs extends LayerArgs {
  /** Only the last axis (features or channels) is supported. */
  axis?: -1;
  /** Known statistics; otherwise call adapt(data) before training. */
  mean?: number | readonly number[];
  variance?: number | readonly number[];
}

/**
 * Standardizes each feature (last axis) to zero mean and unit variance using statistics of the
 * training data, held as non-trainable weights (Keras Normalization).
 * @example
 * ```ts
 * const norm = new Normalization({ inputShape: [13] });
 * norm.adapt(xTrain);
 * const model = new Sequential([norm, new Dense({ units: 1 })]);
 * ```
 */
export class Normalization extends Layer {
  readonly className = 'Normalization';
  mean!: Variable;
  variance!: Variable;
  count!: Variable;
  private readonly given: { mean?: number | readonly number[]; variance?: number | readonly number[] };
  private adapted: { mean: Float32Array; variance: Float32Array; count: number } | null = null;

  constructor(args: NormalizationArgs = {}) {
    super(args, 'normalization');
    if (args.axis !== undefined && args.axis !== -1) fail('Normalization', `expected axis -1 (the last axis), got ${args.axis}`);
    if ((args.mean === undefined) !== (args.variance === undefined)) {
      fail('Normalization', 'expected both mean and variance, or neither (then call adapt(data))');
    }
    this.given = { mean: args.mean, variance: args.variance };
  }

  override build([shape]: SymbolicShape[]): void {
    const features = shape[shape.length - 1];
    if (features === null) fail('Normalization', `expected a known last axis for layer '${this.name}', got ${formatSymbolicShape(shape)}`);
    const f = [features];
    this.mean = this.addWeight('mean', { shape: f, initializer: 'zeros', trainable: false });
    this.variance = this.addWeight('variance', { shape: f, initializer: 'ones', trainable: false });
    this.count = this.addWeight('count', { shape: [], initializer: 'zeros', trainable: false });
    const expand = (v: number | readonly number[], name: string) => {
      const values = typeof v === 'number' ? new Array<number>(features).fill(v) : [...v];
      if (values.length !== features) fail('Normalization', `expected ${name} to have ${features} values (the last axis), got ${values.length}`);
      return Float32Array.from(values);
    };
    if (this.given.mean !== undefined) {
      this.mean.assign(expand(this.given.mean, 'mean'));
      this.variance.assign(expand(this.given.variance!, 'variance'));
    }
    if (this.adapted) this.assignAdapted(this.adapted);
  }

  /** Sets the mean and variance of each feature from `data` ([samples, ..., features]). */
  adapt(data: Tensor | readonly (readonly number[])[]): void {
    const values = Array.isArray(data) ? tensor(data as number[][]) : (data as Tensor);
    if (values.rank < 1 || values.size === 0) fail('Normalization.adapt', `expected non-empty data of shape [samples, ..., features], got shape [${values.shape.join(', ')}]`);
    const features = values.shape[values.rank - 1];
    const x = values.dataSync();
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(x[i])) fail('Normalization.adapt', `expected finite data, found ${x[i]} at flat index ${i}`);
    }
    const rows = x.length / features;
    const mean = new Float64Array(features);
    const m2 = new Float64Array(features);
    for (let r = 0; r < rows; r++) for (let f = 0; f < features; f++) mean[f] += x[r * features + f];
    for (let f = 0; f < features; f++) mean[f] /= rows;
    for (let r = 0; r < rows; r++) {
      for (let f = 0; f < features; f++) {
        const d = x[r * features + f] - mean[f];
        m2[f] += d * d;
      }
    }
    const stats = { mean: Float32Array.from(mean), variance: Float32Array.from(m2, (v) => v / rows), count: rows };
    if (this.built) {
      if (this.mean.shape[0] !== features) fail('Normalization.adapt', `expected data with ${this.mean.shape[0]} features (the last axis), got ${features}`);
      this.assignAdapted(stats);
    } else {
      this.adapted = stats;
    }
  }

  private assignAdapted(stats: { mean: Float32Array; variance: Float32Array; count: number }): void {
    this.mean.assign(stats.mean);
    this.variance.assign(stats.variance);
    this.count.assign(Float32Array.of(stats.count));
  }

  computeOutputShape([shape]: SymbolicShape[]): SymbolicShape {
    return shape;
  }

  call([x]: Tensor[]): Tensor {
    // y = (x - mean) / sqrt(max(variance, eps)), folded per feature into y = x * s + t.
    const mean = this.mean.read();
    const variance = this.variance.read();
    const features = mean.length;
    const s = new Float32Array(features);
    const t = new Float32Array(features);
    for (let f = 0; f < features; f++) {
      s[f] = 1 / Math.sqrt(Math.max(variance[f], 1e-7));
      t[f] = -mean[f] * s[f];
    }
    const rows = x.reshape([-1, features]);
    return ops.add(ops.mul(rows, tensor(s, [features])), tensor(t, [features])).reshape(x.shape);
  }

  override getConfig() {
    return { ...super.getConfig(), axis: -1 };
  }
}
