// An AutoModel's exported model loads in TensorFlow.js (tfjs-layers 4.22, cpu backend) and in
// kerasm, and predicts what the searched model predicts, including the input normalization,
// which the export writes as layers tfjs has (a 1x1 DepthwiseConv2D for images, a diagonal
// Dense for tables).

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
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
