// Preprocessing layers: they live inside the model, so an exported model takes raw data.
//
// RandomTranslation, RandomRotation and RandomZoom are active only while training (like
// Dropout) and are the identity at inference. Each resamples the images through one affine map
// per image, built as gathers of pixel rows, so gradients flow back to the layer's input.
// Normalization holds the mean and variance of its training data as non-trainable weights, set
// once by adapt().
// see: keras/src/layers/preprocessing/image_preprocessing/random_translation.py,
//      keras/src/layers/preprocessing/image_preprocessing/random_rotation.py,
//      keras/src/layers/preprocessing/image_preprocessing/random_zoom.py,
//      keras/src/layers/preprocessing/normalization.py

import { fail } from '../ops/check.js';
import * as ops from '../ops/index.js';
import { Tensor, tensor } from '../tensor.js';
import type { Random } from '../util/random.js';
import { Layer, formatSymbolicShape, type CallContext, type LayerArgs, type SymbolicShape, type Variable } from './layer.js';

export type FillMode = 'constant' | 'reflect' | 'nearest' | 'wrap';
const FILL_MODES: readonly FillMode[] = ['constant', 'reflect', 'nearest', 'wrap'];
export type Interpolation = 'nearest' | 'bilinear';
const INTERPOLATIONS: readonly Interpolation[] = ['nearest', 'bilinear'];

/** A fraction of the height or width: `f` means [-f, f], a pair means [lower, upper]. */
export type Factor = number | readonly [number, number];

export interface RandomTranslationArgs extends LayerArgs {
  heightFactor: Factor;
  widthFactor?: Factor;
  /** How pixels shifted in from outside the image are filled (default 'reflect', as in Keras). */
  fillMode?: FillMode;
  /** The value of 'constant' fill (default 0). */
  fillValue?: number;
  /**
   * 'nearest' (default): shifts of whole pixels. 'bilinear': shifts of any fraction of a pixel,
   * each output pixel a blend of the four input pixels around the point it reads (Keras's
   * default).
   */
  interpolation?: Interpolation;
  seed?: number;
}

function checkFactor(layer: string, name: string, factor: Factor): [number, number] {
  const [lower, upper] = typeof factor === 'number' ? [-Math.abs(factor), Math.abs(factor)] : factor;
  if (!(Number.isFinite(lower) && Number.isFinite(upper) && lower <= upper && lower >= -1 && upper <= 1)) {
    fail(layer, `expected ${name} to be a fraction in [-1, 1] or a pair [lower, upper] with lower <= upper, got ${JSON.stringify(factor)}`);
  }
  return [lower, upper];
}

function checkFill(layer: string, fillMode: FillMode): FillMode {
  if (!FILL_MODES.includes(fillMode)) fail(layer, `expected fillMode one of ${FILL_MODES.join(', ')}, got '${String(fillMode)}'`);
  return fillMode;
}

function checkInterpolation(layer: string, interpolation: Interpolation): Interpolation {
  if (!INTERPOLATIONS.includes(interpolation)) {
    fail(layer, `expected interpolation one of ${INTERPOLATIONS.join(', ')}, got '${String(interpolation)}'`);
  }
  return interpolation;
}

function checkImages(layer: Layer, [shape]: SymbolicShape[]): void {
  if (shape.length !== 4 || shape.slice(1).some((d) => d === null)) {
    fail(layer.className, `expected images of shape (batch, height, width, channels) with known sizes for layer '${layer.name}', got ${formatSymbolicShape(shape)}`);
  }
}

