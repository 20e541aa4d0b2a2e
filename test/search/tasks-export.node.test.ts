// An AutoModel's exported model loads in TensorFlow.js (tfjs-layers 4.22, cpu backend) and in
// kerasm, and predicts what the searched model predicts, including the input normalization,
// which the export writes as layers tfjs has (a 1x1 DepthwiseConv2D for images, a diagonal
// Dense for tables).

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { io, loadModel, setRandomSeed, tensor, type Tensor } from '../../src/index.js';
import { ImageClassifier, StructuredDataClassifier } from '../../src/search/tasks/index.js';
import { Random } from '../../src/util/random.js';
import { saveToMemory } from '../io/helpers.js';

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  const scale = Math.max(...Array.from(expected, Math.abs), 1e-6);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i]) / scale, `index ${i}`).toBeLessThan(1e-4);
}

async function expectPortable(proba: Tensor, x: Tensor, exported: Awaited<ReturnType<ImageClassifier['exportModel']>>): Promise<void> {
  const artifacts = await saveToMemory(exported);
  const inTfjs = await tfl.loadLayersModel(tf.io.fromMemory(artifacts as unknown as tf.io.ModelArtifacts));
  const tfOut = inTfjs.predict(tf.tensor(Array.from(x.dataSync()), [...x.shape])) as tf.Tensor;
  expectClose(await tfOut.data(), proba.dataSync());
  const inKerasm = await loadModel(io.fromMemory(artifacts));
  expectClose((inKerasm.predict(x) as Tensor).dataSync(), proba.dataSync());
}

describe('exportModel', () => {
  it('a StructuredDataClassifier with normalized inputs exports to a model tfjs loads and predicts with', async () => {
    setRandomSeed(4);
    const rng = new Random(2);
    const rows = Array.from({ length: 200 }, () => [100 * rng.normal() + 50, 0.1 * rng.normal()]);
    const labels = rows.map(([a, b]) => ((a - 50) / 100 + 10 * b > 0 ? 'yes' : 'no'));
    const clf = new StructuredDataClassifier({ maxTrials: 1, seed: 2 });
    await clf.fit(rows, labels, { epochs: 3 });
    expect(clf.getBestHyperparameters().normalize).toBe(true);
    const x = tensor(rows.slice(0, 7));
    await expectPortable(clf.predictProba(x), x, clf.exportModel());
  });

  it('an ImageClassifier trained with augmentation and normalization exports without them and loads in tfjs', async () => {
    setRandomSeed(5);
    const rng = new Random(3);
    const n = 60;
    const images = Float32Array.from({ length: n * 6 * 6 * 2 }, () => rng.uniform());
    const labels = Array.from({ length: n }, (_, i) => i % 2);
    for (let i = 0; i < n; i++) images[i * 72] += 3 * labels[i];
    const x = tensor(images, [n, 6, 6, 2]);
    // Fixed values: augmentation and normalization on, a small net.
    const clf = new ImageClassifier({
      maxTrials: 1, seed: 1, warmStart: false, tuner: 'random',
      hyperparameters: { 'augment/translation': 0.1, normalize: true, 'conv/blocks': 1, 'dense/layers': 0 },
    });
    await clf.fit(x, labels, { epochs: 1, batchSize: 16 });
    const exported = clf.exportModel();
    expect(exported.layers.map((l) => l.className)).toContain('DepthwiseConv2D');
    expect(exported.layers.map((l) => l.className)).not.toContain('RandomTranslation');
    const sample = tensor(images.slice(0, 5 * 72), [5, 6, 6, 2]);
    await expectPortable(clf.predictProba(sample), sample, exported);
  });
});

