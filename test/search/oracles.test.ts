// Oracles on cheap synthetic objectives (functions of the hyperparameters, no training):
// seeded determinism, grid exhaustion, Bayesian optimization against random search, and
// Hyperband's brackets and promotions.

import { describe, expect, it } from 'vitest';
import {
  ASHA, BayesianOptimization, RegularizedEvolution, GridSearch, HyperParameters, Hyperband, RandomSearch,
  type HPValues, type Oracle, type Trial,
} from '../../src/search/index.js';
import { withSpace } from './helpers.js';

/** Runs an oracle for n trials on `score`; returns the trials. */
function run(oracle: Oracle, n: number, score: (values: HPValues, epochs?: number) => number): Trial[] {
  const trials: Trial[] = [];
  for (let i = 0; i < n; i++) {
    const trialId = String(i).padStart(4, '0');
    const request = oracle.populateSpace(trialId);
    if (typeof request === 'string') break; // 'exhausted' (nothing runs concurrently here, so never 'wait')
    const value = score(request.values, request.epochs);
    const trial: Trial = {
      trialId, hyperparameters: request.values, metrics: { score: value }, status: 'completed', score: value, bestStep: 0,
      epochs: request.epochs, initialEpoch: request.initialEpoch, resumedFrom: request.resumedFrom,
    };
    oracle.update(trial);
    trials.push(trial);
  }
  return trials;
}

const mixedSpace = (hp: HyperParameters) => {
  hp.int('units', { min: 4, max: 64, step: 4 });
  hp.float('lr', { min: 1e-4, max: 1e-1, sampling: 'log' });
  hp.choice('optimizer', ['adam', 'sgd']);
  hp.conditionalScope('optimizer', ['sgd'], () => hp.float('momentum', { min: 0, max: 0.9 }));
};

describe('RandomSearch', () => {
  it('gives the same sequence for the same seed and another for another seed', () => {
    const values = (seed: number) => run(withSpace(new RandomSearch({ seed }), mixedSpace), 8, () => 0).map((t) => t.hyperparameters);
    expect(values(1)).toEqual(values(1));
    expect(values(1)).not.toEqual(values(2));
  });

  it('gives unrelated streams for nearby seeds and trial ids', () => {
    const values = (seed: number) => run(withSpace(new RandomSearch({ seed }), (hp) => hp.float('x', { min: 0, max: 1 })), 4, () => 0).map((t) => t.hyperparameters.x);
    const all = [1, 2, 3, 4].flatMap(values);
    expect(new Set(all).size).toBe(all.length);
  });

  it('samples inside the bounds and sets conditional values only when their parent matches', () => {
    const trials = run(withSpace(new RandomSearch({ seed: 3 }), mixedSpace), 60, () => 0);
    expect(trials).toHaveLength(60);
    for (const { hyperparameters: v } of trials) {
      expect((v.units as number) % 4).toBe(0);
      expect(v.units).toBeGreaterThanOrEqual(4);
      expect(v.units).toBeLessThanOrEqual(64);
      expect(v.lr).toBeGreaterThanOrEqual(1e-4);
      expect(v.lr).toBeLessThanOrEqual(1e-1);
      expect('momentum' in v).toBe(v.optimizer === 'sgd');
    }
    expect(new Set(trials.map((t) => t.hyperparameters.optimizer))).toEqual(new Set(['adam', 'sgd']));
  });

  it('reports exhausted when every value has been tried', () => {
    const oracle = withSpace(new RandomSearch({ seed: 1, maxCollisions: 200 }), (hp) => hp.choice('x', [1, 2, 3]));
    const trials = run(oracle, 10, () => 0);
    expect(trials.map((t) => t.hyperparameters.x).sort()).toEqual([1, 2, 3]);
  });
});

