// Loading: a handler's artifacts -> checked weights -> a new Sequential or functional model
// with those weights -> compiled, when a training config was saved.
//
// Reads what kerasm and TensorFlow.js write, and what the Keras-to-TensorFlow.js converter
// writes from Keras 2 and Keras 3 models (model_config wrappers, InputLayer entries, Keras 3's
// batch_shape and inbound-node dicts).

import { fail } from '../ops/check.js';
import type { Layer, SymbolicTensor } from '../layers/layer.js';
import { Model } from '../models/model.js';
import { Sequential } from '../models/sequential.js';
import type { CompileArgs } from '../training/fit.js';
import {
  binaryCrossentropy, categoricalCrossentropy, getLoss, huber, meanAbsoluteError, meanSquaredError,
  sparseCategoricalCrossentropy, type LossFn, type LossIdentifier,
} from '../training/losses.js';
import { getMetric, type MetricIdentifier } from '../training/metrics.js';
import {
  Adagrad, Adam, AdamW, cosineDecay, exponentialDecay, RMSprop, SGD, type LearningRateSchedule, type Optimizer,
} from '../training/optimizers.js';
import { resolveHandler, type LoadedArtifacts } from './handlers.js';
import { assignWeights, decodeArtifactsWeights } from './load_weights.js';
import { hasOptimizerState, restoreOptimizerState } from './optimizer_state.js';
import { isObject, KerasConfig, snakeCase } from './keras_config.js';
import { layerFromKeras } from './serialization.js';
import type { IOHandler, JsonObject, ModelArtifacts } from './types.js';

const OP = 'loadModel';

export interface LoadOptions {
  /**
   * Compile the model as it was saved (optimizer, loss, metrics) when the file says how, with
   * the optimizer's state when it was saved (includeOptimizer). Default true; false loads it
   * uncompiled, e.g. when the saved optimizer is one kerasm lacks.
   */
  compile?: boolean;
}

// ---- Topology -------------------------------------------------------------------------------

function sequentialFromConfig(config: unknown, deferred: (() => void)[]): Model {
  // Keras 1 wrote the list of layers itself as the config.
  const layers = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
  if (!Array.isArray(layers)) fail(OP, `expected the Sequential config to list its layers, got ${JSON.stringify(config)?.slice(0, 200)}`);
  const name = isObject(config) && typeof config.name === 'string' ? config.name : undefined;
  const model = new Sequential({ name });
  let input: ReturnType<KerasConfig['batchInputShape']>;
  layers.forEach((entry, i) => {
    // Keras 2.4+ and Keras 3 start the list with an InputLayer; TensorFlow.js does not.
    if (isObject(entry) && entry.class_name === 'InputLayer') {
      if (i !== 0) fail(OP, `expected an InputLayer only first in Sequential '${model.name}', got one at position ${i}`);
      const c = new KerasConfig(isObject(entry.config) ? entry.config : {}, `the InputLayer of Sequential '${model.name}'`, OP, deferred);
      input = c.batchInputShape();
      return;
    }
    const first = model.layers.length === 0;
    model.add(layerFromKeras(entry, OP, first && input ? { batchInputShape: input } : first ? undefined : {}, deferred));
  });
  return model;
}

/** [layerName, nodeIndex, tensorIndex] of one node input, from either Keras layout. */
function tensorRef(value: unknown, where: string): [string, number, number] {
  // Keras 3: {class_name: '__keras_tensor__', config: {keras_history: [name, node, tensor]}}
  const history = isObject(value) && isObject(value.config) ? value.config.keras_history : value;
  if (!Array.isArray(history) || typeof history[0] !== 'string' || !Number.isInteger(history[1]) || !Number.isInteger(history[2] ?? 0)) {
    return fail(OP, `${where}: expected [layerName, nodeIndex, tensorIndex], got ${JSON.stringify(value)}`);
  }
  if (isObject(history[3]) && Object.keys(history[3]).length > 0) {
    fail(OP, `${where}: call arguments ${JSON.stringify(history[3])} are not supported`);
  }
  return [history[0], history[1], history[2] ?? 0];
}

