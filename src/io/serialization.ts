// Layers <-> Keras layer configs (snake_case, as Keras and TensorFlow.js write them).
//
// One typed table, CODECS, maps the Keras class name of every layer class exported by
// src/layers/index.ts to the functions that write and read its config. Its keys are derived
// from those exports, so a new layer class without an entry here is a compile error, not a
// "class not registered" surprise when someone loads a model.
//
// Weights are saved under their Keras names and shapes, which for most layers are kerasm's
// own (`dense/kernel`). Layers built from other layers say how theirs map: Conv1D's kernel is
// a [1, k, c, f] Conv2D kernel saved as [k, c, f]; SeparableConv2D's and Bidirectional's live
// in sublayers but are saved under the outer layer's name, as TensorFlow.js names them.
// see: tfjs-layers/src/layers/*.ts getConfig(), keras/src/layers/*/ get_config()

import { fail } from '../ops/check.js';
import type * as layerClasses from '../layers/index.js';
import { ActivationLayer, Dense, Dropout, Flatten, Input, InputLayer, Masking, Reshape } from '../layers/core.js';
import { Conv1D, Conv2D, DepthwiseConv2D, SeparableConv2D } from '../layers/convolutional.js';
import { Embedding } from '../layers/embedding.js';
import type { Layer, LayerArgs, SymbolicShape } from '../layers/layer.js';
import { Add, Average, Concatenate, Multiply } from '../layers/merge.js';
import { BatchNormalization, LayerNormalization } from '../layers/normalization.js';
import {
  AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D,
} from '../layers/pooling.js';
import { Bidirectional, GRU, LSTM, SimpleRNN, type RNNArgs } from '../layers/recurrent.js';
import {
  Normalization, RandomRotation, RandomTranslation, RandomZoom, type FillMode, type Interpolation,
} from '../layers/preprocessing.js';
import { UpSampling2D, ZeroPadding2D } from '../layers/reshaping.js';
import {
  activationFromKeras, activationToKeras, initializerFromKeras, initializerToKeras, isObject, KerasConfig,
  regularizerFromKeras, regularizerToKeras,
} from './keras_config.js';
import type { JsonObject } from './types.js';
import type { KerasWeight } from './weights.js';

type Exported = (typeof layerClasses)[keyof typeof layerClasses];
type LayerInstance = InstanceType<Extract<Exported, abstract new (...args: never[]) => Layer>>;
/** The literal class names (the Layer base's `string` drops out). */
type LiteralName<L> = L extends { className: infer N } ? (string extends N ? never : N) : never;

/** Every Keras class name of an exported kerasm layer. */
export type LayerClassName = LiteralName<LayerInstance>;
type LayerOf<N> = Extract<LayerInstance, { className: N }>;

export interface LayerCodec<L extends Layer> {
  /** The class, to check that a layer named like it really is one. */
  type: abstract new (...args: never[]) => L;
  /**
   * The Keras config's own keys; name, trainable and the input shape are added around them.
   * `config` is the layer's getConfig().
   */
  write(layer: L, config: Record<string, unknown>): JsonObject;
  /** A new layer from a Keras config; `args` holds name, trainable and the input shape. */
  read(c: KerasConfig, args: LayerArgs): L;
  /** The layer's weights under their Keras names and shapes, when those are not its own. */
  weights?(layer: L): KerasWeight[];
}

const NULLS = { activity_regularizer: null, kernel_constraint: null, bias_constraint: null };
const CHANNELS_LAST = { data_format: 'channels_last' } as const;

/** The input rank a built layer saw (for axes written as positive numbers). */
function inputRank(layer: Layer): number | undefined {
  return layer.nodes[0]?.inputs[0]?.shape.length;
}

function rejectAll(c: KerasConfig, ...keys: string[]): void {
  for (const key of keys) c.unsupported(key);
}

