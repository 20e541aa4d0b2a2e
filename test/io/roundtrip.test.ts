// Save then load, in memory: every layer class kerasm has, in Sequential and functional models
// (two inputs, a shared layer, two outputs), comes back with the same weights and bit-identical
// predictions; the saved files are in the TensorFlow.js Layers format; a compiled model comes
// back compiled. Runs in Node and in the browser.

import { describe, expect, it } from 'vitest';
import {
  Activation, Adam, AdamW, Add, AveragePooling2D, BatchNormalization, Bidirectional, Concatenate, Conv1D,
  Conv2D, Dense, DepthwiseConv2D, Dropout, Embedding, Flatten, GlobalAveragePooling2D, GlobalMaxPooling2D,
  Average, GRU, Input, io, l2, Layer, LayerNormalization, loadModel, LSTM, Masking, MaxPooling2D, Model, Multiply, Reshape,
  Normalization, RandomRotation, RandomTranslation, RandomZoom, SeparableConv2D, Sequential, SGD, SimpleRNN, UpSampling2D, ZeroPadding2D, losses, setRandomSeed, tensor,
} from '../../src/index.js';
import { getBackend } from '../../src/backend/backend.js';
import { Random } from '../../src/util/random.js';
import { expectSameModel, inputsFor, roundTrip, saveToMemory } from './helpers.js';

/** Random weights everywhere (variances positive), so that every value is checked. */
function randomizeWeights(model: Model, seed: number): void {
  const rng = new Random(seed);
  model.setWeights(model.weights.map((w) => {
    const variance = w.name.endsWith('moving_variance');
    return new Float32Array(w.value.size).map(() => (variance ? rng.uniformRange(0.5, 1.5) : rng.uniformRange(-0.5, 0.5)));
  }));
}

interface Case {
  name: string;
  build: () => Model;
  /** Integer inputs in [0, ids) (Embedding). */
  ids?: number;
}

