// Weight initializers, by Keras name. Each fills a Float32Array for a given shape, drawing from
// a seeded generator. Fan computation follows Keras: for a kernel [..receptive, fanIn, fanOut].
// see: keras/src/initializers/random_initializers.py (compute_fans)

import { fail } from '../ops/check.js';
import { Random } from '../util/random.js';
import { globalRandom } from '../util/seed.js';

export type InitializerName =
  | 'zeros' | 'ones' | 'glorotUniform' | 'glorotNormal' | 'heUniform' | 'heNormal'
  | 'lecunUniform' | 'lecunNormal' | 'randomNormal' | 'randomUniform' | 'orthogonal'
  | 'glorot_uniform' | 'glorot_normal' | 'he_uniform' | 'he_normal' | 'lecun_uniform'
  | 'lecun_normal' | 'random_normal' | 'random_uniform';

export interface InitializerConfig {
  className: string;
  config: { seed?: number; mean?: number; stddev?: number; minval?: number; maxval?: number; gain?: number; value?: number };
}

export type InitializerLike = InitializerName | Initializer | InitializerConfig;

export abstract class Initializer {
  constructor(readonly seed?: number) {}
  /** Values for a tensor of `shape`. */
  abstract generate(shape: readonly number[], rng: Random): Float32Array;
  abstract get className(): string;
  config(): InitializerConfig['config'] {
    return this.seed === undefined ? {} : { seed: this.seed };
  }
  /** Uses the initializer's own seed if it has one, else the global generator. */
  apply(shape: readonly number[]): Float32Array {
    return this.generate(shape, this.seed === undefined ? globalRandom() : new Random(this.seed));
  }
}

export function computeFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  if (shape.length === 2) return { fanIn: shape[0], fanOut: shape[1] };
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[shape.length - 2] * receptive, fanOut: shape[shape.length - 1] * receptive };
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export class Constant extends Initializer {
  constructor(readonly value: number) {
    super();
  }
  get className() {
    return this.value === 0 ? 'Zeros' : this.value === 1 ? 'Ones' : 'Constant';
  }
  override config() {
    return this.value === 0 || this.value === 1 ? {} : { value: this.value };
  }
  generate(shape: readonly number[]): Float32Array {
    return new Float32Array(size(shape)).fill(this.value);
  }
}

export class RandomNormal extends Initializer {
  constructor(readonly mean = 0, readonly stddev = 0.05, seed?: number) {
    super(seed);
  }
  get className() {
    return 'RandomNormal';
  }
  override config() {
    return { ...super.config(), mean: this.mean, stddev: this.stddev };
  }
  generate(shape: readonly number[], rng: Random): Float32Array {
    return Float32Array.from({ length: size(shape) }, () => this.mean + this.stddev * rng.normal());
  }
}

export class RandomUniform extends Initializer {
  constructor(readonly minval = -0.05, readonly maxval = 0.05, seed?: number) {
    super(seed);
  }
  get className() {
    return 'RandomUniform';
  }
  override config() {
    return { ...super.config(), minval: this.minval, maxval: this.maxval };
  }
  generate(shape: readonly number[], rng: Random): Float32Array {
    return Float32Array.from({ length: size(shape) }, () => rng.uniformRange(this.minval, this.maxval));
  }
}

type FanMode = 'fanIn' | 'fanOut' | 'fanAvg';

/** Keras VarianceScaling: glorot, he and lecun are special cases. */
export class VarianceScaling extends Initializer {
  constructor(
    readonly name: string, readonly scale: number, readonly mode: FanMode,
    readonly distribution: 'uniform' | 'truncatedNormal', seed?: number,
  ) {
    super(seed);
  }
  get className() {
    return this.name;
  }
  generate(shape: readonly number[], rng: Random): Float32Array {
    const { fanIn, fanOut } = computeFans(shape);
    const n = this.mode === 'fanIn' ? fanIn : this.mode === 'fanOut' ? fanOut : (fanIn + fanOut) / 2;
    const variance = this.scale / Math.max(1, n);
    const out = new Float32Array(size(shape));
    if (this.distribution === 'uniform') {
      const limit = Math.sqrt(3 * variance);
      for (let i = 0; i < out.length; i++) out[i] = rng.uniformRange(-limit, limit);
    } else {
      // Truncated at 2 stddev; 0.8796... is the stddev of a unit normal truncated there.
      const stddev = Math.sqrt(variance) / 0.87962566103423978;
      for (let i = 0; i < out.length; i++) {
        let v: number;
        do v = rng.normal(); while (Math.abs(v) > 2);
        out[i] = v * stddev;
      }
    }
    return out;
  }
}