describe('GridSearch', () => {
  it('enumerates every combination once, then reports exhausted', () => {
    const oracle = withSpace(new GridSearch(), (hp) => {
      hp.int('units', { min: 1, max: 3 });
      hp.choice('act', ['relu', 'tanh']);
      hp.boolean('bias');
    });
    const trials = run(oracle, 100, () => 0);
    expect(trials).toHaveLength(12);
    expect(new Set(trials.map((t) => JSON.stringify(t.hyperparameters))).size).toBe(12);
    expect(trials[0].hyperparameters).toEqual({ units: 1, act: 'relu', bias: false });
    expect(oracle.populateSpace('0100')).toBe('exhausted');
  });

  it('enumerates conditional parameters only under their parent value, and floats by step or points', () => {
    const oracle = withSpace(new GridSearch({ floatPoints: 3 }), (hp) => {
      hp.choice('optimizer', ['adam', 'sgd']);
      hp.conditionalScope('optimizer', 'sgd', () => hp.float('momentum', { min: 0, max: 0.8, step: 0.4 }));
      hp.float('dropout', { min: 0, max: 0.5 });
    });
    const trials = run(oracle, 100, () => 0).map((t) => t.hyperparameters);
    expect(trials).toHaveLength((1 + 3) * 3); // adam, or sgd with 3 momenta; times 3 dropouts
    expect(trials.filter((v) => v.optimizer === 'adam').every((v) => !('momentum' in v))).toBe(true);
    expect(new Set(trials.map((v) => v.dropout))).toEqual(new Set([0, 0.25, 0.5]));
  });
});