describe('ensembleSize', () => {
  /** Points in 3 noisy classes, so that trials disagree on the validation data. */
  function table(n: number, seed: number) {
    const rng = new Random(seed);
    const rows: number[][] = [];
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const c = i % 3;
      rows.push([c + 1.2 * rng.normal(), (c === 1 ? 1 : 0) + 1.2 * rng.normal(), rng.normal()]);
      labels.push(c);
    }
    return { rows, labels };
  }

  it('averages the best trials that improve the validation score, and exports one model tfjs loads', async () => {
    setRandomSeed(6);
    const train = table(240, 1);
    const val = table(120, 2);
    const clf = new StructuredDataClassifier({ maxTrials: 5, seed: 2, tuner: 'random', ensembleSize: 3 });
    await clf.fit(train.rows, train.labels, { epochs: 4, batchSize: 32, validationData: [val.rows, val.labels] });
    const members = clf.getEnsembleHyperparameters();
    expect(members.length).toBeGreaterThan(1);
    expect(members[0]).toEqual(clf.getBestHyperparameters());
    // The members are among the 3 best trials, in ranking order, and their average is the model.
    const ranked = clf.tuner!.getBestTrials(3);
    const models = await clf.tuner!.getBestModels(3);
    const picked = members.map((m) => ranked.findIndex((t) => JSON.stringify(t.hyperparameters) === JSON.stringify(m)));
    expect(picked[0]).toBe(0);
    expect([...picked].sort()).toEqual(picked);
    const x = tensor(val.rows.slice(0, 9));
    const outputs = picked.map((i) => (models[i].predict(x) as Tensor).dataSync());
    const mean = outputs[0].map((_, k) => outputs.reduce((s, o) => s + o[k], 0) / outputs.length);
    expectClose(clf.predictProba(x).dataSync(), mean);
    // Greedy selection, redone here from the models' validation outputs: a trial joins when
    // the average's accuracy rises, or stays level with a lower cross-entropy.
    const probs = models.map((m) => (m.predict(tensor(val.rows)) as Tensor).dataSync());
    const scoreOf = (idx: number[]) => {
      let correct = 0;
      let loss = 0;
      val.labels.forEach((label, r) => {
        const p = [0, 1, 2].map((c) => idx.reduce((s, i) => s + probs[i][r * 3 + c], 0) / idx.length);
        if (p.indexOf(Math.max(...p)) === label) correct++;
        loss -= Math.log(p[label]);
      });
      return { accuracy: correct / val.labels.length, loss: loss / val.labels.length };
    };
    const greedy = [0];
    for (const i of [1, 2]) {
      const [now, next] = [scoreOf(greedy), scoreOf([...greedy, i])];
      if (next.accuracy > now.accuracy || (next.accuracy === now.accuracy && next.loss < now.loss)) greedy.push(i);
    }
    expect(picked).toEqual(greedy);
    expect(clf.evaluate(val.rows, val.labels).accuracy).toBeCloseTo(scoreOf(greedy).accuracy, 10);
    const exported = clf.exportModel();
    expect(exported.layers.filter((l) => l.className === 'Average')).toHaveLength(1);
    await expectPortable(clf.predictProba(x), x, exported);
  });

  it('a resumed search that kept fewer models makes a smaller ensemble instead of failing', async () => {
    setRandomSeed(6);
    const train = table(120, 1);
    const val = table(60, 2);
    const dir = mkdtempSync(join(tmpdir(), 'kerasm-ensemble-'));
    try {
      const first = new StructuredDataClassifier({ maxTrials: 3, seed: 2, tuner: 'random', directory: dir, overwrite: true });
      await first.fit(train.rows, train.labels, { epochs: 2, validationData: [val.rows, val.labels] });
      // Resumed with every trial done: only the best trial's weights were kept (ensembleSize 1).
      const again = new StructuredDataClassifier({ maxTrials: 3, seed: 2, tuner: 'random', directory: dir, ensembleSize: 3 });
      await again.fit(train.rows, train.labels, { epochs: 2, validationData: [val.rows, val.labels] });
      expect(again.tuner!.trials.map((t) => t.score)).toEqual(first.tuner!.trials.map((t) => t.score));
      const [best, second] = again.tuner!.getBestTrials(2);
      expect([again.tuner!.hasModel(best.trialId), again.tuner!.hasModel(second.trialId)]).toEqual([true, false]);
      expect(again.getEnsembleHyperparameters()).toEqual([again.getBestHyperparameters()]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the best model alone by default, and refuses a bad ensembleSize', async () => {
    setRandomSeed(6);
    const train = table(120, 1);
    const clf = new StructuredDataClassifier({ maxTrials: 2, seed: 3, tuner: 'random' });
    await clf.fit(train.rows, train.labels, { epochs: 1, refit: false });
    expect(clf.getEnsembleHyperparameters()).toEqual([clf.getBestHyperparameters()]);
    expect(clf.exportModel().layers.map((l) => l.className)).not.toContain('Average');
    expect(() => new StructuredDataClassifier({ ensembleSize: 0 })).toThrow(/StructuredDataClassifier: expected ensembleSize to be a positive integer, got 0/);
    // Before any trial: refit retrains one model, so it cannot make an ensemble.
    const ensemble = new StructuredDataClassifier({ maxTrials: 2, seed: 3, tuner: 'random', ensembleSize: 2 });
    await expect(ensemble.fit(train.rows, train.labels, { epochs: 1, refit: true })).rejects.toThrow(/StructuredDataClassifier.fit: expected refit: false with ensembleSize 2 .*got refit: true/);
    expect(ensemble.tuner).toBeNull();
    // Without validationData, ensembleSize above 1 turns the default refit off.
    const history = await ensemble.fit(train.rows, train.labels, { epochs: 1 });
    expect(history.epoch).toHaveLength(0); // no retraining after the search
    expect(ensemble.tuner!.trials).toHaveLength(2);
  });
});
