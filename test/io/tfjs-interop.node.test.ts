// Interop with tfjs-layers 4.22 (cpu backend) in the same process, through memory handlers:
//   1. a model built and saved by tfjs-layers loads in kerasm and predicts the same;
//   2. a model saved by kerasm loads with tf.loadLayersModel and predicts the same;
//   3. a model from tfjs fine-tunes in kerasm (compiled as tfjs saved it, or compiled anew);
//   4. training continues across the libraries with the optimizer's saved state.
// Predictions agree to a relative error of 1e-4 (of the output's largest magnitude): the two
// libraries sum in different orders, so the last bits differ.
//
// tfjs's LSTM and GRU gate with a hard sigmoid by default; the table's RNNs use the sigmoid
// (Keras's default) and one test loads tfjs's defaults. tfjs's GRU only has resetAfter false.

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs's ES module entry leaves out the chained tensor methods that its orthogonal
// initializer (the RNNs' default) calls.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Adam, Add, AveragePooling2D, BatchNormalization, Bidirectional, Concatenate, Conv1D, Conv2D, Dense,
  DepthwiseConv2D, Dropout, Embedding, Flatten, GlobalAveragePooling2D, GRU, Input, io, LayerNormalization,
  Average, loadModel, LSTM, MaxPooling2D, Model, Multiply, SeparableConv2D, Sequential, SimpleRNN, UpSampling2D,
  ZeroPadding2D, setRandomSeed, tensor, type ModelArtifacts, type Tensor,
  Activation, GlobalMaxPooling2D, Masking, Reshape,
} from '../../src/index.js';
import { TFJS_READS } from '../../src/io/tfjs_classes.js';
import { Random } from '../../src/util/random.js';
import { saveToMemory } from './helpers.js';

const RELATIVE = 1e-4;
const BATCH = 3;

interface Case {
  name: string;
  /** Shape of one sample, per input. */
  inputs: number[][];
  /** Integer inputs in [0, ids) (Embedding). */
  ids?: number;
  tfjs: () => tfl.LayersModel;
  kerasm: () => Model;
}

const L = tfl.layers;
const sigmoid = 'sigmoid' as const;