describe('BayesianOptimization', () => {
  // A smooth bowl with its optimum away from the centre and the corners; lower is better.
  const bowl = (v: HPValues) => ((v.x as number) - 0.73) ** 2 + ((v.y as number) - 0.21) ** 2 + (v.kind === 'b' ? 0 : 0.05);
  const space = (hp: HyperParameters) => {
    hp.float('x', { min: 0, max: 1 });
    hp.float('y', { min: 0, max: 1 });
    hp.choice('kind', ['a', 'b', 'c']);
  };
  const bestOf = (oracle: Oracle) => Math.min(...run(withSpace(oracle, space), 25, bowl).map((t) => t.score!));

  it('finds a better point than random search in the same number of trials, over several seeds', () => {
    const seeds = [1, 2, 3, 4, 5];
    const bayes = seeds.map((seed) => bestOf(new BayesianOptimization({ seed, numInitialPoints: 6, candidates: 200 })));
    const random = seeds.map((seed) => bestOf(new RandomSearch({ seed })));
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(bayes)).toBeLessThan(mean(random) / 3);
    expect(bayes.filter((b, i) => b < random[i]).length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...bayes)).toBeLessThan(0.01);
  });

  it('by default starts from one random trial per hyperparameter (3 to 10), then follows the GP', () => {
    // A choice of 5 values is one hyperparameter, not 5 dimensions.
    const wide = (count: number) => (hp: HyperParameters) => {
      for (let i = 0; i < count; i++) hp.choice(`c${i}`, [1, 2, 3, 4, 5]);
    };
    for (const [count, initial] of [[3, 3], [6, 6], [14, 10]]) {
      const score = (v: HPValues) => Object.values(v).reduce((a: number, b) => a + (b as number), 0);
      const bayes = run(withSpace(new BayesianOptimization({ seed: 4, candidates: 100 }), wide(count)), initial + 1, score);
      const random = run(withSpace(new RandomSearch({ seed: 4 }), wide(count)), initial + 1, score);
      const values = (trials: Trial[]) => trials.map((t) => t.hyperparameters);
      expect(values(bayes).slice(0, initial), `${count} hyperparameters`).toEqual(values(random).slice(0, initial));
      expect(values(bayes)[initial], `${count} hyperparameters`).not.toEqual(values(random)[initial]);
    }
  });

  it("acquisition 'ucb' finds the bowl's optimum too, and its beta trades exploitation for exploration", () => {
    const seeds = [1, 2, 3, 4, 5];
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    const ucb = seeds.map((seed) => bestOf(new BayesianOptimization({ seed, numInitialPoints: 6, candidates: 200, acquisition: 'ucb' })));
    const random = seeds.map((seed) => bestOf(new RandomSearch({ seed })));
    expect(mean(ucb)).toBeLessThan(mean(random) / 3);
    // After the same 6 initial points, beta 0 proposes where the mean is highest (near the best so
    // far) and a large beta where the model knows least (far from every point tried).
    const proposals = (beta: number) => seeds.flatMap((seed) =>
      run(withSpace(new BayesianOptimization({ seed, numInitialPoints: 6, candidates: 200, acquisition: 'ucb', beta }), space), 12, bowl).slice(6));
    const nearestTried = (trials: Trial[]) => mean(trials.map((t, i) => {
      const earlier = trials.slice(0, i).length ? trials.slice(0, i) : trials.slice(i + 1);
      return Math.min(...earlier.map((e) => Math.hypot((e.hyperparameters.x as number) - (t.hyperparameters.x as number), (e.hyperparameters.y as number) - (t.hyperparameters.y as number))));
    }));
    expect(mean(proposals(0).map((t) => t.score!))).toBeLessThan(mean(proposals(100).map((t) => t.score!)));
    expect(nearestTried(proposals(100))).toBeGreaterThan(nearestTried(proposals(0)));
    expect(() => new BayesianOptimization({ acquisition: 'pi' as 'ei' })).toThrow(/expected acquisition 'ei' or 'ucb', got "pi"/);
    expect(() => new BayesianOptimization({ acquisition: 'ucb', beta: -1 })).toThrow(/expected beta a finite number >= 0, got -1/);
    expect(() => new BayesianOptimization({ beta: 2 })).toThrow(/beta applies to acquisition 'ucb', got acquisition 'ei'/);
  });

  it("initialDesign 'latin-hypercube' puts each hyperparameter's initial values in distinct strata", () => {
    const n = 8;
    const trials = run(withSpace(new BayesianOptimization({ seed: 3, numInitialPoints: n, initialDesign: 'latin-hypercube' }), (hp) => {
      hp.float('x', { min: 0, max: 1 });
      hp.float('lr', { min: 1e-5, max: 1e-1, sampling: 'log' });
      hp.choice('units', [8, 16, 32, 64, 128, 256, 512, 1024]);
    }), n, () => 0);
    const strata = (f: (v: HPValues) => number) => new Set(trials.map((t) => Math.floor(f(t.hyperparameters) * n))).size;
    expect(strata((v) => v.x as number)).toBe(n);
    expect(strata((v) => (Math.log10(v.lr as number) + 5) / 4)).toBe(n);
    expect(new Set(trials.map((t) => t.hyperparameters.units)).size).toBe(n);
    // The random design repeats strata (8 draws in 8 strata nearly always do).
    const random = run(withSpace(new BayesianOptimization({ seed: 3, numInitialPoints: n }), (hp) => hp.float('x', { min: 0, max: 1 })), n, () => 0);
    expect(new Set(random.map((t) => Math.floor((t.hyperparameters.x as number) * n))).size).toBeLessThan(n);
    expect(() => new BayesianOptimization({ initialDesign: 'sobol' as 'random' })).toThrow(/expected initialDesign 'random' or 'latin-hypercube', got "sobol"/);
  });

  it("initialDesign 'latin-hypercube' leaves the first trial's strata to it when the space is found while building", () => {
    // As in a Tuner whose hypermodel registers its hyperparameters while building: the first
    // trial is proposed in an empty space and runs with the defaults.
    const n = 6;
    const define = (hp: HyperParameters) => {
      hp.float('x', { min: 0, max: 1, default: 0.9 });
      hp.float('lr', { min: 1e-5, max: 1e-1, sampling: 'log', default: 1e-3 });
      hp.choice('units', [8, 16, 32, 64, 128, 256], { default: 8 });
    };
    for (const seed of [1, 2, 3, 4, 5]) {
      const oracle = new BayesianOptimization({ seed, numInitialPoints: n, initialDesign: 'latin-hypercube' });
      const first = oracle.populateSpace('0000');
      expect(first).toEqual({ values: {} });
      const defaults = new HyperParameters();
      define(defaults);
      oracle.update({ trialId: '0000', hyperparameters: defaults.values, metrics: { score: 0 }, status: 'completed', score: 0, bestStep: 0 });
      withSpace(oracle, define);
      const all = [defaults.values];
      for (let i = 1; i < n; i++) {
        const trialId = String(i).padStart(4, '0');
        const { values } = oracle.populateSpace(trialId) as { values: HPValues };
        oracle.update({ trialId, hyperparameters: values, metrics: { score: 0 }, status: 'completed', score: 0, bestStep: 0 });
        all.push(values);
      }
      const strata = (f: (v: HPValues) => number) => new Set(all.map((v) => Math.min(n - 1, Math.floor(f(v) * n)))).size;
      expect(strata((v) => v.x as number)).toBe(n);
      expect(strata((v) => (Math.log10(v.lr as number) + 5) / 4)).toBe(n);
      expect(new Set(all.map((v) => v.units)).size).toBe(n);
    }
  });

  it('is deterministic for a seed, and maximises when asked', () => {
    const seq = () => run(withSpace(new BayesianOptimization({ seed: 9, numInitialPoints: 4, candidates: 200 }), space), 10, bowl).map((t) => t.hyperparameters);
    expect(seq()).toEqual(seq());
    const oracle = withSpace(new BayesianOptimization({ seed: 9, numInitialPoints: 4, candidates: 200 }), space, true);
    const trials = run(oracle, 20, (v) => -bowl(v));
    expect(Math.max(...trials.map((t) => t.score!))).toBeGreaterThan(-0.02);
  });
});

