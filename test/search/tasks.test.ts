// AutoModel tasks on small learnable problems: they search, warm-start from the known-good
// architecture, answer in the labels they were given, export an inference model, and refuse
// data that does not fit the task.

import { describe, expect, it } from 'vitest';
import { ImageClassifier, ImageRegressor, StructuredDataClassifier, StructuredDataRegressor } from '../../src/search/tasks/index.js';
import { buildTaskModel, DEFAULT_PATIENCE, taskHyperModel, warmStartValues } from '../../src/search/tasks/hypermodel.js';
import type { FitArgs } from '../../src/training/fit.js';
import { HyperParameters } from '../../src/search/hyperparameters.js';
import { setRandomSeed } from '../../src/util/seed.js';
import { tensor, type Tensor } from '../../src/tensor.js';
import { Random } from '../../src/util/random.js';

/** 8x8 images with a bright horizontal bar (class 0), vertical bar (1) or a square (2), plus noise. */
function bars(n: number, seed: number): { x: Tensor; y: number[] } {
  const rng = new Random(seed);
  const x = new Float32Array(n * 64);
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = i % 3;
    const at = 1 + rng.int(6);
    for (let p = 0; p < 64; p++) x[i * 64 + p] = 0.2 * rng.uniform();
    for (let k = 0; k < 8; k++) {
      if (label === 0) x[i * 64 + at * 8 + k] = 1;
      if (label === 1) x[i * 64 + k * 8 + at] = 1;
    }
    if (label === 2) for (const [r, c] of [[at, at], [at, at - 1], [at - 1, at], [at - 1, at - 1]]) x[i * 64 + r * 8 + c] = 1;
    y.push(label);
  }
  return { x: tensor(x, [n, 8, 8]), y };
}

function accuracy(predicted: unknown[], expected: unknown[]): number {
  return predicted.filter((p, i) => p === expected[i]).length / expected.length;
}

describe('ImageClassifier', () => {
  it('searches, starts from the Keras MNIST convnet, and predicts the labels it was given', async () => {
    setRandomSeed(1);
    const train = bars(240, 1);
    const test = bars(60, 2);
    const names = ['horizontal', 'vertical', 'square'];
    const clf = new ImageClassifier({ maxTrials: 4, seed: 3, tuner: 'random' });
    await clf.fit(train.x, train.y.map((l) => names[l]), { epochs: 3, batchSize: 16 });
    const tuner = clf.tuner!;
    expect(tuner.trials).toHaveLength(4);
    // The first trials are the warm-start architectures, value for value.
    const [classic, deeper, pooled] = warmStartValues('image_classifier');
    expect(tuner.trials[0].hyperparameters).toEqual(classic);
    expect(tuner.trials[1].hyperparameters).toEqual(deeper);
    expect(tuner.trials[2].hyperparameters).toEqual(pooled);
    expect([classic, deeper, pooled]).not.toContainEqual(tuner.trials[3].hyperparameters);
    expect(clf.classes).toEqual(['horizontal', 'square', 'vertical']);
    const predicted = clf.predict(test.x) as string[];
    expect(accuracy(predicted, test.y.map((l) => names[l]))).toBeGreaterThan(0.9);
    const logs = clf.evaluate(test.x, test.y.map((l) => names[l]));
    expect(logs.accuracy).toBeGreaterThan(0.9);
    expect(clf.predictProba(test.x).shape).toEqual([60, 3]);

    // The exported model drops the augmentation layers and predicts what the final model predicts.
    const exported = clf.exportModel();
    expect(exported.layers.some((l) => l.augmentation)).toBe(false);
    const images = test.x.reshape([60, 8, 8, 1]);
    expect(Array.from((exported.predict(images) as Tensor).dataSync())).toEqual(Array.from(clf.predictProba(test.x).dataSync()));
  });

  it('exports without its augmentation layers, predicting what the trained model predicts', async () => {
    setRandomSeed(2);
    const train = bars(60, 3);
    const augment = { 'augment/translation': 0.1, 'augment/rotation': 0.06, 'augment/zoom': 0.1 };
    const clf = new ImageClassifier({ maxTrials: 1, seed: 1, tuner: 'random', hyperparameters: augment });
    await clf.fit(train.x, train.y, { epochs: 1, batchSize: 16, refit: false });
    const [trained] = await clf.tuner!.getBestModels(1); // the final model, without a refit
    const augmentations = trained.layers.filter((l) => l.augmentation).map((l) => l.className);
    expect(augmentations.sort()).toEqual(['RandomRotation', 'RandomTranslation', 'RandomZoom']);
    const exported = clf.exportModel();
    expect(exported.layers.filter((l) => l.augmentation)).toEqual([]);
    expect(exported.layers).toHaveLength(trained.layers.length - 3);
    const images = train.x.reshape([60, 8, 8, 1]);
    expect(Array.from((exported.predict(images) as Tensor).dataSync())).toEqual(Array.from((trained.predict(images) as Tensor).dataSync()));
  });

  it('refuses data that does not fit the task, before any trial', async () => {
    const clf = new ImageClassifier({ maxTrials: 1 });
    await expect(clf.fit(tensor(new Float32Array(20), [4, 5]), [0, 1, 0, 1])).rejects.toThrow(/ImageClassifier: expected images of shape \[samples, height, width\] or \[samples, height, width, channels\], got \[4, 5\]/);
    const { x, y } = bars(12, 1);
    await expect(clf.fit(x, y.slice(1))).rejects.toThrow(/expected as many labels as samples \(12\), got 11/);
    await expect(clf.fit(x, y.map(() => 7))).rejects.toThrow(/expected at least 2 classes, got 1/);
    const bad = new Float32Array(x.dataSync()); bad[5] = NaN;
    await expect(clf.fit(tensor(bad, x.shape), y)).rejects.toThrow(/expected finite inputs, found NaN at flat index 5/);
    await expect(clf.fit(x, tensor([[0.5, 0.5, 0], ...y.slice(1).map(() => [1, 0, 0])]))).rejects.toThrow(/expected one-hot rows \(one 1, the rest 0\), got \[0.5, 0.5, 0\] at sample 0/);
    await expect(clf.fit(x, y, { timeBudget: 0 })).rejects.toThrow(/expected timeBudget > 0 seconds, got 0/);
    await expect(clf.fit(x, y, { validationSplit: 1 })).rejects.toThrow(/expected validationSplit in \(0, 1\), got 1/);
    expect(() => new ImageClassifier({ tuner: 'annealing' as never })).toThrow(/ImageClassifier: expected tuner one of random, grid, bayesian, hyperband, asha, evolution or an Oracle, got 'annealing'/);
    expect(() => new ImageClassifier({ tuner: {} as never })).toThrow(/expected tuner one of .* or an Oracle, got Object/);
    expect(() => new ImageClassifier({ maxTrials: 0 })).toThrow(/expected maxTrials to be a positive integer, got 0/);
    expect(() => clf.predict(x)).toThrow(/ImageClassifier.predict: expected fit\(\) to have run first/);
    expect(clf.tuner).toBeNull();
  });
});

