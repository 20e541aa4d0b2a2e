// kerasm against tfjs-layers 4.22 (cpu backend): the same architectures with the same weights
// must give the same predictions, the same loss, and the same weights after one SGD step and
// after one Adam step on the same batch. Weights are copied layer by layer from kerasm to tfjs
// (tfjs's model-level weight order puts every non-trainable weight last; a layer's own order
// is the same as kerasm's and Keras's).
//
// Notes on matching the two libraries:
// - tfjs's LSTM and GRU default to a hard sigmoid gate; Keras 3 and kerasm use the sigmoid, so
//   the tfjs layers are given recurrentActivation 'sigmoid'.
// - tfjs's GRU only implements resetAfter false, so GRUs here use that form.
// - Adam: Keras (and kerasm) fold the bias corrections into the step size and add epsilon to
//   sqrt(v); tfjs adds epsilon to sqrt(v / (1 - beta2^t)). The updates agree when tfjs's
//   epsilon is Keras's divided by sqrt(1 - beta2^t): at the first step, / sqrt(1 - beta2).
//   (tf.train.adam's default epsilon is the backend's, 1e-7 on cpu, Keras's default too; both
//   are set explicitly here.)
// - tfjs-backend-cpu's average pooling gradient is wrong with 'same' padding: see the block at
//   the end of the file.

import { createRequire } from 'node:module';
import type * as TF from '@tensorflow/tfjs-core';
import type * as TFL from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Adam, AveragePooling2D, BatchNormalization, Bidirectional, Concatenate, Conv2D, Dense, Embedding,
  Flatten, GRU, Input, LayerNormalization, LSTM, MaxPooling2D, Model, SGD, SimpleRNN, UpSampling2D,
  ZeroPadding2D, ops, setRandomSeed, tensor, valueAndGrads, type Tensor,
} from '../../src/index.js';
import { Random } from '../../src/util/random.js';

// tfjs is loaded through its CommonJS bundles: one file each, which Node loads in a fraction of
// a second, where the ES module builds are thousands of files (ten seconds here).
const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs-core') as typeof TF;
require('@tensorflow/tfjs-backend-cpu');
const tfl = require('@tensorflow/tfjs-layers') as typeof TFL;

const BATCH = 4;
const SGD_LR = 0.1;
const ADAM_LR = 0.01;
const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-7;

/** Relative tolerance of predictions, losses and weights. */
const RELATIVE = 1e-4;
/**
 * Relative tolerance of the one-step weight changes, which are small differences of float32
 * weights (the change of a weight near 1 by lr * g keeps ~7 - log10(1 / (lr * g)) digits).
 */
const CHANGE_RELATIVE = 2e-3;

interface Case {
  name: string;
  /** Input shape per sample, for each input. */
  inputs: number[][];
  /** Integer inputs in [0, n) rather than floats in [-1, 1). */
  ids?: number;
  kerasm: (inputs: ReturnType<typeof Input>[]) => ReturnType<typeof Input>;
  tfjs: (inputs: TFL.SymbolicTensor[]) => TFL.SymbolicTensor;
  /** Also compare inference predictions after the SGD step (updated moving statistics). */
  hasBatchStatistics?: boolean;
}

/**
 * Arguments of every tfjs recurrent layer here: Keras 3's gate activation, and a recurrent
 * initializer other than the default orthogonal one, whose code needs tfjs's chained tensor
 * methods, which the CommonJS bundle of tfjs-core does not install. (Weights are overwritten
 * with kerasm's anyway.)
 */
const tfRnn = { recurrentActivation: 'sigmoid', recurrentInitializer: 'glorotUniform' } as const;

