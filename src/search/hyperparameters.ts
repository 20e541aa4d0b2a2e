// The search space and one trial's values. A hypermodel asks for each hyperparameter by name
// (`hp.int('units', {min: 8, max: 64})`); the first call registers it in the space, and every
// call returns the value assigned for this trial (or the default while the space is being
// discovered). Oracles read the space, never the hypermodel.
// see: KerasTuner's HyperParameters (keras_tuner/engine/hyperparameters), whose API this follows.

import type { Random } from '../util/random.js';

export type HPValue = number | string | boolean;
export type HPValues = Record<string, HPValue>;
export type Sampling = 'linear' | 'log';

/** Active only when the parent hyperparameter has one of `values`. */
export interface Condition {
  parent: string;
  values: HPValue[];
}

interface Common {
  name: string;
  conditions: Condition[];
}
export interface IntSpec extends Common {
  type: 'int';
  min: number;
  max: number;
  step: number;
  sampling: Sampling;
  default: number;
}
export interface FloatSpec extends Common {
  type: 'float';
  min: number;
  max: number;
  /** 0: continuous. */
  step: number;
  sampling: Sampling;
  default: number;
}
export interface ChoiceSpec extends Common {
  type: 'choice';
  values: HPValue[];
  default: HPValue;
}
export interface BooleanSpec extends Common {
  type: 'boolean';
  default: boolean;
}
export interface FixedSpec extends Common {
  type: 'fixed';
  default: HPValue;
}
export type HyperParameterSpec = IntSpec | FloatSpec | ChoiceSpec | BooleanSpec | FixedSpec;

export interface RangeOptions {
  min: number;
  max: number;
  step?: number;
  sampling?: Sampling;
  default?: number;
}

/** The JSON form of a space (and optionally of one trial's values). */
export interface HyperParametersJSON {
  space: HyperParameterSpec[];
  values: HPValues;
}

function fail(name: string, message: string): never {
  throw new Error(`kerasm.HyperParameters: '${name}' ${message}`);
}

/** The bounds and kind of a spec, without its conditions and default: what a redefinition must match. */
function identity(spec: HyperParameterSpec): string {
  const { name: _n, conditions: _c, default: _d, ...rest } = spec;
  void _n; void _c; void _d;
  return JSON.stringify(rest);
}

/**
 * A search space plus the values of one trial.
 * @example
 * ```ts
 * const build = (hp: HyperParameters) => {
 *   const units = hp.int('units', { min: 8, max: 64, step: 8 });
 *   const lr = hp.float('lr', { min: 1e-4, max: 1e-1, sampling: 'log' });
 *   const model = new Sequential([new Dense({ units, activation: 'relu', inputShape: [4] }), new Dense({ units: 1 })]);
 *   model.compile({ optimizer: new Adam({ learningRate: lr }), loss: 'mse' });
 *   return model;
 * };
 * ```
 */
export class HyperParameters {
  /** Every registered hyperparameter, parents before the parameters they condition. */
  readonly space: HyperParameterSpec[] = [];
  /** This trial's values of the active hyperparameters. */
  values: HPValues = {};
  private readonly scopes: Condition[] = [];

  constructor(values: HPValues = {}) {
    this.values = { ...values };
  }

  /** An integer in [min, max], a multiple of `step` from min. */
  int(name: string, options: RangeOptions): number {
    const { min, max } = options;
    const step = options.step ?? 1;
    const sampling = options.sampling ?? 'linear';
    if (!Number.isInteger(min) || !Number.isInteger(max)) fail(name, `expected integer min and max, got ${min} and ${max}`);
    if (!Number.isInteger(step) || step < 1) fail(name, `expected a positive integer step, got ${step}`);
    checkRange(name, min, max, sampling);
    const dflt = options.default ?? min;
    if (!Number.isInteger(dflt) || dflt < min || dflt > max) fail(name, `expected an integer default in [${min}, ${max}], got ${dflt}`);
    return this.register({ type: 'int', name, min, max, step, sampling, default: dflt, conditions: [] }) as number;
  }

  /** A float in [min, max]; with `step`, a multiple of it from min. */
  float(name: string, options: RangeOptions): number {
    const { min, max } = options;
    const step = options.step ?? 0;
    const sampling = options.sampling ?? 'linear';
    if (!Number.isFinite(min) || !Number.isFinite(max)) fail(name, `expected finite min and max, got ${min} and ${max}`);
    if (!(step >= 0)) fail(name, `expected a step >= 0, got ${step}`);
    checkRange(name, min, max, sampling);
    const dflt = options.default ?? min;
    if (!(dflt >= min && dflt <= max)) fail(name, `expected a default in [${min}, ${max}], got ${dflt}`);
    return this.register({ type: 'float', name, min, max, step, sampling, default: dflt, conditions: [] }) as number;
  }

