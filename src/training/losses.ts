// Losses, by Keras name. Each maps (yTrue, yPred) to one loss per sample ([N]); the training
// loop weights and averages them. All are built from ops, so their gradients come from the tape.

import { fail } from '../ops/check.js';
import * as ops from '../ops/index.js';
import { formatShape, tensor, type Tensor } from '../tensor.js';

export type LossFn = ((yTrue: Tensor, yPred: Tensor) => Tensor) & {
  lossName: string;
  /** Checks a whole target set once before training, so errors name the dataset's sample. */
  validateTargets?: (y: Tensor, outputShape: readonly (number | null)[]) => void;
};

const EPSILON = 1e-7; // Keras backend epsilon, used to clip probabilities

function named(name: string, f: (yTrue: Tensor, yPred: Tensor) => Tensor): LossFn {
  return Object.assign(f, { lossName: name });
}

/** The mean over every axis but the first, as a [N] tensor. */
function meanPerSample(x: Tensor): Tensor {
  return ops.mean(x.reshape([x.shape[0], -1]), { axis: 1 });
}

function sameShape(loss: string, yTrue: Tensor, yPred: Tensor): void {
  if (formatShape(yTrue.shape) !== formatShape(yPred.shape)) {
    fail(loss, `expected targets of shape ${formatShape(yPred.shape)} (the model's output), got ${formatShape(yTrue.shape)}`);
  }
}

function clipProbabilities(p: Tensor): Tensor {
  return ops.minimum(ops.maximum(p, tensor([EPSILON])), tensor([1 - EPSILON]));
}

/** Integer class labels from y of shape [N] or [N, 1] (float or int32). */
export function classLabels(loss: string, y: Tensor, classes: number): Tensor {
  const n = y.shape[0];
  if (!(y.rank === 1 || (y.rank === 2 && y.shape[1] === 1))) {
    fail(loss, `expected integer labels of shape [${n}] or [${n}, 1], got ${formatShape(y.shape)}`);
  }
  const values = y.dataSync();
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!(Number.isInteger(v) && v >= 0 && v < classes)) {
      fail(loss, `expected labels in [0, ${classes - 1}], got ${v} at index ${i}`);
    }
  }
  return y.dtype === 'int32' ? y.reshape([n]) : tensor(Int32Array.from(values), [n], 'int32');
}

export function categoricalCrossentropy(options: { fromLogits?: boolean; labelSmoothing?: number } = {}): LossFn {
  return named('categorical_crossentropy', (yTrue, yPred) => {
    sameShape('categorical_crossentropy', yTrue, yPred);
    const classes = yPred.shape[yPred.rank - 1];
    let targets = yTrue.reshape([-1, classes]);
    if (options.labelSmoothing) {
      const s = options.labelSmoothing;
      targets = ops.scaleShift(targets, 1 - s, s / classes);
    }
    const logits = yPred.reshape([-1, classes]);
    if (options.fromLogits) return ops.softmaxCrossEntropy(logits, targets).loss;
    const logp = ops.log(clipProbabilities(logits));
    return ops.neg(ops.sum(ops.mul(logp, targets), { axis: 1 }));
  });
}

export function sparseCategoricalCrossentropy(options: { fromLogits?: boolean } = {}): LossFn {
  const loss = named('sparse_categorical_crossentropy', (yTrue, yPred) => {
    if (yPred.rank !== 2) fail('sparse_categorical_crossentropy', `expected predictions of shape [N, classes], got ${formatShape(yPred.shape)}`);
    const [n, classes] = yPred.shape;
    const labels = classLabels('sparse_categorical_crossentropy', yTrue, classes);
    if (labels.shape[0] !== n) fail('sparse_categorical_crossentropy', `expected ${n} labels, got ${labels.shape[0]}`);
    if (options.fromLogits) return ops.sparseSoftmaxCrossEntropy(yPred, labels).loss;
    const ids = labels.dataSync();
    const oneHot = new Float32Array(n * classes);
    for (let i = 0; i < n; i++) oneHot[i * classes + ids[i]] = 1;
    const logp = ops.log(clipProbabilities(yPred));
    return ops.neg(ops.sum(ops.mul(logp, tensor(oneHot, [n, classes])), { axis: 1 }));
  });
  loss.validateTargets = (y, outputShape) => {
    const classes = outputShape[outputShape.length - 1];
    if (classes !== null) classLabels('sparse_categorical_crossentropy', y, classes);
  };
  return loss;
}

