// Reading and writing the values inside a Keras layer config: a checked reader for one
// layer's config, and activations, initializers and regularizers in Keras form.
//
// Reading is strict about what changes results: a setting kerasm cannot honour (channels_first,
// a constraint, an unknown activation) is an error that names the layer, the key, what kerasm
// supports and what was found. Keys that do not change results (dtype, Keras 3's module and
// registered_name, ...) are ignored.
// see: tfjs-layers/src/keras_format/, keras/src/initializers/, keras/src/regularizers/

import { fail } from '../ops/check.js';
import { getActivation, type ActivationIdentifier } from '../layers/activations.js';
import {
  Constant, getInitializer, Orthogonal, RandomNormal, RandomUniform, VarianceScaling,
  type Initializer, type InitializerLike,
} from '../layers/initializers.js';
import { formatSymbolicShape, type SymbolicShape, type Variable } from '../layers/layer.js';
import { L1L2 } from '../layers/regularizers.js';
import type { JsonObject } from './types.js';

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** 'fanAvg' -> 'fan_avg', 'hardSigmoid' -> 'hard_sigmoid' (TensorFlow.js writes either). */
export function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** Reads one layer's Keras config, with errors that say where, what and what was found. */
export class KerasConfig {
  constructor(
    readonly raw: JsonObject,
    /** e.g. "layer 'conv2d' (Conv2D)" */
    readonly where: string,
    /** The public function the error is reported from, e.g. 'loadModel'. */
    readonly op: string,
    /** Checks that need the built model (an axis against the input's rank), run after it. */
    readonly deferred: (() => void)[] = [],
  ) {}

  fail(message: string): never {
    return fail(this.op, `${this.where}: ${message}`);
  }

  private bad(key: string, expected: string): never {
    return this.fail(`expected ${key} to be ${expected}, got ${JSON.stringify(this.raw[key])}`);
  }

  /** The value, with null and absent both meaning "not given". */
  get(key: string): unknown {
    return this.raw[key] ?? undefined;
  }

  positiveInt(key: string, fallback?: number): number {
    const v = this.get(key) ?? fallback;
    if (!(Number.isInteger(v) && (v as number) >= 1)) this.bad(key, 'a positive integer');
    return v as number;
  }

  number(key: string, fallback?: number): number {
    const v = this.get(key) ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.bad(key, 'a number');
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.get(key) ?? fallback;
    if (typeof v !== 'boolean') this.bad(key, 'true or false');
    return v;
  }

  /** An integer or a pair of integers, as 2-D kernel sizes and strides are written. */
  pair(key: string, fallback: number): [number, number] {
    const v = this.get(key) ?? fallback;
    const p = typeof v === 'number' ? [v, v] : v;
    if (!Array.isArray(p) || p.length !== 2 || !p.every((d) => Number.isInteger(d) && d >= 1)) {
      this.bad(key, 'a positive integer or a pair of them');
    }
    return [p[0], p[1]];
  }

  /** An integer or a list of one, as 1-D kernel sizes and strides are written. */
  single(key: string, fallback: number): number {
    const v = this.get(key) ?? fallback;
    const n = Array.isArray(v) && v.length === 1 ? v[0] : v;
    if (!(Number.isInteger(n) && n >= 1)) this.bad(key, 'a positive integer or a list of one');
    return n;
  }

