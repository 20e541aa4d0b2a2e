// The search spaces of the AutoModel tasks: an image block (convolution blocks), a dense block,
// a head and the optimizer, each registering its hyperparameters as it builds.
//
// A task's hypermodel is a pure function of a JSON TaskConfig, so that a worker can rebuild it
// from the config alone (taskHyperModel is exported from the bundle for that reason).
//
// What must stay true:
// - Every hyperparameter is registered on every build, the inactive ones inside their
//   conditional scopes, so that the oracle sees the whole space from the first trial.
// - The same values always build the same architecture: the spatial guards below depend only on
//   the values and the input shape.
// - The warm-start values are complete: building them registers no value they lack.
// see: autokeras/blocks/basic.py (ConvBlock, DenseBlock), autokeras/tuners/task_specific.py
//      (the initial hyperparameters AutoKeras tries first)

import { Dense, Dropout, Flatten, Input, ActivationLayer } from '../../layers/core.js';
import { Conv2D, DepthwiseConv2D } from '../../layers/convolutional.js';
import type { SymbolicTensor } from '../../layers/layer.js';
import { Add } from '../../layers/merge.js';
import { BatchNormalization } from '../../layers/normalization.js';
import { AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D } from '../../layers/pooling.js';
import { Normalization, RandomRotation, RandomTranslation, RandomZoom } from '../../layers/preprocessing.js';
import { Model } from '../../models/model.js';
import { EarlyStopping, type History } from '../../training/callbacks.js';
import type { Data, FitArgs } from '../../training/fit.js';
import { Adam, cosineDecay, SGD, type Optimizer } from '../../training/optimizers.js';
import type { HPValues, HyperParameters } from '../hyperparameters.js';
import type { HyperModel } from '../tuner.js';

export type TaskName = 'image_classifier' | 'image_regressor' | 'structured_data_classifier' | 'structured_data_regressor';

/** Everything a task's hypermodel needs, as plain JSON. */
export interface TaskConfig {
  task: TaskName;
  /** One sample's shape: [height, width, channels] for images, [features] for tables. */
  inputShape: number[];
  /** Classes (classifiers) or regression targets. */
  outputUnits: number;
  /** Mean and variance of each feature (last axis) of the training data. */
  stats: { mean: number[]; variance: number[] };
  /** Epochs without improvement of val_loss before a trial stops (default DEFAULT_PATIENCE). */
  patience?: number;
  /** Optimizer steps of a whole training (epochs x batches per epoch), for 'cosine' decay. */
  decaySteps?: number;
  /** Values every trial uses, whatever the oracle proposes. */
  fixed?: HPValues;
  /**
   * For export: leave out layers that act only while training (the random augmentations), and put a
   * layer TensorFlow.js can load in place of Normalization (exportModel sets its weights).
   */
  inference?: boolean;
}

const isClassifier = (task: TaskName) => task.endsWith('classifier');

/** Conv blocks: filters, kernel size, convolutions, batch norm, residual, pooling, dropout. */
const MAX_CONV_BLOCKS = 3;
const MAX_DENSE_LAYERS = 3;

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Spatial size of a feature map, [height, width]. */
type Size = [number, number];