function poolingCodec<L extends MaxPooling2D | AveragePooling2D>(type: new (args: LayerArgs & { poolSize: [number, number]; strides: [number, number]; padding: 'valid' | 'same' }) => L): LayerCodec<L> {
  return {
    type,
    write: (l) => ({ pool_size: l.poolSize, padding: l.padding, strides: l.strides, ...CHANNELS_LAST }),
    read: (c, args) => {
      c.channelsLast();
      const poolSize = c.pair('pool_size', 2);
      const strides = c.get('strides') === undefined ? poolSize : c.pair('strides', 1);
      return new type({ ...args, poolSize, strides, padding: c.choice('padding', ['valid', 'same'], 'valid') });
    },
  };
}

function globalPoolingCodec<L extends GlobalAveragePooling2D | GlobalMaxPooling2D>(type: new (args: LayerArgs) => L): LayerCodec<L> {
  return {
    type,
    write: () => ({ ...CHANNELS_LAST }),
    read: (c, args) => {
      c.channelsLast();
      c.unsupported('keepdims', false);
      return new type(args);
    },
  };
}

/** A Keras factor: a number or a pair [lower, upper]. */
function factor(c: KerasConfig, key: string): number | [number, number] {
  const v = c.get(key);
  if (typeof v === 'number') return v;
  if (Array.isArray(v) && v.length === 2 && v.every((d) => typeof d === 'number')) return [v[0], v[1]];
  return c.fail(`expected ${key} to be a number or a pair of numbers, got ${JSON.stringify(v)}`);
}

/** The keys RandomRotation and RandomZoom share. */
function readResampling(c: KerasConfig) {
  c.channelsLast();
  const seed = c.get('seed');
  return {
    fillMode: c.choice('fill_mode', ['constant', 'reflect', 'nearest', 'wrap'], 'reflect') as FillMode,
    fillValue: c.number('fill_value', 0),
    interpolation: c.choice('interpolation', ['nearest', 'bilinear'], 'bilinear') as Interpolation,
    seed: typeof seed === 'number' ? seed : undefined,
  };
}

function mergeCodec<L extends Add | Average | Multiply>(type: new (args: LayerArgs) => L): LayerCodec<L> {
  return { type, write: () => ({}), read: (_c, args) => new type(args) };
}

/** The settings SimpleRNN, LSTM and GRU share. */
function writeRecurrent(l: SimpleRNN | LSTM | GRU, cfg: Record<string, unknown>): JsonObject {
  return {
    units: l.units, activation: activationToKeras(l.activation.name), use_bias: l.useBias,
    kernel_initializer: initializerToKeras(cfg.kernelInitializer, 'glorotUniform'),
    recurrent_initializer: initializerToKeras(cfg.recurrentInitializer, 'orthogonal'),
    bias_initializer: initializerToKeras(cfg.biasInitializer, 'zeros'),
    kernel_regularizer: regularizerToKeras(l.kernel), recurrent_regularizer: regularizerToKeras(l.recurrentKernel),
    bias_regularizer: regularizerToKeras(l.bias), ...NULLS, recurrent_constraint: null,
    dropout: l.dropout, recurrent_dropout: l.recurrentDropout, return_sequences: l.returnSequences,
    return_state: l.returnState, go_backwards: l.goBackwards, stateful: l.stateful, unroll: false,
  };
}

function readRecurrent(c: KerasConfig, args: LayerArgs): RNNArgs {
  rejectAll(c, 'activity_regularizer', 'kernel_constraint', 'recurrent_constraint', 'bias_constraint');
  c.unsupported('time_major', false);
  return {
    ...args, units: c.positiveInt('units'), activation: activationFromKeras(c, 'activation', 'tanh'),
    useBias: c.bool('use_bias', true), returnSequences: c.bool('return_sequences', false),
    goBackwards: c.bool('go_backwards', false), returnState: c.bool('return_state', false),
    stateful: c.bool('stateful', false),
    kernelInitializer: initializerFromKeras(c, 'kernel_initializer'),
    recurrentInitializer: initializerFromKeras(c, 'recurrent_initializer'),
    biasInitializer: initializerFromKeras(c, 'bias_initializer'),
    kernelRegularizer: regularizerFromKeras(c, 'kernel_regularizer'),
    recurrentRegularizer: regularizerFromKeras(c, 'recurrent_regularizer'),
    biasRegularizer: regularizerFromKeras(c, 'bias_regularizer'),
    dropout: c.number('dropout', 0), recurrentDropout: c.number('recurrent_dropout', 0),
  };
}