describe('Hyperband', () => {
  // Quality of a configuration, revealed more fully with more epochs.
  const quality = (v: HPValues) => 1 - Math.abs((v.x as number) - 0.6);
  const score = (v: HPValues, epochs = 1) => quality(v) * (1 - 0.5 / epochs);

  it('runs its brackets with the right sizes and epochs, promoting the best of each round', () => {
    const oracle = withSpace(new Hyperband({ maxEpochs: 9, factor: 3, seed: 4 }), (hp) => hp.float('x', { min: 0, max: 1 }), true);
    const trials = run(oracle, 100, score);
    // Brackets: 9 configurations x 1 epoch, 3 x 3, 1 x 9; then 5 x 3, 2 x 9; then 3 x 9.
    const shape = trials.map((t) => `${t.initialEpoch}-${t.epochs}`);
    expect(shape).toEqual([
      ...Array(9).fill('0-1'), ...Array(3).fill('1-3'), '3-9',
      ...Array(5).fill('0-3'), ...Array(2).fill('3-9'),
      ...Array(3).fill('0-9'),
    ]);
    expect(oracle.populateSpace('0100')).toBe('exhausted');
    const firstRound = trials.slice(0, 9);
    const promoted = trials.slice(9, 12);
    const top3 = [...firstRound].sort((a, b) => b.score! - a.score!).slice(0, 3).map((t) => t.trialId);
    expect(promoted.map((t) => t.resumedFrom)).toEqual(top3);
    promoted.forEach((t) => expect(t.hyperparameters).toEqual(trials.find((u) => u.trialId === t.resumedFrom)!.hyperparameters));
    const best = [...promoted].sort((a, b) => b.score! - a.score!)[0];
    expect(trials[12].resumedFrom).toBe(best.trialId);
  });

  it('resumes from its saved state exactly where it stopped', () => {
    const define = (hp: HyperParameters) => hp.float('x', { min: 0, max: 1 });
    const whole = run(withSpace(new Hyperband({ maxEpochs: 9, seed: 2 }), define, true), 100, score);
    const first = withSpace(new Hyperband({ maxEpochs: 9, seed: 2 }), define, true);
    const part = run(first, 10, score);
    const second = withSpace(new Hyperband({ maxEpochs: 9, seed: 2 }), define, true);
    part.forEach((t) => second.update(t));
    second.setState(JSON.parse(JSON.stringify(first.getState())));
    const rest: Trial[] = [];
    for (let i = 10; ; i++) {
      const request = second.populateSpace(String(i).padStart(4, '0'));
      if (typeof request === 'string') break; // 'exhausted' (nothing runs concurrently here, so never 'wait')
      const value = score(request.values, request.epochs);
      const trial: Trial = { trialId: String(i).padStart(4, '0'), hyperparameters: request.values, metrics: {}, status: 'completed', score: value, bestStep: 0, resumedFrom: request.resumedFrom };
      second.update(trial);
      rest.push(trial);
    }
    expect([...part, ...rest].map((t) => [t.hyperparameters, t.resumedFrom])).toEqual(whole.map((t) => [t.hyperparameters, t.resumedFrom]));
  });

  it('rejects a bad maxEpochs or factor', () => {
    expect(() => new Hyperband({ maxEpochs: 0 })).toThrow(/expected maxEpochs to be a positive integer, got 0/);
    expect(() => new Hyperband({ maxEpochs: 9, factor: 1 })).toThrow(/expected factor >= 2, got 1/);
  });
});