const CASES: Case[] = [
  {
    name: 'Sequential convnet: Conv2D valid and same with strides, MaxPooling2D, AveragePooling2D, Flatten, Dropout, Dense',
    inputs: [[10, 10, 2]],
    tfjs: () => tfl.sequential({
      layers: [
        L.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [10, 10, 2] }),
        L.maxPooling2d({ poolSize: 2 }),
        L.conv2d({ filters: 3, kernelSize: [3, 2], strides: 2, padding: 'same', activation: 'tanh' }),
        L.averagePooling2d({ poolSize: 2, strides: 1, padding: 'same' }),
        L.flatten(),
        L.dropout({ rate: 0.5 }),
        L.dense({ units: 4, activation: 'softmax' }),
      ],
    }),
    kerasm: () => new Sequential([
      new Conv2D({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [10, 10, 2] }),
      new MaxPooling2D({ poolSize: 2 }),
      new Conv2D({ filters: 3, kernelSize: [3, 2], strides: 2, padding: 'same', activation: 'tanh' }),
      new AveragePooling2D({ poolSize: 2, strides: 1, padding: 'same' }),
      new Flatten(),
      new Dropout({ rate: 0.5 }),
      new Dense({ units: 4, activation: 'softmax' }),
    ]),
  },
  {
    name: 'functional: two inputs, a shared Dense, Add and Concatenate, two outputs',
    inputs: [[5], [5]],
    tfjs: () => {
      const a = tfl.input({ shape: [5] });
      const b = tfl.input({ shape: [5] });
      const shared = L.dense({ units: 4, activation: 'relu' });
      const sa = shared.apply(a) as tfl.SymbolicTensor;
      const sb = shared.apply(b) as tfl.SymbolicTensor;
      const sum = L.add().apply([sa, sb]) as tfl.SymbolicTensor;
      const joined = L.concatenate().apply([sum, sb]) as tfl.SymbolicTensor;
      return tfl.model({
        inputs: [a, b],
        outputs: [L.dense({ units: 3, activation: 'softmax' }).apply(joined) as tfl.SymbolicTensor, L.dense({ units: 1 }).apply(sa) as tfl.SymbolicTensor],
      });
    },
    kerasm: () => {
      const a = Input({ shape: [5] });
      const b = Input({ shape: [5] });
      const shared = new Dense({ units: 4, activation: 'relu' });
      const sa = shared.apply(a);
      const sb = shared.apply(b);
      const joined = new Concatenate().apply([new Add().apply([sa, sb]), sb]);
      return new Model({ inputs: [a, b], outputs: [new Dense({ units: 3, activation: 'softmax' }).apply(joined), new Dense({ units: 1 }).apply(sa)] });
    },
  },
  {
    name: 'functional: ZeroPadding2D, DepthwiseConv2D, SeparableConv2D, BatchNormalization, UpSampling2D, LayerNormalization, GlobalAveragePooling2D, Multiply',
    inputs: [[6, 6, 2]],
    tfjs: () => {
      const x = tfl.input({ shape: [6, 6, 2] });
      let h = L.zeroPadding2d({ padding: [[1, 0], [0, 1]] }).apply(x) as tfl.SymbolicTensor;
      h = L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, activation: 'relu' }).apply(h) as tfl.SymbolicTensor;
      h = L.separableConv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(h) as tfl.SymbolicTensor;
      h = L.batchNormalization().apply(h) as tfl.SymbolicTensor;
      h = L.upSampling2d({ size: [2, 1] }).apply(h) as tfl.SymbolicTensor;
      h = L.globalAveragePooling2d({}).apply(L.layerNormalization().apply(h)) as tfl.SymbolicTensor;
      const gate = L.dense({ units: 3, activation: 'sigmoid' }).apply(h) as tfl.SymbolicTensor;
      return tfl.model({ inputs: x, outputs: L.multiply().apply([L.dense({ units: 3 }).apply(h) as tfl.SymbolicTensor, gate]) as tfl.SymbolicTensor });
    },
    kerasm: () => {
      const x = Input({ shape: [6, 6, 2] });
      let h = new ZeroPadding2D({ padding: [[1, 0], [0, 1]] }).apply(x);
      h = new DepthwiseConv2D({ kernelSize: 3, depthMultiplier: 2, activation: 'relu' }).apply(h);
      h = new SeparableConv2D({ filters: 4, kernelSize: 3, padding: 'same' }).apply(h);
      h = new BatchNormalization().apply(h);
      h = new UpSampling2D({ size: [2, 1] }).apply(h);
      h = new GlobalAveragePooling2D().apply(new LayerNormalization().apply(h));
      const gate = new Dense({ units: 3, activation: 'sigmoid' }).apply(h);
      return new Model({ inputs: x, outputs: new Multiply().apply([new Dense({ units: 3 }).apply(h), gate]) });
    },
  },
  {
    name: 'functional: Average of two branches (an ensemble of two classifiers)',
    inputs: [[5]],
    tfjs: () => {
      const x = tfl.input({ shape: [5] });
      const a = L.dense({ units: 3, activation: 'softmax' }).apply(L.dense({ units: 4, activation: 'relu' }).apply(x)) as tfl.SymbolicTensor;
      const b = L.dense({ units: 3, activation: 'softmax' }).apply(x) as tfl.SymbolicTensor;
      return tfl.model({ inputs: x, outputs: L.average().apply([a, b]) as tfl.SymbolicTensor });
    },
    kerasm: () => {
      const x = Input({ shape: [5] });
      const a = new Dense({ units: 3, activation: 'softmax' }).apply(new Dense({ units: 4, activation: 'relu' }).apply(x));
      const b = new Dense({ units: 3, activation: 'softmax' }).apply(x);
      return new Model({ inputs: x, outputs: new Average().apply([a, b]) });
    },
  },
  {
    name: 'Sequential sequences: Conv1D, SimpleRNN, LSTM, GRU, Bidirectional',
    inputs: [[5, 3]],
    tfjs: () => tfl.sequential({
      layers: [
        L.conv1d({ filters: 4, kernelSize: 2, padding: 'same', inputShape: [5, 3] }),
        L.simpleRNN({ units: 3, returnSequences: true }),
        L.lstm({ units: 4, returnSequences: true, recurrentActivation: sigmoid }),
        L.gru({ units: 3, returnSequences: true, recurrentActivation: sigmoid }),
        L.bidirectional({ layer: L.lstm({ units: 2, recurrentActivation: sigmoid }) as tfl.RNN, mergeMode: 'concat' }),
        L.dense({ units: 1 }),
      ],
    }),
    kerasm: () => new Sequential([
      new Conv1D({ filters: 4, kernelSize: 2, padding: 'same', inputShape: [5, 3] }),
      new SimpleRNN({ units: 3, returnSequences: true }),
      new LSTM({ units: 4, returnSequences: true }),
      new GRU({ units: 3, returnSequences: true, resetAfter: false }),
      new Bidirectional({ layer: new LSTM({ units: 2 }), mergeMode: 'concat' }),
      new Dense({ units: 1 }),
    ]),
  },
  {
    name: 'Sequential Embedding',
    inputs: [[5]],
    ids: 10,
    tfjs: () => tfl.sequential({
      layers: [L.embedding({ inputDim: 10, outputDim: 4, inputLength: 5 }), L.flatten(), L.dense({ units: 2, activation: 'softmax' })],
    }),
    kerasm: () => new Sequential([
      new Embedding({ inputDim: 10, outputDim: 4, inputShape: [5] }), new Flatten(), new Dense({ units: 2, activation: 'softmax' }),
    ]),
  },
  {
    name: 'Sequential Masking, Reshape, GlobalMaxPooling2D, Activation',
    inputs: [[6, 4]],
    tfjs: () => tfl.sequential({
      layers: [
        L.masking({ maskValue: 0, inputShape: [6, 4] }),
        L.simpleRNN({ units: 3, returnSequences: true }),
        L.reshape({ targetShape: [6, 3, 1] }),
        L.globalMaxPooling2d({}),
        L.activation({ activation: 'tanh' }),
        L.dense({ units: 2 }),
      ],
    }),
    kerasm: () => new Sequential([
      new Masking({ maskValue: 0, inputShape: [6, 4] }),
      new SimpleRNN({ units: 3, returnSequences: true }),
      new Reshape({ targetShape: [6, 3, 1] }),
      new GlobalMaxPooling2D(),
      new Activation({ activation: 'tanh' }),
      new Dense({ units: 2 }),
    ]),
  },
];