export const CODECS: { [N in LayerClassName]: LayerCodec<LayerOf<N>> } = {
  InputLayer: {
    type: InputLayer,
    write: (l) => ({ batch_input_shape: l.batchInputShape, dtype: 'float32', sparse: false }),
    read: (c, args) => {
      c.unsupported('sparse', false);
      c.unsupported('ragged', false);
      const shape = c.batchInputShape();
      if (!shape) return c.fail('expected batch_input_shape (or batch_shape), got neither');
      const input = Input({ shape: shape.slice(1) as number[], name: args.name, batchSize: shape[0] ?? undefined });
      return input.node.layer as InputLayer;
    },
  },

  Dense: {
    type: Dense,
    write: (l, cfg) => ({
      units: l.units, activation: activationToKeras(l.activation.name), use_bias: l.useBias,
      kernel_initializer: initializerToKeras(cfg.kernelInitializer, 'glorotUniform'),
      bias_initializer: initializerToKeras(cfg.biasInitializer, 'zeros'),
      kernel_regularizer: regularizerToKeras(l.kernel), bias_regularizer: regularizerToKeras(l.bias), ...NULLS,
    }),
    read: (c, args) => {
      rejectAll(c, 'activity_regularizer', 'kernel_constraint', 'bias_constraint', 'lora_rank');
      return new Dense({
        ...args, units: c.positiveInt('units'), activation: activationFromKeras(c), useBias: c.bool('use_bias', true),
        kernelInitializer: initializerFromKeras(c, 'kernel_initializer'), biasInitializer: initializerFromKeras(c, 'bias_initializer'),
        kernelRegularizer: regularizerFromKeras(c, 'kernel_regularizer'), biasRegularizer: regularizerFromKeras(c, 'bias_regularizer'),
      });
    },
  },

  Conv2D: {
    type: Conv2D,
    write: (l, cfg) => ({
      filters: l.filters, kernel_size: l.kernelSize, strides: l.strides, padding: l.padding, ...CHANNELS_LAST,
      dilation_rate: l.dilationRate, activation: activationToKeras(l.activation.name), use_bias: l.useBias,
      kernel_initializer: initializerToKeras(cfg.kernelInitializer, 'glorotUniform'),
      bias_initializer: initializerToKeras(cfg.biasInitializer, 'zeros'),
      kernel_regularizer: regularizerToKeras(l.kernel), bias_regularizer: regularizerToKeras(l.bias), ...NULLS,
    }),
    read: (c, args) => {
      c.channelsLast();
      c.unsupported('groups', 1);
      rejectAll(c, 'activity_regularizer', 'kernel_constraint', 'bias_constraint', 'lora_rank');
      return new Conv2D({
        ...args, filters: c.positiveInt('filters'), kernelSize: c.pair('kernel_size', 1), strides: c.pair('strides', 1),
        padding: c.choice('padding', ['valid', 'same'], 'valid'), dilationRate: c.pair('dilation_rate', 1),
        activation: activationFromKeras(c), useBias: c.bool('use_bias', true),
        kernelInitializer: initializerFromKeras(c, 'kernel_initializer'), biasInitializer: initializerFromKeras(c, 'bias_initializer'),
        kernelRegularizer: regularizerFromKeras(c, 'kernel_regularizer'), biasRegularizer: regularizerFromKeras(c, 'bias_regularizer'),
      });
    },
  },

  Conv1D: {
    type: Conv1D,
    write: (l, cfg) => ({
      filters: cfg.filters, kernel_size: [cfg.kernelSize], strides: [cfg.strides], padding: cfg.padding, ...CHANNELS_LAST,
      dilation_rate: [cfg.dilationRate], activation: activationToKeras(cfg.activation), use_bias: cfg.useBias,
      kernel_initializer: initializerToKeras(undefined, 'glorotUniform'), bias_initializer: initializerToKeras(undefined, 'zeros'),
      kernel_regularizer: regularizerToKeras(l.kernel), bias_regularizer: regularizerToKeras(l.weights[1]), ...NULLS,
    }),
    read: (c, args) => {
      c.channelsLast();
      c.unsupported('groups', 1);
      rejectAll(c, 'activity_regularizer', 'kernel_constraint', 'bias_constraint', 'lora_rank');
      return new Conv1D({
        ...args, filters: c.positiveInt('filters'), kernelSize: c.single('kernel_size', 1), strides: c.single('strides', 1),
        padding: c.choice('padding', ['valid', 'same'], 'valid'), dilationRate: c.single('dilation_rate', 1),
        activation: activationFromKeras(c), useBias: c.bool('use_bias', true),
        kernelInitializer: initializerFromKeras(c, 'kernel_initializer'), biasInitializer: initializerFromKeras(c, 'bias_initializer'),
        kernelRegularizer: regularizerFromKeras(c, 'kernel_regularizer'), biasRegularizer: regularizerFromKeras(c, 'bias_regularizer'),
      });
    },
    // Stored as a height-1 Conv2D kernel [1, k, c, f]; Keras's is [k, c, f], the same values.
    weights: (l) => l.weights.map((v, i) => ({
      variable: v, name: `${l.name}/${i === 0 ? 'kernel' : 'bias'}`, shape: i === 0 ? v.shape.slice(1) : v.shape,
    })),
  },

  DepthwiseConv2D: {
    type: DepthwiseConv2D,
    write: (l) => ({
      kernel_size: l.kernelSize, strides: l.strides, padding: l.padding, ...CHANNELS_LAST, dilation_rate: l.dilationRate,
      depth_multiplier: l.depthMultiplier, activation: activationToKeras(l.activation.name), use_bias: l.useBias,
      depthwise_initializer: initializerToKeras(undefined, 'glorotUniform'), bias_initializer: initializerToKeras(undefined, 'zeros'),
      depthwise_regularizer: regularizerToKeras(l.depthwiseKernel), bias_regularizer: regularizerToKeras(l.bias),
      activity_regularizer: null, depthwise_constraint: null, bias_constraint: null,
    }),
    read: (c, args) => {
      c.channelsLast();
      rejectAll(c, 'activity_regularizer', 'depthwise_constraint', 'bias_constraint');
      return new DepthwiseConv2D({
        ...args, kernelSize: c.pair('kernel_size', 1), strides: c.pair('strides', 1),
        padding: c.choice('padding', ['valid', 'same'], 'valid'), dilationRate: c.pair('dilation_rate', 1),
        depthMultiplier: c.positiveInt('depth_multiplier', 1), activation: activationFromKeras(c), useBias: c.bool('use_bias', true),
        depthwiseInitializer: initializerFromKeras(c, 'depthwise_initializer'), biasInitializer: initializerFromKeras(c, 'bias_initializer'),
        depthwiseRegularizer: regularizerFromKeras(c, 'depthwise_regularizer'), biasRegularizer: regularizerFromKeras(c, 'bias_regularizer'),
      });
    },
  },

  SeparableConv2D: {
    type: SeparableConv2D,
    write: (_l, cfg) => ({
      filters: cfg.filters, kernel_size: cfg.kernelSize, strides: cfg.strides, padding: cfg.padding, ...CHANNELS_LAST,
      dilation_rate: cfg.dilationRate ?? [1, 1], depth_multiplier: cfg.depthMultiplier,
      activation: activationToKeras(cfg.activation), use_bias: cfg.useBias ?? true,
      depthwise_initializer: initializerToKeras(undefined, 'glorotUniform'),
      pointwise_initializer: initializerToKeras(undefined, 'glorotUniform'),
      bias_initializer: initializerToKeras(undefined, 'zeros'),
      depthwise_regularizer: null, pointwise_regularizer: null, bias_regularizer: null, activity_regularizer: null,
      depthwise_constraint: null, pointwise_constraint: null, bias_constraint: null,
    }),
    read: (c, args) => {
      c.channelsLast();
      rejectAll(c, 'depthwise_regularizer', 'pointwise_regularizer', 'bias_regularizer', 'activity_regularizer',
        'depthwise_constraint', 'pointwise_constraint', 'bias_constraint');
      return new SeparableConv2D({
        ...args, filters: c.positiveInt('filters'), kernelSize: c.pair('kernel_size', 1), strides: c.pair('strides', 1),
        padding: c.choice('padding', ['valid', 'same'], 'valid'), dilationRate: c.pair('dilation_rate', 1),
        depthMultiplier: c.positiveInt('depth_multiplier', 1), activation: activationFromKeras(c), useBias: c.bool('use_bias', true),
        depthwiseInitializer: initializerFromKeras(c, 'depthwise_initializer'),
        pointwiseInitializer: initializerFromKeras(c, 'pointwise_initializer'),
        biasInitializer: initializerFromKeras(c, 'bias_initializer'),
      });
    },
    // Held by a DepthwiseConv2D and a 1x1 Conv2D inside; saved under the layer's own name.
    weights: (l) => l.weights.map((v, i) => ({
      variable: v, name: `${l.name}/${['depthwise_kernel', 'pointwise_kernel', 'bias'][i]}`, shape: v.shape,
    })),
  },

  MaxPooling2D: poolingCodec(MaxPooling2D),
  AveragePooling2D: poolingCodec(AveragePooling2D),
  GlobalAveragePooling2D: globalPoolingCodec(GlobalAveragePooling2D),
  GlobalMaxPooling2D: globalPoolingCodec(GlobalMaxPooling2D),

  BatchNormalization: {
    type: BatchNormalization,
    write: (l) => ({
      axis: -1, momentum: l.momentum, epsilon: l.epsilon, center: l.center, scale: l.scale,
      beta_initializer: initializerToKeras(undefined, 'zeros'), gamma_initializer: initializerToKeras(undefined, 'ones'),
      moving_mean_initializer: initializerToKeras(undefined, 'zeros'),
      moving_variance_initializer: initializerToKeras(undefined, 'ones'),
      beta_regularizer: null, gamma_regularizer: null, beta_constraint: null, gamma_constraint: null,
    }),
    read: (c, args) => {
      rejectAll(c, 'beta_regularizer', 'gamma_regularizer', 'beta_constraint', 'gamma_constraint', 'virtual_batch_size', 'adjustment');
      c.unsupported('renorm', false);
      const layer = new BatchNormalization({
        ...args, momentum: c.number('momentum', 0.99), epsilon: c.number('epsilon', 1e-3),
        center: c.bool('center', true), scale: c.bool('scale', true),
        betaInitializer: initializerFromKeras(c, 'beta_initializer'), gammaInitializer: initializerFromKeras(c, 'gamma_initializer'),
        movingMeanInitializer: initializerFromKeras(c, 'moving_mean_initializer'),
        movingVarianceInitializer: initializerFromKeras(c, 'moving_variance_initializer'),
      });
      c.lastAxis('axis', () => inputRank(layer));
      return layer;
    },
  },

  LayerNormalization: {
    type: LayerNormalization,
    write: (l) => ({
      axis: -1, epsilon: l.epsilon, center: l.center, scale: l.scale,
      beta_initializer: initializerToKeras(undefined, 'zeros'), gamma_initializer: initializerToKeras(undefined, 'ones'),
      beta_regularizer: null, gamma_regularizer: null,
    }),
    read: (c, args) => {
      rejectAll(c, 'beta_regularizer', 'gamma_regularizer', 'beta_constraint', 'gamma_constraint');
      c.unsupported('rms_scaling', false);
      const layer = new LayerNormalization({
        ...args, epsilon: c.number('epsilon', 1e-3), center: c.bool('center', true), scale: c.bool('scale', true),
        betaInitializer: initializerFromKeras(c, 'beta_initializer'), gammaInitializer: initializerFromKeras(c, 'gamma_initializer'),
      });
      c.lastAxis('axis', () => inputRank(layer));
      return layer;
    },
  },

  Add: mergeCodec(Add),
  Multiply: mergeCodec(Multiply),
  Average: mergeCodec(Average),
  Concatenate: {
    type: Concatenate,
    write: (l) => ({ axis: l.axis }),
    read: (c, args) => {
      const axis = c.get('axis') ?? -1;
      if (!Number.isInteger(axis)) c.fail(`expected axis to be an integer, got ${JSON.stringify(axis)}`);
      return new Concatenate({ ...args, axis: axis as number });
    },
  },

  SimpleRNN: {
    type: SimpleRNN,
    write: (l, cfg) => writeRecurrent(l, cfg),
    read: (c, args) => new SimpleRNN(readRecurrent(c, args)),
  },
  LSTM: {
    type: LSTM,
    write: (l, cfg) => ({
      ...writeRecurrent(l, cfg), recurrent_activation: activationToKeras(l.recurrentActivation.name),
      unit_forget_bias: l.unitForgetBias,
    }),
    read: (c, args) => new LSTM({
      ...readRecurrent(c, args), recurrentActivation: activationFromKeras(c, 'recurrent_activation', 'sigmoid'),
      unitForgetBias: c.bool('unit_forget_bias', true),
    }),
  },
  GRU: {
    type: GRU,
    write: (l, cfg) => ({
      ...writeRecurrent(l, cfg), recurrent_activation: activationToKeras(l.recurrentActivation.name),
      reset_after: l.resetAfter,
    }),
    read: (c, args) => new GRU({
      ...readRecurrent(c, args), recurrentActivation: activationFromKeras(c, 'recurrent_activation', 'sigmoid'),
      resetAfter: c.bool('reset_after', true),
    }),
  },

  Bidirectional: {
    type: Bidirectional,
    write: (l) => {
      // Keras names the wrapped layer 'lstm' and its copies 'forward_lstm', 'backward_lstm'.
      const inner = layerToKeras(l.forwardLayer);
      inner.config.name = l.forwardLayer.name.replace(/^forward_/, '');
      return { layer: inner, merge_mode: l.mergeMode };
    },
    read: (c, args) => {
      if (c.raw.merge_mode === null) c.fail('merge_mode null (two separate outputs) is not supported; expected concat, sum, mul or ave');
      const mergeMode = c.choice('merge_mode', ['concat', 'sum', 'mul', 'ave'], 'concat');
      const inner = layerFromKeras(c.get('layer'), c.op, {}, c.deferred);
      if (!(inner instanceof SimpleRNN || inner instanceof LSTM || inner instanceof GRU)) {
        return c.fail(`expected the wrapped layer to be a SimpleRNN, LSTM or GRU, got ${inner.className}`);
      }
      // Keras may also write backward_layer; kerasm's backward copy is the wrapped layer run
      // backwards, which the weight shapes then confirm.
      const backward = c.get('backward_layer');
      if (isObject(backward) && backward.class_name !== inner.className) {
        c.fail(`expected backward_layer of the wrapped layer's class ${inner.className}, got ${JSON.stringify(backward.class_name)}`);
      }
      return new Bidirectional({ ...args, layer: inner, mergeMode });
    },
    weights: (l) => l.weights.map((v) => ({ variable: v, name: `${l.name}/${v.name}`, shape: v.shape })),
  },

  Embedding: {
    type: Embedding,
    write: (l, cfg) => ({
      input_dim: l.inputDim, output_dim: l.outputDim,
      embeddings_initializer: initializerToKeras(cfg.embeddingsInitializer, 'randomUniform'),
      embeddings_regularizer: regularizerToKeras(l.embeddings), activity_regularizer: null,
      embeddings_constraint: null, mask_zero: l.maskZero,
    }),
    read: (c, args) => {
      rejectAll(c, 'activity_regularizer', 'embeddings_constraint');
      c.unsupported('sparse', false);
      return new Embedding({
        ...args, inputDim: c.positiveInt('input_dim'), outputDim: c.positiveInt('output_dim'),
        maskZero: c.bool('mask_zero', false),
        embeddingsInitializer: initializerFromKeras(c, 'embeddings_initializer'),
        embeddingsRegularizer: regularizerFromKeras(c, 'embeddings_regularizer'),
      });
    },
  },

  ZeroPadding2D: {
    type: ZeroPadding2D,
    write: (l) => ({ padding: l.padding, ...CHANNELS_LAST }),
    read: (c, args) => {
      c.channelsLast();
      return new ZeroPadding2D({ ...args, padding: (c.get('padding') ?? 1) as ZeroPadding2D['padding'] });
    },
  },
  UpSampling2D: {
    type: UpSampling2D,
    write: (l) => ({ size: l.size, ...CHANNELS_LAST, interpolation: 'nearest' }),
    read: (c, args) => {
      c.channelsLast();
      c.choice('interpolation', ['nearest'], 'nearest');
      return new UpSampling2D({ ...args, size: c.pair('size', 2) });
    },
  },

  Flatten: {
    type: Flatten,
    write: () => ({ ...CHANNELS_LAST }),
    read: (c, args) => {
      c.channelsLast();
      return new Flatten(args);
    },
  },
  Reshape: {
    type: Reshape,
    write: (l) => ({ target_shape: l.targetShape }),
    read: (c, args) => {
      const t = c.get('target_shape');
      if (!Array.isArray(t) || !t.every((d) => d === -1 || (Number.isInteger(d) && d >= 1))) {
        return c.fail(`expected target_shape to be a list of positive integers (one may be -1), got ${JSON.stringify(t)}`);
      }
      return new Reshape({ ...args, targetShape: t });
    },
  },
  Masking: {
    type: Masking,
    write: (l) => ({ mask_value: l.maskValue }),
    read: (c, args) => new Masking({ ...args, maskValue: c.number('mask_value', 0) }),
  },
  Dropout: {
    type: Dropout,
    write: (l) => ({ rate: l.rate, noise_shape: null, seed: null }),
    read: (c, args) => {
      c.unsupported('noise_shape');
      const seed = c.get('seed');
      return new Dropout({ ...args, rate: c.number('rate'), seed: typeof seed === 'number' ? seed : undefined });
    },
  },
  RandomTranslation: {
    type: RandomTranslation,
    write: (l) => ({
      height_factor: l.heightFactor, width_factor: l.widthFactor, fill_mode: l.fillMode,
      interpolation: 'nearest', seed: l.seed ?? null, fill_value: l.fillValue, ...CHANNELS_LAST,
    }),
    read: (c, args) => {
      c.channelsLast();
      const seed = c.get('seed');
      return new RandomTranslation({
        ...args, heightFactor: factor(c, 'height_factor'), widthFactor: factor(c, 'width_factor'),
        fillMode: c.choice('fill_mode', ['constant', 'reflect', 'nearest', 'wrap'], 'reflect') as FillMode,
        fillValue: c.number('fill_value', 0), interpolation: c.choice('interpolation', ['nearest'], 'nearest') as 'nearest',
        seed: typeof seed === 'number' ? seed : undefined,
      });
    },
  },
  RandomRotation: {
    type: RandomRotation,
    write: (l) => ({
      factor: l.factor, fill_mode: l.fillMode, interpolation: l.interpolation, seed: l.seed ?? null,
      fill_value: l.fillValue, ...CHANNELS_LAST,
    }),
    read: (c, args) => new RandomRotation({ ...args, factor: factor(c, 'factor'), ...readResampling(c) }),
  },
  RandomZoom: {
    type: RandomZoom,
    write: (l) => ({
      height_factor: l.heightFactor, width_factor: l.widthFactor, fill_mode: l.fillMode,
      interpolation: l.interpolation, seed: l.seed ?? null, fill_value: l.fillValue, ...CHANNELS_LAST,
    }),
    read: (c, args) => new RandomZoom({
      ...args, heightFactor: factor(c, 'height_factor'),
      widthFactor: c.get('width_factor') === undefined ? undefined : factor(c, 'width_factor'),
      ...readResampling(c),
    }),
  },
  Normalization: {
    type: Normalization,
    // The statistics travel as the weights mean, variance and count, as Keras saves them.
    write: () => ({ axis: -1, mean: null, variance: null, invert: false }),
    read: (c, args) => {
      const axis = c.get('axis');
      if (axis !== undefined && axis !== -1 && !(Array.isArray(axis) && axis.length === 1 && axis[0] === -1)) {
        return c.fail(`expected axis -1, got ${JSON.stringify(axis)}`);
      }
      if (c.get('invert') === true) return c.fail('expected invert false (an inverting Normalization is not supported)');
      return new Normalization(args);
    },
  },
  Activation: {
    type: ActivationLayer,
    write: (l) => ({ activation: activationToKeras(l.activation.name) }),
    read: (c, args) => new ActivationLayer({ ...args, activation: activationFromKeras(c) }),
  },
};