function convBlock(hp: HyperParameters, h: SymbolicTensor, size: Size, prefix: string, padding: 'valid' | 'same', build: boolean): [SymbolicTensor, Size] {
  const filters = hp.choice(`${prefix}/filters`, [16, 32, 64, 128], { default: 32 });
  const kernel = hp.choice(`${prefix}/kernel_size`, [3, 5], { default: 3 });
  const convs = hp.int(`${prefix}/convs`, { min: 1, max: 2, default: 1 });
  const batchNorm = hp.boolean(`${prefix}/batch_norm`);
  const residual = hp.boolean(`${prefix}/residual`);
  const pooling = hp.choice(`${prefix}/pooling`, ['max', 'avg', 'none'], { default: 'max' });
  const dropout = hp.choice(`${prefix}/dropout`, [0, 0.1, 0.25, 0.5], { default: 0 });
  if (!build) return [h, size];
  // A residual block keeps its size (the sum needs it); so does a map too small for valid.
  const shrink = (kernel - 1) * convs;
  const pad = residual || Math.min(...size) - shrink < 2 ? 'same' : padding;
  const input = h;
  for (let i = 0; i < convs; i++) {
    h = new Conv2D({ filters, kernelSize: kernel, padding: pad, useBias: !batchNorm, activation: batchNorm ? 'linear' : 'relu' }).apply(h);
    if (batchNorm) h = new ActivationLayer({ activation: 'relu' }).apply(new BatchNormalization().apply(h));
  }
  let out: Size = pad === 'same' ? size : [size[0] - shrink, size[1] - shrink];
  if (residual) {
    const channels = input.shape[input.shape.length - 1];
    const shortcut = channels === filters ? input : new Conv2D({ filters, kernelSize: 1, useBias: false }).apply(input);
    h = new Add().apply([h, shortcut]);
  }
  if (pooling !== 'none' && Math.min(...out) >= 2) {
    h = (pooling === 'max' ? new MaxPooling2D({ poolSize: 2 }) : new AveragePooling2D({ poolSize: 2 })).apply(h);
    out = [Math.floor(out[0] / 2), Math.floor(out[1] / 2)];
  }
  if (dropout > 0) h = new Dropout({ rate: dropout }).apply(h);
  return [h, out];
}

/**
 * Normalization with the training data's statistics; for export, the same per-feature affine
 * map as a 1x1 DepthwiseConv2D (images) or a Dense with a diagonal kernel (tables).
 */
function normalization(config: TaskConfig, h: SymbolicTensor): SymbolicTensor {
  if (!config.inference) return new Normalization({ mean: config.stats.mean, variance: config.stats.variance }).apply(h);
  if (config.task.startsWith('image')) return new DepthwiseConv2D({ kernelSize: 1 }).apply(h);
  return new Dense({ units: config.stats.mean.length }).apply(h);
}

function imageBlock(hp: HyperParameters, config: TaskConfig, h: SymbolicTensor): SymbolicTensor {
  // Augmentation: random shifts, rotations (a fraction of a full turn) and zooms while training.
  const translation = hp.choice('augment/translation', [0, 0.05, 0.1], { default: 0 });
  const rotation = hp.choice('augment/rotation', [0, 0.03, 0.06], { default: 0 });
  const zoom = hp.choice('augment/zoom', [0, 0.1, 0.2], { default: 0 });
  if (!config.inference) {
    if (rotation > 0) h = new RandomRotation({ factor: rotation, fillMode: 'constant' }).apply(h);
    if (zoom > 0) h = new RandomZoom({ heightFactor: zoom, fillMode: 'constant' }).apply(h);
    if (translation > 0) h = new RandomTranslation({ heightFactor: translation, widthFactor: translation, fillMode: 'constant' }).apply(h);
  }
  if (hp.boolean('normalize')) h = normalization(config, h);
  const padding = hp.choice('conv/padding', ['valid', 'same'], { default: 'valid' });
  const blocks = hp.int('conv/blocks', { min: 1, max: MAX_CONV_BLOCKS, default: 2 });
  let size: Size = [config.inputShape[0], config.inputShape[1]];
  for (let i = 0; i < MAX_CONV_BLOCKS; i++) {
    const block = () => convBlock(hp, h, size, `conv/block_${i}`, padding, i < blocks);
    [h, size] = i === 0 ? block() : hp.conditionalScope('conv/blocks', range(i + 1, MAX_CONV_BLOCKS), block);
  }
  const reduction = hp.choice('head/reduction', ['flatten', 'global_avg', 'global_max'], { default: 'flatten' });
  const reduce = reduction === 'flatten' ? new Flatten() : reduction === 'global_avg' ? new GlobalAveragePooling2D() : new GlobalMaxPooling2D();
  return reduce.apply(h);
}