function batch(shape: number[], seed: number, ids?: number): Float32Array {
  const rng = new Random(seed);
  const size = BATCH * shape.reduce((a, b) => a * b, 1);
  return new Float32Array(size).map(() => (ids ? Math.floor(rng.uniform() * ids) : rng.uniformRange(-1, 1)));
}

/** Random values for a weight; variances positive. */
function randomValues(name: string, size: number, rng: Random): Float32Array {
  const variance = /moving_variance/.test(name);
  return new Float32Array(size).map(() => (variance ? rng.uniformRange(0.5, 1.5) : rng.uniformRange(-0.5, 0.5)));
}

function randomizeTfjs(model: tfl.LayersModel, seed: number): void {
  const rng = new Random(seed);
  model.setWeights(model.weights.map((w) => tf.tensor(randomValues(w.originalName, w.shape.reduce((a, b) => a * b, 1), rng), w.shape)));
}

function randomizeKerasm(model: Model, seed: number): void {
  const rng = new Random(seed);
  model.setWeights(model.weights.map((w) => randomValues(w.name, w.value.size, rng)));
}

function tfjsPredict(model: tfl.LayersModel, xs: Float32Array[], shapes: number[][]): Float32Array[] {
  const inputs = xs.map((x, i) => tf.tensor(x, [BATCH, ...shapes[i]]));
  const y = model.predict(inputs.length === 1 ? inputs[0] : inputs) as tf.Tensor | tf.Tensor[];
  return (Array.isArray(y) ? y : [y]).map((t) => t.dataSync() as Float32Array);
}

function kerasmPredict(model: Model, xs: Float32Array[], shapes: number[][]): Float32Array[] {
  const inputs = xs.map((x, i) => tensor(x, [BATCH, ...shapes[i]]));
  const y = model.predict(inputs.length === 1 ? inputs[0] : inputs);
  return (Array.isArray(y) ? y : [y]).map((t) => t.dataSync() as Float32Array);
}

