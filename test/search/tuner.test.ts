// The trial loop on tiny real models (a Dense layer or two on a small synthetic dataset,
// 1-2 epochs): scoring from the History, failures that are retried and never end the search,
// models too big to train, NaN losses, setup errors, seeds, Hyperband resumption, and the
// Pareto front of several objectives.

import { describe, expect, it } from 'vitest';
import { Dense, SGD, Sequential, Tensor, tensor, type History, type Model } from '../../src/index.js';
import {
  GridSearch, HyperParameters, Hyperband, RandomSearch, Tuner, paretoFront, type HyperModel, type Trial,
} from '../../src/search/index.js';
import { Random } from '../../src/util/random.js';

/** 64 points in 4-D, labelled by the sign of x0 + x1 (the last 16 are the validation split). */
function dataset(): { x: Tensor; y: Tensor } {
  const rng = new Random(5);
  const x = new Float32Array(64 * 4).map(() => rng.normal());
  const y = new Float32Array(64).map((_, i) => (x[i * 4] + x[i * 4 + 1] > 0 ? 1 : 0));
  return { x: tensor(x, [64, 4]), y: tensor(y, [64, 1]) };
}

const { x, y } = dataset();
const fitArgs = { epochs: 2, batchSize: 16, validationSplit: 0.25 };

function classifier(hp: HyperParameters): Model {
  const units = hp.choice('units', [2, 4, 8]);
  const model = new Sequential([
    new Dense({ units, activation: 'tanh', inputShape: [4] }),
    new Dense({ units: 1, activation: 'sigmoid' }),
  ]);
  model.compile({ optimizer: new SGD({ learningRate: hp.float('lr', { min: 0.01, max: 0.5, sampling: 'log' }) }), loss: 'binary_crossentropy', metrics: ['accuracy'] });
  return model;
}

/** The classifier, trained by model.fit, with each training's History handed to `seen`. */
function watched(seen: (history: History) => void): HyperModel {
  return {
    build: classifier,
    fit: async (_hp, model, xs, ys, args) => {
      const history = await model.fit(xs, ys, args);
      seen(history);
      return history;
    },
  };
}