/** A (semi-)orthogonal matrix from Gram-Schmidt on a normal matrix, times `gain`. */
export class Orthogonal extends Initializer {
  constructor(readonly gain = 1, seed?: number) {
    super(seed);
  }
  get className() {
    return 'Orthogonal';
  }
  override config() {
    return { ...super.config(), gain: this.gain };
  }
  generate(shape: readonly number[], rng: Random): Float32Array {
    const cols = shape[shape.length - 1] ?? 1;
    const rows = size(shape) / cols;
    // Orthonormalize the shorter side's vectors, then lay them out as [rows, cols].
    const [count, length] = rows < cols ? [rows, cols] : [cols, rows];
    const vectors: Float64Array[] = [];
    for (let k = 0; k < count; k++) {
      const v = Float64Array.from({ length }, () => rng.normal());
      for (const u of vectors) {
        let dot = 0;
        for (let i = 0; i < length; i++) dot += u[i] * v[i];
        for (let i = 0; i < length; i++) v[i] -= dot * u[i];
      }
      let norm = 0;
      for (let i = 0; i < length; i++) norm += v[i] * v[i];
      norm = Math.sqrt(norm) || 1;
      for (let i = 0; i < length; i++) v[i] /= norm;
      vectors.push(v);
    }
    const out = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        out[r * cols + c] = this.gain * (rows < cols ? vectors[r][c] : vectors[c][r]);
      }
    }
    return out;
  }
}

const FACTORIES: Record<string, (seed?: number) => Initializer> = {
  zeros: () => new Constant(0),
  ones: () => new Constant(1),
  glorotUniform: (s) => new VarianceScaling('GlorotUniform', 1, 'fanAvg', 'uniform', s),
  glorotNormal: (s) => new VarianceScaling('GlorotNormal', 1, 'fanAvg', 'truncatedNormal', s),
  heUniform: (s) => new VarianceScaling('HeUniform', 2, 'fanIn', 'uniform', s),
  heNormal: (s) => new VarianceScaling('HeNormal', 2, 'fanIn', 'truncatedNormal', s),
  lecunUniform: (s) => new VarianceScaling('LecunUniform', 1, 'fanIn', 'uniform', s),
  lecunNormal: (s) => new VarianceScaling('LecunNormal', 1, 'fanIn', 'truncatedNormal', s),
  randomNormal: (s) => new RandomNormal(0, 0.05, s),
  randomUniform: (s) => new RandomUniform(-0.05, 0.05, s),
  orthogonal: (s) => new Orthogonal(1, s),
};

/** 'glorot_uniform', 'GlorotUniform' and 'glorotUniform' all name the same initializer. */
export function canonicalName(name: string): string {
  const camel = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return camel.charAt(0).toLowerCase() + camel.slice(1);
}

/** Resolves a name, config object or instance to an Initializer. */
export function getInitializer(spec: InitializerLike, where = 'initializer'): Initializer {
  if (spec instanceof Initializer) return spec;
  if (typeof spec === 'object' && spec !== null && 'className' in spec) {
    const key = canonicalName(spec.className);
    const c = spec.config ?? {};
    if (key === 'randomNormal') return new RandomNormal(c.mean, c.stddev, c.seed);
    if (key === 'randomUniform') return new RandomUniform(c.minval, c.maxval, c.seed);
    if (key === 'orthogonal') return new Orthogonal(c.gain, c.seed);
    if (key === 'constant') return new Constant(c.value ?? 0);
    if (FACTORIES[key]) return FACTORIES[key](c.seed);
    fail(where, `unknown initializer '${spec.className}'; expected one of ${Object.keys(FACTORIES).join(', ')}`);
  }
  const factory = FACTORIES[canonicalName(String(spec))];
  if (!factory) {
    fail(where, `unknown initializer '${String(spec)}'; expected one of ${Object.keys(FACTORIES).join(', ')}`);
  }
  return factory();
}

/** Serializes an initializer as Keras does ({className, config}). */
export function serializeInitializer(init: Initializer): InitializerConfig {
  return { className: init.className, config: init.config() };
}
