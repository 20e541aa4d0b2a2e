// Saving: a model -> its artifacts (Keras topology, weight specs, weight bytes and, when the
// model was compiled with names, its training config) -> a handler.
//
// This module must not import the model classes as values: models/model.ts imports it for
// Model.save(), and a value import back would run sequential.ts before model.ts is done.

import { fail } from '../ops/check.js';
import type { Layer, Node, SymbolicTensor } from '../layers/layer.js';
import type { Model } from '../models/model.js';
import type { CompileArgs } from '../training/fit.js';
import { getLoss, snakeCase } from '../training/losses.js';
import { Adagrad, Adam, AdamW, RMSprop, SGD, type Optimizer } from '../training/optimizers.js';
import { resolveHandler } from './handlers.js';
import { encodeOptimizerState } from './optimizer_state.js';
import { kerasWeights, layerToKeras } from './serialization.js';
import { VERSION, type IOHandler, type JsonObject, type ModelArtifacts, type SaveResult, type TrainingConfig } from './types.js';
import { encodeWeights } from './weights.js';

export interface SaveOptions {
  /**
   * Whether to save how the model was compiled (optimizer, loss, metrics), so loadModel
   * returns it compiled. Default true. Only names can be saved: a model compiled with a loss
   * function or Metric object is saved uncompiled.
   */
  includeTrainingConfig?: boolean;
  /**
   * Also save the optimizer's state (its step count and slots: Adam's m and v, SGD's
   * momentum, RMSprop's, Adagrad's accumulators) after the weights, as TensorFlow.js does,
   * so that training continues where it stopped after loadModel. Default false.
   */
  includeOptimizer?: boolean;
}

function checkUniqueNames(layers: readonly Layer[]): void {
  const seen = new Set<string>();
  for (const layer of layers) {
    if (seen.has(layer.name)) {
      fail('save', `expected unique layer names, got '${layer.name}' twice; the saved topology refers to layers by name`);
    }
    seen.add(layer.name);
  }
}

function sequentialTopology(model: Model): JsonObject {
  const layers = model.layers;
  checkUniqueNames(layers);
  const configs = layers.map((layer, i) => {
    const entry = layerToKeras(layer);
    // The first layer carries the model's input shape, as in TensorFlow.js and Keras 2.
    if (i === 0) entry.config = { batch_input_shape: model.inputs[0].shape, dtype: 'float32', ...entry.config };
    return entry;
  });
  return { name: model.name, layers: configs };
}

/**
 * A functional model as Keras writes it: each layer once, with its inbound nodes; a node is
 * [[layerName, nodeIndex, tensorIndex, kwargs], ...] for its inputs. Node indices count only
 * the nodes inside this model: a layer also applied elsewhere keeps its other nodes out.
 */
function functionalTopology(model: Model): JsonObject {
  const nodes = model.graph;
  const inModel = new Set(nodes);
  const layers = [...new Set([...model.inputs.map((t) => t.node.layer), ...nodes.map((n) => n.layer)])];
  checkUniqueNames(layers);
  const nodeIndex = new Map<Node, number>();
  for (const layer of layers) {
    layer.nodes.filter((n) => inModel.has(n) || model.inputs.some((t) => t.node === n)).forEach((n, i) => nodeIndex.set(n, i));
  }
  const ref = (t: SymbolicTensor) => [t.node.layer.name, nodeIndex.get(t.node)!, t.index];
  const entries = layers.map((layer) => {
    const { class_name, config } = layerToKeras(layer);
    const inbound = layer.nodes
      .filter((n) => inModel.has(n) && n.inputs.length > 0)
      .map((n) => n.inputs.map((t) => [...ref(t), {}]));
    return { name: layer.name, class_name, config, inbound_nodes: inbound };
  });
  return {
    name: model.name,
    layers: entries,
    input_layers: model.inputs.map(ref),
    output_layers: model.outputs.map(ref),
  };
}