describe('RegularizedEvolution', () => {
  const space = (hp: HyperParameters) => {
    hp.int('a', { min: 0, max: 20 });
    hp.int('b', { min: 0, max: 20 });
    hp.choice('kind', ['x', 'y']);
    hp.conditionalScope('kind', 'y', () => hp.int('c', { min: 0, max: 5 }));
  };
  const score = (v: HPValues) => Math.abs((v.a as number) - 13) + Math.abs((v.b as number) - 4) + (v.kind === 'y' ? 0 : 3);

  it('fills the population at random, then changes exactly one hyperparameter of a tournament winner', () => {
    const oracle = withSpace(new RegularizedEvolution({ seed: 2, populationSize: 6, sampleSize: 3 }), space);
    const trials = run(oracle, 40, score);
    for (const child of trials.slice(6)) {
      // Some member of the trials before it is its parent: one value differs (plus c, which follows kind).
      const before = trials.slice(0, trials.indexOf(child));
      const changed = (p: Trial) => ['a', 'b', 'kind'].filter((k) => p.hyperparameters[k] !== child.hyperparameters[k]).length +
        (p.hyperparameters.kind === child.hyperparameters.kind && p.hyperparameters.c !== child.hyperparameters.c ? 1 : 0);
      expect(before.some((p) => changed(p) === 1)).toBe(true);
      expect('c' in child.hyperparameters).toBe(child.hyperparameters.kind === 'y');
    }
    const again = run(withSpace(new RegularizedEvolution({ seed: 2, populationSize: 6, sampleSize: 3 }), space), 40, score);
    expect(again.map((t) => t.hyperparameters)).toEqual(trials.map((t) => t.hyperparameters));
  });

  it('improves on its random population (in most seeds: 24 trials are few)', () => {
    const improved = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].filter((seed) => {
      const trials = run(withSpace(new RegularizedEvolution({ seed, populationSize: 6, sampleSize: 3 }), space), 40, score);
      return Math.min(...trials.map((t) => t.score!)) < Math.min(...trials.slice(0, 6).map((t) => t.score!));
    });
    expect(improved.length).toBeGreaterThanOrEqual(8);
  });

  it("searcher 'bayesian' proposes one-change children too, and finds better ones than 'random'", () => {
    const make = (seed: number, searcher: 'random' | 'bayesian') =>
      withSpace(new RegularizedEvolution({ seed, populationSize: 6, sampleSize: 3, searcher }), space);
    const trials = run(make(1, 'bayesian'), 24, score);
    for (const child of trials.slice(6)) {
      const before = trials.slice(0, trials.indexOf(child));
      const changed = (p: Trial) => ['a', 'b', 'kind'].filter((k) => p.hyperparameters[k] !== child.hyperparameters[k]).length +
        (p.hyperparameters.kind === child.hyperparameters.kind && p.hyperparameters.c !== child.hyperparameters.c ? 1 : 0);
      expect(before.some((p) => changed(p) === 1)).toBe(true);
    }
    const best = (searcher: 'random' | 'bayesian') =>
      [1, 2, 3, 4, 5, 6, 7, 8].map((seed) => Math.min(...run(make(seed, searcher), 16, score).map((t) => t.score!)));
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    expect(mean(best('bayesian'))).toBeLessThan(mean(best('random')));
  });

  it("mutation 'local' moves a number a short way and a choice of numbers to a neighbouring value", () => {
    const local = (hp: HyperParameters) => {
      hp.float('x', { min: 0, max: 1 });
      hp.float('lr', { min: 1e-5, max: 1, sampling: 'log' });
      hp.choice('units', [8, 32, 128, 512]);
    };
    const steps = (mutation: 'resample' | 'local') => {
      const trials = run(withSpace(new RegularizedEvolution({ seed: 5, populationSize: 6, sampleSize: 3, mutation }), local), 80, () => 0);
      const moves = { x: [] as number[], lr: [] as number[], units: [] as number[] };
      for (const [i, child] of trials.entries()) {
        if (i < 6) continue;
        // Its parent is among the earlier trials that differ from it in one value; an ancestor or a
        // sibling may too, so the smallest such move is taken (the parent's is at least as large).
        const keys = ['x', 'lr', 'units'] as const;
        const kin = trials.slice(0, i).filter((p) => keys.filter((k) => p.hyperparameters[k] !== child.hyperparameters[k]).length === 1);
        expect(kin.length).toBeGreaterThan(0);
        const name = keys.find((k) => kin[0].hyperparameters[k] !== child.hyperparameters[k])!;
        const move = (p: Trial) => {
          const [a, b] = [p.hyperparameters[name] as number, child.hyperparameters[name] as number];
          return name === 'x' ? Math.abs(a - b) : name === 'lr' ? Math.abs(Math.log10(a / b)) / 5 : Math.abs(Math.log2(a / b)) / 2;
        };
        moves[name].push(Math.min(...kin.filter((p) => keys.every((k) => k === name || p.hyperparameters[k] === child.hyperparameters[k])).map(move)));
      }
      return moves;
    };
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const near = steps('local');
    const far = steps('resample');
    // A normal step of 0.15 of the range moves about 0.12 on average; a fresh draw about 0.33.
    expect(mean(near.x)).toBeLessThan(0.2);
    expect(mean(near.lr)).toBeLessThan(0.2);
    expect(near.units.every((m) => m === 1)).toBe(true); // one neighbour: 4x apart
    expect(mean(far.x)).toBeGreaterThan(0.25);
    expect(far.units.some((m) => m > 1)).toBe(true);
    expect(() => new RegularizedEvolution({ mutation: 'swap' as 'local' })).toThrow(/expected mutation 'resample' or 'local', got "swap"/);
  });

  it('rejects an unknown searcher and a bad candidates count', () => {
    expect(() => new RegularizedEvolution({ searcher: 'tpe' as 'random' })).toThrow(/expected searcher 'random' or 'bayesian', got "tpe"/);
    expect(() => new RegularizedEvolution({ candidates: 0 })).toThrow(/expected candidates to be a positive integer, got 0/);
  });

  it('ages out the oldest members whatever their score', () => {
    const oracle = withSpace(new RegularizedEvolution({ seed: 1, populationSize: 4, sampleSize: 2 }), space);
    const trials = run(oracle, 10, score);
    expect(oracle.population().map((t) => t.trialId)).toEqual(trials.slice(-4).map((t) => t.trialId));
  });

  it('starts evolving after populationSize trials, counting those the median rule stopped', () => {
    const oracle = withSpace(new RegularizedEvolution({ seed: 4, populationSize: 4, sampleSize: 2, medianStopping: true }), space);
    const full: Trial[] = [];
    for (let i = 0; i < 4; i++) {
      const request = oracle.populateSpace(`000${i}`);
      if (typeof request === 'string') throw new Error(request);
      const stoppedEarly = i === 1 || i === 2;
      const trial: Trial = {
        trialId: `000${i}`, hyperparameters: request.values, metrics: {}, status: 'completed', score: score(request.values), bestStep: 0,
        curve: stoppedEarly ? [0] : [0, 0, 0], ...(stoppedEarly ? { stoppedEarly } : {}),
      };
      oracle.update(trial);
      if (!stoppedEarly) full.push(trial);
    }
    expect(oracle.population()).toHaveLength(2);
    // Each of the next proposals is a full member with one value changed (c follows kind).
    for (let i = 4; i < 8; i++) {
      const request = oracle.populateSpace(`000${i}`);
      if (typeof request === 'string') throw new Error(request);
      const child = request.values;
      const changed = (p: Trial) => ['a', 'b', 'kind'].filter((k) => p.hyperparameters[k] !== child[k]).length +
        (p.hyperparameters.kind === child.kind && p.hyperparameters.c !== child.c ? 1 : 0);
      expect(full.some((p) => changed(p) === 1)).toBe(true);
      oracle.update({ trialId: `000${i}`, hyperparameters: child, metrics: {}, status: 'failed', bestStep: 0, error: 'not trained' });
    }
  });

  it('leaves the trials the median rule stopped or the time budget cut short out of the population', () => {
    const oracle = withSpace(new RegularizedEvolution({ seed: 1, populationSize: 3, sampleSize: 2, medianStopping: true }), space);
    for (let i = 0; i < 9; i++) {
      const request = oracle.populateSpace(`000${i}`);
      if (typeof request === 'string') throw new Error(request);
      const stoppedEarly = i % 3 === 1;
      const cutShort = i % 3 === 2;
      oracle.update({
        trialId: `000${i}`, hyperparameters: request.values, metrics: {}, status: 'completed', score: i, bestStep: 0,
        curve: stoppedEarly || cutShort ? [i] : [i, i, i], ...(stoppedEarly ? { stoppedEarly } : {}), ...(cutShort ? { cutShort } : {}),
      });
    }
    expect(oracle.population().map((t) => t.trialId)).toEqual(['0000', '0003', '0006']);
  });
});