/** |got - expected| <= RELATIVE * max |expected|, element by element, naming the first miss. */
function expectClose(got: Float32Array[], expected: Float32Array[]): void {
  expect(got.length).toBe(expected.length);
  expected.forEach((e, k) => {
    expect(got[k].length, `output ${k} size`).toBe(e.length);
    const scale = Math.max(...Array.from(e, Math.abs), 1e-6);
    e.forEach((v, i) => {
      const error = Math.abs(got[k][i] - v) / scale;
      if (!(error <= RELATIVE)) {
        expect.fail(`output ${k}[${i}]: kerasm/tfjs gave ${got[k][i]}, expected ${v} (relative error ${error.toExponential(2)} > ${RELATIVE})`);
      }
    });
  });
}

async function saveTfjs(model: tfl.LayersModel, config?: tf.io.SaveConfig): Promise<ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }), config);
  return saved as unknown as ModelArtifacts;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('tfjs-layers -> kerasm', () => {
  it.each(CASES)('$name', async ({ tfjs, inputs, ids }) => {
    const source = tfjs();
    randomizeTfjs(source, 3);
    const artifacts = await saveTfjs(source);
    const model = await loadModel(io.fromMemory(artifacts));
    const xs = inputs.map((shape, i) => batch(shape, 10 + i, ids));
    expectClose(kerasmPredict(model, xs, inputs), tfjsPredict(source, xs, inputs));
  });

  it('a tfjs handler works as a kerasm handler', async () => {
    const source = CASES[0].tfjs();
    const artifacts = await saveTfjs(source);
    const model = await loadModel(tf.io.fromMemory(artifacts as unknown as tf.io.ModelArtifacts) as never);
    expect(model.countParams()).toBe(source.countParams());
  });

  it("tfjs's default LSTM and GRU (hard-sigmoid gates) load and predict the same", async () => {
    for (const rnn of [L.lstm({ units: 3, returnSequences: true, inputShape: [4, 2] }), L.gru({ units: 2, inputShape: [4, 2] })]) {
      const source = tfl.sequential({ layers: [rnn] });
      const model = await loadModel(io.fromMemory(await saveTfjs(source)));
      const x = Float32Array.from({ length: 3 * 4 * 2 }, (_, i) => Math.sin(i) * 2);
      const expected = await (source.predict(tf.tensor(Array.from(x), [3, 4, 2])) as tf.Tensor).data();
      const actual = (model.predict(tensor(x, [3, 4, 2])) as Tensor).dataSync();
      const scale = Math.max(...Array.from(expected, Math.abs));
      expected.forEach((e, i) => expect(Math.abs(actual[i] - e) / scale, `${rnn.getClassName()} index ${i}`).toBeLessThan(RELATIVE));
    }
  });
});

describe('kerasm -> tfjs-layers', () => {
  it('covers every layer class the TFJS_READS table says tfjs reads', () => {
    const seen = new Set<string>();
    const visit = (layer: { className: string; layer?: unknown }) => {
      seen.add(layer.className);
      if (layer.layer && typeof layer.layer === 'object') visit(layer.layer as { className: string });
    };
    for (const { kerasm } of CASES) kerasm().layers.forEach(visit);
    seen.add('InputLayer'); // every saved model starts with one
    const readable = Object.entries(TFJS_READS).filter(([, reads]) => reads).map(([name]) => name);
    expect(readable.filter((name) => !seen.has(name))).toEqual([]);
  });

  it.each(CASES)('$name', async ({ kerasm, inputs, ids }) => {
    setRandomSeed(5);
    const model = kerasm();
    randomizeKerasm(model, 4);
    const artifacts = await saveToMemory(model);
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts as unknown as tf.io.ModelArtifacts));
    expect(loaded.countParams()).toBe(model.countParams());
    const xs = inputs.map((shape, i) => batch(shape, 20 + i, ids));
    expectClose(tfjsPredict(loaded, xs, inputs), kerasmPredict(model, xs, inputs));
  });

  it('a Sequential model that ends in a layer with several outputs loads in tfjs with all of them', async () => {
    setRandomSeed(6);
    const model = new Sequential([
      new Dense({ units: 2, inputShape: [4, 3], name: 'proj' }),
      new GRU({ units: 3, returnSequences: true, returnState: true, recurrentActivation: 'sigmoid', resetAfter: false, name: 'gru' }),
    ]);
    randomizeKerasm(model, 7);
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory((await saveToMemory(model)) as unknown as tf.io.ModelArtifacts));
    expect(loaded.outputs.map((t) => t.shape)).toEqual([[null, 4, 3], [null, 3]]);
    const xs = [batch([4, 3], 30)];
    expectClose(tfjsPredict(loaded, xs, [[4, 3]]), kerasmPredict(model, xs, [[4, 3]]));
  });

  it('a model compiled with names arrives compiled in tfjs', async () => {
    const model = new Sequential([new Dense({ units: 2, activation: 'softmax', inputShape: [3] })]);
    model.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: 'categorical_crossentropy', metrics: ['accuracy'] });
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory((await saveToMemory(model)) as unknown as tf.io.ModelArtifacts));
    expect(loaded.optimizer.getClassName()).toBe('Adam');
    expect(loaded.loss).toBe('categoricalCrossentropy');
  });
});