/**
 * The Keras layer classes kerasm saves and loads.
 * @example
 * ```ts
 * io.LOADABLE_CLASSES.includes('Conv2D'); // true
 * ```
 */
export const LOADABLE_CLASSES: readonly string[] = Object.keys(CODECS).sort();

const MODEL_CLASSES = ['Sequential', 'Functional', 'Model'];

function codecFor(className: string): LayerCodec<Layer> | undefined {
  return Object.prototype.hasOwnProperty.call(CODECS, className)
    ? (CODECS[className as LayerClassName] as unknown as LayerCodec<Layer>)
    : undefined;
}

function checkedCodec(layer: Layer): LayerCodec<Layer> {
  const codec = codecFor(layer.className);
  if (!codec || !(layer instanceof codec.type)) {
    const why = MODEL_CLASSES.includes(layer.className)
      ? 'models nested inside models are not supported yet'
      : `kerasm saves only its own layers (${LOADABLE_CLASSES.join(', ')})`;
    fail('save', `cannot save layer '${layer.name}' (${layer.className}): ${why}`);
  }
  return codec;
}

/** `{class_name, config}` of one layer (its config without an input shape). */
export function layerToKeras(layer: Layer): { class_name: string; config: JsonObject } {
  const config = checkedCodec(layer).write(layer, layer.getConfig());
  // TensorFlow.js writes no `trainable` for input layers.
  const common = layer.className === 'InputLayer' ? { name: layer.name } : { name: layer.name, trainable: layer.trainable };
  return { class_name: layer.className, config: { ...config, ...common } };
}