/** A value drawn uniformly from [lower, upper]. */
function draw(rng: Random, [lower, upper]: readonly [number, number]): number {
  return lower + rng.uniform() * (upper - lower);
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
 * For one image, where each output pixel samples the input (the first six entries of Keras's
 * projective transform): xIn = m[0] * x + m[1] * y + m[2] and yIn = m[3] * x + m[4] * y + m[5],
 * with x the column and y the row of the output pixel.
 */
type Affine = readonly [number, number, number, number, number, number];

/** The pixel row that (r, col) of image b reads under `mode`, or -1 for the fill value. */
function sourceRow(b: number, r: number, col: number, h: number, w: number, mode: FillMode): number {
  const sr = r >= 0 && r < h ? r : sourceIndex(r, h, mode);
  const sc = col >= 0 && col < w ? col : sourceIndex(col, w, mode);
  return sr < 0 || sc < 0 ? -1 : (b * h + sr) * w + sc;
}

/**
 * The taps of image b's output pixels under its map m: 1 (nearest) or 4 (bilinear) source rows
 * and weights each, tap k of pixel p at k * pixels + p. A function of its own, so that V8
 * optimizes the loop alone (compiled on the stack inside its caller, it was deoptimized at
 * every call).
 */
function imageTaps(
  m: Affine, b: number, h: number, w: number, mode: FillMode, taps: number, pixels: number, index: Int32Array, weight: Float32Array,
): void {
  const m0 = m[0], m1 = m[1], m2 = m[2], m3 = m[3], m4 = m[4], m5 = m[5];
  for (let r = 0; r < h; r++) {
    for (let col = 0; col < w; col++) {
      const p = (b * h + r) * w + col;
      const xIn = m0 * col + m1 * r + m2;
      const yIn = m3 * col + m4 * r + m5;
      if (taps === 1) {
        index[p] = sourceRow(b, Math.round(yIn), Math.round(xIn), h, w, mode);
        weight[p] = 1;
        continue;
      }
      const x0 = Math.floor(xIn);
      const y0 = Math.floor(yIn);
      const fx = xIn - x0;
      const fy = yIn - y0;
      if (x0 >= 0 && x0 + 1 < w && y0 >= 0 && y0 + 1 < h) {
        // All four pixels inside the image, as for most points.
        const base = (b * h + y0) * w + x0;
        index[p] = base;
        index[pixels + p] = base + 1;
        index[2 * pixels + p] = base + w;
        index[3 * pixels + p] = base + w + 1;
      } else {
        index[p] = sourceRow(b, y0, x0, h, w, mode);
        index[pixels + p] = sourceRow(b, y0, x0 + 1, h, w, mode);
        index[2 * pixels + p] = sourceRow(b, y0 + 1, x0, h, w, mode);
        index[3 * pixels + p] = sourceRow(b, y0 + 1, x0 + 1, h, w, mode);
      }
      weight[p] = (1 - fy) * (1 - fx);
      weight[pixels + p] = (1 - fy) * fx;
      weight[2 * pixels + p] = fy * (1 - fx);
      weight[3 * pixels + p] = fy * fx;
    }
  }
}

/**
 * Images [n, h, w, c] resampled through one affine map per image: one weightedGather over the
 * pixel rows, so the gradient reaches `x`. 'nearest' takes the pixel at the rounded point;
 * 'bilinear' weights the four pixels around it. The fill mode applies to each pixel read (as
 * scipy's map_coordinates does), so with 'constant' a point half a pixel outside the image
 * blends the edge with the fill value.
 */
function resampleImages(
  x: Tensor, maps: readonly Affine[], interpolation: Interpolation, fillMode: FillMode, fillValue: number,
): Tensor {
  const [n, h, w, c] = x.shape;
  const pixels = n * h * w;
  const taps = interpolation === 'nearest' ? 1 : 4;
  // Tap k of output pixel p is entry k * pixels + p; -1 reads the fill value. The taps are
  // written straight into the two tensors' heap memory, every entry of it.
  const indices = Tensor.empty([taps, pixels], 'int32', x.backend);
  const weights = Tensor.empty([taps, pixels], 'float32', x.backend);
  // Views are taken after allocating: growing the memory detaches the old ones.
  const { i32, f32 } = x.backend.heap;
  const index = i32.subarray(indices.ptr >> 2, (indices.ptr >> 2) + indices.size);
  const weight = f32.subarray(weights.ptr >> 2, (weights.ptr >> 2) + weights.size);
  for (let b = 0; b < n; b++) imageTaps(maps[b], b, h, w, fillMode, taps, pixels, index, weight);
  return ops.weightedGather(x.reshape([pixels, c]), indices, weights, fillValue).reshape(x.shape);
}

/**
 * What the random image layers share: images in, the same shape out, the identity at
 * inference, and while training one affine map per image drawn by `drawMap`.
 */
abstract class RandomImageLayer extends Layer {
  override readonly augmentation = true;
  readonly fillMode: FillMode;
  readonly fillValue: number;
  readonly interpolation: Interpolation;
  readonly seed: number | undefined;

  protected constructor(
    args: LayerArgs & { fillMode?: FillMode; fillValue?: number; interpolation?: Interpolation; seed?: number },
    defaultName: string, layer: string, interpolation: Interpolation,
  ) {
    super(args, defaultName);
    this.fillMode = checkFill(layer, args.fillMode ?? 'reflect');
    this.interpolation = checkInterpolation(layer, args.interpolation ?? interpolation);
    this.fillValue = args.fillValue ?? 0;
    this.seed = args.seed;
  }

  /** The map of one image of height h and width w: output pixel -> input coordinates. */
  protected abstract drawMap(rng: Random, h: number, w: number): Affine;

  protected override checkInputShapes(shapes: SymbolicShape[]): void {
    checkImages(this, shapes);
  }

  computeOutputShape([shape]: SymbolicShape[]): SymbolicShape {
    return shape;
  }

  call([x]: Tensor[], ctx: CallContext): Tensor {
    if (!ctx.training) return x;
    const [n, h, w] = x.shape;
    const maps = Array.from({ length: n }, () => this.drawMap(ctx.rng, h, w));
    return resampleImages(x, maps, this.interpolation, this.fillMode, this.fillValue);
  }

  override getConfig() {
    return { ...super.getConfig(), fillMode: this.fillMode, fillValue: this.fillValue, interpolation: this.interpolation, seed: this.seed };
  }
}

/**
 * Shifts each training image by a random offset (Keras RandomTranslation): whole pixels with
 * interpolation 'nearest' (the default here), any fraction of a pixel with 'bilinear' (the
 * default in Keras). At inference it passes images through unchanged. Images are [batch, height, width, channels].
 * @example
 * ```ts
 * new Sequential([
 *   new RandomTranslation({ heightFactor: 0.1, widthFactor: 0.1, fillMode: 'constant', inputShape: [28, 28, 1] }),
 *   new Conv2D({ filters: 32, kernelSize: 3, activation: 'relu' }),
 * ]);
 * ```
 */
export class RandomTranslation extends RandomImageLayer {
  readonly className = 'RandomTranslation';
  readonly heightFactor: [number, number];
  readonly widthFactor: [number, number];

  constructor(args: RandomTranslationArgs) {
    super(args, 'random_translation', 'RandomTranslation', 'nearest');
    this.heightFactor = checkFactor('RandomTranslation', 'heightFactor', args.heightFactor);
    this.widthFactor = checkFactor('RandomTranslation', 'widthFactor', args.widthFactor ?? args.heightFactor);
  }

  /** Output pixel (r, col) reads the input at (r - dy, col - dx); dy, dx whole pixels for 'nearest'. */
  protected drawMap(rng: Random, h: number, w: number): Affine {
    const whole = this.interpolation === 'nearest';
    const dy = draw(rng, this.heightFactor) * h;
    const dx = draw(rng, this.widthFactor) * w;
    return whole ? [1, 0, -Math.round(dx), 0, 1, -Math.round(dy)] : [1, 0, -dx, 0, 1, -dy];
  }

  override getConfig() {
    return { ...super.getConfig(), heightFactor: this.heightFactor, widthFactor: this.widthFactor };
  }
}

export interface RandomRotationArgs extends LayerArgs {
  /** A fraction of a full turn: `f` means angles in [-f * 2π, f * 2π], a pair means [lower, upper]. */
  factor: Factor;
  /** How points outside the image are filled (default 'reflect', as in Keras). */
  fillMode?: FillMode;
  /** The value of 'constant' fill (default 0). */
  fillValue?: number;
  /** Default 'bilinear', as in Keras. */
  interpolation?: Interpolation;
  seed?: number;
}

/**
 * Rotates each training image about its centre by a random angle (Keras RandomRotation); at
 * inference it passes images through unchanged. Images are [batch, height, width, channels].
 * @example
 * ```ts
 * new Sequential([
 *   new RandomRotation({ factor: 0.03, fillMode: 'constant', inputShape: [28, 28, 1] }), // up to ±10.8°
 *   new Conv2D({ filters: 32, kernelSize: 3, activation: 'relu' }),
 * ]);
 * ```
 */
export class RandomRotation extends RandomImageLayer {
  readonly className = 'RandomRotation';
  readonly factor: [number, number];

  constructor(args: RandomRotationArgs) {
    super(args, 'random_rotation', 'RandomRotation', 'bilinear');
    this.factor = checkFactor('RandomRotation', 'factor', args.factor);
  }

  /** Keras's rotation matrix with offsets that keep the centre ((w-1)/2, (h-1)/2) fixed. */
  protected drawMap(rng: Random, h: number, w: number): Affine {
    const angle = draw(rng, this.factor) * 2 * Math.PI;
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const xOffset = (w - 1 - (cos * (w - 1) - sin * (h - 1))) / 2;
    const yOffset = (h - 1 - (sin * (w - 1) + cos * (h - 1))) / 2;
    return [cos, -sin, xOffset, sin, cos, yOffset];
  }

  override getConfig() {
    return { ...super.getConfig(), factor: this.factor };
  }
}

export interface RandomZoomArgs extends LayerArgs {
  /**
   * The zoom of the height as a fraction: each image is sampled at 1 + f times its scale, f drawn
   * from [-heightFactor, heightFactor] or from the pair [lower, upper]. Positive f zooms out (the
   * digit gets smaller), negative zooms in.
   */
  heightFactor: Factor;
  /** The same for the width; by default the width is zoomed by the height's draw (aspect kept). */
  widthFactor?: Factor;
  /** How points outside the image are filled (default 'reflect', as in Keras). */
  fillMode?: FillMode;
  /** The value of 'constant' fill (default 0). */
  fillValue?: number;
  /** Default 'bilinear', as in Keras. */
  interpolation?: Interpolation;
  seed?: number;
}

/**
 * Zooms each training image in or out about its centre by a random amount (Keras RandomZoom);
 * at inference it passes images through unchanged. Images are [batch, height, width, channels].
 * @example
 * ```ts
 * new Sequential([
 *   new RandomZoom({ heightFactor: 0.1, fillMode: 'constant', inputShape: [28, 28, 1] }), // 90% to 110%
 *   new Conv2D({ filters: 32, kernelSize: 3, activation: 'relu' }),
 * ]);
 * ```
 */
export class RandomZoom extends RandomImageLayer {
  readonly className = 'RandomZoom';
  readonly heightFactor: [number, number];
  /** Null: the width takes the height's zoom. */
  readonly widthFactor: [number, number] | null;

  constructor(args: RandomZoomArgs) {
    super(args, 'random_zoom', 'RandomZoom', 'bilinear');
    this.heightFactor = checkFactor('RandomZoom', 'heightFactor', args.heightFactor);
    this.widthFactor = args.widthFactor === undefined ? null : checkFactor('RandomZoom', 'widthFactor', args.widthFactor);
  }

  /** Output pixel (x, y) reads centre + zoom * ((x, y) - centre), so zoom > 1 zooms out. */
  protected drawMap(rng: Random, h: number, w: number): Affine {
    const zy = 1 + draw(rng, this.heightFactor);
    const zx = this.widthFactor ? 1 + draw(rng, this.widthFactor) : zy;
    return [zx, 0, ((w - 1) / 2) * (1 - zx), 0, zy, ((h - 1) / 2) * (1 - zy)];
  }

  override getConfig() {
    return { ...super.getConfig(), heightFactor: this.heightFactor, widthFactor: this.widthFactor };
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

  /**
   * The layer as y = x * scale + offset per feature, with scale = 1 / sqrt(max(variance, 1e-7))
   * and offset = -mean * scale (what an exported model computes with a tfjs-loadable layer).
   */
  affine(): { scale: Float32Array; offset: Float32Array } {
    const mean = this.mean.read();
    const variance = this.variance.read();
    const scale = new Float32Array(mean.length);
    const offset = new Float32Array(mean.length);
    for (let f = 0; f < mean.length; f++) {
      scale[f] = 1 / Math.sqrt(Math.max(variance[f], 1e-7));
      offset[f] = -mean[f] * scale[f];
    }
    return { scale, offset };
  }

  call([x]: Tensor[]): Tensor {
    const { scale, offset } = this.affine();
    const features = scale.length;
    const rows = x.reshape([-1, features]);
    return ops.add(ops.mul(rows, tensor(scale, [features])), tensor(offset, [features])).reshape(x.shape);
  }

  override getConfig() {
    return { ...super.getConfig(), axis: -1 };
  }
}