export function binaryCrossentropy(options: { fromLogits?: boolean } = {}): LossFn {
  return named('binary_crossentropy', (yTrue, yPred) => {
    sameShape('binary_crossentropy', yTrue, yPred);
    if (options.fromLogits) {
      // max(x, 0) - x * z + log(1 + exp(-|x|)), stable for any x.
      const terms = ops.add(ops.sub(ops.relu(yPred), ops.mul(yPred, yTrue)), ops.softplus(ops.neg(ops.abs(yPred))));
      return meanPerSample(terms);
    }
    const p = clipProbabilities(yPred);
    const oneMinus = (t: Tensor) => ops.scaleShift(t, -1, 1);
    const pos = ops.mul(yTrue, ops.log(p));
    const neg = ops.mul(oneMinus(yTrue), ops.log(oneMinus(p)));
    return ops.neg(meanPerSample(ops.add(pos, neg)));
  });
}

export const meanSquaredError = (): LossFn =>
  named('mean_squared_error', (yTrue, yPred) => {
    sameShape('mean_squared_error', yTrue, yPred);
    return meanPerSample(ops.squaredDifference(yPred, yTrue));
  });

export const meanAbsoluteError = (): LossFn =>
  named('mean_absolute_error', (yTrue, yPred) => {
    sameShape('mean_absolute_error', yTrue, yPred);
    return meanPerSample(ops.abs(ops.sub(yPred, yTrue)));
  });

/** 0.5 e^2 where |e| <= delta, else delta * (|e| - 0.5 delta). */
export function huber(options: { delta?: number } = {}): LossFn {
  const delta = options.delta ?? 1;
  return named('huber', (yTrue, yPred) => {
    sameShape('huber', yTrue, yPred);
    const a = ops.abs(ops.sub(yPred, yTrue));
    const q = ops.minimum(a, tensor([delta]));
    const quadratic = ops.scaleShift(ops.square(q), 0.5);
    const linear = ops.scaleShift(ops.sub(a, q), delta);
    return meanPerSample(ops.add(quadratic, linear));
  });
}

const LOSSES: Record<string, () => LossFn> = {
  categorical_crossentropy: () => categoricalCrossentropy(),
  sparse_categorical_crossentropy: () => sparseCategoricalCrossentropy(),
  binary_crossentropy: () => binaryCrossentropy(),
  mean_squared_error: meanSquaredError,
  mse: meanSquaredError,
  mean_absolute_error: meanAbsoluteError,
  mae: meanAbsoluteError,
  huber: () => huber(),
};

export type LossIdentifier =
  | 'categorical_crossentropy' | 'categoricalCrossentropy' | 'sparse_categorical_crossentropy'
  | 'sparseCategoricalCrossentropy' | 'binary_crossentropy' | 'binaryCrossentropy'
  | 'mean_squared_error' | 'meanSquaredError' | 'mse' | 'mean_absolute_error'
  | 'meanAbsoluteError' | 'mae' | 'huber';

/** camelCase to Keras snake_case. */
export function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

export function getLoss(spec: LossIdentifier | LossFn): LossFn {
  if (typeof spec === 'function') return spec;
  const factory = LOSSES[snakeCase(String(spec))];
  if (!factory) fail('compile', `unknown loss '${String(spec)}'; expected one of ${Object.keys(LOSSES).join(', ')} or a loss function`);
  return factory();
}