const CASES: Case[] = [
  {
    name: 'Sequential convnet: Conv2D valid and same with strides, pooling, Flatten, Dropout, Dense, Reshape, Activation',
    build: () => new Sequential([
      new Conv2D({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [9, 9, 2] }),
      new MaxPooling2D({ poolSize: 2 }),
      new Conv2D({ filters: 3, kernelSize: [2, 3], strides: 2, padding: 'same', kernelRegularizer: l2(0.01), useBias: false }),
      new AveragePooling2D({ poolSize: 2, strides: 1, padding: 'same' }),
      new Flatten(),
      new Dropout({ rate: 0.3 }),
      new Dense({ units: 6, activation: 'tanh', kernelInitializer: 'heNormal' }),
      new Reshape({ targetShape: [3, 2] }),
      new Flatten(),
      new Activation({ activation: 'softmax' }),
    ]),
  },
  {
    name: 'Sequential built from data (no inputShape)',
    build: () => {
      const model = new Sequential([new Dense({ units: 5, activation: 'silu' }), new Dense({ units: 2 })]);
      model.predict(tensor(new Float32Array(2 * 7), [2, 7]));
      return model;
    },
  },
  {
    name: 'functional: two inputs, a shared Dense, Add, two outputs',
    build: () => {
      const a = Input({ shape: [6], name: 'left' });
      const b = Input({ shape: [6], name: 'right' });
      const shared = new Dense({ units: 4, activation: 'relu', name: 'shared' });
      const sa = shared.apply(a);
      const sb = shared.apply(b);
      const joined = new Dense({ units: 3, activation: 'softmax' }).apply(new Add().apply([sa, sb]));
      const side = new Dense({ units: 1, activation: 'sigmoid' }).apply(sb);
      return new Model({ inputs: [a, b], outputs: [joined, side], name: 'siamese' });
    },
  },
  {
    name: 'functional: global pooling branches, Concatenate',
    build: () => {
      const x = Input({ shape: [8, 8, 3] });
      const h = new Conv2D({ filters: 4, kernelSize: 3, padding: 'same', activation: 'elu' }).apply(x);
      const pooled = new Concatenate().apply([new GlobalAveragePooling2D().apply(h), new GlobalMaxPooling2D().apply(h)]);
      return new Model({ inputs: x, outputs: new Dense({ units: 2, activation: 'softmax' }).apply(pooled) });
    },
  },
  {
    name: 'functional: ZeroPadding2D, DepthwiseConv2D, SeparableConv2D, BatchNormalization, UpSampling2D, LayerNormalization, Multiply',
    build: () => {
      const x = Input({ shape: [6, 6, 2] });
      let h = new ZeroPadding2D({ padding: [[1, 0], [0, 1]] }).apply(x);
      h = new DepthwiseConv2D({ kernelSize: 3, depthMultiplier: 2, activation: 'relu' }).apply(h);
      h = new SeparableConv2D({ filters: 4, kernelSize: 3, padding: 'same', dilationRate: 2 }).apply(h);
      h = new BatchNormalization().apply(h);
      h = new UpSampling2D({ size: [2, 1] }).apply(h);
      h = new Flatten().apply(new LayerNormalization().apply(h));
      const gate = new Dense({ units: 3, activation: 'sigmoid' }).apply(h);
      return new Model({ inputs: x, outputs: new Multiply().apply([new Dense({ units: 3 }).apply(h), gate]) });
    },
  },
  {
    name: 'functional: Average of two branches',
    build: () => {
      const x = Input({ shape: [5] });
      const a = new Dense({ units: 3, activation: 'softmax' }).apply(new Dense({ units: 4, activation: 'relu' }).apply(x));
      return new Model({ inputs: x, outputs: new Average().apply([a, new Dense({ units: 3, activation: 'softmax' }).apply(x)]) });
    },
  },
  {
    name: 'Sequential sequences: Conv1D, SimpleRNN, LSTM, GRU, Bidirectional',
    build: () => new Sequential([
      new Conv1D({ filters: 4, kernelSize: 2, padding: 'same', inputShape: [5, 3] }),
      new SimpleRNN({ units: 3, returnSequences: true }),
      new LSTM({ units: 4, returnSequences: true }),
      new GRU({ units: 3, returnSequences: true }),
      new Bidirectional({ layer: new LSTM({ units: 2 }), mergeMode: 'concat' }),
      new Dense({ units: 1 }),
    ]),
  },
  {
    name: 'Sequential Embedding and GRU (resetAfter false)',
    ids: 10,
    build: () => new Sequential([
      new Embedding({ inputDim: 10, outputDim: 4, inputShape: [5] }),
      new GRU({ units: 3, resetAfter: false, goBackwards: true }),
      new Dense({ units: 2, activation: 'softmax' }),
    ]),
  },
  {
    name: 'functional masks and states: Embedding maskZero, Masking, LSTM returnState into a GRU initialState, Bidirectional returnState',
    ids: 6,
    build: () => {
      const ids = Input({ shape: [5] });
      const embedded = new Embedding({ inputDim: 6, outputDim: 3, maskZero: true }).apply(ids);
      const masked = new Masking({ maskValue: 0.01 }).apply(embedded);
      const [seq, h] = new LSTM({ units: 4, returnSequences: true, returnState: true, unitForgetBias: false }).applyAll(masked);
      const g = new GRU({ units: 4 }).apply(seq, { initialState: [h] });
      const [merged, forwardH] = new Bidirectional({ layer: new SimpleRNN({ units: 2, returnState: true }) }).applyAll(seq);
      return new Model({ inputs: ids, outputs: [new Dense({ units: 2 }).apply(g), merged, forwardH] });
    },
  },
  {
    name: 'Sequential preprocessing: RandomTranslation, RandomRotation, RandomZoom, Normalization',
    build: () => new Sequential([
      new RandomTranslation({ heightFactor: 0.2, widthFactor: [-0.1, 0.3], fillMode: 'nearest', inputShape: [4, 5, 3] }),
      new RandomRotation({ factor: [-0.1, 0.05], fillMode: 'constant', fillValue: 0.5, interpolation: 'nearest', seed: 3 }),
      new RandomZoom({ heightFactor: 0.1, fillMode: 'wrap' }),
      new RandomZoom({ heightFactor: [-0.2, 0.1], widthFactor: 0.3 }),
      new Normalization({ mean: [0.1, 0.2, 0.3], variance: [1, 2, 3] }),
      new Flatten(),
      new Dense({ units: 2 }),
    ]),
  },
];

/** Class names of `layer` and of the layers inside it. */
function classesOf(layer: Layer): string[] {
  const inner = layer instanceof Bidirectional ? [layer.forwardLayer] : [];
  return [layer.className, ...inner.flatMap(classesOf)];
}

