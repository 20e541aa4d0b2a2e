// state.json and the kept models on disk: resume after an interruption without losing or
// repeating trials, bounded disk use, a corrupt state file, and starting over.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Dense, SGD, Sequential, tensor } from '../../src/index.js';
import { GridSearch, RandomSearch, Tuner, type HyperParameters, type Trial } from '../../src/search/index.js';
import { regressionData, regressor } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'kerasm-search-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const { x, y, fitArgs } = regressionData();

const tuner = (projectName: string, maxTrials: number, extra: Partial<ConstructorParameters<typeof Tuner>[0]> = {}) =>
  new Tuner({ hypermodel: regressor, oracle: new RandomSearch(), objective: 'val_loss', maxTrials, seed: 5, directory: dir, projectName, modelsToKeep: 2, ...extra });

const trialDirs = (projectName: string) => readdirSync(join(dir, projectName)).filter((f) => f.startsWith('trial_')).sort();

describe('persistence', () => {
  it('resumes an interrupted search without repeating or losing trials', async () => {
    const first = tuner('resume', 3);
    await first.search(x, y, fitArgs);
    const before = structuredClone(first.trials);
    expect(before).toHaveLength(3);
    expect(trialDirs('resume')).toHaveLength(2); // only the best modelsToKeep

    const ran: string[] = [];
    const second = tuner('resume', 5, { onTrialEnd: (t: Trial) => { ran.push(t.trialId); } });
    await second.search(x, y, fitArgs);
    expect(ran).toEqual(['0003', '0004']);
    expect(second.trials.slice(0, 3)).toEqual(before);
    expect(second.trials).toHaveLength(5);

    // The same search run in one go gives the same trials: the resume changed nothing.
    const whole = new Tuner({ hypermodel: regressor, oracle: new RandomSearch(), objective: 'val_loss', maxTrials: 5, seed: 5 });
    await whole.search(x, y, fitArgs);
    expect(second.trials.map((t) => [t.hyperparameters, t.score])).toEqual(whole.trials.map((t) => [t.hyperparameters, t.score]));

    const best = second.getBestTrials(2);
    expect(trialDirs('resume')).toEqual(best.map((t) => `trial_${t.trialId}`).sort());
    const state = JSON.parse(readFileSync(join(dir, 'resume', 'state.json'), 'utf8'));
    expect(state.trials).toHaveLength(5);
    expect(readdirSync(join(dir, 'resume')).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    // The best models come back from disk with the weights of their scored epoch.
    const third = tuner('resume', 5);
    const models = await third.getBestModels(2);
    const xVal = tensor(x.dataSync().slice(36 * 3), [12, 3]);
    const yVal = tensor(y.dataSync().slice(36), [12, 1]);
    models.forEach((m, i) => expect(m.evaluate(xVal, yVal, { batchSize: 12 }).loss).toBeCloseTo(best[i].score!, 4));
    await expect(third.getBestModels(3)).rejects.toThrow(/were not kept; ask for at most modelsToKeep \(2\) models/);
  });

  it('resumes with the trials\' curves, so the median rule stops the same trials as in one go', async () => {
    // A learning rate of 0 never learns: the fourth trial, proposed after the resume, is below the
    // median of the three curves saved before it and stops after its first epoch.
    const rates = (hp: HyperParameters) => {
      const model = new Sequential([new Dense({ units: 4, activation: 'relu', inputShape: [3] }), new Dense({ units: 1 })]);
      model.compile({ optimizer: new SGD({ learningRate: hp.choice('lr', [0.05, 0.03, 0.04, 0]) }), loss: 'mse' });
      return model;
    };
    const args = { hypermodel: rates, objective: 'val_loss', seed: 5, directory: dir, projectName: 'median' };
    const longer = { ...fitArgs, epochs: 4 };
    await new Tuner({ ...args, oracle: new GridSearch({ medianStopping: true }), maxTrials: 3 }).search(x, y, longer);
    const resumed = new Tuner({ ...args, oracle: new GridSearch({ medianStopping: true }), maxTrials: 4 });
    await resumed.search(x, y, longer);
    const whole = new Tuner({ hypermodel: rates, objective: 'val_loss', seed: 5, oracle: new GridSearch({ medianStopping: true }), maxTrials: 4 });
    await whole.search(x, y, longer);
    const shape = (t: Trial) => [t.hyperparameters.lr, t.curve!.length, t.stoppedEarly ?? false];
    expect(whole.trials.map(shape)).toEqual([[0.05, 4, false], [0.03, 4, false], [0.04, 4, false], [0, 1, true]]);
    expect(resumed.trials.map(shape)).toEqual(whole.trials.map(shape));
    expect(resumed.trials.map((t) => t.curve)).toEqual(whole.trials.map((t) => t.curve));
  });

  it('refuses a corrupt state file and leaves it untouched', async () => {
    await tuner('corrupt', 1).search(x, y, fitArgs);
    const path = join(dir, 'corrupt', 'state.json');
    writeFileSync(path, '{"format": "kerasm-search", "trials": [');
    await expect(tuner('corrupt', 3).search(x, y, fitArgs)).rejects.toThrow(/the state file .*state\.json is corrupt \(not valid JSON.*\); it was left untouched/);
    expect(readFileSync(path, 'utf8')).toBe('{"format": "kerasm-search", "trials": [');
    writeFileSync(path, JSON.stringify({ format: 'something-else' }));
    await expect(tuner('corrupt', 3).search(x, y, fitArgs)).rejects.toThrow(/is corrupt \(not a kerasm search state\)/);
  });

  it('refuses to resume with another oracle or objective, and starts over with overwrite', async () => {
    await tuner('other', 2).search(x, y, fitArgs);
    await expect(tuner('other', 3, { oracle: new GridSearch() }).search(x, y, fitArgs)).rejects.toThrow(/written by a RandomSearch search, not GridSearch/);
    await expect(tuner('other', 3, { objective: 'loss' }).search(x, y, fitArgs)).rejects.toThrow(/written for objectives val_loss \(min\), not loss \(min\)/);
    const fresh = tuner('other', 1, { overwrite: true });
    await fresh.search(x, y, fitArgs);
    expect(fresh.trials).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(dir, 'other', 'state.json'), 'utf8')).trials).toHaveLength(1);
    expect(existsSync(join(dir, 'other', 'trial_0001'))).toBe(false);
  });
});
