// A linear stack of layers: the functional graph built one layer at a time.

import { fail } from '../ops/check.js';
import { Input } from '../layers/core.js';
import type { Layer, SymbolicShape, SymbolicTensor } from '../layers/layer.js';
import { Model } from './model.js';
import { Tensor } from '../tensor.js';
import type { Data } from '../training/fit.js';

export interface SequentialArgs {
  layers?: Layer[];
  name?: string;
}

/**
 * A model that applies its layers one after the other.
 * @example
 * ```ts
 * const model = new Sequential([
 *   new Conv2D({ filters: 32, kernelSize: [3, 3], activation: 'relu', inputShape: [28, 28, 1] }),
 *   new MaxPooling2D({ poolSize: [2, 2] }),
 *   new Flatten(),
 *   new Dense({ units: 10, activation: 'softmax' }),
 * ]);
 * ```
 */
export class Sequential extends Model {
  override readonly className = 'Sequential';
  private readonly stack: Layer[] = [];
  private head: SymbolicTensor | null = null;

  constructor(layersOrArgs: Layer[] | SequentialArgs = {}) {
    const args = Array.isArray(layersOrArgs) ? { layers: layersOrArgs } : layersOrArgs;
    super(undefined, { name: args.name ?? undefined }, 'sequential');
    this.built = false;
    for (const layer of args.layers ?? []) this.add(layer);
  }

  /**
   * Appends a layer. The first layer needs `inputShape`, or the model is built on first use.
   * A layer with several outputs (an RNN with returnState) may only come last; the model then
   * has all of them as outputs, as in Keras 3.
   */
  add(layer: Layer): void {
    if (this.stack.includes(layer)) fail('Sequential.add', `layer '${layer.name}' is already in the model`);
    const previous = this.stack[this.stack.length - 1];
    if (previous && previous.outputCount > 1) {
      fail('Sequential.add', `expected layer '${layer.name}' to follow a layer with one output, got it after '${previous.name}', which returns ${previous.outputCount} tensors; a layer with several outputs can only be last in a Sequential model (use the functional API to pass them on)`);
    }
    if (this.head === null && layer.batchInputShape) {
      this.head = Input({ shape: layer.batchInputShape.slice(1) as number[], batchSize: layer.batchInputShape[0] ?? undefined });
    }
    if (this.head !== null) {
      const outputs = layer.applyAll(this.head);
      this.stack.push(layer);
      this.head = outputs[0];
      this.setGraph(this.inputs.length ? this.inputs : this.firstInput(), outputs);
    } else {
      this.stack.push(layer);
    }
  }

  private firstInput(): SymbolicTensor {
    let t = this.head!;
    while (t.node.inputs.length > 0) t = t.node.inputs[0];
    return t;
  }

  /** Removes the last layer. */
  pop(): void {
    if (this.stack.length === 0) fail('Sequential.pop', 'the model has no layers');
    const layers = this.stack.splice(0);
    const shape = this.built ? this.inputs[0].shape : null;
    this.head = null;
    this.inputs = [];
    layers.pop();
    if (shape) this.head = Input({ shape: shape.slice(1) as number[] });
    for (const layer of layers) this.add(layer);
  }

  /** Builds the graph for inputs of this shape (batch axis first, may be null). */
  buildFor(batchInputShape: SymbolicShape): void {
    if (this.built) return;
    if (this.stack.length === 0) fail('Sequential', 'expected at least one layer before the model is used');
    const layers = this.stack.splice(0);
    this.head = Input({ shape: batchInputShape.slice(1) as number[] });
    for (const layer of layers) this.add(layer);
  }

  protected override ensureGraphFor(x: Data): void {
    if (this.built) return;
    const first = x instanceof Tensor ? x : Array.isArray(x) && x[0] instanceof Tensor ? x[0] : null;
    if (first === null) fail('Sequential', 'expected a Tensor input to build a model whose first layer has no inputShape');
    this.buildFor([null, ...first.shape.slice(1)]);
    if (this.pendingCompile && !this.compiled) this.compile(this.pendingCompile);
  }

  /** The layers as added (without the implicit input layer). */
  override get layers(): Layer[] {
    return [...this.stack];
  }
}