  /** One of `values` (all numbers, all strings or all booleans). */
  choice<T extends HPValue>(name: string, values: readonly T[], options: { default?: T } = {}): T {
    if (!Array.isArray(values) || values.length === 0) fail(name, 'expected a non-empty list of choices');
    const kinds = new Set(values.map((v) => typeof v));
    if (kinds.size !== 1 || ![...kinds].every((k) => k === 'number' || k === 'string' || k === 'boolean')) {
      fail(name, `expected choices all of one type (number, string or boolean), got ${JSON.stringify(values)}`);
    }
    if (new Set(values).size !== values.length) fail(name, `expected distinct choices, got ${JSON.stringify(values)}`);
    const dflt = options.default ?? values[0];
    if (!values.includes(dflt)) fail(name, `expected a default among ${JSON.stringify(values)}, got ${JSON.stringify(dflt)}`);
    return this.register({ type: 'choice', name, values: [...values], default: dflt, conditions: [] }) as T;
  }

  boolean(name: string, options: { default?: boolean } = {}): boolean {
    return this.register({ type: 'boolean', name, default: options.default ?? false, conditions: [] }) as boolean;
  }

  /** A constant, recorded with the trial so results show it. */
  fixed<T extends HPValue>(name: string, value: T): T {
    return this.register({ type: 'fixed', name, default: value, conditions: [] }) as T;
  }

  /**
   * Hyperparameters registered inside `body` are active only when `parent` has one of
   * `parentValues`; inactive ones return their default and are left out of `values`.
   * @example
   * ```ts
   * const kind = hp.choice('optimizer', ['sgd', 'adam']);
   * hp.conditionalScope('optimizer', ['sgd'], () => hp.float('momentum', { min: 0, max: 0.9 }));
   * ```
   */
  conditionalScope<T>(parent: string, parentValues: HPValue | HPValue[], body: () => T): T {
    const spec = this.get(parent);
    if (!spec) fail(parent, `is used as a condition but was never defined; define it before the conditional scope`);
    const values = Array.isArray(parentValues) ? parentValues : [parentValues];
    if (values.length === 0) fail(parent, 'expected at least one parent value for the conditional scope');
    this.scopes.push({ parent, values });
    try {
      return body();
    } finally {
      this.scopes.pop();
    }
  }

  get(name: string): HyperParameterSpec | undefined {
    return this.space.find((s) => s.name === name);
  }

  /** Whether `spec`'s conditions hold for `values` (default: this trial's values). */
  isActive(spec: HyperParameterSpec, values: HPValues = this.values): boolean {
    return spec.conditions.every((c) => c.parent in values && c.values.includes(values[c.parent]));
  }

  /** Adds `spec` to the space (or checks it against an earlier definition) and returns its value. */
  private register(spec: HyperParameterSpec): HPValue {
    spec.conditions = this.scopes.map((c) => ({ parent: c.parent, values: [...c.values] }));
    const known = this.get(spec.name);
    if (known) {
      if (known.type !== spec.type) fail(spec.name, `was defined as ${known.type} and is now redefined as ${spec.type}`);
      if (identity(known) !== identity(spec)) {
        fail(spec.name, `was defined as ${identity(known)} and is now redefined with other bounds: ${identity(spec)}`);
      }
    } else {
      this.space.push(spec);
    }
    const active = this.isActive(known ?? spec);
    if (!active) return spec.default;
    if (!(spec.name in this.values) || spec.type === 'fixed') this.values[spec.name] = spec.default;
    return this.values[spec.name];
  }

  /** Adds the specs of `other` not yet in this space (used to grow an oracle's space). */
  merge(other: HyperParameters | readonly HyperParameterSpec[]): void {
    const specs = other instanceof HyperParameters ? other.space : other;
    for (const spec of specs) {
      const known = this.get(spec.name);
      if (!known) this.space.push(structuredClone(spec));
      else if (identity(known) !== identity(spec)) fail(spec.name, `has two definitions: ${identity(known)} and ${identity(spec)}`);
    }
  }

  /** A copy of the space with these values assigned (for one trial's build). */
  withValues(values: HPValues): HyperParameters {
    const hp = new HyperParameters(values);
    hp.merge(this);
    return hp;
  }

  toJSON(): HyperParametersJSON {
    return { space: structuredClone(this.space), values: { ...this.values } };
  }

  static fromJSON(json: HyperParametersJSON): HyperParameters {
    const hp = new HyperParameters(json.values ?? {});
    hp.merge(json.space ?? []);
    return hp;
  }

  /** One line per hyperparameter: name, kind, range or choices, default, condition. */
  searchSpaceSummary(): string {
    const lines = [`Search space summary`, `Default search space size: ${this.space.length}`];
    for (const s of this.space) {
      const when = s.conditions.map((c) => ` (when ${c.parent} in ${JSON.stringify(c.values)})`).join('');
      let what: string;
      if (s.type === 'int' || s.type === 'float') {
        what = `min ${s.min}, max ${s.max}${s.step ? `, step ${s.step}` : ''}, sampling ${s.sampling}`;
      } else if (s.type === 'choice') {
        what = `values ${JSON.stringify(s.values)}`;
      } else {
        what = s.type === 'fixed' ? `value ${JSON.stringify(s.default)}` : 'true or false';
      }
      lines.push(`${s.name} (${s.type}): ${what}, default ${JSON.stringify(s.default)}${when}`);
    }
    return lines.join('\n');
  }
}