const CASES: Case[] = [
  {
    name: 'Dense',
    inputs: [[6]],
    kerasm: ([x]) => new Dense({ units: 3 }).apply(new Dense({ units: 5, activation: 'relu' }).apply(x)),
    tfjs: ([x]) => tfl.layers.dense({ units: 3 }).apply(tfl.layers.dense({ units: 5, activation: 'relu' }).apply(x)) as TFL.SymbolicTensor,
  },
  {
    name: 'Conv2D (same, strides 2) and Conv2D (valid, strides 2)',
    inputs: [[9, 8, 2]],
    kerasm: ([x]) => {
      const a = new Conv2D({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' }).apply(x);
      const b = new Conv2D({ filters: 3, kernelSize: [3, 2], strides: 2, padding: 'valid' }).apply(a);
      return new Dense({ units: 2 }).apply(new Flatten().apply(b));
    },
    tfjs: ([x]) => {
      const a = tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' }).apply(x);
      const b = tfl.layers.conv2d({ filters: 3, kernelSize: [3, 2], strides: 2, padding: 'valid' }).apply(a);
      return tfl.layers.dense({ units: 2 }).apply(tfl.layers.flatten().apply(b)) as TFL.SymbolicTensor;
    },
  },
  {
    // AveragePooling2D with 'same' padding is left out here: see the block at the end.
    name: 'MaxPooling2D (valid and same) and AveragePooling2D (valid)',
    inputs: [[8, 7, 2]],
    kerasm: ([x]) => {
      let y = new Conv2D({ filters: 3, kernelSize: 2, padding: 'same' }).apply(x);
      y = new MaxPooling2D({ poolSize: 2 }).apply(y);
      y = new AveragePooling2D({ poolSize: [2, 1], strides: 1 }).apply(y);
      y = new MaxPooling2D({ poolSize: 3, strides: 2, padding: 'same' }).apply(y);
      return new Dense({ units: 2 }).apply(new Flatten().apply(y));
    },
    tfjs: ([x]) => {
      let y = tfl.layers.conv2d({ filters: 3, kernelSize: 2, padding: 'same' }).apply(x);
      y = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(y);
      y = tfl.layers.averagePooling2d({ poolSize: [2, 1], strides: 1 }).apply(y);
      y = tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(y);
      return tfl.layers.dense({ units: 2 }).apply(tfl.layers.flatten().apply(y)) as TFL.SymbolicTensor;
    },
  },
  {
    name: 'BatchNormalization',
    inputs: [[5, 5, 3]],
    hasBatchStatistics: true,
    kerasm: ([x]) => {
      // No bias before the normalization: batch statistics cancel it, so its gradient is
      // rounding noise, which Adam's first step would blow up to a full step.
      const y = new BatchNormalization({ momentum: 0.8 }).apply(new Conv2D({ filters: 4, kernelSize: 3, useBias: false }).apply(x));
      return new Dense({ units: 2 }).apply(new Flatten().apply(y));
    },
    tfjs: ([x]) => {
      const y = tfl.layers.batchNormalization({ momentum: 0.8 }).apply(tfl.layers.conv2d({ filters: 4, kernelSize: 3, useBias: false }).apply(x));
      return tfl.layers.dense({ units: 2 }).apply(tfl.layers.flatten().apply(y)) as TFL.SymbolicTensor;
    },
  },
  {
    name: 'LSTM',
    inputs: [[6, 3]],
    kerasm: ([x]) => new LSTM({ units: 3 }).apply(new LSTM({ units: 4, returnSequences: true, goBackwards: true }).apply(x)),
    tfjs: ([x]) => tfl.layers.lstm({ units: 3, ...tfRnn }).apply(
      tfl.layers.lstm({ units: 4, returnSequences: true, goBackwards: true, ...tfRnn }).apply(x),
    ) as TFL.SymbolicTensor,
  },
  {
    name: 'GRU (resetAfter false)',
    inputs: [[6, 3]],
    kerasm: ([x]) => new GRU({ units: 3, resetAfter: false }).apply(new GRU({ units: 4, returnSequences: true, resetAfter: false }).apply(x)),
    tfjs: ([x]) => tfl.layers.gru({ units: 3, ...tfRnn }).apply(
      tfl.layers.gru({ units: 4, returnSequences: true, ...tfRnn }).apply(x),
    ) as TFL.SymbolicTensor,
  },
  {
    name: 'SimpleRNN',
    inputs: [[6, 3]],
    kerasm: ([x]) => new Dense({ units: 2 }).apply(new SimpleRNN({ units: 4, goBackwards: true }).apply(new SimpleRNN({ units: 5, returnSequences: true }).apply(x))),
    tfjs: ([x]) => tfl.layers.dense({ units: 2 }).apply(tfl.layers.simpleRNN({ units: 4, goBackwards: true, ...tfRnn }).apply(
      tfl.layers.simpleRNN({ units: 5, returnSequences: true, ...tfRnn }).apply(x),
    )) as TFL.SymbolicTensor,
  },
  {
    name: 'Embedding',
    inputs: [[5]],
    ids: 7,
    kerasm: ([x]) => new Dense({ units: 2 }).apply(new Flatten().apply(new Embedding({ inputDim: 7, outputDim: 3 }).apply(x))),
    tfjs: ([x]) => tfl.layers.dense({ units: 2 }).apply(tfl.layers.flatten().apply(
      tfl.layers.embedding({ inputDim: 7, outputDim: 3 }).apply(x),
    )) as TFL.SymbolicTensor,
  },
  {
    name: 'Bidirectional LSTM (concat) and Bidirectional GRU (ave)',
    inputs: [[5, 3]],
    kerasm: ([x]) => {
      const y = new Bidirectional({ layer: new LSTM({ units: 3, returnSequences: true }) }).apply(x);
      return new Bidirectional({ layer: new GRU({ units: 2, resetAfter: false }), mergeMode: 'ave' }).apply(y);
    },
    tfjs: ([x]) => {
      const y = tfl.layers.bidirectional({ layer: tfl.layers.lstm({ units: 3, returnSequences: true, ...tfRnn }) as TFL.RNN }).apply(x);
      return tfl.layers.bidirectional({ layer: tfl.layers.gru({ units: 2, ...tfRnn }) as TFL.RNN, mergeMode: 'ave' }).apply(y) as TFL.SymbolicTensor;
    },
  },
  {
    name: 'LayerNormalization and Concatenate',
    inputs: [[4, 3], [4, 2]],
    kerasm: ([a, b]) => {
      const y = new LayerNormalization({ epsilon: 1e-3 }).apply(new Concatenate().apply([a, b]));
      return new Dense({ units: 2 }).apply(new Flatten().apply(new Concatenate({ axis: 1 }).apply([y, y])));
    },
    tfjs: ([a, b]) => {
      const y = tfl.layers.layerNormalization({ epsilon: 1e-3 }).apply(tfl.layers.concatenate().apply([a, b]));
      return tfl.layers.dense({ units: 2 }).apply(tfl.layers.flatten().apply(tfl.layers.concatenate({ axis: 1 }).apply([y, y] as TFL.SymbolicTensor[]))) as TFL.SymbolicTensor;
    },
  },
  {
    name: 'ZeroPadding2D and UpSampling2D',
    inputs: [[3, 4, 2]],
    kerasm: ([x]) => {
      const y = new UpSampling2D({ size: [2, 3] }).apply(new ZeroPadding2D({ padding: [[1, 0], [2, 1]] }).apply(x));
      return new Dense({ units: 2 }).apply(new Flatten().apply(new Conv2D({ filters: 2, kernelSize: 3, strides: 2 }).apply(y)));
    },
    tfjs: ([x]) => {
      const y = tfl.layers.upSampling2d({ size: [2, 3] }).apply(tfl.layers.zeroPadding2d({ padding: [[1, 0], [2, 1]] }).apply(x));
      return tfl.layers.dense({ units: 2 }).apply(tfl.layers.flatten().apply(tfl.layers.conv2d({ filters: 2, kernelSize: 3, strides: 2 }).apply(y))) as TFL.SymbolicTensor;
    },
  },
];

// ---- Harness ----------------------------------------------------------------------------------

interface Pair {
  kerasm: Model;
  tfjs: TFL.LayersModel;
  xs: Tensor[];
  tfXs: TF.Tensor[];
  y: Tensor;
  tfY: TF.Tensor;
}

/** Both models with kerasm's (randomized) weights, and one batch of inputs and targets. */
function build(c: Case, seed: number): Pair {
  setRandomSeed(seed);
  const inputs = c.inputs.map((shape) => Input({ shape }));
  const kerasm = new Model({ inputs, outputs: c.kerasm(inputs) });
  const tfInputs = c.inputs.map((shape) => tfl.input({ shape }));
  const tfjs = tfl.model({ inputs: tfInputs, outputs: c.tfjs(tfInputs) });

  const rng = new Random(seed);
  const kerasmLayers = kerasm.layers.filter((l) => l.className !== 'InputLayer');
  const tfLayers = tfjs.layers.filter((l) => l.getClassName() !== 'InputLayer');
  expect(kerasmLayers.map((l) => l.className)).toEqual(tfLayers.map((l) => l.getClassName()));
  kerasmLayers.forEach((layer, i) => {
    // Random values everywhere (zero biases and unit gammas would hide mistakes); variances
    // stay positive.
    for (const w of layer.weights) {
      const variance = w.name.endsWith('moving_variance');
      w.assign(w.read().map(() => (variance ? rng.uniformRange(0.5, 1.5) : rng.uniformRange(-0.6, 0.6))));
    }
    const shapes = tfLayers[i].weights.map((w) => w.shape);
    expect(layer.weights.map((w) => w.shape), `${layer.name}: weight shapes`).toEqual(shapes);
    tfLayers[i].setWeights(layer.weights.map((w) => tf.tensor(w.read(), w.shape as number[])));
  });

  const xs = c.inputs.map((shape) => {
    const n = BATCH * shape.reduce((a, b) => a * b, 1);
    const values = Float32Array.from({ length: n }, () =>
      c.ids ? Math.floor(rng.uniform() * c.ids) : rng.uniformRange(-1, 1));
    return { values, shape: [BATCH, ...shape] };
  });
  const outShape = kerasm.outputs[0].shape.map((d) => d ?? BATCH);
  const yValues = Float32Array.from({ length: outShape.reduce((a, b) => a * b, 1) }, () => rng.uniformRange(-1, 1));
  return {
    kerasm,
    tfjs,
    xs: xs.map(({ values, shape }) => (c.ids ? tensor(Int32Array.from(values), shape, 'int32') : tensor(values, shape))),
    tfXs: xs.map(({ values, shape }) => tf.tensor(values, shape)),
    y: tensor(yValues, outShape),
    tfY: tf.tensor(yValues, outShape),
  };
}

/** |a - b| <= tolerance * (|b| + mean |b|): relative, with the mean magnitude as a floor. */
function expectClose(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tolerance: number): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  let mean = 0;
  for (let i = 0; i < want.length; i++) mean += Math.abs(want[i]) / want.length;
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tolerance * (Math.abs(want[i]) + mean))) {
      throw new Error(`${what}: index ${i}: kerasm ${got[i]}, tfjs ${want[i]} (tolerance ${tolerance} relative)`);
    }
  }
}