describe('Tuner', () => {
  it('scores each trial at its best epoch and keeps the best model at that epoch', async () => {
    const ended: Trial[] = [];
    const tuner = new Tuner({ hypermodel: classifier, oracle: new RandomSearch(), objective: 'val_loss', maxTrials: 4, seed: 1, onTrialEnd: (t) => { ended.push(t); } });
    await tuner.search(x, y, fitArgs);
    expect(tuner.trials.map((t) => t.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(tuner.trials.map((t) => t.cutShort)).toEqual([undefined, undefined, undefined, undefined]);
    expect(ended.map((t) => t.trialId)).toEqual(['0000', '0001', '0002', '0003']);
    expect(tuner.trials[0].hyperparameters).toEqual({ units: 2, lr: 0.01 }); // the defaults, while the space is discovered
    for (const t of tuner.trials) {
      expect(t.score).toBe(t.metrics.val_loss);
      expect([0, 1]).toContain(t.bestStep);
      expect(t.metrics.params).toBe(4 * (t.hyperparameters.units as number) + (t.hyperparameters.units as number) * 2 + 1);
    }
    const best = tuner.getBestTrials(4);
    expect(best.map((t) => t.score)).toEqual([...best.map((t) => t.score!)].sort((a, b) => a - b));
    expect(tuner.getBestHyperparameters(1)[0].values).toEqual(best[0].hyperparameters);

    const [model] = await tuner.getBestModels(1);
    const xVal = tensor(x.dataSync().slice(48 * 4), [16, 4]);
    const yVal = tensor(y.dataSync().slice(48), [16, 1]);
    expect(model.evaluate(xVal, yVal, { batchSize: 16 }).loss).toBeCloseTo(best[0].score!, 5);
    expect(tuner.resultsSummary(2)).toMatch(/Objective: val_loss \(min\)\nShowing 2 best trials\n\nTrial \d{4}: score/);
    expect(tuner.resultsSummary()).toContain('Trials: 4 (4 completed, 0 failed, 0 invalid)');
    expect(tuner.searchSpaceSummary()).toContain('units (choice): values [2,4,8]');
  });

  it('yields each trial from searchIterator, on this thread before the next trial starts', async () => {
    const events: string[] = [];
    const hypermodel = (hp: HyperParameters) => {
      events.push(`build ${hp.values.units ?? '-'}`);
      return classifier(hp);
    };
    const tuner = new Tuner({ hypermodel, oracle: new GridSearch({ floatPoints: 1 }), objective: 'val_loss', maxTrials: 3, onTrialEnd: (t) => { events.push(`end ${t.trialId}`); } });
    for await (const trial of tuner.searchIterator(x, y, fitArgs)) {
      events.push(`yield ${trial.trialId}`);
      if (trial.trialId === '0001') break;
    }
    expect(events).toEqual(['build -', 'end 0000', 'yield 0000', 'build 4', 'end 0001', 'yield 0001']);
    expect(tuner.trials.map((t) => t.trialId)).toEqual(['0000', '0001']);
    await tuner.search(x, y, fitArgs); // goes on where the loop was left
    expect(tuner.trials.map((t) => t.hyperparameters.units)).toEqual([2, 4, 8]);
  });

  it('averages the score over executionsPerTrial freshly built models', async () => {
    const bests: number[] = [];
    const tuner = new Tuner({
      hypermodel: watched((history) => bests.push(Math.min(...history.history.val_loss))),
      oracle: new RandomSearch(), objective: 'val_loss', maxTrials: 2, executionsPerTrial: 2, seed: 4,
    });
    await tuner.search(x, y, fitArgs);
    expect(bests).toHaveLength(4);
    expect(bests[0]).not.toBe(bests[1]); // different initial weights
    tuner.trials.forEach((t, i) => expect(t.score).toBeCloseTo((bests[2 * i] + bests[2 * i + 1]) / 2, 6));
  });

  it('is reproducible for a seed', async () => {
    const once = async () => {
      const tuner = new Tuner({ hypermodel: classifier, oracle: new RandomSearch(), objective: 'val_accuracy', maxTrials: 3, seed: 7 });
      await tuner.search(x, y, fitArgs);
      return tuner.trials.map((t) => [t.hyperparameters, t.score]);
    };
    expect(await once()).toEqual(await once());
  });

  it('marks a throwing trial failed, retries it, and goes on with the search', async () => {
    const builds: number[] = [];
    const hypermodel = (hp: HyperParameters) => {
      const units = hp.choice('units', [2, 4, 8]);
      builds.push(units);
      if (units === 4) throw new Error('no room for 4 units');
      return classifier(hp);
    };
    const tuner = new Tuner({ hypermodel, oracle: new GridSearch(), objective: 'val_loss', maxTrials: 10, maxRetriesPerTrial: 2, seed: 1 });
    await tuner.search(x, y, { ...fitArgs, epochs: 1 });
    // units x lr grid: 3 x 5 = 15 combinations, cut at 10 trials; the first is the defaults.
    expect(tuner.trials).toHaveLength(10);
    const failed = tuner.trials.filter((t) => t.status === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    for (const t of failed) {
      expect(t.hyperparameters.units).toBe(4);
      expect(t.error).toBe('no room for 4 units');
      expect(t.retries).toBe(2);
      expect(t.score).toBeNull();
    }
    expect(builds.filter((u) => u === 4)).toHaveLength(3 * failed.length);
    expect(tuner.trials.filter((t) => t.status === 'completed').length).toBe(10 - failed.length);
  });

  it('skips a model over maxModelSize before training it', async () => {
    let fits = 0;
    const tuner = new Tuner({
      hypermodel: { build: classifier, fit: (_hp, model, xs, ys, args) => { fits++; return model.fit(xs, ys, args); } },
      oracle: new GridSearch({ floatPoints: 1 }), objective: 'val_loss', maxTrials: 5, maxModelSize: 30,
    });
    await tuner.search(x, y, fitArgs);
    const byUnits = Object.fromEntries(tuner.trials.map((t) => [t.hyperparameters.units, t]));
    expect(tuner.trials).toHaveLength(3);
    expect(byUnits[8].status).toBe('invalid');
    expect(byUnits[8].metrics.params).toBe(49);
    expect(byUnits[8].error).toBe('the model has 49 parameters, more than maxModelSize 30');
    expect([byUnits[2].status, byUnits[4].status]).toEqual(['completed', 'completed']);
    expect(fits).toBe(2);
  });

  it('marks a trial whose loss is not finite as failed', async () => {
    const hypermodel = (hp: HyperParameters) => {
      const model = new Sequential([new Dense({ units: 1, inputShape: [4] })]);
      model.compile({ optimizer: new SGD({ learningRate: hp.choice('lr', [0.01, 1e30]) }), loss: 'mse' });
      return model;
    };
    const big = tensor(new Float32Array(64).fill(1e30), [64, 1]);
    const tuner = new Tuner({ hypermodel, oracle: new GridSearch(), objective: 'loss', maxTrials: 2 });
    await tuner.search(x, big, { epochs: 2, batchSize: 16 });
    expect(tuner.trials.map((t) => t.status)).toEqual(['failed', 'failed']);
    expect(tuner.trials[0].error).toMatch(/^the loss became (Infinity|NaN) at epoch 0$/);
  });

  it('ends with a clear error on setup mistakes', async () => {
    const notModel = new Tuner({ hypermodel: () => 42 as unknown as Model, oracle: new RandomSearch(), maxTrials: 2 });
    await expect(notModel.search(x, y, fitArgs)).rejects.toThrow("kerasm.Tuner: expected the hypermodel's build(hp) to return a Model, got number");
    const notCompiled = new Tuner({ hypermodel: () => new Sequential([new Dense({ units: 1, inputShape: [4] })]), oracle: new RandomSearch(), maxTrials: 2 });
    await expect(notCompiled.search(x, y, fitArgs)).rejects.toThrow(/to return a compiled model: call model.compile/);
    const noVal = new Tuner({ hypermodel: classifier, oracle: new RandomSearch(), objective: 'val_accuracy', maxTrials: 2 });
    await expect(noVal.search(x, y, { epochs: 1 })).rejects.toThrow(/objective 'val_accuracy' is not in the training history, which has loss, accuracy \(val_ metrics need validationSplit/);
    expect(() => new Tuner({ hypermodel: classifier, oracle: new RandomSearch(), maxTrials: 0 })).toThrow('kerasm.Tuner: expected maxTrials to be a positive integer, got 0');
    expect(() => new Tuner({ hypermodel: classifier, oracle: new RandomSearch(), maxTrials: 3, timeBudget: -1 })).toThrow('kerasm.Tuner: expected timeBudget to be a positive number, got -1');
    expect(() => new Tuner({ hypermodel: classifier, oracle: new RandomSearch(), maxTrials: 3, objective: { name: 'loss', direction: 'up' as 'max' } })).toThrow(/expected an objective as a name or \{name, direction/);
  });

  it('stops starting trials once the time budget is spent', async () => {
    // Each trial takes at least 100 ms, so a 0.25 s budget has room to start 3 of the 50.
    const tuner = new Tuner({
      hypermodel: {
        build: classifier,
        fit: async (_hp, model, xs, ys, args) => {
          await new Promise((resolve) => setTimeout(resolve, 100));
          return model.fit(xs, ys, args);
        },
      },
      oracle: new RandomSearch(), maxTrials: 50, timeBudget: 0.25,
    });
    await tuner.search(x, y, fitArgs);
    expect(tuner.trials.length).toBeLessThanOrEqual(3);
  });

  it('stops a trial still running when the budget runs out at its next batch, and keeps its best epoch', async () => {
    // 100,000 epochs would take minutes; the budget ends the trial after about half a second.
    const epochs: number[] = [];
    const tuner = new Tuner({
      hypermodel: watched((history) => epochs.push(history.epoch.length)),
      oracle: new RandomSearch(), objective: 'val_loss', maxTrials: 5, seed: 1, timeBudget: 0.5,
    });
    await tuner.search(x, y, { epochs: 100_000, batchSize: 16, validationSplit: 0.25 });
    expect(tuner.trials).toHaveLength(1);
    const [trial] = tuner.trials;
    expect(trial.status).toBe('completed');
    expect(trial.cutShort).toBe(true);
    expect(tuner.resultsSummary(1)).toContain(`Trial 0000: score ${trial.score!.toPrecision(5)} at epoch ${trial.bestStep} (cut short by the time budget)`);
    expect(epochs[0]).toBeLessThan(100_000);
    // The epoch cut short was validated and counts: the best step is one of the epochs run.
    expect(trial.bestStep).toBeLessThan(epochs[0]);
    // The kept model has the weights of that epoch: its loss on the validation split (the last
    // 16 samples) is the trial's score.
    const [best] = await tuner.getBestModels(1);
    const val = (t: Tensor) => tensor(t.arraySync().slice(48) as number[][]);
    expect(best.evaluate(val(x), val(y), { batchSize: 16 }).loss).toBeCloseTo(trial.score!, 5);
  });

  it('stops a trial by the median rule after the epoch where it falls below the others, and records every curve', async () => {
    // Learning rate 0 never learns: its validation loss stays where it starts, above the
    // running means of the three trials before it.
    const rates = (hp: HyperParameters) => {
      const model = new Sequential([new Dense({ units: 4, activation: 'tanh', inputShape: [4] }), new Dense({ units: 1, activation: 'sigmoid' })]);
      model.compile({ optimizer: new SGD({ learningRate: hp.choice('lr', [0.5, 0.3, 0.4, 0]) }), loss: 'binary_crossentropy' });
      return model;
    };
    const tuner = new Tuner({ hypermodel: rates, oracle: new GridSearch({ medianStopping: true }), objective: 'val_loss', maxTrials: 4, seed: 1 });
    await tuner.search(x, y, { epochs: 5, batchSize: 16, validationSplit: 0.25 });
    expect(tuner.trials.map((t) => t.hyperparameters.lr)).toEqual([0.5, 0.3, 0.4, 0]);
    expect(tuner.trials.map((t) => t.curve!.length)).toEqual([5, 5, 5, 1]);
    expect(tuner.trials.map((t) => t.stoppedEarly)).toEqual([undefined, undefined, undefined, true]);
    const stopped = tuner.trials[3];
    expect(stopped.status).toBe('completed');
    expect(stopped.score).toBe(stopped.curve![0]);
    for (const t of tuner.trials) expect(t.score).toBe(Math.min(...t.curve!));
    expect(tuner.resultsSummary(4)).toContain('Trial 0003: score');
    expect(tuner.resultsSummary(4)).toContain('(stopped by the median rule after 1 epoch)');
    // Below the median after its last epoch, a trial has nothing left to stop.
    const single = new Tuner({ hypermodel: rates, oracle: new GridSearch({ medianStopping: true }), objective: 'val_loss', maxTrials: 4, seed: 1 });
    await single.search(x, y, { epochs: 1, batchSize: 16, validationSplit: 0.25 });
    expect(single.trials.map((t) => t.stoppedEarly)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('continues promoted Hyperband trials from the weights of the trial they come from', async () => {
    const fits: { initialEpoch: number; epochs: number; start: Float32Array; end: Float32Array }[] = [];
    const tuner = new Tuner({
      hypermodel: {
        build: classifier,
        fit: async (_hp, model, xs, ys, args) => {
          const start = model.weights[0].read();
          const history = await model.fit(xs, ys, args);
          fits.push({ initialEpoch: args.initialEpoch ?? 0, epochs: args.epochs!, start, end: model.weights[0].read() });
          return history;
        },
      },
      oracle: new Hyperband({ maxEpochs: 3, factor: 3 }), objective: 'val_loss', maxTrials: 20, seed: 3,
    });
    await tuner.search(x, y, fitArgs);
    // Brackets for maxEpochs 3: 3 configurations x 1 epoch, then the best one to 3 epochs; then 2 x 3 epochs.
    expect(tuner.trials.map((t) => `${t.initialEpoch}-${t.epochs}`)).toEqual(['0-1', '0-1', '0-1', '1-3', '0-3', '0-3']);
    expect(fits.map((f) => `${f.initialEpoch}-${f.epochs}`)).toEqual(['0-1', '0-1', '0-1', '1-3', '0-3', '0-3']);
    const promoted = tuner.trials[3];
    const parent = tuner.trials.slice(0, 3).reduce((a, b) => (b.score! < a.score! ? b : a));
    expect(promoted.resumedFrom).toBe(parent.trialId);
    expect(promoted.hyperparameters).toEqual(parent.hyperparameters);
    // One epoch: the parent's best weights are its last ones, and the promoted trial starts there.
    expect(Array.from(fits[3].start)).toEqual(Array.from(fits[Number(parent.trialId)].end));
    expect(Array.from(fits[3].start)).not.toEqual(Array.from(fits[Number(parent.trialId)].start));
  });
});

describe('several objectives', () => {
  it('records params and latency and reports the Pareto front', async () => {
    const tuner = new Tuner({ hypermodel: classifier, oracle: new GridSearch({ floatPoints: 1 }), objective: ['val_loss', 'params', 'latency'], maxTrials: 3, seed: 2 });
    await tuner.search(x, y, fitArgs);
    for (const t of tuner.trials) {
      expect(t.metrics.latency).toBeGreaterThan(0);
      expect(t.metrics.params).toBeGreaterThan(0);
    }
    const front = tuner.getParetoFront();
    expect(tuner.trials.map((t) => t.score)).toEqual(tuner.trials.map((t) => t.metrics.val_loss));
    // The smallest model is never dominated on params.
    expect(front.map((t) => t.hyperparameters.units)).toContain(2);
    expect(front).toEqual(paretoFront(tuner.trials, tuner.objectives));
  });

  it('ranks by a measured objective when it comes first', async () => {
    const tuner = new Tuner({ hypermodel: classifier, oracle: new GridSearch({ floatPoints: 1 }), objective: ['params', 'val_loss'], maxTrials: 3 });
    await tuner.search(x, y, fitArgs);
    expect(tuner.getBestTrials(3).map((t) => [t.hyperparameters.units, t.score, t.bestStep])).toEqual([[2, 13, 1], [4, 25, 1], [8, 49, 1]]);
  });

  it('finds exactly the non-dominated trials of a hand-made set', () => {
    const trial = (trialId: string, acc: number, params: number, status: Trial['status'] = 'completed'): Trial => ({
      trialId, hyperparameters: {}, metrics: { acc, params }, status, score: acc, bestStep: 0,
    });
    const trials = [
      trial('a', 0.9, 100), trial('b', 0.8, 50), trial('c', 0.85, 120), // c: worse than a on both
      trial('d', 0.8, 60), trial('e', 0.7, 10), trial('f', 0.95, 500), trial('g', 0.9, 100), // g ties a: neither dominates
      trial('h', 0.99, 1, 'failed'),
    ];
    const front = paretoFront(trials, [{ name: 'acc', direction: 'max' }, { name: 'params', direction: 'min' }]);
    expect(front.map((t) => t.trialId)).toEqual(['a', 'b', 'e', 'f', 'g']);
    expect(paretoFront(trials, [{ name: 'acc', direction: 'max' }]).map((t) => t.trialId)).toEqual(['f']);
  });
});