function checkRange(name: string, min: number, max: number, sampling: Sampling): void {
  if (min > max) fail(name, `expected min <= max, got min ${min} > max ${max}`);
  if (sampling !== 'linear' && sampling !== 'log') fail(name, `expected sampling 'linear' or 'log', got '${String(sampling)}'`);
  if (sampling === 'log' && min <= 0) fail(name, `expected min > 0 for log sampling, got ${min}`);
}

// ---- Sampling and the [0, 1] encoding shared by the oracles --------------------------------

/** Maps a value of a numeric spec to [0, 1] (log scale for log sampling). */
export function toUnit(spec: IntSpec | FloatSpec, value: number): number {
  if (spec.max === spec.min) return 0.5;
  if (spec.sampling === 'log') return Math.log(value / spec.min) / Math.log(spec.max / spec.min);
  return (value - spec.min) / (spec.max - spec.min);
}

/** The inverse of toUnit, snapped to the spec's step and clamped to its bounds. */
export function fromUnit(spec: IntSpec | FloatSpec, u: number): number {
  const t = Math.min(1, Math.max(0, u));
  let value = spec.sampling === 'log' ? spec.min * Math.pow(spec.max / spec.min, t) : spec.min + t * (spec.max - spec.min);
  if (spec.step > 0) value = spec.min + Math.round((value - spec.min) / spec.step) * spec.step;
  else if (spec.type === 'int') value = Math.round(value);
  value = Math.min(spec.max, Math.max(spec.min, value));
  // A step may not divide the range: the largest multiple inside it.
  if (spec.step > 0 && value > spec.max) value -= spec.step;
  return spec.type === 'int' ? Math.round(value) : value;
}

const numericOrders = new WeakMap<readonly HPValue[], readonly number[] | null>();

/**
 * A choice's values in increasing order when they are all numbers (which have an order, so 32 is
 * nearer to 64 than to 512), or null for other choices.
 */
export function numericOrder(values: readonly HPValue[]): readonly number[] | null {
  // Cached by the values array, which a spec never changes: the Gaussian process asks for it
  // for every candidate it encodes.
  let order = numericOrders.get(values);
  if (order === undefined) {
    order = values.every((v) => typeof v === 'number') ? Object.freeze([...(values as number[])].sort((a, b) => a - b)) : null;
    numericOrders.set(values, order);
  }
  return order;
}

/** A random value of one spec. */
export function sampleValue(spec: HyperParameterSpec, rng: Random): HPValue {
  switch (spec.type) {
    case 'int':
    case 'float':
      return fromUnit(spec, rng.uniform());
    case 'choice':
      return spec.values[rng.int(spec.values.length)];
    case 'boolean':
      return rng.uniform() < 0.5;
    case 'fixed':
      return spec.default;
  }
}

/** Values of the active hyperparameters, each drawn by `pick` in space order (parents first). */
export function assignActive(space: readonly HyperParameterSpec[], pick: (spec: HyperParameterSpec, index: number) => HPValue): HPValues {
  const values: HPValues = {};
  const probe = new HyperParameters();
  space.forEach((spec, i) => {
    if (probe.isActive(spec, values)) values[spec.name] = pick(spec, i);
  });
  return values;
}

/** The points a grid search visits for one spec (floats without a step: `floatPoints` of them). */
export function gridValues(spec: HyperParameterSpec, floatPoints = 5): HPValue[] {
  switch (spec.type) {
    case 'int':
    case 'float': {
      if (spec.step > 0 && spec.sampling === 'linear') {
        const count = Math.floor((spec.max - spec.min) / spec.step + 1e-9) + 1;
        return Array.from({ length: count }, (_, i) => (spec.type === 'int' ? spec.min + i * spec.step : spec.min + i * spec.step));
      }
      if (spec.type === 'int' && spec.sampling === 'linear') {
        return Array.from({ length: spec.max - spec.min + 1 }, (_, i) => spec.min + i);
      }
      const n = spec.max === spec.min ? 1 : floatPoints;
      return [...new Set(Array.from({ length: n }, (_, i) => fromUnit(spec, n === 1 ? 0 : i / (n - 1))))];
    }
    case 'choice':
      return [...spec.values];
    case 'boolean':
      return [false, true];
    case 'fixed':
      return [spec.default];
  }
}

/** A stable key of a values object, to recognise a combination already tried. */
export function valuesKey(values: HPValues): string {
  return JSON.stringify(Object.keys(values).sort().map((k) => [k, values[k]]));
}