/**
 * A node's inputs: [[name, node, tensor, kwargs], ...] (Keras 2) or {args, kwargs} (Keras 3).
 * An RNN's initial state is a Keras 3 keyword argument; kerasm, like Keras 2 and TensorFlow.js,
 * records it as extra inputs after the sequence.
 */
function nodeInputs(node: unknown, where: string): [string, number, number][] {
  if (isObject(node) && Array.isArray(node.args)) {
    const { initial_state: initialState, mask, ...rest } = isObject(node.kwargs) ? node.kwargs : {};
    if (Object.keys(rest).length > 0 || (mask !== undefined && mask !== null)) {
      fail(OP, `${where}: call arguments ${JSON.stringify(node.kwargs)} are not supported`);
    }
    const args = node.args.length === 1 && Array.isArray(node.args[0]) ? node.args[0] : node.args;
    const states = Array.isArray(initialState) ? initialState : initialState ? [initialState] : [];
    return [...args, ...states].map((a) => tensorRef(a, where));
  }
  if (!Array.isArray(node)) return fail(OP, `${where}: expected a list of inputs, got ${JSON.stringify(node)}`);
  return node.map((a) => tensorRef(a, where));
}

/** input_layers / output_layers: a list of refs, or (Keras 3, one tensor) a single ref. */
function endpointRefs(value: unknown, key: string): [string, number, number][] {
  if (!Array.isArray(value)) return fail(OP, `expected ${key} in the model config, got ${JSON.stringify(value)}`);
  const list = typeof value[0] === 'string' ? [value] : value;
  return list.map((ref) => tensorRef(ref, key));
}

function functionalFromConfig(config: unknown, deferred: (() => void)[]): Model {
  if (!isObject(config) || !Array.isArray(config.layers)) {
    return fail(OP, `expected the model config to list its layers, got ${JSON.stringify(config)?.slice(0, 200)}`);
  }
  const layers = new Map<string, Layer>();
  const outputs = new Map<string, SymbolicTensor[][]>(); // by layer name: per node, its outputs
  const pending = new Map<string, [string, number, number][][]>();
  const order: string[] = [];
  for (const entry of config.layers) {
    const layer = layerFromKeras(entry, OP, {}, deferred);
    if (layers.has(layer.name)) fail(OP, `expected unique layer names, got '${layer.name}' twice`);
    const where = `layer '${layer.name}'`;
    const inbound = isObject(entry) && Array.isArray(entry.inbound_nodes) ? entry.inbound_nodes : [];
    layers.set(layer.name, layer);
    order.push(layer.name);
    outputs.set(layer.name, layer.className === 'InputLayer' ? [layer.nodes[0].outputs] : []);
    pending.set(layer.name, inbound.map((node) => nodeInputs(node, where)));
  }
  const lookup = ([name, node, tensor]: [string, number, number]) => outputs.get(name)?.[node]?.[tensor];
  // Apply each layer's nodes in order once their inputs exist; a shared layer listed before
  // a layer it consumes waits for a later pass (Keras's deserialization does the same).
  for (let progress = true; progress;) {
    progress = false;
    for (const name of order) {
      const queue = pending.get(name)!;
      while (queue.length > 0) {
        const inputs = queue[0].map(lookup);
        if (inputs.some((t) => t === undefined)) break;
        const layer = layers.get(name)!;
        outputs.get(name)!.push(layer.applyAll(inputs as SymbolicTensor[]));
        queue.shift();
        progress = true;
      }
    }
  }
  for (const [name, queue] of pending) {
    if (queue.length > 0) {
      const refs = queue[0].filter((ref) => lookup(ref) === undefined).map((r) => `[${r.map((x) => JSON.stringify(x)).join(', ')}]`);
      fail(OP, `cannot connect layer '${name}': its inputs ${refs.join(', ')} name no layer output in the model`);
    }
  }
  const endpoints = (key: string) =>
    endpointRefs(config[key], key).map((ref) => lookup(ref) ?? fail(OP, `expected ${key} to name layer outputs, got ${JSON.stringify(ref)}`));
  return new Model({ inputs: endpoints('input_layers'), outputs: endpoints('output_layers'), name: typeof config.name === 'string' ? config.name : undefined });
}

