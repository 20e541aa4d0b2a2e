// The layer graph. A functional Model is a set of nodes (layer applications) between symbolic
// inputs and outputs, run in topological order; Sequential is the linear case of it.

import { fail } from '../ops/check.js';
import { formatShape, sizeOf, tensor, Tensor } from '../tensor.js';
import { globalRandom } from '../util/seed.js';
import {
  Layer, SymbolicTensor, formatSymbolicShape, type CallContext, type LayerArgs, type Node,
  type SymbolicShape, type Variable,
} from '../layers/layer.js';

import type { Logs } from '../training/callbacks.js';
import type { History } from '../training/callbacks.js';
import * as training from '../training/fit.js';
import { loadWeightsInto, type LoadWeightsOptions } from '../io/load_weights.js';
import { saveModel, type SaveOptions } from '../io/save.js';
import type { IOHandler } from '../io/types.js';

export interface ModelArgs {
  inputs: SymbolicTensor | SymbolicTensor[];
  outputs: SymbolicTensor | SymbolicTensor[];
  name?: string;
}

/** Nodes reachable backwards from `outputs`, inputs first. */
function topologicalOrder(outputs: readonly SymbolicTensor[]): Node[] {
  const order: Node[] = [];
  const state = new Map<Node, 'visiting' | 'done'>();
  const visit = (node: Node) => {
    const s = state.get(node);
    if (s === 'done') return;
    if (s === 'visiting') fail('Model', `the layer graph has a cycle through layer '${node.layer.name}'`);
    state.set(node, 'visiting');
    for (const input of node.inputs) visit(input.node);
    state.set(node, 'done');
    order.push(node);
  };
  for (const o of outputs) visit(o.node);
  return order;
}

export class Model extends Layer {
  readonly className: string = 'Functional';
  inputs: SymbolicTensor[] = [];
  outputs: SymbolicTensor[] = [];
  protected order: Node[] = [];

  constructor(args?: ModelArgs, layerArgs: LayerArgs = {}, defaultName = 'functional') {
    super({ ...layerArgs, name: args?.name ?? layerArgs.name }, defaultName);
    if (args) this.setGraph(args.inputs, args.outputs);
  }

  /** Wires the graph between `inputs` and `outputs` and checks that it is closed. */
  protected setGraph(inputs: SymbolicTensor | SymbolicTensor[], outputs: SymbolicTensor | SymbolicTensor[]): void {
    this.inputs = Array.isArray(inputs) ? inputs : [inputs];
    this.outputs = Array.isArray(outputs) ? outputs : [outputs];
    for (const t of [...this.inputs, ...this.outputs]) {
      if (!(t instanceof SymbolicTensor)) fail('Model', `expected inputs and outputs to be symbolic tensors (from Input() and layer.apply()), got ${String(t)}`);
    }
    for (const t of this.inputs) {
      if (t.node.inputs.length !== 0) fail('Model', `expected model inputs to come from Input(), got the output of layer '${t.node.layer.name}'`);
    }
    this.order = topologicalOrder(this.outputs);
    for (const node of this.order) {
      if (node.inputs.length === 0 && !this.inputs.includes(node.output)) {
        fail('Model', `output depends on input '${node.layer.name}', which is not among the model's inputs`);
      }
    }
    this.built = true;
  }

  /** The layer applications (nodes) between the inputs and the outputs, in execution order. */
  get graph(): readonly Node[] {
    return this.order;
  }

  /** The distinct layers in execution order (input layers included). */
  get layers(): Layer[] {
    return [...new Set(this.order.map((n) => n.layer))];
  }

  protected override sublayers(): Layer[] {
    return this.layers;
  }

  /** Input shapes per input, batch axis null. */
  get inputShapes(): SymbolicShape[] {
    return this.inputs.map((t) => t.shape);
  }

  get outputShapes(): SymbolicShape[] {
    return this.outputs.map((t) => t.shape);
  }

  computeOutputShape(): SymbolicShape {
    return this.outputs[0].shape;
  }

  /**
   * Runs the graph on real tensors; returns every output. Masks travel beside the values:
   * each node gets its inputs' masks in the call context and gives its outputs' masks.
   */
  run(inputs: Tensor[], ctx: CallContext): Tensor[] {
    this.checkInputs(inputs);
    const values = new Map<SymbolicTensor, Tensor>();
    const masks = new Map<SymbolicTensor, Tensor | null>();
    this.inputs.forEach((t, i) => values.set(t, inputs[i]));
    for (const node of this.order) {
      if (values.has(node.output)) continue;
      // The arrays handed to layers, losses and metrics are built with Array.from, not map():
      // an optimized map() returns a holey array where the interpreter's is packed, and code
      // that saw only one kind deoptimizes when it meets the other.
      const args = Array.from(node.inputs, (t) => values.get(t)!);
      const inputMasks = Array.from(node.inputs, (t) => masks.get(t) ?? null);
      // Spelled out, not `{ ...ctx, masks }`: a spread copy gets a new hidden class at every
      // call, which no layer's optimized code can keep up with.
      const nodeCtx: CallContext = { training: ctx.training, rng: ctx.rng, masks: inputMasks };
      const outputs = node.layer.callAll(args, nodeCtx);
      const outputMasks = node.layer.computeMask(args, inputMasks);
      node.outputs.forEach((t, i) => {
        values.set(t, outputs[i]);
        masks.set(t, outputMasks[i] ?? null);
      });
    }
    return Array.from(this.outputs, (t) => values.get(t)!);
  }