describe('fine-tuning a tfjs model in kerasm', () => {
  /** Two classes: is x0 + x1 > 0? */
  function toyData(n: number, seed: number): { x: Tensor; y: Tensor } {
    const rng = new Random(seed);
    const x = new Float32Array(n * 4).map(() => rng.uniformRange(-1, 1));
    const y = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) y[i * 2 + (x[i * 4] + x[i * 4 + 1] > 0 ? 1 : 0)] = 1;
    return { x: tensor(x, [n, 4]), y: tensor(y, [n, 2]) };
  }
  const classifier = () => tfl.sequential({
    layers: [L.dense({ units: 8, activation: 'relu', inputShape: [4] }), L.dense({ units: 2, activation: 'softmax' })],
  });

  it('loads uncompiled, compiles, and its loss goes down', async () => {
    const model = await loadModel(io.fromMemory(await saveTfjs(classifier())));
    expect(model.compiled).toBeNull();
    model.compile({ optimizer: 'sgd', loss: 'categorical_crossentropy' });
    (model.compiled!.optimizer as { learningRate: number }).learningRate = 0.5;
    const { x, y } = toyData(64, 1);
    const losses = Array.from({ length: 8 }, () => model.trainOnBatch(x, y));
    expect(losses[7]).toBeLessThan(losses[0]);
  });

  it('comes compiled as tfjs saved it (includeOptimizer), with its optimizer state, and trains', async () => {
    const source = classifier();
    source.compile({ optimizer: tf.train.adam(0.05), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const { x, y } = toyData(64, 2);
    await source.fit(tf.tensor(x.dataSync(), [64, 4]), tf.tensor(y.dataSync(), [64, 2]), { epochs: 1, verbose: 0 });
    const artifacts = await saveTfjs(source, { includeOptimizer: true });
    expect(artifacts.weightSpecs!.some((s) => s.group === 'optimizer')).toBe(true);
    const model = await loadModel(io.fromMemory(artifacts));
    const optimizer = model.compiled!.optimizer as Adam;
    expect(optimizer).toBeInstanceOf(Adam);
    expect(optimizer.iterations).toBe(source.optimizer.iterations);
    expect(optimizer.learningRate).toBeCloseTo(0.05, 7);
    const history = await model.fit(x, y, { epochs: 5, batchSize: 64, verbose: 0 });
    const loss = history.history.loss;
    expect(loss[loss.length - 1]).toBeLessThan(loss[0]);
    expect(history.history.accuracy).toHaveLength(5);
  });
});

describe('optimizer state across the two libraries (includeOptimizer)', () => {
  const inputShape = [4];
  const X = [0, 1, 2, 3, 4].map((k) => batch(inputShape, 40 + k));
  const Y = [0, 1, 2, 3, 4].map((k) => batch([2], 50 + k));
  const tfX = (k: number) => tf.tensor(X[k], [BATCH, ...inputShape]);
  const tfY = (k: number) => tf.tensor(Y[k], [BATCH, 2]);
  const kX = (k: number) => tensor(X[k], [BATCH, ...inputShape]);
  const kY = (k: number) => tensor(Y[k], [BATCH, 2]);
  const tfModel = () => tfl.sequential({
    layers: [L.dense({ units: 5, activation: 'tanh', inputShape }), L.dense({ units: 2 })],
  });

  function tfjsWeightValues(model: tfl.LayersModel): number[] {
    return model.getWeights().flatMap((w) => Array.from(w.dataSync()));
  }
  function kerasmWeightValues(model: Model): number[] {
    return model.weights.flatMap((w) => Array.from(w.read()));
  }
  function largestDifference(a: number[], b: number[]): number {
    expect(a.length).toBe(b.length);
    return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
  }

  // Epsilon 1e-10 for Adam: the libraries add it at different places (see
  // test/layers/tfjs-parity.node.test.ts); this small, neither matters.
  const optimizers: [string, () => tf.Optimizer][] = [
    ['Adam', () => tf.train.adam(0.05, 0.9, 0.999, 1e-10)],
    ['Momentum', () => tf.train.momentum(0.1, 0.9)],
    ['RMSProp with momentum', () => tf.train.rmsprop(0.01, 0.9, 0.5)],
    ['Adagrad', () => tf.train.adagrad(0.1)],
  ];

  it.each(optimizers)('%s: trained 3 steps in tfjs, continues in kerasm as in tfjs', async (_name, make) => {
    const source = tfModel();
    randomizeTfjs(source, 6);
    source.compile({ optimizer: make(), loss: 'meanSquaredError' });
    for (let k = 0; k < 3; k++) await source.trainOnBatch(tfX(k), tfY(k));
    const artifacts = await saveTfjs(source, { includeOptimizer: true });
    const model = await loadModel(io.fromMemory(artifacts));
    // The same file without the optimizer's entries: compiled alike, starting afresh.
    const own = artifacts.weightSpecs!.filter((s) => s.group !== 'optimizer');
    const ownBytes = own.reduce((n, s) => n + 4 * s.shape.reduce((a, b) => a * b, 1), 0);
    const fresh = await loadModel(io.fromMemory({ ...artifacts, weightSpecs: own, weightData: (artifacts.weightData as ArrayBuffer).slice(0, ownBytes) }));
    expect(model.optimizer!.iterations).toBe(3);
    for (let k = 3; k < 5; k++) {
      await source.trainOnBatch(tfX(k), tfY(k));
      model.trainOnBatch(kX(k), kY(k));
      fresh.trainOnBatch(kX(k), kY(k));
    }
    const want = tfjsWeightValues(source);
    expect(largestDifference(kerasmWeightValues(model), want)).toBeLessThan(2e-5);
    expect(largestDifference(kerasmWeightValues(fresh), want)).toBeGreaterThan(1e-3);
  });

  it('Adam trained 3 steps in kerasm continues in tfjs as in kerasm; without the state it would not', async () => {
    setRandomSeed(9);
    const model = new Sequential([new Dense({ units: 5, activation: 'tanh', inputShape }), new Dense({ units: 2 })]);
    model.compile({ optimizer: new Adam({ learningRate: 0.05, epsilon: 1e-10 }), loss: 'mse' });
    for (let k = 0; k < 3; k++) model.trainOnBatch(kX(k), kY(k));
    const withState = await saveToMemory(model, { includeOptimizer: true });
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(withState as unknown as tf.io.ModelArtifacts));
    const without = await tfl.loadLayersModel(tf.io.fromMemory((await saveToMemory(model)) as unknown as tf.io.ModelArtifacts));
    expect(loaded.optimizer.iterations).toBe(3);
    for (let k = 3; k < 5; k++) {
      model.trainOnBatch(kX(k), kY(k));
      await loaded.trainOnBatch(tfX(k), tfY(k));
      await without.trainOnBatch(tfX(k), tfY(k));
    }
    const want = kerasmWeightValues(model);
    expect(largestDifference(tfjsWeightValues(loaded), want)).toBeLessThan(2e-5);
    expect(largestDifference(tfjsWeightValues(without), want)).toBeGreaterThan(1e-3);
  });
});