function kerasmWeights(model: Model): Float32Array[] {
  return model.layers.flatMap((l) => l.weights.map((w) => w.read()));
}

function tfjsWeights(model: TFL.LayersModel): Float32Array[] {
  return model.layers.flatMap((l) => l.getWeights().map((w) => w.dataSync() as Float32Array));
}

function weightNames(model: Model): string[] {
  return model.layers.flatMap((l) => l.weights.map((w) => w.name));
}

/** One optimizer step on both models; compares the losses, the weights and their changes. */
async function compareStep(
  c: Case, p: Pair, kerasmOptimizer: SGD | Adam, tfOptimizer: TF.Optimizer, what: string,
): Promise<void> {
  const before = kerasmWeights(p.kerasm).map((w) => w.slice());
  p.kerasm.compile({ optimizer: kerasmOptimizer, loss: 'mse' });
  p.tfjs.compile({ optimizer: tfOptimizer, loss: 'meanSquaredError' });
  const loss = p.kerasm.trainOnBatch(p.xs, p.y);
  const tfLoss = await p.tfjs.trainOnBatch(p.tfXs, p.tfY);
  expectClose(`${c.name}, ${what}: loss`, [loss], [tfLoss as number], RELATIVE);
  const names = weightNames(p.kerasm);
  const after = kerasmWeights(p.kerasm);
  const tfAfter = tfjsWeights(p.tfjs);
  expect(after.length).toBe(tfAfter.length);
  after.forEach((w, i) => {
    expectClose(`${c.name}, ${what}: weight '${names[i]}'`, w, tfAfter[i], RELATIVE);
    const change = w.map((v, k) => v - before[i][k]);
    const tfChange = tfAfter[i].map((v, k) => v - before[i][k]);
    expectClose(`${c.name}, ${what}: change of weight '${names[i]}'`, change, tfChange, CHANGE_RELATIVE);
    expect(change.some((v) => v !== 0), `${c.name}, ${what}: '${names[i]}' changed`).toBe(true);
  });
}