/**
 * The model a Keras topology describes (with freshly initialized weights), and the training
 * config written inside it, if any.
 * @example
 * ```ts
 * const { model } = modelFromTopology(JSON.parse(text).modelTopology);
 * model.summary();
 * ```
 */
export function modelFromTopology(topology: JsonObject): { model: Model; trainingConfig?: unknown } {
  // The Keras converter wraps the model: {keras_version, backend, model_config, training_config}.
  const inner = isObject(topology.model_config) ? topology.model_config : topology;
  const trainingConfig = topology.training_config ?? inner.training_config ?? undefined;
  const className = inner.class_name;
  const deferred: (() => void)[] = [];
  let model: Model;
  if (className === 'Sequential') model = sequentialFromConfig(inner.config, deferred);
  else if (className === 'Model' || className === 'Functional') model = functionalFromConfig(inner.config, deferred);
  else return fail(OP, `expected a Sequential or functional model (class_name 'Sequential', 'Model' or 'Functional'), got ${JSON.stringify(className)}`);
  for (const check of deferred) check();
  return { model, trainingConfig };
}

// ---- Training config ------------------------------------------------------------------------

function compileFail(message: string): never {
  return fail(OP, `cannot restore the saved training config: ${message}; load with { compile: false } and compile the model yourself`);
}

function learningRateFrom(value: unknown, fallback: number): number | LearningRateSchedule {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'number') return value;
  if (isObject(value) && isObject(value.config)) {
    const c = value.config;
    const num = (k: string, d?: number) => (typeof c[k] === 'number' ? (c[k] as number) : d ?? compileFail(`expected ${k} in the learning rate schedule, got ${JSON.stringify(c[k])}`));
    if (value.class_name === 'ExponentialDecay') return exponentialDecay(num('initial_learning_rate'), num('decay_steps'), num('decay_rate'), c.staircase === true);
    if (value.class_name === 'CosineDecay' && !c.warmup_steps) return cosineDecay(num('initial_learning_rate'), num('decay_steps'), num('alpha', 0));
  }
  return compileFail(`expected a learning rate or an ExponentialDecay / CosineDecay schedule, got ${JSON.stringify(value)}`);
}

