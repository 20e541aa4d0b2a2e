// Oracles with several trials running at once, as a tuner with workers drives them: proposals
// never repeat a running trial, 'wait' instead of 'exhausted' while a running trial may still
// change what comes next, Hyperband's round barrier, and searches that report in random order.

import { describe, expect, it } from 'vitest';
import {
  ASHA, BayesianOptimization, GridSearch, HyperParameters, Hyperband, RandomSearch, RegularizedEvolution,
  type HPValues, type Oracle, type Trial, type TrialRequest,
} from '../../src/search/index.js';
import { withSpace } from './helpers.js';
import { Random } from '../../src/util/random.js';

const id = (i: number) => String(i).padStart(4, '0');

function report(oracle: Oracle, trialId: string, request: TrialRequest, score: number): Trial {
  const trial: Trial = {
    trialId, hyperparameters: request.values, metrics: {}, status: 'completed', score, bestStep: 0,
    epochs: request.epochs, initialEpoch: request.initialEpoch, resumedFrom: request.resumedFrom,
  };
  oracle.update(trial);
  return trial;
}

/**
 * Keeps up to `concurrency` trials running and reports a random one of them at each step, as
 * workers finishing in any order would; stops after `maxTrials` or when the oracle is exhausted.
 */
function runConcurrently(oracle: Oracle, maxTrials: number, concurrency: number, score: (v: HPValues, epochs?: number) => number, seed = 1) {
  const rng = new Random(seed);
  const running: { trialId: string; request: TrialRequest }[] = [];
  const trials: Trial[] = [];
  const answers: string[] = [];
  let next = 0;
  let exhausted = false;
  for (;;) {
    while (!exhausted && running.length < concurrency && next < maxTrials) {
      const request = oracle.populateSpace(id(next));
      if (request === 'wait' || request === 'exhausted') {
        answers.push(request);
        exhausted = request === 'exhausted';
        break;
      }
      // No proposal repeats the values of a trial still running.
      expect(running.map((r) => JSON.stringify(r.request.values))).not.toContain(JSON.stringify(request.values));
      running.push({ trialId: id(next++), request });
    }
    if (running.length === 0) break;
    const [done] = running.splice(rng.int(running.length), 1);
    trials.push(report(oracle, done.trialId, done.request, score(done.request.values, done.request.epochs)));
  }
  return { trials: trials.sort((a, b) => (a.trialId < b.trialId ? -1 : 1)), answers };
}