beforeAll(async () => {
  // IS_TEST silences tfjs's one-time notice that tfjs-node would be faster.
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu');
});

describe('kerasm matches tfjs-layers 4.22', () => {
  for (const [index, c] of CASES.entries()) {
    describe(c.name, () => {
      it('predictions', () => {
        const p = build(c, 100 + index);
        const got = (p.kerasm.predict(p.xs) as Tensor).dataSync();
        const want = (p.tfjs.predict(p.tfXs) as TF.Tensor).dataSync();
        expectClose(`${c.name}: prediction`, got, want, RELATIVE);
      });

      it('one SGD step', async () => {
        const p = build(c, 200 + index);
        await compareStep(c, p, new SGD({ learningRate: SGD_LR }), tf.train.sgd(SGD_LR), 'SGD');
        if (c.hasBatchStatistics) {
          // After the step, inference uses the updated moving statistics.
          const got = (p.kerasm.predict(p.xs) as Tensor).dataSync();
          const want = (p.tfjs.predict(p.tfXs) as TF.Tensor).dataSync();
          expectClose(`${c.name}: inference prediction after the step`, got, want, RELATIVE);
        }
      });

      it('one Adam step', async () => {
        const p = build(c, 300 + index);
        await compareStep(
          c, p,
          new Adam({ learningRate: ADAM_LR, beta1: BETA1, beta2: BETA2, epsilon: EPSILON }),
          tf.train.adam(ADAM_LR, BETA1, BETA2, EPSILON / Math.sqrt(1 - BETA2)),
          'Adam',
        );
      });
    });
  }
});