  /** A string setting from `allowed` (compared in snake_case). */
  choice<const T extends string>(key: string, allowed: readonly T[], fallback: NoInfer<T>): T {
    const v = this.get(key) ?? fallback;
    const s = typeof v === 'string' ? snakeCase(v) : v;
    if (!allowed.includes(s as T)) this.bad(key, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
    return s as T;
  }

  /** A setting kerasm does not support: only null/absent (or one of `harmless`) is accepted. */
  unsupported(key: string, ...harmless: unknown[]): void {
    const v = this.get(key);
    if (v === undefined || harmless.some((h) => JSON.stringify(h) === JSON.stringify(v))) return;
    const accepted = ['null', ...harmless.map((h) => JSON.stringify(h))].join(' or ');
    this.fail(`${key} is not supported by kerasm (expected ${accepted}), got ${JSON.stringify(v)}`);
  }

  /** Only channels_last images (kerasm's NHWC layout). */
  channelsLast(): void {
    this.choice('data_format', ['channels_last'], 'channels_last');
  }

  /**
   * An axis that must be the last one: -1, or rank - 1 written as a number or a list of one
   * (Keras writes the resolved axis). Checked once the layer knows its input's rank.
   */
  lastAxis(key: string, rankOf: () => number | undefined): void {
    const v = this.get(key) ?? -1;
    const axis = Array.isArray(v) && v.length === 1 ? v[0] : v;
    if (!Number.isInteger(axis)) this.bad(key, 'the last axis (-1)');
    this.deferred.push(() => {
      const rank = rankOf();
      if (axis !== -1 && axis !== (rank ?? 0) - 1) this.bad(key, `the last axis (-1 or ${(rank ?? 0) - 1})`);
    });
  }

  /** The batch input shape, from batch_input_shape (Keras 2, TensorFlow.js) or batch_shape (Keras 3). */
  batchInputShape(): SymbolicShape | undefined {
    const key = this.get('batch_input_shape') !== undefined ? 'batch_input_shape' : 'batch_shape';
    const v = this.get(key);
    if (v === undefined) {
      const input = this.get('input_shape');
      return Array.isArray(input) ? this.checkShape('input_shape', [null, ...input]) : undefined;
    }
    return this.checkShape(key, v);
  }

  private checkShape(key: string, v: unknown): SymbolicShape {
    if (!Array.isArray(v) || v.length < 2 || !v.every((d) => d === null || (Number.isInteger(d) && d >= 1))) {
      this.bad(key, 'a shape [batch, ...] of positive integers (batch may be null)');
    }
    if (v.slice(1).includes(null)) {
      this.fail(`expected a fixed input shape, got ${formatSymbolicShape(v)}; kerasm needs every dimension but the batch`);
    }
    return v;
  }
}

// ---- Activations ----------------------------------------------------------------------------

/** Keras writes 'swish'; kerasm calls it silu. Every other kerasm name is the Keras name. */
const KERAS_ACTIVATION_NAMES: Record<string, string> = { silu: 'swish' };

export function activationToKeras(name: unknown): string {
  const s = String(name ?? 'linear');
  return KERAS_ACTIVATION_NAMES[s] ?? s;
}

export function activationFromKeras(c: KerasConfig, key = 'activation', fallback = 'linear'): ActivationIdentifier {
  const v = c.get(key) ?? fallback;
  // Keras 3 may write a registered function as {class_name: 'function', config: 'relu'}.
  const name = isObject(v) && typeof v.config === 'string' ? v.config : v;
  if (typeof name !== 'string') return c.fail(`expected ${key} to be an activation name, got ${JSON.stringify(v)}`);
  try {
    return getActivation(snakeCase(name)).name as ActivationIdentifier;
  } catch {
    const known = ['linear', 'relu', 'leaky_relu', 'elu', 'selu', 'sigmoid', 'tanh', 'softmax', 'gelu', 'swish', 'silu', 'softplus', 'exponential', 'hard_sigmoid'];
    return c.fail(`unknown activation '${name}' for ${key}; kerasm supports ${known.join(', ')}`);
  }
}

// ---- Initializers ---------------------------------------------------------------------------

const FAN_MODES = { fanIn: 'fan_in', fanOut: 'fan_out', fanAvg: 'fan_avg' } as const;
type FanMode = keyof typeof FAN_MODES;

/** An initializer as TensorFlow.js writes it: {class_name, config}, glorot & co. as VarianceScaling. */
function initializerObjectToKeras(init: Initializer): JsonObject | null {
  const seed = init.seed ?? null;
  if (init instanceof Constant) {
    if (init.value === 0) return { class_name: 'Zeros', config: {} };
    if (init.value === 1) return { class_name: 'Ones', config: {} };
    return { class_name: 'Constant', config: { value: init.value } };
  }
  if (init instanceof VarianceScaling) {
    const distribution = init.distribution === 'uniform' ? 'uniform' : 'truncated_normal';
    return { class_name: 'VarianceScaling', config: { scale: init.scale, mode: FAN_MODES[init.mode], distribution, seed } };
  }
  if (init instanceof RandomNormal) return { class_name: 'RandomNormal', config: { mean: init.mean, stddev: init.stddev, seed } };
  if (init instanceof RandomUniform) return { class_name: 'RandomUniform', config: { minval: init.minval, maxval: init.maxval, seed } };
  if (init instanceof Orthogonal) return { class_name: 'Orthogonal', config: { gain: init.gain, seed } };
  return null;
}

/**
 * An initializer from a layer's getConfig() (a name, an Initializer or {className, config}),
 * in Keras form; `fallback` when the layer's config does not say. Null (Keras: "the default")
 * when kerasm cannot describe it.
 */
export function initializerToKeras(value: unknown, fallback: InitializerLike): JsonObject | null {
  try {
    return initializerObjectToKeras(getInitializer((value ?? fallback) as InitializerLike));
  } catch {
    return null;
  }
}

/** The named VarianceScaling cases, by (scale, mode, distribution). */
const VARIANCE_SCALING_NAMES: [string, number, FanMode, 'uniform' | 'truncatedNormal'][] = [
  ['GlorotUniform', 1, 'fanAvg', 'uniform'], ['GlorotNormal', 1, 'fanAvg', 'truncatedNormal'],
  ['HeUniform', 2, 'fanIn', 'uniform'], ['HeNormal', 2, 'fanIn', 'truncatedNormal'],
  ['LecunUniform', 1, 'fanIn', 'uniform'], ['LecunNormal', 1, 'fanIn', 'truncatedNormal'],
];

export function initializerFromKeras(c: KerasConfig, key: string): Initializer | undefined {
  const v = c.get(key);
  if (v === undefined) return undefined;
  const bad = (why: string): never => c.fail(`${why} for ${key}, got ${JSON.stringify(v)}`);
  if (typeof v === 'string') {
    try {
      return getInitializer(v as InitializerLike);
    } catch {
      return bad('expected an initializer kerasm knows');
    }
  }
  if (!isObject(v) || typeof v.class_name !== 'string') return bad('expected {class_name, config}');
  const config = isObject(v.config) ? v.config : {};
  const num = (k: string, fallback: number) => (typeof config[k] === 'number' ? (config[k] as number) : fallback);
  const seed = typeof config.seed === 'number' ? config.seed : undefined;
  switch (v.class_name) {
    case 'Zeros': case 'zeros': return new Constant(0);
    case 'Ones': case 'ones': return new Constant(1);
    case 'Constant': return new Constant(num('value', 0));
    case 'RandomNormal': return new RandomNormal(num('mean', 0), num('stddev', 0.05), seed);
    case 'RandomUniform': return new RandomUniform(num('minval', -0.05), num('maxval', 0.05), seed);
    case 'Orthogonal': return new Orthogonal(num('gain', 1), seed);
    case 'VarianceScaling': {
      const inner = new KerasConfig(config, `${c.where}: ${key}`, c.op);
      const mode = inner.choice('mode', ['fan_in', 'fan_out', 'fan_avg'], 'fan_in');
      // Keras and TensorFlow.js both draw 'normal' from a truncated normal.
      const dist = inner.choice('distribution', ['uniform', 'normal', 'truncated_normal'], 'truncated_normal');
      const scale = inner.number('scale', 1);
      const fan = (Object.keys(FAN_MODES) as FanMode[]).find((m) => FAN_MODES[m] === mode)!;
      const distribution = dist === 'uniform' ? 'uniform' : 'truncatedNormal';
      const named = VARIANCE_SCALING_NAMES.find(([, s, m, d]) => s === scale && m === fan && d === distribution);
      return new VarianceScaling(named?.[0] ?? 'VarianceScaling', scale, fan, distribution, seed);
    }
  }
  try {
    return getInitializer({ className: v.class_name, config: { seed } });
  } catch {
    return bad('expected an initializer kerasm knows (Zeros, Ones, Constant, RandomNormal, RandomUniform, Orthogonal, VarianceScaling, GlorotUniform, HeNormal, ...)');
  }
}

// ---- Regularizers ---------------------------------------------------------------------------

/** A weight's regularizer, in Keras form (null when it has none). */
export function regularizerToKeras(variable: Variable | undefined): JsonObject | null {
  const r = variable?.regularizer;
  return r ? { class_name: 'L1L2', config: { l1: r.l1, l2: r.l2 } } : null;
}

export function regularizerFromKeras(c: KerasConfig, key: string): L1L2 | undefined {
  const v = c.get(key);
  if (v === undefined) return undefined;
  if (v === 'l1') return new L1L2(0.01, 0);
  if (v === 'l2') return new L1L2(0, 0.01);
  if (!isObject(v) || !['L1L2', 'L1', 'L2', 'l1_l2'].includes(String(v.class_name))) {
    return c.fail(`expected ${key} to be an L1L2, L1 or L2 regularizer, got ${JSON.stringify(v)}`);
  }
  const config = isObject(v.config) ? v.config : {};
  const l1 = typeof config.l1 === 'number' ? config.l1 : 0;
  const l2 = typeof config.l2 === 'number' ? config.l2 : 0;
  return new L1L2(l1, l2);
}
