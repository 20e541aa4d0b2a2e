// trialTimeout on the tuner's own thread: a trial that trains past it stops at the next batch
// and fails with an error saying where; it is not retried, and the search goes on.

import { describe, expect, it } from 'vitest';
import { GridSearch, Tuner } from '../../src/index.js';
import { HyperParameters } from '../../src/search/index.js';
import type { Data, FitArgs } from '../../src/training/fit.js';
import type { Model } from '../../src/models/model.js';
import { regressionData, regressor } from './helpers.js';

describe('trialTimeout', () => {
  it('stops a trial that trains too long, fails it without retrying, and runs the others', async () => {
    const { x, y } = regressionData();
    const hypermodel = {
      build: (hp: HyperParameters) => {
        hp.choice('epochs', [2, 100_000]);
        return regressor(new HyperParameters({ units: 4, lr: 0.01 }));
      },
      fit: (hp: HyperParameters, model: Model, xs: Data, ys: Data, args: FitArgs) =>
        model.fit(xs, ys, { ...args, epochs: hp.choice('epochs', [2, 100_000]) }),
    };
    const tuner = new Tuner({
      hypermodel, oracle: new GridSearch(), objective: 'val_loss',
      maxTrials: 2, seed: 1, trialTimeout: 0.3, maxRetriesPerTrial: 2,
    });
    const started = performance.now();
    await tuner.search(x, y, { batchSize: 16, validationSplit: 0.25 });
    expect(performance.now() - started).toBeLessThan(60_000); // 100,000 epochs would take minutes
    const [quick, slow] = [...tuner.trials].sort((a, b) => (a.hyperparameters.epochs as number) - (b.hyperparameters.epochs as number));
    expect([quick.status, quick.error]).toEqual(['completed', undefined]);
    expect(slow.status).toBe('failed');
    expect(slow.error).toMatch(/^the trial ran past trialTimeout 0.3 s: training stopped after batch \d+ of epoch \d+$/);
    expect(slow.retries).toBeUndefined();
  });

  it('does not start another execution of a trial past the timeout', async () => {
    const { x, y } = regressionData();
    const hypermodel = {
      build: () => regressor(new HyperParameters({ units: 4, lr: 0.01 })),
      // Training is quick; the time goes after it, where no batch can notice.
      fit: async (_hp: HyperParameters, model: Model, xs: Data, ys: Data, args: FitArgs) => {
        const history = await model.fit(xs, ys, args);
        await new Promise((resolve) => setTimeout(resolve, 300));
        return history;
      },
    };
    const tuner = new Tuner({ hypermodel, oracle: new GridSearch(), maxTrials: 1, executionsPerTrial: 2, trialTimeout: 0.2 });
    await tuner.search(x, y, { epochs: 1, batchSize: 16, validationSplit: 0.25 });
    expect(tuner.trials[0].status).toBe('failed');
    expect(tuner.trials[0].error).toBe('the trial ran past trialTimeout 0.2 s before execution 2 of 2');
  });

  it('refuses a timeout that is not a positive number', () => {
    const { hypermodel, oracle } = { hypermodel: regressor, oracle: new GridSearch() };
    expect(() => new Tuner({ hypermodel, oracle, maxTrials: 1, trialTimeout: 0 })).toThrow('expected trialTimeout to be a positive number, got 0');
    expect(() => new Tuner({ hypermodel, oracle, maxTrials: 1, trialTimeout: -2 })).toThrow('got -2');
  });
});
