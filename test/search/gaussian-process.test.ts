// The Gaussian-process model shared by BayesianOptimization and ASHA: its encoding of a space,
// and its proposals on a cheap objective.

import { describe, expect, it } from 'vitest';
import { HyperParameters } from '../../src/search/index.js';
import { decode, encode, fitGaussianProcess, proposeByAcquisition } from '../../src/search/oracles/gaussian_process.js';
import { sampleValue, assignActive, valuesKey, type HPValues } from '../../src/search/hyperparameters.js';
import { Random } from '../../src/util/random.js';

describe('proposeByAcquisition', () => {
  const hp = new HyperParameters();
  hp.float('x', { min: 0, max: 1 });
  hp.choice('kind', ['a', 'b']);
  const space = hp.space;

  it('encodes a float as one coordinate and a choice of strings one-hot, and decodes back', () => {
    expect(Array.from(encode(space, { x: 0.25, kind: 'b' }))).toEqual([0.25, 0, 1]);
    expect(decode(space, Float64Array.from([0.25, 0.2, 0.7]))).toEqual({ x: 0.25, kind: 'b' });
  });
  const sample = (rng: Random): HPValues => assignActive(space, (spec) => sampleValue(spec, rng));
  // Larger is better; the optimum is x = 0.7 with kind 'b'.
  const score = (v: HPValues) => -Math.abs((v.x as number) - 0.7) - (v.kind === 'a' ? 0.3 : 0);

  it('finds the optimum within a few proposals, without repeating itself', () => {
    for (const seed of [1, 2, 3]) {
      const rng = new Random(seed);
      const observed = Array.from({ length: 4 }, () => sample(rng)).map((values) => ({ values, score: score(values) }));
      const seen = new Set(observed.map((o) => valuesKey(o.values)));
      for (let step = 0; step < 10; step++) {
        const next = proposeByAcquisition(space, observed, [], rng, {
          alpha: 1e-4, candidates: 200, sampleRandom: sample, isSeen: (v) => seen.has(valuesKey(v)), owner: 'test',
        })!;
        expect(seen.has(valuesKey(next))).toBe(false);
        seen.add(valuesKey(next));
        observed.push({ values: next, score: score(next) });
      }
      expect(Math.max(...observed.map((o) => o.score)), `seed ${seed}`).toBeGreaterThan(-0.03);
    }
  });

  it('gives a coordinate the scores do not depend on a longer length scale (ARD)', () => {
    const two = new HyperParameters();
    two.float('x', { min: 0, max: 1 });
    two.float('y', { min: 0, max: 1 });
    const rng = new Random(5);
    const values = Array.from({ length: 20 }, () => ({ x: rng.uniform(), y: rng.uniform() }));
    const fitted = fitGaussianProcess(two.space, values, values.map((v) => Math.sin(6 * v.x)), { alpha: 1e-4, owner: 'test' });
    expect(fitted.lengthScales[1]).toBeGreaterThan(2 * fitted.lengthScales[0]);
  });

  it('returns null when every candidate was seen', () => {
    const observed = [{ values: { x: 0.1, kind: 'a' }, score: 1 }, { values: { x: 0.9, kind: 'b' }, score: 2 }];
    const next = proposeByAcquisition(space, observed, [], new Random(1), {
      alpha: 1e-4, candidates: 20, sampleRandom: sample, isSeen: () => true, owner: 'test',
    });
    expect(next).toBeNull();
  });
});
