// model.json as the Keras-to-TensorFlow.js converter writes it, from Keras 2 and Keras 3
// models: the topology wrapped in model_config with the training config beside it, an
// InputLayer first in Sequential models, Keras 3's batch_shape, dtype policies and
// inbound-node dicts, and weight names with ':0' suffixes or RNN cell scopes. The topologies
// below are written after the converter's output; their weights come from a kerasm model of
// the same architecture, whose predictions the loaded model must reproduce exactly.

import { describe, expect, it } from 'vitest';
import {
  Adam, Add, Conv2D, Dense, Flatten, Input, io, loadModel, LSTM, MaxPooling2D, Model, Sequential,
  setRandomSeed, type ModelArtifacts,
} from '../../src/index.js';
import { expectSameModel, inputsFor, saveToMemory } from './helpers.js';

const glorot = { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null }, registered_name: null };
const zeros = { module: 'keras.initializers', class_name: 'Zeros', config: {}, registered_name: null };
const float32 = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };

/** Keras 2 (tf.keras 2.x) Sequential, as the converter wraps it. */
function keras2Sequential() {
  const common = { trainable: true, dtype: 'float32' };
  return {
    keras_version: '2.15.0',
    backend: 'tensorflow',
    model_config: {
      class_name: 'Sequential',
      config: {
        name: 'sequential',
        layers: [
          { class_name: 'InputLayer', config: { batch_input_shape: [null, 8, 8, 1], dtype: 'float32', sparse: false, ragged: false, name: 'conv2d_input' } },
          {
            class_name: 'Conv2D',
            config: {
              name: 'conv2d', ...common, batch_input_shape: [null, 8, 8, 1], filters: 4, kernel_size: [3, 3], strides: [1, 1],
              padding: 'valid', data_format: 'channels_last', dilation_rate: [1, 1], groups: 1, activation: 'relu', use_bias: true,
              kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } }, bias_initializer: { class_name: 'Zeros', config: {} },
              kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
            },
          },
          { class_name: 'MaxPooling2D', config: { name: 'max_pooling2d', ...common, pool_size: [2, 2], padding: 'valid', strides: [2, 2], data_format: 'channels_last' } },
          { class_name: 'Flatten', config: { name: 'flatten', ...common, data_format: 'channels_last' } },
          {
            class_name: 'Dense',
            config: {
              name: 'dense', ...common, units: 3, activation: 'softmax', use_bias: true,
              kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } }, bias_initializer: { class_name: 'Zeros', config: {} },
              kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
            },
          },
        ],
      },
    },
    training_config: {
      loss: 'categorical_crossentropy', metrics: [[{ class_name: 'MeanMetricWrapper', config: { name: 'accuracy', dtype: 'float32' } }]],
      weighted_metrics: null, loss_weights: null,
      optimizer_config: { class_name: 'Adam', config: { name: 'Adam', learning_rate: 0.002, decay: 0, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false } },
    },
  };
}

/** Keras 3 functional model: two inputs, a shared Dense, Add, an LSTM branch. */
function keras3Functional() {
  const tensor = (name: string, shape: (number | null)[]) => ({ class_name: '__keras_tensor__', config: { shape, dtype: 'float32', keras_history: [name, 0, 0] } });
  const dense = (name: string, units: number, activation: string) => ({
    module: 'keras.layers', class_name: 'Dense', registered_name: null, name,
    config: {
      name, trainable: true, dtype: float32, units, activation, use_bias: true, kernel_initializer: glorot, bias_initializer: zeros,
      kernel_regularizer: null, bias_regularizer: null, kernel_constraint: null, bias_constraint: null,
    },
  });
  const input = (name: string, shape: number[]) => ({
    module: 'keras.layers', class_name: 'InputLayer', registered_name: null, name, inbound_nodes: [],
    config: { batch_shape: [null, ...shape], dtype: 'float32', sparse: false, name },
  });
  return {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    config: {
      name: 'two_towers',
      trainable: true,
      layers: [
        input('a', [4]),
        input('b', [4]),
        input('seq', [3, 2]),
        {
          ...dense('shared', 5, 'relu'),
          inbound_nodes: [{ args: [tensor('a', [null, 4])], kwargs: {} }, { args: [tensor('b', [null, 4])], kwargs: {} }],
        },
        {
          module: 'keras.layers', class_name: 'LSTM', registered_name: null, name: 'lstm',
          config: {
            name: 'lstm', trainable: true, dtype: float32, return_sequences: false, return_state: false, go_backwards: false,
            stateful: false, unroll: false, zero_output_for_mask: false, units: 5, activation: 'tanh', recurrent_activation: 'sigmoid',
            use_bias: true, kernel_initializer: glorot, recurrent_initializer: { module: 'keras.initializers', class_name: 'Orthogonal', config: { gain: 1, seed: null }, registered_name: null },
            bias_initializer: zeros, unit_forget_bias: true, kernel_regularizer: null, recurrent_regularizer: null, bias_regularizer: null,
            activity_regularizer: null, kernel_constraint: null, recurrent_constraint: null, bias_constraint: null, dropout: 0, recurrent_dropout: 0, seed: null,
          },
          inbound_nodes: [{ args: [tensor('seq', [null, 3, 2])], kwargs: {} }],
        },
        {
          module: 'keras.layers', class_name: 'Add', registered_name: null, name: 'add',
          config: { name: 'add', trainable: true, dtype: float32 },
          inbound_nodes: [{ args: [[{ ...tensor('shared', [null, 5]) }, { class_name: '__keras_tensor__', config: { shape: [null, 5], dtype: 'float32', keras_history: ['shared', 1, 0] } }, tensor('lstm', [null, 5])]], kwargs: {} }],
        },
        { ...dense('out', 2, 'softmax'), inbound_nodes: [{ args: [tensor('add', [null, 5])], kwargs: {} }] },
      ],
      input_layers: [['a', 0, 0], ['b', 0, 0], ['seq', 0, 0]],
      output_layers: [['out', 0, 0]],
    },
  };
}