describe('save and load round trip', () => {
  it.each(CASES)('$name', async ({ build, ids }) => {
    setRandomSeed(7);
    const model = build();
    randomizeWeights(model, 11);
    const { copy } = await roundTrip(model);
    expect(copy).toBeInstanceOf(model instanceof Sequential ? Sequential : Model);
    expect(copy.name).toBe(model.name);
    expect(copy.layers.map((l) => [l.name, l.className])).toEqual(model.layers.map((l) => [l.name, l.className]));
    expectSameModel(model, copy, inputsFor(model, 3, 5, ids));
    // Saving the copy writes the same topology and weights again.
    const [first, second] = [await saveToMemory(model), await saveToMemory(copy)];
    expect(second.modelTopology).toEqual(first.modelTopology);
    expect(new Uint8Array(second.weightData as ArrayBuffer)).toEqual(new Uint8Array(first.weightData as ArrayBuffer));
  });

  it('the cases cover every layer class that can be saved', () => {
    setRandomSeed(1);
    const covered = new Set(CASES.flatMap((c) => c.build().layers.flatMap(classesOf)));
    const missing = io.LOADABLE_CLASSES.filter((name) => !covered.has(name));
    expect(missing, 'layer classes without a round-trip case').toEqual([]);
  });
});

describe('memory', () => {
  it('saving, and loading weights into a model, allocate nothing in the kernel heap', async () => {
    const model = CASES[0].build();
    const saved = await saveToMemory(model);
    await model.loadWeights(io.fromMemory(saved));
    const heap = getBackend().heap;
    const inUse = heap.bytesInUse;
    for (let i = 0; i < 20; i++) {
      await saveToMemory(model);
      await model.loadWeights(io.fromMemory(saved));
    }
    expect(heap.bytesInUse).toBe(inUse);
  });
});

describe('the saved format is the TensorFlow.js Layers format', () => {
  it('writes Keras class names, snake_case configs and layer/weight names', async () => {
    const model = new Sequential({
      name: 'small',
      layers: [
        new Conv2D({ name: 'conv', filters: 2, kernelSize: 3, inputShape: [5, 5, 1] }),
        new Flatten({ name: 'flat' }),
        new Dense({ name: 'out', units: 3, activation: 'softmax' }),
      ],
    });
    const a = await saveToMemory(model);
    expect(a.format).toBe('layers-model');
    expect(a.generatedBy).toBe(`kerasm ${io.VERSION}`);
    expect(a.convertedBy).toBeNull();
    const topology = a.modelTopology as { class_name: string; config: { name: string; layers: { class_name: string; config: Record<string, unknown> }[] } };
    expect(topology.class_name).toBe('Sequential');
    expect(topology.config.name).toBe('small');
    expect(topology.config.layers.map((l) => l.class_name)).toEqual(['Conv2D', 'Flatten', 'Dense']);
    expect(topology.config.layers[0].config).toMatchObject({
      name: 'conv', trainable: true, batch_input_shape: [null, 5, 5, 1], dtype: 'float32',
      filters: 2, kernel_size: [3, 3], strides: [1, 1], padding: 'valid', data_format: 'channels_last',
      dilation_rate: [1, 1], activation: 'linear', use_bias: true,
      kernel_initializer: { class_name: 'VarianceScaling', config: { scale: 1, mode: 'fan_avg', distribution: 'uniform', seed: null } },
      bias_initializer: { class_name: 'Zeros', config: {} },
      kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null,
    });
    expect(topology.config.layers[2].config).toMatchObject({ units: 3, activation: 'softmax' });
    expect(a.weightSpecs).toEqual([
      { name: 'conv/kernel', shape: [3, 3, 1, 2], dtype: 'float32' },
      { name: 'conv/bias', shape: [2], dtype: 'float32' },
      { name: 'out/kernel', shape: [18, 3], dtype: 'float32' },
      { name: 'out/bias', shape: [3], dtype: 'float32' },
    ]);
    // Little-endian float32 values, concatenated in manifest order.
    const bytes = a.weightData as ArrayBuffer;
    expect(bytes.byteLength).toBe(4 * model.countParams());
    const view = new DataView(bytes);
    const kernel = model.weights[0].read();
    expect(view.getFloat32(4 * 5, true)).toBe(kernel[5]);
  });

  it('writes functional models with input_layers, output_layers and inbound_nodes', async () => {
    const a = Input({ shape: [3], name: 'a' });
    const b = Input({ shape: [3], name: 'b' });
    const shared = new Dense({ units: 2, name: 'shared' });
    const model = new Model({ inputs: [a, b], outputs: [shared.apply(a), shared.apply(b)], name: 'two' });
    const topology = (await saveToMemory(model)).modelTopology as { class_name: string; config: Record<string, unknown> };
    expect(topology.class_name).toBe('Model');
    const layers = topology.config.layers as { name: string; class_name: string; inbound_nodes: unknown[] }[];
    expect(layers.map((l) => [l.name, l.class_name])).toEqual([['a', 'InputLayer'], ['b', 'InputLayer'], ['shared', 'Dense']]);
    expect(layers[2].inbound_nodes).toEqual([[['a', 0, 0, {}]], [['b', 0, 0, {}]]]);
    expect(topology.config.input_layers).toEqual([['a', 0, 0], ['b', 0, 0]]);
    expect(topology.config.output_layers).toEqual([['shared', 0, 0], ['shared', 1, 0]]);
  });

  it('counts only this model\'s nodes of a layer that is also used elsewhere', async () => {
    const shared = new Dense({ units: 2, name: 'reused' });
    const other = Input({ shape: [3] });
    shared.apply(other); // node 0 belongs to no saved model
    const x = Input({ shape: [3], name: 'x' });
    const model = new Model({ inputs: x, outputs: shared.apply(x) });
    const topology = (await saveToMemory(model)).modelTopology as { config: Record<string, unknown> };
    expect(topology.config.output_layers).toEqual([['reused', 0, 0]]);
    const copy = await loadModel(io.fromMemory(await saveToMemory(model)));
    expectSameModel(model, copy, inputsFor(model, 2, 3));
  });
});