  call(inputs: Tensor[], ctx: CallContext): Tensor {
    return this.run(inputs, ctx)[0];
  }

  /** Checks real inputs against the model's input shapes (any batch size). */
  checkInputs(inputs: Tensor[]): void {
    if (inputs.length !== this.inputs.length) {
      fail('Model', `expected ${this.inputs.length} input tensor(s) for model '${this.name}', got ${inputs.length}`);
    }
    inputs.forEach((x, i) => {
      const expected = this.inputs[i].shape;
      const ok = x instanceof Tensor && x.rank === expected.length && expected.every((d, k) => k === 0 || d === null || d === x.shape[k]);
      if (!ok) {
        const got = x instanceof Tensor ? formatShape(x.shape) : String(x);
        fail('Model', `expected input ${i} of model '${this.name}' with shape ${formatSymbolicShape(expected)}, got ${got}`);
      }
    });
  }

  /** Inference on a batch: the first output, or all of them for multi-output models. */
  predictOnBatch(x: Tensor | Tensor[]): Tensor | Tensor[] {
    const outputs = this.run(Array.isArray(x) ? x : [x], { training: false, rng: globalRandom() });
    return outputs.length === 1 ? outputs[0] : outputs;
  }

  /**
   * Sets the state of every stateful layer (stateful RNNs) back to zeros, as between two
   * independent sets of sequences.
   * @example
   * ```ts
   * model.resetStates();
   * ```
   */
  resetStates(): void {
    for (const layer of this.layers) {
      const l = layer as Layer & { stateful?: boolean; resetStates?: () => void };
      if (l.stateful === true && l.resetStates) l.resetStates();
    }
  }

  /**
   * The layer with this name (or at this index in `layers`).
   * @example
   * ```ts
   * model.getLayer('dense_1').weights
   * ```
   */
  getLayer(nameOrIndex: string | number): Layer {
    const layers = this.layers;
    const layer = typeof nameOrIndex === 'number' ? layers[nameOrIndex] : layers.find((l) => l.name === nameOrIndex);
    if (!layer) {
      fail('getLayer', `no layer ${typeof nameOrIndex === 'number' ? `at index ${nameOrIndex} (the model has ${layers.length})` : `named '${nameOrIndex}'; layers are ${layers.map((l) => l.name).join(', ')}`}`);
    }
    return layer;
  }

  /** Copies of every weight, in declaration order. */
  getWeights(): Tensor[] {
    return this.weights.map((w) => tensor(w.read(), w.shape));
  }

  /**
   * Sets every weight, in the order of getWeights(). All shapes are checked before anything
   * is written, so a bad list leaves the model unchanged.
   */
  setWeights(weights: readonly (Tensor | Float32Array)[]): void {
    const vars = this.weights;
    if (weights.length !== vars.length) {
      fail('setWeights', `expected ${vars.length} arrays for model '${this.name}', got ${weights.length}`);
    }
    vars.forEach((v, i) => {
      const w = weights[i];
      const ok = w instanceof Tensor ? formatShape(w.shape) === formatShape(v.shape) : w.length === sizeOf(v.shape);
      if (!ok) {
        const got = w instanceof Tensor ? formatShape(w.shape) : `${w.length} values`;
        fail('setWeights', `expected weight ${i} ('${v.name}') of shape ${formatShape(v.shape)}, got ${got}`);
      }
    });
    vars.forEach((v, i) => v.assign(weights[i]));
  }