/** The same architectures in kerasm, with the same layer names. */
function kerasmSequential(): Sequential {
  return new Sequential({
    name: 'sequential',
    layers: [
      new Conv2D({ name: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu', inputShape: [8, 8, 1] }),
      new MaxPooling2D({ name: 'max_pooling2d' }),
      new Flatten({ name: 'flatten' }),
      new Dense({ name: 'dense', units: 3, activation: 'softmax' }),
    ],
  });
}

function kerasmFunctional(): Model {
  const a = Input({ shape: [4], name: 'a' });
  const b = Input({ shape: [4], name: 'b' });
  const seq = Input({ shape: [3, 2], name: 'seq' });
  const shared = new Dense({ name: 'shared', units: 5, activation: 'relu' });
  const sum = new Add({ name: 'add' }).apply([shared.apply(a), shared.apply(b), new LSTM({ name: 'lstm', units: 5 }).apply(seq)]);
  return new Model({ inputs: [a, b, seq], outputs: new Dense({ name: 'out', units: 2, activation: 'softmax' }).apply(sum), name: 'two_towers' });
}

/** `reference`'s weights under the converter's names, with `topology`. */
async function converted(reference: Model, topology: object, rename: (name: string) => string): Promise<ModelArtifacts> {
  const saved = await saveToMemory(reference);
  return {
    format: 'layers-model', generatedBy: 'keras v2.15.0', convertedBy: 'TensorFlow.js Converter v4.22.0',
    modelTopology: topology as ModelArtifacts['modelTopology'],
    weightSpecs: saved.weightSpecs!.map((s) => ({ ...s, name: rename(s.name) })),
    weightData: saved.weightData,
  };
}

describe('models converted from Keras', () => {
  it('Keras 2 Sequential: model_config, InputLayer first, training_config, ":0" weight names', async () => {
    setRandomSeed(2);
    const reference = kerasmSequential();
    const artifacts = await converted(reference, keras2Sequential(), (n) => `${n}:0`);
    const model = await loadModel(io.fromMemory(artifacts));
    expect(model).toBeInstanceOf(Sequential);
    expect(model.layers.map((l) => l.className)).toEqual(['Conv2D', 'MaxPooling2D', 'Flatten', 'Dense']);
    expectSameModel(reference, model, inputsFor(reference, 2, 8));
    const optimizer = model.compiled!.optimizer as Adam;
    expect(optimizer).toBeInstanceOf(Adam);
    expect(optimizer.learningRate).toBe(0.002);
    expect(model.compileArgs!.metrics).toEqual(['accuracy']);
  });

  it('Keras 3 functional: batch_shape, dtype policies, inbound-node dicts, a shared layer, an LSTM cell scope', async () => {
    setRandomSeed(3);
    const reference = kerasmFunctional();
    const artifacts = await converted(reference, keras3Functional(), (n) => n.replace('lstm/', 'lstm/lstm_cell/'));
    expect(artifacts.weightSpecs!.map((s) => s.name)).toContain('lstm/lstm_cell/recurrent_kernel');
    const model = await loadModel(io.fromMemory(artifacts));
    expect(model.name).toBe('two_towers');
    expectSameModel(reference, model, inputsFor(reference, 2, 9));
  });

  it('a Keras setting that changes results is refused, naming it', async () => {
    const topology = keras2Sequential();
    const conv = topology.model_config.config.layers[1].config as Record<string, unknown>;
    conv.padding = 'causal';
    const artifacts = await converted(kerasmSequential(), topology, (n) => n);
    await expect(loadModel(io.fromMemory(artifacts))).rejects.toThrow(
      `kerasm.loadModel: layer 'conv2d' (Conv2D): expected padding to be one of 'valid', 'same', got "causal"`,
    );
  });
});