// tfjs-backend-cpu 4.22's AvgPoolGrad divides by the whole window (1 / (poolH * poolW)) even
// where 'same' padding cuts the window, while its forward pass divides by the number of pixels
// inside the image (as TensorFlow does). Its gradient is then not the derivative of its own
// forward pass at the borders, so training steps cannot agree. kerasm's gradient is checked
// here against central differences of tfjs's forward pass instead, and predictions directly.
describe("AveragePooling2D with 'same' padding", () => {
  const pool = () => new AveragePooling2D({ poolSize: 3, strides: 2, padding: 'same' });
  const tfPool = () => tfl.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' });

  it("predicts as tfjs, and its gradient is the derivative of tfjs's forward pass", () => {
    const shape = [2, 5, 6, 2];
    const rng = new Random(17);
    const values = Float32Array.from({ length: 120 }, () => rng.uniformRange(-1, 1));
    const x = tensor(values, shape);
    const y = pool().apply(x);
    const tfForward = tfPool();
    expectClose('prediction', y.dataSync(), (tfForward.apply(tf.tensor(values, shape)) as TF.Tensor).dataSync(), RELATIVE);

    const weights = Float32Array.from({ length: y.size }, () => rng.uniformRange(0.5, 1.5));
    const { grads } = valueAndGrads(() => ops.sum(ops.mul(pool().apply(x), tensor(weights, y.shape))), [x]);
    const tfLoss = (v: Float32Array) => tf.tidy(() =>
      tf.sum(tf.mul(tfForward.apply(tf.tensor(v, shape)) as TF.Tensor, tf.tensor(weights, y.shape.slice()))).dataSync()[0]);
    // The pooling is linear, so central differences are exact but for float32 rounding.
    const eps = 0.25;
    const numeric = Array.from(values, (_, i) => {
      const up = values.slice();
      const down = values.slice();
      up[i] += eps;
      down[i] -= eps;
      return (tfLoss(up) - tfLoss(down)) / (2 * eps);
    });
    expectClose('input gradient', grads[0].dataSync(), numeric, 1e-4);
  });
});