/** A layer's weights in Keras order, under their Keras names and shapes. */
export function kerasWeights(layer: Layer): KerasWeight[] {
  const codec = checkedCodec(layer);
  return codec.weights ? codec.weights(layer) : layer.weights.map((v) => ({ variable: v, name: v.name, shape: v.shape }));
}

/**
 * A new layer from `{class_name, config}`. `input` overrides the input shape written in the
 * config (Sequential models take it from their first entry; other layers ignore theirs).
 * Checks that need the built model are pushed onto `deferred`.
 */
export function layerFromKeras(
  entry: unknown, op: string, input: { batchInputShape?: SymbolicShape } | undefined, deferred: (() => void)[],
): Layer {
  if (!isObject(entry) || typeof entry.class_name !== 'string' || !isObject(entry.config)) {
    return fail(op, `expected each layer of the topology to be {class_name, config}, got ${JSON.stringify(entry)?.slice(0, 200)}`);
  }
  const name = typeof entry.config.name === 'string' ? entry.config.name : typeof entry.name === 'string' ? entry.name : undefined;
  const where = `layer '${name ?? '?'}' (${entry.class_name})`;
  const codec = codecFor(entry.class_name);
  if (!codec) {
    return fail(op, MODEL_CLASSES.includes(entry.class_name)
      ? `${where}: models nested inside models are not supported yet`
      : `unknown layer class '${entry.class_name}' (${where}); kerasm can load ${LOADABLE_CLASSES.join(', ')}`);
  }
  const c = new KerasConfig(entry.config, where, op, deferred);
  const args: LayerArgs = { name, trainable: c.bool('trainable', true) };
  const batchInputShape = input ? input.batchInputShape : c.batchInputShape();
  if (batchInputShape) args.batchInputShape = batchInputShape;
  try {
    return codec.read(c, args);
  } catch (error) {
    // A layer constructor's own check: say which saved layer it was about.
    const message = (error as Error).message;
    if (message.includes(where)) throw error;
    throw new Error(`kerasm.${op}: ${where}: ${message.replace(/^kerasm\./, '')}`);
  }
}