function denseBlock(hp: HyperParameters, h: SymbolicTensor, minLayers: number, defaultLayers: number): SymbolicTensor {
  const layers = hp.int('dense/layers', { min: minLayers, max: MAX_DENSE_LAYERS, default: defaultLayers });
  const dropout = hp.choice('dense/dropout', [0, 0.25, 0.5], { default: 0.5 });
  const batchNorm = hp.boolean('dense/batch_norm');
  for (let i = 0; i < MAX_DENSE_LAYERS; i++) {
    const layer = () => {
      const units = hp.choice(`dense/layer_${i}/units`, [32, 64, 128, 256, 512], { default: 128 });
      if (i >= layers) return;
      h = new Dense({ units, useBias: !batchNorm, activation: batchNorm ? 'linear' : 'relu' }).apply(h);
      if (batchNorm) h = new ActivationLayer({ activation: 'relu' }).apply(new BatchNormalization().apply(h));
      if (dropout > 0) h = new Dropout({ rate: dropout }).apply(h);
    };
    if (i < minLayers) layer();
    else hp.conditionalScope('dense/layers', range(i + 1, MAX_DENSE_LAYERS), layer);
  }
  return h;
}

function optimizer(hp: HyperParameters, config: TaskConfig): Optimizer {
  const kind = hp.choice('optimizer', ['adam', 'sgd'], { default: 'adam' });
  const adamRate = hp.conditionalScope('optimizer', 'adam', () => hp.float('adam/learning_rate', { min: 1e-4, max: 1e-2, sampling: 'log', default: 1e-3 }));
  const sgdRate = hp.conditionalScope('optimizer', 'sgd', () => hp.float('sgd/learning_rate', { min: 1e-3, max: 0.3, sampling: 'log', default: 0.03 }));
  // 'cosine' lowers the rate to 0 over the whole training (all epochs of a trial).
  const schedule = hp.choice('lr_schedule', ['constant', 'cosine'], { default: 'constant' });
  const rate = kind === 'adam' ? adamRate : sgdRate;
  const learningRate = schedule === 'cosine' && config.decaySteps ? cosineDecay(rate, config.decaySteps) : rate;
  return kind === 'adam' ? new Adam({ learningRate }) : new SGD({ learningRate, momentum: 0.9 });
}

/**
 * Epochs without improvement of val_loss before a trial's training stops: AutoKeras's 10. With 3,
 * early stopping ended the two-convolution warm start of ImageClassifier's search at its 6th or
 * 10th best epoch in 2 of 5 benchmark seeds, while its cosine schedule still had a high rate.
 */
export const DEFAULT_PATIENCE = 10;

/** Builds and compiles the model of one trial. */
export function buildTaskModel(hp: HyperParameters, config: TaskConfig): Model {
  if (config.fixed) Object.assign(hp.values, config.fixed);
  const input = Input({ shape: config.inputShape });
  const image = config.task.startsWith('image');
  let h = image ? imageBlock(hp, config, input) : input;
  if (!image && hp.boolean('normalize', { default: true })) h = normalization(config, h);
  h = denseBlock(hp, h, image ? 0 : 1, image ? 1 : 2);
  const classifier = isClassifier(config.task);
  const output = new Dense({ units: config.outputUnits, activation: classifier ? 'softmax' : 'linear' }).apply(h);
  const model = new Model({ inputs: input, outputs: output, name: config.task });
  model.compile(classifier
    ? { optimizer: optimizer(hp, config), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] }
    : { optimizer: optimizer(hp, config), loss: 'mse', metrics: ['mae'] });
  return model;
}