describe('the task hypermodel', () => {
  it("'cosine' lowers the learning rate to 0 over decaySteps; 'constant' keeps it", () => {
    const config = { task: 'image_classifier' as const, inputShape: [8, 8, 1], outputUnits: 3, stats: { mean: [0], variance: [1] }, decaySteps: 100 };
    const rateAt = (schedule: string, step: number) => {
      const model = buildTaskModel(new HyperParameters({ ...warmStartValues('image_classifier')[0], lr_schedule: schedule, 'adam/learning_rate': 0.002 }), config);
      model.optimizer!.iterations = step;
      return model.optimizer!.learningRate;
    };
    expect(rateAt('cosine', 0)).toBeCloseTo(0.002, 9);
    expect(rateAt('cosine', 50)).toBeCloseTo(0.001, 9);
    expect(rateAt('cosine', 100)).toBeCloseTo(0, 9);
    expect(rateAt('constant', 100)).toBeCloseTo(0.002, 9);
  });

  it('stops a trial after 10 epochs without a better val_loss by default (AutoKeras), or after config.patience', async () => {
    const config = { task: 'image_classifier' as const, inputShape: [8, 8, 1], outputUnits: 3, stats: { mean: [0], variance: [1] } };
    /** The epoch after which training stopped, for a val_loss that is best at epoch 0. */
    const stopsAfter = async (patience?: number) => {
      const hypermodel = taskHyperModel(patience === undefined ? config : { ...config, patience });
      // A model stand-in that runs the callbacks the hypermodel adds, over 30 epochs.
      const model = {
        stopTraining: false,
        async fit(_x: unknown, _y: unknown, args: FitArgs) {
          const callbacks = args.callbacks ?? [];
          callbacks.forEach((c) => { c.setModel(model as never); c.onTrainBegin(); });
          for (let epoch = 0; epoch < 30; epoch++) {
            callbacks.forEach((c) => c.onEpochEnd(epoch, { val_loss: epoch === 0 ? 1 : 2 }));
            if (model.stopTraining) return epoch;
          }
          return null;
        },
      };
      return hypermodel.fit!(new HyperParameters(), model as never, [], [], { epochs: 30 }) as unknown as number | null;
    };
    expect(DEFAULT_PATIENCE).toBe(10);
    expect(await stopsAfter()).toBe(10);
    expect(await stopsAfter(3)).toBe(3);
  });

  it('builds the Keras MNIST convnet from the first warm-start values', () => {
    const config = { task: 'image_classifier' as const, inputShape: [28, 28, 1], outputUnits: 10, stats: { mean: [0], variance: [1] } };
    const model = buildTaskModel(new HyperParameters(warmStartValues('image_classifier')[0]), config);
    expect(model.layers.map((l) => l.className)).toEqual(['InputLayer', 'Conv2D', 'Conv2D', 'MaxPooling2D', 'Dropout', 'Flatten', 'Dense', 'Dropout', 'Dense']);
    expect(model.countParams()).toBe(1_199_882);
  });
});