/** An optimizer from `{class_name, config}` as Keras or TensorFlow.js wrote it. */
function optimizerFrom(value: unknown): Optimizer {
  if (!isObject(value) || typeof value.class_name !== 'string') return compileFail(`expected optimizer_config {class_name, config}, got ${JSON.stringify(value)}`);
  // TensorFlow.js writes its optimizer's own config here, in camelCase (learningRate, beta1).
  const raw = isObject(value.config) ? value.config : {};
  const c: JsonObject = Object.fromEntries(Object.entries(raw).map(([k, v]) => [snakeCase(k), v]));
  const num = (k: string, fallback: number) => (typeof c[k] === 'number' ? (c[k] as number) : fallback);
  const className = value.class_name;
  const kind = className.toLowerCase();
  const rejectIf = (key: string, ok: (v: unknown) => boolean) => {
    if (c[key] !== undefined && c[key] !== null && !ok(c[key])) compileFail(`${className} ${key} = ${JSON.stringify(c[key])} is not supported`);
  };
  rejectIf('clipvalue', () => false);
  rejectIf('clipnorm', () => false); // per-weight clipping; kerasm clips the global norm
  rejectIf('amsgrad', (v) => v === false);
  rejectIf('use_ema', (v) => v === false);
  // Keras 2's time-based decay; TensorFlow.js's RMSProp calls rho 'decay'.
  if (className !== 'RMSProp') rejectIf('decay', (v) => v === 0);
  const common = {
    learningRate: learningRateFrom(c.learning_rate ?? c.lr, kind === 'sgd' || kind === 'momentum' ? 0.01 : 0.001),
    clipnorm: typeof c.global_clipnorm === 'number' ? c.global_clipnorm : undefined,
    weightDecay: typeof c.weight_decay === 'number' ? c.weight_decay : undefined,
  };
  switch (kind) {
    case 'sgd': return new SGD({ ...common, momentum: num('momentum', 0), nesterov: c.nesterov === true });
    case 'momentum': return new SGD({ ...common, momentum: num('momentum', 0), nesterov: c.use_nesterov === true });
    case 'adam': case 'adamw': {
      const args = { ...common, beta1: num('beta_1', num('beta1', 0.9)), beta2: num('beta_2', num('beta2', 0.999)), epsilon: num('epsilon', 1e-7) };
      return kind === 'adam' ? new Adam(args) : new AdamW(args);
    }
    case 'rmsprop':
      return new RMSprop({
        ...common, rho: className === 'RMSProp' ? num('decay', 0.9) : num('rho', 0.9),
        momentum: num('momentum', 0), epsilon: num('epsilon', 1e-7), centered: c.centered === true,
      });
    case 'adagrad':
      return new Adagrad({ ...common, initialAccumulatorValue: num('initial_accumulator_value', 0.1), epsilon: num('epsilon', 1e-7) });
  }
  return compileFail(`unknown optimizer '${className}'; kerasm has SGD (Momentum), Adam, AdamW, RMSprop and Adagrad`);
}

/** A loss by name, or a Keras loss object ({class_name: 'CategoricalCrossentropy', config}). */
function lossFrom(value: unknown): LossIdentifier | LossFn {
  if (typeof value === 'string') {
    try {
      getLoss(snakeCase(value) as LossIdentifier);
    } catch {
      return compileFail(`unknown loss '${value}'`);
    }
    return snakeCase(value) as LossIdentifier;
  }
  if (isObject(value) && typeof value.class_name === 'string') {
    const c = isObject(value.config) ? value.config : {};
    const fromLogits = c.from_logits === true;
    const smoothing = typeof c.label_smoothing === 'number' ? c.label_smoothing : 0;
    switch (value.class_name) {
      case 'CategoricalCrossentropy': return categoricalCrossentropy({ fromLogits, labelSmoothing: smoothing });
      case 'SparseCategoricalCrossentropy': return sparseCategoricalCrossentropy({ fromLogits });
      case 'BinaryCrossentropy':
        if (smoothing !== 0) compileFail('BinaryCrossentropy label_smoothing is not supported');
        return binaryCrossentropy({ fromLogits });
      case 'MeanSquaredError': return meanSquaredError();
      case 'MeanAbsoluteError': return meanAbsoluteError();
      case 'Huber': return huber({ delta: typeof c.delta === 'number' ? c.delta : 1 });
    }
  }
  return compileFail(`unknown loss ${JSON.stringify(value)}`);
}

/** Metric names, from a list, a list per output or a dict per output (Keras 2). */
function metricsFrom(value: unknown, lossName: string): MetricIdentifier[] {
  const names: string[] = [];
  const collect = (v: unknown): void => {
    if (v === null || v === undefined) return;
    if (typeof v === 'string') names.push(v);
    else if (Array.isArray(v)) v.forEach(collect);
    else if (isObject(v) && isObject(v.config) && typeof v.config.name === 'string') names.push(v.config.name);
    else if (isObject(v)) Object.values(v).forEach(collect);
  };
  collect(value);
  const unique = [...new Set(names.map(snakeCase))];
  for (const name of unique) {
    try {
      getMetric(name as MetricIdentifier, lossName);
    } catch {
      compileFail(`unknown metric '${name}'`);
    }
  }
  return unique as MetricIdentifier[];
}