/**
 * Architectures known to work, tried first. Image tasks start from the classic Keras MNIST
 * convnet (Conv 32, Conv 64, MaxPool, Dropout 0.25, Dense 128, Dropout 0.5; Adam 1e-3), then two
 * variants that train on augmented images with a cosine schedule: one with two convolutions
 * before each pooling, then a cheaper one that pools after each single convolution.
 * see: keras-io/examples/vision/mnist_convnet.py
 */
export function warmStartValues(task: TaskName): HPValues[] {
  if (task.startsWith('image')) {
    const classic: HPValues = {
      'augment/translation': 0, 'augment/rotation': 0, 'augment/zoom': 0, normalize: false, 'conv/padding': 'valid', 'conv/blocks': 2,
      'conv/block_0/filters': 32, 'conv/block_0/kernel_size': 3, 'conv/block_0/convs': 1, 'conv/block_0/batch_norm': false,
      'conv/block_0/residual': false, 'conv/block_0/pooling': 'none', 'conv/block_0/dropout': 0,
      'conv/block_1/filters': 64, 'conv/block_1/kernel_size': 3, 'conv/block_1/convs': 1, 'conv/block_1/batch_norm': false,
      'conv/block_1/residual': false, 'conv/block_1/pooling': 'max', 'conv/block_1/dropout': 0.25,
      'head/reduction': 'flatten', 'dense/layers': 1, 'dense/dropout': 0.5, 'dense/batch_norm': false, 'dense/layer_0/units': 128,
      optimizer: 'adam', 'adam/learning_rate': 1e-3, lr_schedule: 'constant',
    };
    // Pools before the second convolution (a quarter of the classic's arithmetic), with shifted,
    // turned and zoomed digits and a cosine schedule. Trained alone as a trial on 6,400 of 8,000
    // MNIST digits (20 epochs, seeds 1-4): 98.20-98.45% on the 2,000 held-out digits (mean 98.33%).
    const pooled: HPValues = {
      ...classic, 'augment/translation': 0.1, 'augment/rotation': 0.03, 'augment/zoom': 0.1,
      'conv/block_0/pooling': 'max', 'adam/learning_rate': 0.002, lr_schedule: 'cosine',
    };
    // Conv 32, Conv 32, MaxPool, Conv 64, Conv 64, MaxPool: about twice the pooled variant's time
    // per epoch, and better: 98.45-98.90% on the same digits (seeds 1, 2, 3, 5, 6; mean 98.68%).
    const deeper: HPValues = { ...pooled, 'conv/block_0/convs': 2, 'conv/block_1/convs': 2 };
    return [classic, deeper, pooled];
  }
  return [{
    normalize: true, 'dense/layers': 2, 'dense/dropout': 0.25, 'dense/batch_norm': false,
    'dense/layer_0/units': 64, 'dense/layer_1/units': 64, optimizer: 'adam', 'adam/learning_rate': 1e-3, lr_schedule: 'constant',
  }];
}

/**
 * The hypermodel of a task: builds from the hyperparameters, and trains with early stopping on
 * val_loss (the search's time budget stops its trials through the Tuner).
 * @example
 * ```ts
 * const hypermodel = taskHyperModel({ task: 'image_classifier', inputShape: [28, 28, 1], outputUnits: 10, stats });
 * const tuner = new Tuner({ hypermodel, oracle: new RandomSearch(), objective: 'val_accuracy', maxTrials: 5 });
 * ```
 */
export function taskHyperModel(config: TaskConfig): HyperModel {
  return {
    build: (hp) => buildTaskModel(hp, config),
    fit: (_hp: HyperParameters, model: Model, x: Data, y: Data, fitArgs: FitArgs): Promise<History> => {
      const callbacks = [...(fitArgs.callbacks ?? []), new EarlyStopping({ monitor: 'val_loss', patience: config.patience ?? DEFAULT_PATIENCE })];
      return model.fit(x, y, { ...fitArgs, callbacks });
    },
  };
}