describe('training config', () => {
  const data = () => ({ x: inputsFor(new Sequential([new Dense({ units: 1, inputShape: [4] })]), 8, 21)[0], y: tensor(Array.from({ length: 8 }, (_, i) => [i % 2, 1 - (i % 2)]), [8, 2]) });
  const classifier = () => new Sequential([new Dense({ units: 5, activation: 'relu', inputShape: [4] }), new Dense({ units: 2, activation: 'softmax' })]);

  it('a model compiled with names comes back compiled, where TensorFlow.js reads it', async () => {
    const model = classifier();
    model.compile({ optimizer: new Adam({ learningRate: 0.02, beta1: 0.8 }), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const { copy, artifacts } = await roundTrip(model);
    expect(artifacts.trainingConfig).toEqual({
      loss: 'categorical_crossentropy', metrics: ['accuracy'],
      optimizer_config: { class_name: 'Adam', config: { learning_rate: 0.02, beta_1: 0.8, beta_2: 0.999, epsilon: 1e-7 } },
    });
    expect(copy.compiled).not.toBeNull();
    const optimizer = copy.compiled!.optimizer as Adam;
    expect(optimizer).toBeInstanceOf(Adam);
    expect([optimizer.learningRate, optimizer.beta1]).toEqual([0.02, 0.8]);
    const { x, y } = data();
    const history = await copy.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0 });
    expect(Object.keys(history.history)).toEqual(['loss', 'accuracy']);
  });

  it('an optimizer TensorFlow.js lacks is saved in the Keras place (modelTopology.training_config)', async () => {
    const model = classifier();
    model.compile({ optimizer: new AdamW({ learningRate: 0.003, weightDecay: 0.01, clipnorm: 1 }), loss: 'huber', lossWeights: [1] });
    const { copy, artifacts } = await roundTrip(model);
    expect(artifacts.trainingConfig).toBeUndefined();
    expect(artifacts.modelTopology.training_config).toMatchObject({ loss: 'huber', optimizer_config: { class_name: 'AdamW' } });
    const optimizer = copy.compiled!.optimizer;
    expect(optimizer).toBeInstanceOf(AdamW);
    expect([optimizer.learningRate, optimizer.weightDecay, optimizer.clipnorm]).toEqual([0.003, 0.01, 1]);
  });

  it('SGD with momentum is saved as TensorFlow.js\'s Momentum and read back as SGD', async () => {
    const model = classifier();
    model.compile({ optimizer: new SGD({ learningRate: 0.05, momentum: 0.9, nesterov: true }), loss: 'mse' });
    const { copy, artifacts } = await roundTrip(model);
    expect(artifacts.trainingConfig?.optimizer_config).toEqual({ class_name: 'Momentum', config: { learning_rate: 0.05, momentum: 0.9, use_nesterov: true } });
    expect(artifacts.trainingConfig?.loss).toBe('mean_squared_error');
    const optimizer = copy.compiled!.optimizer as SGD;
    expect([optimizer.learningRate, optimizer.momentum, optimizer.nesterov]).toEqual([0.05, 0.9, true]);
  });

  it('a model compiled with a loss function is saved uncompiled; { compile: false } skips compiling', async () => {
    const model = classifier();
    model.compile({ optimizer: 'sgd', loss: losses.categoricalCrossentropy({ fromLogits: true }) });
    const { copy, artifacts } = await roundTrip(model);
    expect(artifacts.trainingConfig).toBeUndefined();
    expect(artifacts.modelTopology.training_config).toBeUndefined();
    expect(copy.compiled).toBeNull();

    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const saved = await saveToMemory(model);
    expect((await loadModel(io.fromMemory(saved), { compile: false })).compiled).toBeNull();
    expect((await saveToMemory(model, { includeTrainingConfig: false })).trainingConfig).toBeUndefined();
  });
});