/**
 * The model's Keras topology: `{class_name, config, keras_version, backend}`.
 * @example
 * ```ts
 * modelTopology(model).class_name; // 'Sequential'
 * ```
 */
export function modelTopology(model: Model): JsonObject {
  if (model.outputs.length === 0) {
    fail('save', `expected a built model, got Sequential '${model.name}' without an input shape; give its first layer an inputShape, or call fit or predict first`);
  }
  // A Sequential model that ends in a layer with several outputs is written in the functional
  // layout: tfjs-layers reads a 'Sequential' only with one output (it then loads as a Model).
  const sequential = model.className === 'Sequential' && model.outputs.length === 1;
  return {
    class_name: sequential ? 'Sequential' : 'Model',
    config: sequential ? sequentialTopology(model) : functionalTopology(model),
    keras_version: `kerasm ${VERSION}`,
    backend: 'kerasm',
  };
}

// ---- Training config ------------------------------------------------------------------------

// What TensorFlow.js can restore. A config within these is written where TensorFlow.js reads
// it (artifacts.trainingConfig); any other is written where Keras-converted models keep it
// (modelTopology.training_config), which TensorFlow.js ignores, so its loading still works.
const TFJS_LOSSES = new Set([
  'categorical_crossentropy', 'sparse_categorical_crossentropy', 'binary_crossentropy',
  'mean_squared_error', 'mean_absolute_error',
]);
const TFJS_METRICS = new Set(['accuracy', 'acc', 'binary_accuracy', 'categorical_accuracy', 'precision']);

function learningRateToKeras(lr: unknown): number | JsonObject {
  if (typeof lr === 'number') return lr;
  const c = lr as { className: string; initial: number; decaySteps: number; decayRate?: number; staircase?: boolean; alpha?: number };
  if (c.className === 'ExponentialDecay') {
    return { class_name: 'ExponentialDecay', config: { initial_learning_rate: c.initial, decay_steps: c.decaySteps, decay_rate: c.decayRate, staircase: c.staircase } };
  }
  return { class_name: 'CosineDecay', config: { initial_learning_rate: c.initial, decay_steps: c.decaySteps, alpha: c.alpha } };
}

/**
 * The optimizer as `{class_name, config}`, in TensorFlow.js's names where it has the same
 * optimizer (Momentum for SGD with momentum, RMSProp with decay = rho), else in Keras's.
 */
function optimizerToKeras(opt: Optimizer): { class_name: string; config: JsonObject; tfjs: boolean } | null {
  const base = opt.getConfig();
  const learning_rate = learningRateToKeras(base.learningRate);
  const extras: JsonObject = {};
  if (opt.clipnorm !== undefined) extras.global_clipnorm = opt.clipnorm;
  if (opt.weightDecay !== 0 && !(opt instanceof AdamW)) extras.weight_decay = opt.weightDecay;
  // TensorFlow.js optimizers have no schedules, clipping or weight decay.
  const plain = typeof learning_rate === 'number' && Object.keys(extras).length === 0;
  if (opt instanceof SGD) {
    if (opt.momentum === 0 && !opt.nesterov) return { class_name: 'SGD', config: { learning_rate, ...extras }, tfjs: plain };
    return { class_name: 'Momentum', config: { learning_rate, momentum: opt.momentum, use_nesterov: opt.nesterov, ...extras }, tfjs: plain };
  }
  if (opt instanceof Adam) {
    const config = { learning_rate, beta_1: opt.beta1, beta_2: opt.beta2, epsilon: opt.epsilon, ...extras };
    if (opt instanceof AdamW) return { class_name: 'AdamW', config: { ...config, weight_decay: opt.weightDecay }, tfjs: false };
    return { class_name: 'Adam', config, tfjs: plain };
  }
  if (opt instanceof RMSprop) {
    const config = { learning_rate, decay: opt.rho, momentum: opt.momentum, epsilon: opt.epsilon, centered: opt.centered, ...extras };
    return { class_name: 'RMSProp', config, tfjs: plain };
  }
  if (opt instanceof Adagrad) {
    const config = { learning_rate, initial_accumulator_value: opt.initialAccumulatorValue, epsilon: opt.epsilon, ...extras };
    return { class_name: 'Adagrad', config, tfjs: plain };
  }
  return null;
}