describe('ASHA', () => {
  const quality = (v: HPValues) => 1 - Math.abs((v.x as number) - 0.6);
  const score = (v: HPValues, epochs = 1) => quality(v) * (1 - 0.5 / epochs);

  it('promotes a trial only from the top 1/factor of its rung, and reaches the top rung', () => {
    const oracle = withSpace(new ASHA({ maxEpochs: 9, factor: 3, seed: 5 }), (hp) => hp.float('x', { min: 0, max: 1 }), true);
    expect(oracle.rungEpochs).toEqual([1, 3, 9]);
    const trials = run(oracle, 30, score);
    const rungOf = (t: Trial) => [1, 3, 9].indexOf(t.epochs!);
    for (const [i, t] of trials.entries()) {
      if (t.resumedFrom === undefined) {
        expect([t.initialEpoch, t.epochs]).toEqual([0, 1]);
        continue;
      }
      const parent = trials.find((p) => p.trialId === t.resumedFrom)!;
      expect(rungOf(t)).toBe(rungOf(parent) + 1);
      expect(t.initialEpoch).toBe(parent.epochs);
      const peers = trials.slice(0, i).filter((p) => rungOf(p) === rungOf(parent)).sort((a, b) => b.score! - a.score!);
      expect(peers.indexOf(parent)).toBeLessThan(Math.floor(peers.length / 3));
    }
    expect(trials.some((t) => t.epochs === 9)).toBe(true);
    expect(new Set(trials.filter((t) => t.resumedFrom).map((t) => t.resumedFrom)).size).toBe(trials.filter((t) => t.resumedFrom).length);
  });

  // Two hyperparameters with a narrow optimum (x near 0.6 on a log scale from 1e-4, kind 'b').
  const narrow = (hp: HyperParameters) => {
    hp.float('x', { min: 1e-4, max: 1, sampling: 'log' });
    hp.choice('kind', ['a', 'b', 'c']);
  };
  const narrowScore = (v: HPValues, epochs = 1) =>
    (1 - Math.abs(Math.log10(v.x as number) - Math.log10(0.6)) / 4 - (v.kind === 'b' ? 0 : 0.3)) * (1 - 0.5 / epochs);
  const fresh = (trials: Trial[]) => trials.filter((t) => t.resumedFrom === undefined);

  it("searcher 'random' draws every new configuration at random, 'bayesian' (the default) the first ones only", () => {
    const make = (searcher: 'random' | 'bayesian') => withSpace(new ASHA({ maxEpochs: 9, factor: 3, seed: 2, searcher, numInitialPoints: 4 }), narrow, true);
    const random = fresh(run(make('random'), 60, narrowScore));
    const bayesian = fresh(run(make('bayesian'), 60, narrowScore));
    // Until the bottom rung holds 4 results, both draw the same random configurations.
    expect(bayesian.slice(0, 4).map((t) => t.hyperparameters)).toEqual(random.slice(0, 4).map((t) => t.hyperparameters));
    expect(bayesian.slice(4).map((t) => t.hyperparameters)).not.toEqual(random.slice(4, bayesian.length).map((t) => t.hyperparameters));
    expect(new ASHA({ maxEpochs: 9 }).searcher).toBe('bayesian');
  });

  it("searcher 'bayesian' starts better configurations than 'random' once the model has results", () => {
    const meanScore = (searcher: 'random' | 'bayesian') => {
      const scores = [1, 2, 3, 4, 5, 6].flatMap((seed) => {
        const trials = fresh(run(withSpace(new ASHA({ maxEpochs: 9, factor: 3, seed, searcher }), narrow, true), 40, narrowScore));
        return trials.slice(10).map((t) => t.score!);
      });
      return scores.reduce((a, b) => a + b, 0) / scores.length;
    };
    expect(meanScore('bayesian')).toBeGreaterThan(meanScore('random') + 0.05);
  });

  it('rejects an unknown searcher and a bad numInitialPoints', () => {
    expect(() => new ASHA({ maxEpochs: 9, searcher: 'grid' as 'random' })).toThrow(/expected searcher 'random' or 'bayesian', got "grid"/);
    expect(() => new ASHA({ maxEpochs: 9, numInitialPoints: 0 })).toThrow(/expected numInitialPoints to be a positive integer, got 0/);
  });
});

