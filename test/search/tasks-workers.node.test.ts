// An AutoModel task with its trials in worker_threads: the workers rebuild the task's
// hypermodel from its JSON config through the bundle's own export (taskHyperModel), and the
// search ends with the same bookkeeping as on one thread. Needs `npm run build`.

import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ImageClassifier } from '../../src/search/tasks/index.js';
import { tensor, type Tensor } from '../../src/tensor.js';
import { Random } from '../../src/util/random.js';
import { setRandomSeed } from '../../src/util/seed.js';

const BUNDLE = new URL('../../dist/kerasm.js', import.meta.url);

/** 8x8 images: a bright row (class 'row') or column ('column'), as tensors of `make`'s kerasm. */
function lines(n: number, seed: number, make: typeof tensor = tensor) {
  const rng = new Random(seed);
  const x = new Float32Array(n * 64);
  const y: string[] = [];
  for (let i = 0; i < n; i++) {
    const at = rng.int(8);
    for (let p = 0; p < 64; p++) x[i * 64 + p] = 0.1 * rng.uniform();
    for (let k = 0; k < 8; k++) x[i * 64 + (i % 2 ? k * 8 + at : at * 8 + k)] = 1;
    y.push(i % 2 ? 'column' : 'row');
  }
  return { x: make(x, [n, 8, 8, 1]), y };
}

describe('ImageClassifier with workers', () => {
  it('runs its trials in 2 worker_threads and predicts', async () => {
    expect(existsSync(fileURLToPath(BUNDLE)), 'dist/kerasm.js: run npm run build').toBe(true);
    setRandomSeed(1);
    const train = lines(160, 1);
    const clf = new ImageClassifier({ maxTrials: 4, seed: 2, workers: 2, workerScript: BUNDLE, verbose: 0 });
    await clf.fit(train.x, train.y, { epochs: 2, batchSize: 16 });
    const tuner = clf.tuner!;
    expect(tuner.workerStats?.workers).toBe(2);
    expect(tuner.workerStats?.started).toBeGreaterThanOrEqual(2);
    expect(tuner.trials.map((t) => t.trialId).sort()).toEqual(['0000', '0001', '0002', '0003']);
    expect(tuner.trials.filter((t) => t.status === 'completed').length).toBeGreaterThanOrEqual(3);
    const test = lines(40, 2);
    const predicted = clf.predict(test.x) as string[];
    expect(predicted.filter((p, i) => p === test.y[i]).length / 40).toBeGreaterThan(0.9);
  }, 240_000);

  it('averages models trained in workers (ensembleSize), and exports the average', async () => {
    // Through the bundle, as a user runs it: the trials' models are rebuilt on this thread by the
    // bundle's own hypermodel, which must be the copy of kerasm the classifier comes from.
    const bundled = await import(BUNDLE.href) as typeof import('../../src/index.js');
    bundled.setRandomSeed(1);
    const train = lines(160, 3, bundled.tensor);
    const clf = new bundled.ImageClassifier({ maxTrials: 4, seed: 4, workers: 2, verbose: 0, ensembleSize: 3 });
    await clf.fit(train.x, train.y, { epochs: 2, batchSize: 16 });
    const members = clf.getEnsembleHyperparameters();
    expect(members.length).toBeGreaterThan(1);
    const test = lines(40, 4, bundled.tensor);
    const proba = clf.predictProba(test.x).dataSync();
    const exported = clf.exportModel();
    expect(exported.layers.filter((l) => l.className === 'Average')).toHaveLength(1);
    const again = (exported.predict(test.x) as Tensor).dataSync();
    for (let i = 0; i < proba.length; i++) expect(again[i]).toBeCloseTo(proba[i], 5);
    const predicted = clf.predict(test.x) as string[];
    expect(predicted.filter((p, i) => p === test.y[i]).length / 40).toBeGreaterThan(0.9);
  }, 240_000);
});