  /**
   * Prints a Keras-style table: layer (type), output shape, parameters, and totals. A layer
   * with several outputs (an RNN with returnState) shows the list of their shapes, as Keras.
   * @example
   * ```ts
   * model.summary(); // or model.summary((line) => lines.push(line))
   * ```
   */
  summary(print: (line: string) => void = console.log): void {
    const shapes = (n: Node) => (n.outputs.length === 1
      ? formatSymbolicShape(n.output.shape)
      : `[${n.outputs.map((t) => formatSymbolicShape(t.shape)).join(', ')}]`);
    const rows = this.order
      .filter((n) => n.inputs.length > 0 || (this.className !== 'Sequential'))
      .map((n) => [`${n.layer.name} (${n.layer.className})`, shapes(n), String(n.layer.countParams())]);
    const header = ['Layer (type)', 'Output Shape', 'Param #'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)) + 4);
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('').trimEnd();
    const total = widths.reduce((a, b) => a + b, 0);
    print(`Model: "${this.name}"`);
    print('_'.repeat(total));
    print(line(header));
    print('='.repeat(total));
    rows.forEach((r, i) => {
      print(line(r));
      if (i < rows.length - 1) print('_'.repeat(total));
    });
    print('='.repeat(total));
    const count = (vs: Variable[]) => vs.reduce((n, v) => n + sizeOf(v.shape), 0);
    print(`Total params: ${count(this.weights).toLocaleString('en-US')}`);
    print(`Trainable params: ${count(this.trainableWeights).toLocaleString('en-US')}`);
    print(`Non-trainable params: ${count(this.nonTrainableWeights).toLocaleString('en-US')}`);
    print('_'.repeat(total));
  }

  override getConfig(): Record<string, unknown> {
    return { name: this.name };
  }

  // ---- Training (src/training/fit.ts) -------------------------------------------------------

  /** Set by callbacks (EarlyStopping, TerminateOnNaN) to end fit() after the current batch. */
  stopTraining = false;
  compiled: training.Compiled | null = null;

  /** The compiled optimizer. */
  get optimizer(): training.Compiled['optimizer'] | undefined {
    return this.compiled?.optimizer;
  }

  /**
   * Configures training. Names may be Keras identifiers or camelCase.
   * @example
   * ```ts
   * model.compile({ optimizer: 'sgd', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
   * ```
   */
  compile(args: training.CompileArgs): void {
    this.pendingCompile = args;
    this.compiled = this.outputs.length > 0 ? training.compile(this, args) : null;
  }

  /** compile() arguments kept until a deferred-build model has its graph. */
  protected pendingCompile: training.CompileArgs | null = null;

  /**
   * Trains for a number of epochs and returns the History.
   * @example
   * ```ts
   * const history = await model.fit(xTrain, yTrain, { epochs: 10, batchSize: 32, validationSplit: 0.1 });
   * history.history.loss; // one value per epoch
   * ```
   */
  fit(x: training.Data, y: training.Data, args?: training.FitArgs): Promise<History>;
  fit(data: AsyncIterable<training.Batch> | Iterable<training.Batch>, args?: training.FitArgs): Promise<History>;
  fit(x: training.Data | AsyncIterable<training.Batch> | Iterable<training.Batch>, y?: training.Data | training.FitArgs, args?: training.FitArgs): Promise<History> {
    const iterable = typeof x === 'object' && x !== null && !(x instanceof Tensor) && !Array.isArray(x);
    if (iterable) return training.fit(this, x, undefined, (y as training.FitArgs | undefined) ?? {});
    this.ensureGraphFor(x as training.Data);
    return training.fit(this, x, y as training.Data, args ?? {});
  }

  /** Loss and metrics over a dataset, as {loss, accuracy, ...}. */
  evaluate(x: training.Data, y: training.Data, args?: { batchSize?: number }): Logs {
    return training.evaluate(this, x, y, args);
  }

  /** Batched inference. @example `model.predict(xTest).argMax(-1)` */
  predict(x: training.Data, args?: { batchSize?: number }): Tensor | Tensor[] {
    this.ensureGraphFor(x);
    return training.predict(this, x, args);
  }

  /** One optimizer step on one batch; returns its loss. */
  trainOnBatch(x: training.Data, y: training.Data): number {
    return training.trainOnBatch(this, x, y);
  }

  // ---- Saving and loading (src/io) ----------------------------------------------------------

  /**
   * Saves the model in the TensorFlow.js Layers format (model.json plus weight files), which
   * `loadModel` and TensorFlow.js's `tf.loadLayersModel` both read. Destinations: `file://dir`
   * (Node), `indexeddb://name` and `downloads://name` (browsers), or a handler.
   * (`io.saveModel(model, destination)` does the same and returns the byte counts.)
   * @example
   * ```ts
   * await model.save('file://./my-model'); // my-model/model.json, my-model/weights.bin
   * const copy = await loadModel('file://./my-model/model.json');
   * ```
   */
  async save(destination: string | IOHandler, options?: SaveOptions): Promise<void> {
    await saveModel(this, destination, options);
  }

  /**
   * Loads saved weights into this model (same architecture). Every weight is checked before
   * any is written, so on error the model is unchanged.
   * @example
   * ```ts
   * await model.loadWeights('file://./checkpoint/model.json');
   * ```
   */
  loadWeights(source: string | IOHandler, options?: LoadWeightsOptions): Promise<void> {
    return loadWeightsInto(this, source, options);
  }

  /** The arguments of the last compile(): saved with the model as its training config. */
  get compileArgs(): training.CompileArgs | null {
    return this.pendingCompile;
  }

  /** Sequential models without an input shape build themselves from the first data seen. */
  protected ensureGraphFor(x: training.Data): void {
    void x;
  }
}