describe('StructuredDataClassifier and regressors', () => {
  /** Two features on very different scales; the class is which side of a line a point is on. */
  function table(n: number, seed: number) {
    const rng = new Random(seed);
    const rows: number[][] = [];
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const a = rng.normal();
      const b = rng.normal();
      rows.push([1000 * a + 5000, 0.01 * b, rng.normal()]);
      labels.push(a + b > 0 ? 1 : 0);
    }
    return { rows, labels };
  }

  it('StructuredDataClassifier normalizes the features and learns the boundary', async () => {
    setRandomSeed(2);
    const train = table(400, 1);
    const test = table(100, 2);
    const clf = new StructuredDataClassifier({ maxTrials: 2, seed: 1 });
    await clf.fit(train.rows, train.labels, { epochs: 15, batchSize: 32 });
    expect(accuracy(clf.predict(test.rows) as number[], test.labels)).toBeGreaterThan(0.9);
    // evaluate refuses labels it never saw.
    expect(() => clf.evaluate(test.rows.slice(0, 2), [0, 5])).toThrow(/expected labels among the classes seen in fit\(\) \(0, 1\), got 5 at sample 1/);
    await expect(clf.fit([[1, 2, 3]], [0])).rejects.toThrow();
    await expect(new StructuredDataClassifier().fit(tensor(new Float32Array(8), [2, 2, 2]), [0, 1])).rejects.toThrow(/expected a table of numeric features of shape \[samples, features\], got \[2, 2, 2\]/);
    // A trialTimeout no trial can meet: every trial stops at its first batch and fails, and fit says why.
    const hurried = new StructuredDataClassifier({ maxTrials: 2, seed: 1, trialTimeout: 1e-6 });
    await expect(hurried.fit(train.rows, train.labels, { epochs: 3 })).rejects.toThrow(/no trial completed; trial 0000: failed \(the trial ran past trialTimeout 0.000001 s: training stopped after batch 0 of epoch 0\)/);
  });

  it('StructuredDataRegressor and ImageRegressor fit numeric targets, scored by val_loss', async () => {
    setRandomSeed(3);
    const rng = new Random(4);
    const rows = Array.from({ length: 300 }, () => [rng.normal(), rng.normal()]);
    const targets = rows.map(([a, b]) => 2 * a - b + 1);
    const reg = new StructuredDataRegressor({ maxTrials: 1, seed: 1 });
    // Without refit the final model is the best trial's, with the weights of its best epoch.
    const history = await reg.fit(rows, targets, { epochs: 20, batchSize: 16, refit: false });
    expect(history.epoch).toEqual([]);
    expect(reg.tuner!.objectives[0]).toEqual({ name: 'val_loss', direction: 'min' });
    const predicted = (reg.predict(rows.slice(0, 50)) as Tensor).dataSync();
    const mse = targets.slice(0, 50).reduce((s, t, i) => s + (t - predicted[i]) ** 2, 0) / 50;
    expect(mse).toBeLessThan(0.2 * 5); // the targets' variance is 5

    const { x } = bars(90, 5);
    const brightness = Array.from({ length: 90 }, (_, i) => x.dataSync().subarray(i * 64, (i + 1) * 64).reduce((a, b) => a + b, 0) / 64);
    const ireg = new ImageRegressor({ maxTrials: 1, seed: 1 });
    await ireg.fit(x, brightness, { epochs: 2, batchSize: 16 });
    expect((ireg.predict(x) as Tensor).shape).toEqual([90, 1]);
    expect(ireg.evaluate(x, brightness)).toHaveProperty('mae');
  });
});
