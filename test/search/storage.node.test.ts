// What a run interrupted between saving weights and writing state.json leaves in a project
// directory must never stop the project from loading: weights of trials that state.json does
// not keep, half-saved weights and half-written state files are removed when it is opened, and
// a kept trial whose weights are gone fails only when its model is asked for, and hasModel says so.

import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RandomSearch, Tuner } from '../../src/search/index.js';
import { fileStore } from '../../src/search/storage.js';
import { regressionData, regressor } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'kerasm-storage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const { x, y, fitArgs } = regressionData();

const tuner = (projectName: string, maxTrials: number) =>
  new Tuner({ hypermodel: regressor, oracle: new RandomSearch(), objective: 'val_loss', maxTrials, seed: 5, directory: dir, projectName, modelsToKeep: 2 });

const entries = (projectName: string) => readdirSync(join(dir, projectName)).sort();

describe('a project directory after an interrupted run', () => {
  it('loses weights no state keeps, half-saved weights and half-written state when opened', async () => {
    const first = tuner('stale', 2);
    await first.search(x, y, fitArgs);
    expect(entries('stale')).toEqual(['state.json', 'trial_0000', 'trial_0001']);
    const root = join(dir, 'stale');
    // Killed after saving trial 0002's weights, before state.json named it.
    cpSync(join(root, 'trial_0000'), join(root, 'trial_0002'), { recursive: true });
    // Killed while saving trial 0003's weights (model.json is written last).
    mkdirSync(join(root, 'trial_0003'));
    writeFileSync(join(root, 'trial_0003', 'weights.bin'), new Uint8Array(8));
    // Killed while writing state.json.
    writeFileSync(join(root, 'state.json.4242.tmp'), '{"format": "kerasm-se');

    const reopened = tuner('stale', 4);
    expect(await reopened.getBestModels(2)).toHaveLength(2);
    expect(entries('stale')).toEqual(['state.json', 'trial_0000', 'trial_0001']);

    // The resumed search runs trials 0002 and 0003 afresh, as one run of 4 trials would.
    await reopened.search(x, y, fitArgs);
    const whole = new Tuner({ hypermodel: regressor, oracle: new RandomSearch(), objective: 'val_loss', maxTrials: 4, seed: 5 });
    await whole.search(x, y, fitArgs);
    expect(reopened.trials.map((t) => [t.hyperparameters, t.score])).toEqual(whole.trials.map((t) => [t.hyperparameters, t.score]));
    expect(entries('stale')).toEqual(['state.json', ...reopened.getBestTrials(2).map((t) => `trial_${t.trialId}`).sort()]);
  });

  it('a project killed before its first state.json starts afresh', async () => {
    const root = join(dir, 'unborn');
    mkdirSync(join(root, 'trial_0000'), { recursive: true });
    writeFileSync(join(root, 'trial_0000', 'weights.bin'), new Uint8Array(8));
    const fresh = tuner('unborn', 1);
    expect(await fresh.getBestModels(1)).toEqual([]); // opens the project
    expect(entries('unborn')).toEqual([]);
    await fresh.search(x, y, fitArgs);
    expect(fresh.trials).toHaveLength(1);
    expect(entries('unborn')).toEqual(['state.json', 'trial_0000']);
    expect(readdirSync(join(root, 'trial_0000')).sort()).toEqual(['model.json', 'weights.bin']);
  });

  it('a kept trial whose weights are gone fails only when its model is asked for', async () => {
    const first = tuner('lost', 2);
    await first.search(x, y, fitArgs);
    const [best, runnerUp] = first.getBestTrials(2);
    // Its directory stays, with the weights but without model.json (which save() writes last).
    rmSync(join(dir, 'lost', `trial_${runnerUp.trialId}`, 'model.json'));

    const reopened = tuner('lost', 3);
    const [model] = await reopened.getBestModels(1);
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(
      (await first.getBestModels(1))[0].getWeights().map((w) => Array.from(w.dataSync())),
    );
    expect(reopened.getBestTrials(1)[0].trialId).toBe(best.trialId);
    expect([reopened.hasModel(best.trialId), reopened.hasModel(runnerUp.trialId)]).toEqual([true, false]);
    await expect(reopened.getBestModels(2)).rejects.toThrow(
      new RegExp(`the weights of trial ${runnerUp.trialId} are not in .*trial_${runnerUp.trialId}/model\\.json \\(deleted, or kept by a run with a smaller modelsToKeep\\)`),
    );
    // The search itself goes on.
    await reopened.search(x, y, fitArgs);
    expect(reopened.trials).toHaveLength(3);
  });
});

describe('fileStore', () => {
  it('deletes a model only once the next state is written, so state.json never keeps weights that are gone', async () => {
    const store = await fileStore(dir, 'deferred');
    const model = regressor(new RandomSearch().space);
    await store.saveModel('0000', model);
    await store.saveModel('0001', model);
    await store.deleteModel('0000');
    expect(entries('deferred')).toEqual(['trial_0000', 'trial_0001']);
    await store.writeState('{}');
    expect(entries('deferred')).toEqual(['state.json', 'trial_0001']);
    // Saving again before the state is written takes the deletion back.
    await store.deleteModel('0001');
    await store.saveModel('0001', model);
    await store.writeState('{}');
    expect(entries('deferred')).toEqual(['state.json', 'trial_0001']);
  });

  it('writes states in the order they were asked for, even when asked at once', async () => {
    const store = await fileStore(dir, 'concurrent');
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.writeState(`{"write": ${i}}`)));
    expect(await store.readState()).toBe('{"write": 19}');
    expect(entries('concurrent')).toEqual(['state.json']);
  });
});
