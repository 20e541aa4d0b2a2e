// A search with a directory in a browser keeps its project in IndexedDB: the state record in
// the database 'kerasm-search' and the kept models as indexeddb:// models. Resuming, a corrupt
// record, starting over (this project only), and what an interrupted run leaves behind.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, tensor, type Model } from '../../src/index.js';
import { indexedDBModelNames } from '../../src/io/handlers.js';
import { RandomSearch, Tuner, type HyperParameters, type HPValues } from '../../src/search/index.js';
import { indexedDBStore } from '../../src/search/storage_indexeddb.js';
import { regressionData, regressor } from './helpers.js';

const DIRECTORY = 'kerasm-storage-test';

const { x, y, fitArgs } = regressionData();

/** The shared regressor, recording the values of every model it builds. */
function recordingRegressor(built: HPValues[]) {
  return (hp: HyperParameters): Model => {
    const model = regressor(hp);
    built.push({ ...hp.values });
    return model;
  };
}

function tuner(projectName: string, maxTrials: number, built: HPValues[] = [], extra: Partial<ConstructorParameters<typeof Tuner>[0]> = {}): Tuner {
  return new Tuner({
    hypermodel: recordingRegressor(built), oracle: new RandomSearch(), objective: 'val_loss', maxTrials, seed: 5,
    directory: DIRECTORY, projectName, modelsToKeep: 2, ...extra,
  });
}