/** The training config, or null when the model is not compiled or was compiled with objects. */
export function trainingConfig(model: Model): { config: TrainingConfig; tfjs: boolean } | null {
  const args: CompileArgs | null = model.compileArgs;
  const optimizer = model.compiled?.optimizer;
  if (!args || !optimizer) return null;
  const lossList = Array.isArray(args.loss) ? args.loss : [args.loss];
  if (!lossList.every((l) => typeof l === 'string')) return null;
  const metrics = args.metrics ?? [];
  if (!metrics.every((m) => typeof m === 'string')) return null;
  const opt = optimizerToKeras(optimizer);
  if (!opt) return null;
  const losses = lossList.map((l) => getLoss(l).lossName);
  const metricNames = metrics.map((m) => snakeCase(m as string));
  const lossWeights = args.lossWeights && args.lossWeights.some((w) => w !== 1) ? args.lossWeights : null;
  const config: TrainingConfig = {
    loss: Array.isArray(args.loss) ? losses : losses[0],
    metrics: metricNames,
    optimizer_config: { class_name: opt.class_name, config: opt.config },
  };
  if (lossWeights) config.loss_weights = lossWeights;
  const tfjs = opt.tfjs && lossWeights === null && losses.every((l) => TFJS_LOSSES.has(l)) && metricNames.every((m) => TFJS_METRICS.has(m));
  return { config, tfjs };
}

// ---- Saving ---------------------------------------------------------------------------------

function concatBuffers(a: ArrayBuffer, b: ArrayBuffer): ArrayBuffer {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(new Uint8Array(a), 0);
  out.set(new Uint8Array(b), a.byteLength);
  return out.buffer;
}

/**
 * Everything save() writes, in memory: topology, weight specs and weight bytes.
 * @example
 * ```ts
 * const { modelTopology, weightSpecs, weightData } = modelArtifacts(model);
 * ```
 */
export function modelArtifacts(model: Model, options: SaveOptions = {}): ModelArtifacts {
  const topology = modelTopology(model);
  const { specs, data } = encodeWeights(model.layers.flatMap(kerasWeights));
  const artifacts: ModelArtifacts = {
    modelTopology: topology,
    format: 'layers-model',
    generatedBy: `kerasm ${VERSION}`,
    convertedBy: null,
    weightSpecs: specs,
    weightData: data,
  };
  const training = options.includeTrainingConfig === false ? null : trainingConfig(model);
  if (training?.tfjs) artifacts.trainingConfig = training.config;
  else if (training) topology.training_config = training.config;
  if (options.includeOptimizer) {
    if (!training) {
      fail('save', `expected a model compiled with names (optimizer, loss and metrics as strings or kerasm optimizers) and includeTrainingConfig not false, to save its optimizer; got model '${model.name}' ${model.compiled ? 'compiled with functions or objects, or includeTrainingConfig false' : 'uncompiled'}`);
    }
    const state = encodeOptimizerState(model);
    artifacts.weightSpecs = [...specs, ...state.specs];
    artifacts.weightData = concatBuffers(data, state.data);
  }
  return artifacts;
}

/**
 * Saves `model` in the TensorFlow.js Layers format (model.json plus weight files), to a URL
 * (`file://dir` in Node; `indexeddb://name` or `downloads://name` in browsers) or a handler.
 * The result loads with `loadModel` and with TensorFlow.js's `tf.loadLayersModel`.
 * @example
 * ```ts
 * await saveModel(model, 'file://./my-model'); // same as model.save('file://./my-model')
 * ```
 */
export async function saveModel(model: Model, destination: string | IOHandler, options: SaveOptions = {}): Promise<SaveResult> {
  const handler = resolveHandler(destination, 'save', 'save');
  const artifacts = modelArtifacts(model, options);
  return handler.save!(artifacts);
}