/** compile() arguments from a saved training config. */
export function compileArgsFrom(config: unknown, model: Model): CompileArgs {
  if (!isObject(config)) return compileFail(`expected an object, got ${JSON.stringify(config)}`);
  const outputNames = model.outputs.map((t) => t.node.layer.name);
  let loss: CompileArgs['loss'];
  if (Array.isArray(config.loss)) loss = config.loss.map(lossFrom);
  else if (isObject(config.loss) && !('class_name' in config.loss)) {
    // One loss per output, by output layer name.
    const byName = config.loss;
    loss = outputNames.map((n) => (n in byName ? lossFrom(byName[n]) : compileFail(`expected a loss for output '${n}', got ${Object.keys(byName).join(', ')}`)));
  } else {
    loss = lossFrom(config.loss);
  }
  const firstLoss = Array.isArray(loss) ? loss[0] : loss;
  const lossName = typeof firstLoss === 'string' ? getLoss(firstLoss).lossName : firstLoss.lossName;
  const args: CompileArgs = { optimizer: optimizerFrom(config.optimizer_config), loss, metrics: metricsFrom(config.metrics, lossName) };
  const weights = config.loss_weights;
  if (Array.isArray(weights)) args.lossWeights = weights as number[];
  else if (isObject(weights)) args.lossWeights = outputNames.map((n) => (typeof weights[n] === 'number' ? (weights[n] as number) : 1));
  return args;
}

// ---- Loading --------------------------------------------------------------------------------

function checkArtifacts(artifacts: unknown): asserts artifacts is LoadedArtifacts {
  if (!isObject(artifacts)) fail(OP, `expected the handler to load {modelTopology, weightSpecs, weightData}, got ${JSON.stringify(artifacts)}`);
  if (!isObject(artifacts.modelTopology)) {
    fail(OP, `expected a 'modelTopology' object (a TensorFlow.js layers model), got ${artifacts.modelTopology instanceof ArrayBuffer ? 'a binary (graph model) topology' : JSON.stringify(artifacts.modelTopology)}`);
  }
  const format = artifacts.format;
  if (format !== undefined && format !== null && format !== 'layers-model') {
    fail(OP, `expected format 'layers-model', got '${String(format)}'${format === 'graph-model' ? ' (a TensorFlow.js graph model, which has no Keras layers to load)' : ''}`);
  }
}

/**
 * Loads a model saved by `model.save()`, by TensorFlow.js's `model.save()`, or converted from
 * Keras by the TensorFlow.js converter: a new Sequential or functional Model with the saved
 * weights, ready to predict, and compiled as saved when the file says how (else compile it
 * to train). Sources: `file://path` (Node; model.json or its directory), `indexeddb://name`,
 * `http(s)://.../model.json`, or a handler such as `io.fromMemory(artifacts)`.
 * Errors name what was expected and what was found; nothing is half-loaded.
 * @example
 * ```ts
 * const model = await loadModel('file://./my-model/model.json');
 * model.predict(x);
 * await model.fit(x, y, { epochs: 2 }); // compiled as it was saved
 * ```
 */
export async function loadModel(source: string | IOHandler, options: LoadOptions = {}): Promise<Model> {
  const handler = resolveHandler(source, 'load', OP);
  const artifacts: ModelArtifacts = await handler.load!();
  checkArtifacts(artifacts);
  // The bytes are checked against the manifest before any layer is built.
  const weights = decodeArtifactsWeights(artifacts, OP);
  const { model, trainingConfig } = modelFromTopology(artifacts.modelTopology);
  if (model.outputs.length === 0 && weights.length > 0) {
    fail(OP, `expected the first layer of Sequential '${model.name}' to have batch_input_shape (or an InputLayer before it), got none; kerasm cannot create weights without it`);
  }
  assignWeights(model, weights, OP);
  const training = artifacts.trainingConfig ?? trainingConfig;
  if (training && options.compile !== false) {
    model.compile(compileArgsFrom(training, model));
    // Saved with includeOptimizer: training continues from the saved optimizer state.
    if (hasOptimizerState(weights)) restoreOptimizerState(model, weights, OP);
  }
  return model;
}