// The layout the TunerArgs doc promises, read and written here with IndexedDB itself.
function stateDatabase(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open('kerasm-search');
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function stateRecord(projectName: string, write?: unknown): Promise<{ project: string; state: unknown } | undefined> {
  const db = await stateDatabase();
  try {
    const tx = db.transaction('states', write === undefined ? 'readonly' : 'readwrite');
    const store = tx.objectStore('states');
    const project = `${DIRECTORY}/${projectName}`;
    if (write !== undefined) store.put({ project, state: write });
    const request = store.get(project);
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
    return request.result;
  } finally {
    db.close();
  }
}

const savedTrials = async (projectName: string) => (await indexedDBModelNames(`${DIRECTORY}/${projectName}/`)).map((n) => n.split('/').pop());

async function removeEverything(): Promise<void> {
  for (const name of ['resume', 'corrupt', 'project', 'project-b', 'stale', 'deferred']) await (await indexedDBStore(DIRECTORY, name)).clear();
  for (const name of await indexedDBModelNames(`${DIRECTORY}/`)) await io.removeModel(`indexeddb://${name}`);
}

beforeAll(removeEverything);
afterAll(removeEverything);

describe('search state in IndexedDB', () => {
  it('resumes without repeating trials, keeps only the best models, and loads them', async () => {
    const firstBuilt: HPValues[] = [];
    const first = tuner('resume', 3, firstBuilt);
    await first.search(x, y, fitArgs);
    const before = structuredClone(first.trials);
    expect(firstBuilt).toHaveLength(3);
    const record = await stateRecord('resume');
    expect(JSON.parse(record!.state as string).trials).toEqual(before);
    expect(await savedTrials('resume')).toEqual(first.getBestTrials(2).map((t) => `trial_${t.trialId}`).sort());

    const secondBuilt: HPValues[] = [];
    const second = tuner('resume', 5, secondBuilt);
    await second.search(x, y, fitArgs);
    expect(secondBuilt).toEqual(second.trials.slice(3).map((t) => t.hyperparameters));
    expect(second.trials.slice(0, 3)).toEqual(before);
    expect(second.trials).toHaveLength(5);

    // The same search run in one go gives the same trials: the resume changed nothing.
    const whole = new Tuner({ hypermodel: recordingRegressor([]), oracle: new RandomSearch(), objective: 'val_loss', maxTrials: 5, seed: 5 });
    await whole.search(x, y, fitArgs);
    expect(second.trials.map((t) => [t.hyperparameters, t.score])).toEqual(whole.trials.map((t) => [t.hyperparameters, t.score]));

    const best = second.getBestTrials(2);
    expect(await savedTrials('resume')).toEqual(best.map((t) => `trial_${t.trialId}`).sort());

    const thirdBuilt: HPValues[] = [];
    const third = tuner('resume', 5, thirdBuilt);
    await third.search(x, y, fitArgs);
    expect(thirdBuilt).toEqual([]); // nothing left to run
    const models = await third.getBestModels(2);
    const xVal = tensor(x.dataSync().slice(36 * 3), [12, 3]);
    const yVal = tensor(y.dataSync().slice(36), [12, 1]);
    models.forEach((m, i) => expect(m.evaluate(xVal, yVal, { batchSize: 12 }).loss).toBeCloseTo(best[i].score!, 4));
  });

  it('refuses a corrupt state record and leaves it and the kept models untouched', async () => {
    await tuner('corrupt', 1).search(x, y, fitArgs);
    const broken = '{"format": "kerasm-search", "trials": [';
    await stateRecord('corrupt', broken);
    await expect(tuner('corrupt', 3).search(x, y, fitArgs)).rejects.toThrow(
      /the state file IndexedDB record 'kerasm-storage-test\/corrupt' of database 'kerasm-search' is corrupt \(not valid JSON.*\); it was left untouched/,
    );
    expect((await stateRecord('corrupt'))!.state).toBe(broken);
    expect(await savedTrials('corrupt')).toEqual(['trial_0000']);

    await stateRecord('corrupt', { trials: [] });
    await expect(tuner('corrupt', 3).search(x, y, fitArgs)).rejects.toThrow(/is corrupt \(expected its 'state' to be text, got object\); it was left untouched/);
    expect((await stateRecord('corrupt'))!.state).toEqual({ trials: [] });
  });

  it('overwrite deletes this project and nothing else', async () => {
    await tuner('project', 3).search(x, y, fitArgs);
    await tuner('project-b', 1).search(x, y, fitArgs);
    // A model of the project 'trial_0000' in the directory '<directory>/project', whose name
    // starts with this project's names.
    const neighbour = `indexeddb://${DIRECTORY}/project/trial_0000/trial_0000`;
    const [model] = await tuner('project-b', 1).getBestModels(1);
    await model.save(neighbour);

    const fresh = tuner('project', 1, [], { overwrite: true });
    await fresh.search(x, y, fitArgs);
    expect(fresh.trials).toHaveLength(1);
    expect(JSON.parse((await stateRecord('project'))!.state as string).trials).toHaveLength(1);
    expect(await savedTrials('project')).toEqual(['trial_0000', 'trial_0000']);
    expect(JSON.parse((await stateRecord('project-b'))!.state as string).trials).toHaveLength(1);
    expect(await savedTrials('project-b')).toEqual(['trial_0000']);
    expect(await io.removeModel(neighbour)).toBe(true);
  });

  it('removes weights no state keeps when opened; a kept model that is gone fails only when asked for', async () => {
    const first = tuner('stale', 2);
    await first.search(x, y, fitArgs);
    const [best, runnerUp] = first.getBestTrials(2);
    expect(await savedTrials('stale')).toEqual(['trial_0000', 'trial_0001']);
    // What a run killed between saving a trial's weights and writing the state leaves behind.
    const [model] = await first.getBestModels(1);
    await model.save(`indexeddb://${DIRECTORY}/stale/trial_0002`);
    await tuner('stale', 2).search(x, y, fitArgs);
    expect(await savedTrials('stale')).toEqual(['trial_0000', 'trial_0001']);

    // Weights deleted behind the tuner's back: the state still loads, and so does every model
    // but that one.
    await io.removeModel(`indexeddb://${DIRECTORY}/stale/trial_${runnerUp.trialId}`);
    const reopened = tuner('stale', 2);
    const [again] = await reopened.getBestModels(1);
    expect(again.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(model.getWeights().map((w) => Array.from(w.dataSync())));
    expect(reopened.getBestTrials(1)[0].trialId).toBe(best.trialId);
    expect([reopened.hasModel(best.trialId), reopened.hasModel(runnerUp.trialId)]).toEqual([true, false]);
    await expect(reopened.getBestModels(2)).rejects.toThrow(
      `the weights of trial ${runnerUp.trialId} are not in indexeddb://${DIRECTORY}/stale/trial_${runnerUp.trialId} (deleted, or kept by a run with a smaller modelsToKeep)`,
    );
  });

  it('deletes a model only once the next state is written', async () => {
    const store = await indexedDBStore(DIRECTORY, 'deferred');
    const [model] = await tuner('stale', 2).getBestModels(1);
    await store.saveModel('0000', model);
    await store.saveModel('0001', model);
    await store.deleteModel('0000');
    expect(await savedTrials('deferred')).toEqual(['trial_0000', 'trial_0001']);
    await store.writeState('{}');
    expect(await savedTrials('deferred')).toEqual(['trial_0001']);
    await store.clear();
    expect(await savedTrials('deferred')).toEqual([]);
    expect(await store.readState()).toBeNull();
  });

  it('writes states in the order they were asked for, even when asked at once', async () => {
    const store = await indexedDBStore(DIRECTORY, 'deferred');
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.writeState(`{"write": ${i}}`)));
    expect(await store.readState()).toBe('{"write": 19}');
    await store.clear();
  });
});
