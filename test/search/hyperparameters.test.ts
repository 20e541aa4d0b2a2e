// The search space: registration, defaults, assigned values, conditions, validation errors
// that name the parameter, and the JSON form.

import { describe, expect, it } from 'vitest';
import { HyperParameters } from '../../src/search/index.js';
import { fromUnit, gridValues, toUnit, type FloatSpec, type IntSpec } from '../../src/search/hyperparameters.js';

describe('HyperParameters', () => {
  it('returns defaults while discovering the space, and assigned values afterwards', () => {
    const hp = new HyperParameters();
    expect(hp.int('units', { min: 8, max: 64, step: 8 })).toBe(8);
    expect(hp.float('lr', { min: 1e-4, max: 1e-1, sampling: 'log', default: 1e-3 })).toBe(1e-3);
    expect(hp.choice('act', ['relu', 'tanh'])).toBe('relu');
    expect(hp.boolean('bn')).toBe(false);
    expect(hp.fixed('epochs', 3)).toBe(3);
    expect(hp.values).toEqual({ units: 8, lr: 1e-3, act: 'relu', bn: false, epochs: 3 });
    expect(hp.space.map((s) => `${s.name}:${s.type}`)).toEqual(['units:int', 'lr:float', 'act:choice', 'bn:boolean', 'epochs:fixed']);

    const trial = hp.withValues({ units: 32, lr: 0.01, act: 'tanh', bn: true });
    expect(trial.int('units', { min: 8, max: 64, step: 8 })).toBe(32);
    expect(trial.choice('act', ['relu', 'tanh'])).toBe('tanh');
    expect(trial.fixed('epochs', 3)).toBe(3);
    expect(trial.values.epochs).toBe(3);
  });

  it('makes a parameter active only when its parent has one of the given values', () => {
    const build = (hp: HyperParameters) => {
      const opt = hp.choice('optimizer', ['adam', 'sgd']);
      const momentum = hp.conditionalScope('optimizer', ['sgd'], () => hp.float('momentum', { min: 0, max: 0.9, default: 0.5 }));
      return { opt, momentum };
    };
    const discovery = new HyperParameters();
    expect(build(discovery)).toEqual({ opt: 'adam', momentum: 0.5 });
    expect(discovery.values).toEqual({ optimizer: 'adam' }); // momentum inactive: not a value of this trial
    const momentum = discovery.get('momentum')!;
    expect(momentum.conditions).toEqual([{ parent: 'optimizer', values: ['sgd'] }]);
    expect(discovery.isActive(momentum, { optimizer: 'adam' })).toBe(false);
    expect(discovery.isActive(momentum, { optimizer: 'sgd' })).toBe(true);

    const sgd = discovery.withValues({ optimizer: 'sgd', momentum: 0.8 });
    expect(build(sgd)).toEqual({ opt: 'sgd', momentum: 0.8 });
    expect(sgd.values).toEqual({ optimizer: 'sgd', momentum: 0.8 });
  });

  it.each([
    ['min > max', (hp: HyperParameters) => hp.int('units', { min: 9, max: 3 }), /'units' expected min <= max, got min 9 > max 3/],
    ['float min > max', (hp: HyperParameters) => hp.float('lr', { min: 1, max: 0.5 }), /'lr' expected min <= max/],
    ['empty choice', (hp: HyperParameters) => hp.choice('act', []), /'act' expected a non-empty list of choices/],
    ['mixed choice', (hp: HyperParameters) => hp.choice('act', ['a', 1] as (string | number)[]), /'act' expected choices all of one type/],
    ['log with min <= 0', (hp: HyperParameters) => hp.float('lr', { min: 0, max: 1, sampling: 'log' }), /'lr' expected min > 0 for log sampling, got 0/],
    ['non-integer int bounds', (hp: HyperParameters) => hp.int('units', { min: 1.5, max: 3 }), /'units' expected integer min and max/],
    ['default outside range', (hp: HyperParameters) => hp.int('units', { min: 1, max: 3, default: 7 }), /'units' expected an integer default in \[1, 3\], got 7/],
    ['unknown parent', (hp: HyperParameters) => hp.conditionalScope('kind', ['a'], () => hp.int('n', { min: 1, max: 2 })), /'kind' is used as a condition but was never defined/],
    ['reuse with another type', (hp: HyperParameters) => { hp.int('units', { min: 1, max: 4 }); hp.float('units', { min: 1, max: 4 }); }, /'units' was defined as int and is now redefined as float/],
    ['reuse with other bounds', (hp: HyperParameters) => { hp.int('units', { min: 1, max: 4 }); hp.int('units', { min: 1, max: 8 }); }, /'units' was defined as .* and is now redefined with other bounds/],
  ])('rejects %s with an error naming the parameter', (_, define, message) => {
    expect(() => define(new HyperParameters())).toThrow(message);
  });

  it('accepts the same definition twice and keeps one entry', () => {
    const hp = new HyperParameters();
    hp.int('units', { min: 1, max: 4 });
    hp.int('units', { min: 1, max: 4 });
    expect(hp.space).toHaveLength(1);
  });

  it('round-trips through JSON and prints a summary', () => {
    const hp = new HyperParameters();
    hp.int('units', { min: 8, max: 64, step: 8 });
    hp.choice('opt', ['adam', 'sgd']);
    hp.conditionalScope('opt', 'sgd', () => hp.float('momentum', { min: 0, max: 0.9 }));
    const copy = HyperParameters.fromJSON(JSON.parse(JSON.stringify(hp)));
    expect(copy.space).toEqual(hp.space);
    expect(copy.values).toEqual(hp.values);
    const text = copy.searchSpaceSummary();
    expect(text).toContain('units (int): min 8, max 64, step 8, sampling linear, default 8');
    expect(text).toContain('momentum (float): min 0, max 0.9, sampling linear, default 0 (when opt in ["sgd"])');
  });

  it('encodes ranges in [0, 1] and decodes to the step, the bounds and the log scale', () => {
    const units: IntSpec = { type: 'int', name: 'u', min: 8, max: 64, step: 8, sampling: 'linear', default: 8, conditions: [] };
    for (const v of [8, 16, 40, 64]) expect(fromUnit(units, toUnit(units, v))).toBe(v);
    expect(fromUnit(units, 0.51)).toBe(40);
    const odd: IntSpec = { ...units, min: 1, max: 10, step: 4 }; // 1, 5, 9: 10 is not on the grid
    expect(fromUnit(odd, 1)).toBe(9);
    expect(gridValues(odd)).toEqual([1, 5, 9]);
    const lr: FloatSpec = { type: 'float', name: 'lr', min: 1e-4, max: 1, step: 0, sampling: 'log', default: 1e-4, conditions: [] };
    expect(fromUnit(lr, 0.5)).toBeCloseTo(1e-2, 12);
    expect(toUnit(lr, 1e-3)).toBeCloseTo(0.25, 12);
    expect(gridValues(lr, 3).map((v) => Number((v as number).toPrecision(6)))).toEqual([1e-4, 1e-2, 1]);
  });
});