describe('the median stopping rule', () => {
  /** Reports a completed trial with this curve (one objective value per epoch). */
  const report = (oracle: Oracle, trialId: string, curve: (number | null)[]) => {
    const request = oracle.populateSpace(trialId);
    if (typeof request === 'string') throw new Error(request);
    const score = Math.max(...curve.map((v) => v ?? -Infinity));
    oracle.update({ trialId, hyperparameters: request.values, metrics: {}, status: 'completed', score, bestStep: 0, curve });
    return request;
  };
  const lr = (hp: HyperParameters) => hp.float('lr', { min: 1e-4, max: 1, sampling: 'log' });

  it('stops below the median of the reported trials\' running means, once minSamples trials reached an epoch', () => {
    const oracle = withSpace(new RandomSearch({ seed: 1, medianStopping: true }), lr, true);
    // No thresholds until 3 trials (minSamples) have curves.
    expect(report(oracle, '0000', [0.1, 0.2, 0.3]).stopIfWorse).toBeUndefined();
    expect(report(oracle, '0001', [0.3, 0.5, 0.6]).stopIfWorse).toBeUndefined();
    expect(report(oracle, '0002', [0.5, 0.5, 0.5]).stopIfWorse).toBeUndefined();
    // Running means: epoch 0 {0.1, 0.3, 0.5}, epoch 1 {0.15, 0.4, 0.5}, epoch 2 {0.2, 0.4667, 0.5}.
    const third = report(oracle, '0003', [0.9]);
    expect(third.stopIfWorse!.map((v) => +v!.toFixed(4))).toEqual([0.3, 0.4, 0.4667]);
    // A trial stopped after one epoch counts at that epoch only: {0.1, 0.3, 0.5, 0.9} has median 0.4.
    const fourth = oracle.populateSpace('0004');
    if (typeof fourth === 'string') throw new Error(fourth);
    expect(fourth.stopIfWorse!.map((v) => +v!.toFixed(4))).toEqual([0.4, 0.4, 0.4667]);
  });

  it('works in the objective\'s direction, counts a missing value as the worst, and waits gracePeriod epochs', () => {
    const oracle = withSpace(new BayesianOptimization({ seed: 2, medianStopping: { gracePeriod: 2, minSamples: 2 } }), lr, false);
    report(oracle, '0000', [2.0, 1.0]);
    report(oracle, '0001', [1.0, 0.5]);
    // Losses: running means at epoch 1 are 1.5 and 0.75, median 1.125; epoch 0 is within the grace period.
    expect(report(oracle, '0002', [null, 3]).stopIfWorse).toEqual([null, 1.125]);
    // The third curve's missing first value makes its running mean the worst (a loss of +Infinity).
    const next = oracle.populateSpace('0003');
    if (typeof next === 'string') throw new Error(next);
    expect(next.stopIfWorse).toEqual([null, 1.5]);
  });

  it('is on by default in BayesianOptimization and RegularizedEvolution only, and refused by the oracles that stop trials themselves', () => {
    const oracle = withSpace(new RandomSearch({ seed: 1 }), lr, true);
    for (let i = 0; i < 5; i++) expect(report(oracle, `000${i}`, [0.5, 0.6]).stopIfWorse).toBeUndefined();
    const defaults = { gracePeriod: 1, minSamples: 3 };
    expect(new BayesianOptimization().medianStopping).toEqual(defaults);
    expect(new RegularizedEvolution().medianStopping).toEqual(defaults);
    expect(new BayesianOptimization({ medianStopping: false }).medianStopping).toBeNull();
    expect(new RegularizedEvolution({ medianStopping: { minSamples: 5 } }).medianStopping).toEqual({ gracePeriod: 1, minSamples: 5 });
    expect(new RandomSearch().medianStopping).toBeNull();
    expect(new GridSearch().medianStopping).toBeNull();
    expect(() => new ASHA({ maxEpochs: 9, medianStopping: true })).toThrow('kerasm.ASHA: medianStopping is for oracles that train every trial to the end');
    expect(() => new Hyperband({ maxEpochs: 9, medianStopping: true })).toThrow('kerasm.Hyperband: medianStopping is for oracles that train every trial to the end');
    expect(() => new RandomSearch({ medianStopping: { gracePeriod: 0 } })).toThrow('kerasm.RandomSearch: expected medianStopping.gracePeriod to be an integer >= 1, got 0');
    expect(() => new RegularizedEvolution({ medianStopping: { minSamples: 1.5 } })).toThrow('kerasm.RegularizedEvolution: expected medianStopping.minSamples to be an integer >= 1, got 1.5');
    expect(() => new GridSearch({ medianStopping: 'yes' as never })).toThrow('kerasm.GridSearch: expected medianStopping to be true, false or { gracePeriod, minSamples }, got "yes"');
  });
});