describe('oracles with trials running at once', () => {
  it('waits while the space is unknown, instead of giving up', () => {
    // A tuner's first trial discovers the space: nothing else can be proposed until it reports.
    const oracle = new RandomSearch({ seed: 1 });
    const first = oracle.populateSpace('0000');
    expect(first).toEqual({ values: {} });
    expect(oracle.populateSpace('0001')).toBe('wait');
    oracle.space.merge((() => { const hp = new HyperParameters(); hp.int('units', { min: 1, max: 64 }); return hp; })());
    report(oracle, '0000', first as TrialRequest, 1);
    expect(oracle.populateSpace('0001')).toMatchObject({ values: { units: expect.any(Number) } });
  });

  it('RandomSearch never proposes a running trial again, and waits for them when nothing else is left', () => {
    const oracle = withSpace(new RandomSearch({ seed: 2, maxCollisions: 200 }), (hp) => hp.choice('x', [1, 2, 3]));
    const requests = ['0000', '0001', '0002'].map((t) => oracle.populateSpace(t) as TrialRequest);
    expect(requests.map((r) => r.values.x).sort()).toEqual([1, 2, 3]);
    expect(oracle.populateSpace('0003')).toBe('wait');
    requests.forEach((r, i) => report(oracle, id(i), r, i));
    expect(oracle.populateSpace('0003')).toBe('exhausted');
  });

  it('GridSearch hands out each combination once, across running trials', () => {
    const oracle = withSpace(new GridSearch(), (hp) => {
      hp.int('units', { min: 1, max: 3 });
      hp.boolean('bias');
    });
    const { trials, answers } = runConcurrently(oracle, 100, 3, () => 0);
    expect(trials).toHaveLength(6);
    expect(new Set(trials.map((t) => JSON.stringify(t.hyperparameters))).size).toBe(6);
    expect(answers.at(-1)).toBe('exhausted');
  });

  it('the constant liar counts every running trial, or only the new configurations', () => {
    class Probe extends ASHA {
      pending(newOnly?: boolean): HPValues[] {
        return this.pendingValues(newOnly);
      }
    }
    const oracle = new Probe({ seed: 1, maxEpochs: 9 });
    oracle.markRunning('0000', { values: { a: 1 }, epochs: 1 });
    oracle.markRunning('0001', { values: { a: 2 }, epochs: 3, initialEpoch: 1, resumedFrom: '0000' });
    oracle.markRunning('0002', { values: { a: 3 }, epochs: 1 });
    expect(oracle.pending()).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
    // A promotion continues a configuration already observed at a lower rung.
    expect(oracle.pending(true)).toEqual([{ a: 1 }, { a: 3 }]);
    report(oracle, '0000', { values: { a: 1 } }, 0.5);
    expect(oracle.pending(true)).toEqual([{ a: 3 }]);
  });

  it('RegularizedEvolution and BayesianOptimization propose no duplicates of running trials', () => {
    const space = (hp: HyperParameters) => {
      hp.int('a', { min: 0, max: 6 });
      hp.choice('kind', ['x', 'y']);
    };
    const score = (v: HPValues) => Math.abs((v.a as number) - 4) + (v.kind === 'y' ? 0 : 1);
    for (const oracle of [
      withSpace(new RegularizedEvolution({ seed: 3, populationSize: 4, sampleSize: 2 }), space),
      withSpace(new BayesianOptimization({ seed: 3, numInitialPoints: 3, candidates: 100 }), space),
    ]) {
      const { trials } = runConcurrently(oracle, 12, 3, score);
      expect(trials).toHaveLength(12);
      // 14 points in the space: 12 trials, all different.
      expect(new Set(trials.map((t) => JSON.stringify(t.hyperparameters))).size).toBe(12);
    }
  });

  it('BayesianOptimization still beats random search with 3 trials running at once', () => {
    const bowl = (v: HPValues) => ((v.x as number) - 0.73) ** 2 + ((v.y as number) - 0.21) ** 2;
    const space = (hp: HyperParameters) => {
      hp.float('x', { min: 0, max: 1 });
      hp.float('y', { min: 0, max: 1 });
    };
    const bestOf = (oracle: Oracle, seed: number) => Math.min(...runConcurrently(withSpace(oracle, space), 25, 3, bowl, seed).trials.map((t) => t.score!));
    const seeds = [1, 2, 3, 4, 5];
    const bayes = seeds.map((seed) => bestOf(new BayesianOptimization({ seed, numInitialPoints: 6, candidates: 200 }), seed));
    const random = seeds.map((seed) => bestOf(new RandomSearch({ seed }), seed));
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(bayes)).toBeLessThan(mean(random) / 3);
  });

  it('Hyperband waits for a whole round before promoting from it', () => {
    const oracle = withSpace(new Hyperband({ maxEpochs: 9, factor: 3, seed: 4 }), (hp) => hp.float('x', { min: 0, max: 1 }), true);
    const round0 = Array.from({ length: 9 }, (_, i) => oracle.populateSpace(id(i)) as TrialRequest);
    expect(round0.every((r) => r.epochs === 1 && r.resumedFrom === undefined)).toBe(true);
    expect(oracle.populateSpace('0009')).toBe('wait');
    round0.slice(0, 8).forEach((r, i) => report(oracle, id(i), r, r.values.x as number));
    expect(oracle.populateSpace('0009')).toBe('wait'); // one of the round still running
    report(oracle, '0008', round0[8], round0[8].values.x as number);
    // The round's best 3, each promoted once although none of the promotions has reported yet.
    const promotions = ['0009', '0010', '0011'].map((t) => oracle.populateSpace(t) as TrialRequest);
    const top3 = round0.map((r, i) => [r.values.x as number, id(i)] as const).sort((a, b) => b[0] - a[0]).slice(0, 3).map(([, t]) => t);
    expect(promotions.map((p) => p.resumedFrom)).toEqual(top3);
    expect(promotions.map((p) => `${p.initialEpoch}-${p.epochs}`)).toEqual(['1-3', '1-3', '1-3']);
    expect(oracle.populateSpace('0012')).toBe('wait');
  });

  it('Hyperband and ASHA run the same brackets and rungs when trials report in any order', () => {
    const quality = (v: HPValues) => 1 - Math.abs((v.x as number) - 0.6);
    const score = (v: HPValues, epochs = 1) => quality(v) * (1 - 0.5 / epochs);
    const shape = (trials: Trial[]) => trials.map((t) => `${t.initialEpoch}-${t.epochs}`);
    const hyperband = () => withSpace(new Hyperband({ maxEpochs: 9, factor: 3, seed: 4 }), (hp) => hp.float('x', { min: 0, max: 1 }), true);
    const serial = runConcurrently(hyperband(), 100, 1, score).trials;
    for (const seed of [1, 2, 3]) {
      const parallel = runConcurrently(hyperband(), 100, 3, score, seed).trials;
      expect(parallel).toHaveLength(serial.length);
      expect([...shape(parallel)].sort()).toEqual([...shape(serial)].sort());
      checkPromotions(parallel);
    }
    const asha = runConcurrently(withSpace(new ASHA({ maxEpochs: 9, factor: 3, seed: 5 }), (hp) => hp.float('x', { min: 0, max: 1 }), true), 40, 3, score).trials;
    expect(asha).toHaveLength(40);
    expect(asha.some((t) => t.epochs === 9)).toBe(true);
    checkPromotions(asha);
  });
});

/** Every promoted trial continues a distinct parent, with the parent's values, one rung up. */
function checkPromotions(trials: Trial[]): void {
  const promoted = trials.filter((t) => t.resumedFrom !== undefined);
  expect(new Set(promoted.map((t) => t.resumedFrom)).size).toBe(promoted.length);
  for (const t of promoted) {
    const parent = trials.find((p) => p.trialId === t.resumedFrom)!;
    expect(t.hyperparameters).toEqual(parent.hyperparameters);
    expect(t.initialEpoch).toBe(parent.epochs);
  }
}
