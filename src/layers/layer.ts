// The Layer base class, its weights (Variable) and the symbolic tensors of the functional API.
//
// A layer declares each weight once, with addWeight(name, shape, initializer): listing
// weights, saving, loading, parameter counts in summary() and the search space's size limits
// are all derived from that declaration.

import { fail } from '../ops/check.js';
import { formatShape, sizeOf, Tensor, tensor, type Shape } from '../tensor.js';
import type { Random } from '../util/random.js';
import { globalRandom } from '../util/seed.js';
import { getInitializer, type InitializerLike } from './initializers.js';
import { getRegularizer, type L1L2, type RegularizerLike } from './regularizers.js';

/**
 * Throws unless `mask` has the shape of `input` without its last axis, as every mask a layer
 * receives must. `which` names the input among several (merge layers).
 */
export function checkMaskShape(layer: Layer, input: Tensor, mask: Tensor, which = 0): void {
  const want = input.shape.slice(0, -1);
  if (formatShape(mask.shape) !== formatShape(want)) {
    fail(layer.className, `expected the mask of input ${which} of layer '${layer.name}' to have shape ${formatShape(want)} (the input's shape without its last axis), got ${formatShape(mask.shape)}`);
  }
}

/** A shape whose first axis (the batch) may be unknown. */
export type SymbolicShape = readonly (number | null)[];

export function formatSymbolicShape(shape: SymbolicShape): string {
  return `(${shape.map((d) => (d === null ? 'None' : String(d))).join(', ')}${shape.length === 1 ? ',' : ''})`;
}

/** A layer's weight: a named, persistent tensor. */
export class Variable {
  constructor(
    /** Unique path, e.g. 'dense_1/kernel'. */
    readonly name: string,
    public value: Tensor,
    public trainable: boolean,
    readonly regularizer?: L1L2,
  ) {}

  get shape(): Shape {
    return this.value.shape;
  }

  /** Overwrites the values in place (the tensor keeps its identity). */
  assign(values: Float32Array | Tensor): void {
    const data = values instanceof Tensor ? values.dataSync() : values;
    if (values instanceof Tensor && formatShape(values.shape) !== formatShape(this.shape)) {
      fail('Variable.assign', `expected a value of shape ${formatShape(this.shape)} for '${this.name}', got ${formatShape(values.shape)}`);
    }
    if (data.length !== this.value.size) {
      fail('Variable.assign', `expected ${this.value.size} values for '${this.name}' of shape ${formatShape(this.shape)}, got ${data.length}`);
    }
    this.value.backend.heap.f32.set(data as Float32Array, this.value.ptr >> 2);
  }

  read(): Float32Array {
    return this.value.dataSync() as Float32Array;
  }
}

/** An output of a layer applied in the functional API: a shape and where it comes from. */
export class SymbolicTensor {
  constructor(
    readonly shape: SymbolicShape,
    /** The node that produces it. */
    readonly node: Node,
    readonly name: string,
    /** Its position among the node's outputs (an LSTM with returnState has three). */
    readonly index = 0,
    /**
     * Whether a mask travels with it: a [batch, steps] tensor of 1 (keep) and 0 (skip) that
     * the layers after it receive, as Keras's masks (Embedding maskZero, Masking).
     */
    readonly masked = false,
  ) {}

  get rank(): number {
    return this.shape.length;
  }
}

/** One application of a layer to symbolic inputs. */
export class Node {
  outputs!: SymbolicTensor[];
  constructor(
    readonly layer: Layer,
    readonly inputs: readonly SymbolicTensor[],
  ) {}

  /** The first output (the only one for most layers). */
  get output(): SymbolicTensor {
    return this.outputs[0];
  }
}

export interface CallContext {
  /** True in fit/trainOnBatch: dropout drops, batch norm uses batch statistics. */
  training: boolean;
  rng: Random;
  /**
   * The inputs' masks, one per input (null where an input has none): [batch, steps] tensors
   * of 1 and 0. Only layers with supportsMasking read them.
   */
  masks?: readonly (Tensor | null)[];
}

/** Keyword arguments of apply() beyond the inputs. */
export interface ApplyOptions {
  /** Recurrent layers: the initial state ([h] or, for LSTM, [h, c]), as Keras's initial_state. */
  initialState?: readonly (SymbolicTensor | Tensor)[];
}

export interface LayerArgs {
  name?: string;
  trainable?: boolean;
  /** Shape of one sample, without the batch axis (starts a Sequential model). */
  inputShape?: readonly number[];
  /** Full input shape, with the batch axis (null when any). */
  batchInputShape?: SymbolicShape;
  batchSize?: number;
}

export interface WeightSpec {
  shape: readonly number[];
  initializer: InitializerLike;
  regularizer?: RegularizerLike;
  trainable?: boolean;
}

const nameCounts = new Map<string, number>();

/** Keras-style unique names: dense, dense_1, dense_2, ... */
export function uniqueName(base: string): string {
  const count = nameCounts.get(base) ?? 0;
  nameCounts.set(base, count + 1);
  return count === 0 ? base : `${base}_${count}`;
}

function snake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase();
}

export abstract class Layer {
  /** The Keras class name, used in summaries and saved topologies. */
  abstract readonly className: string;
  readonly name: string;
  trainable: boolean;
  /** The batch input shape given to the constructor, if any. */
  readonly batchInputShape?: SymbolicShape;
  built = false;
  /**
   * Whether the layer accepts a masked input and passes the mask on (Keras's
   * supports_masking). Layers without it drop an incoming mask, as Keras 3 does.
   */
  readonly supportsMasking: boolean = false;
  /**
   * True for a random augmentation layer (RandomTranslation, RandomRotation, RandomZoom): it
   * has no weights and is the identity outside training, so an inference model may leave it
   * out. A property rather than a class test, so that it holds for layers made by another copy
   * of kerasm (a worker's bundle).
   */
  readonly augmentation: boolean = false;
  private readonly declared: Variable[] = [];
  readonly nodes: Node[] = [];

  constructor(args: LayerArgs = {}, defaultName?: string) {
    this.name = args.name ?? uniqueName(defaultName ?? snake(this.constructor.name));
    this.trainable = args.trainable ?? true;
    if (args.batchInputShape) this.batchInputShape = args.batchInputShape;
    else if (args.inputShape) this.batchInputShape = [args.batchSize ?? null, ...args.inputShape];
  }

  /** Creates the layer's weights for these input shapes. Layers with weights override it. */
  build(inputShapes: SymbolicShape[]): void {
    void inputShapes;
  }

  /** The output shape for these input shapes (batch axis included). */
  abstract computeOutputShape(inputShapes: SymbolicShape[]): SymbolicShape;

  /** The forward computation on real tensors, built from ops (so it is differentiable). */
  abstract call(inputs: Tensor[], ctx: CallContext): Tensor;

  /** How many tensors the layer returns (more than one: an RNN with returnState). */
  get outputCount(): number {
    return 1;
  }

  /** Every output's shape; layers with several outputs override it. */
  computeOutputShapes(inputShapes: SymbolicShape[]): SymbolicShape[] {
    return [this.computeOutputShape(inputShapes)];
  }

  /** Every output, for layers with several; the others return [call()]. */
  callAll(inputs: Tensor[], ctx: CallContext): Tensor[] {
    return [this.call(inputs, ctx)];
  }

  /**
   * The outputs' masks from the inputs and their masks (null: no mask). By default a layer
   * with supportsMasking passes its first input's mask to its outputs and any other drops it.
   * Layers that make masks (Embedding, Masking) or consume them (RNNs) override it, and
   * `outputsMasked` with it.
   */
  computeMask(inputs: Tensor[], masks: readonly (Tensor | null)[]): (Tensor | null)[] {
    void inputs;
    const mask = this.supportsMasking ? masks[0] ?? null : null;
    return new Array<Tensor | null>(this.outputCount).fill(mask);
  }

  /** The symbolic side of computeMask: which outputs carry a mask, given which inputs do. */
  outputsMasked(inputsMasked: readonly boolean[]): boolean[] {
    return new Array<boolean>(this.outputCount).fill(this.supportsMasking && inputsMasked[0] === true);
  }

  /** The constructor arguments that rebuild this layer (Keras getConfig, camelCase keys). */
  getConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = { name: this.name, trainable: this.trainable };
    if (this.batchInputShape) config.batchInputShape = this.batchInputShape;
    return config;
  }

  /** Declares a weight once; everything else about it is derived from this call. */
  protected addWeight(name: string, spec: WeightSpec): Variable {
    const initializer = getInitializer(spec.initializer, `${this.className}(${this.name})`);
    for (const d of spec.shape) {
      if (!Number.isInteger(d) || d < 1) {
        fail(this.className, `expected weight '${name}' of layer '${this.name}' to have a positive shape, got ${formatShape(spec.shape)}`);
      }
    }
    const value = tensor(initializer.apply(spec.shape), spec.shape);
    const v = new Variable(`${this.name}/${name}`, value, spec.trainable ?? true, getRegularizer(spec.regularizer));
    this.declared.push(v);
    return v;
  }

  /** All weights, in declaration order (the order of getWeights/setWeights and saved files). */
  get weights(): Variable[] {
    return [...this.declared, ...this.sublayers().flatMap((l) => l.weights)];
  }

  get trainableWeights(): Variable[] {
    // A loop rather than filter(), whose result is holey or packed depending on whether the
    // caller is optimized: training reads this list at every step, and one kind keeps it fast.
    const out: Variable[] = [];
    if (this.trainable) for (const w of this.weights) if (w.trainable) out.push(w);
    return out;
  }

  get nonTrainableWeights(): Variable[] {
    return this.weights.filter((w) => !this.trainable || !w.trainable);
  }

  /** Layers held inside this one (Bidirectional, models used as layers). */
  protected sublayers(): Layer[] {
    return [];
  }

  countParams(): number {
    return this.weights.reduce((n, w) => n + sizeOf(w.shape), 0);
  }

  /** Builds once, from the first input shapes seen. */
  ensureBuilt(inputShapes: SymbolicShape[]): void {
    if (!this.built) {
      this.build(inputShapes);
      this.built = true;
    }
  }

  /**
   * Applies the layer. On symbolic tensors (functional API) it records a node and returns a
   * symbolic output; on real tensors it computes (inference mode). A layer with several
   * outputs (an RNN with returnState) is applied with applyAll.
   * @example
   * ```ts
   * const x = Input({ shape: [784] });
   * const y = new Dense({ units: 10 }).apply(x); // SymbolicTensor (None, 10)
   * const seq = new LSTM({ units: 8, returnSequences: true }).apply(words, { initialState: [h, c] });
   * ```
   */
  apply(inputs: SymbolicTensor | SymbolicTensor[], options?: ApplyOptions): SymbolicTensor;
  apply(inputs: Tensor | Tensor[], ctx?: Partial<CallContext> & ApplyOptions): Tensor;
  apply(
    inputs: SymbolicTensor | SymbolicTensor[] | Tensor | Tensor[], ctx?: Partial<CallContext> & ApplyOptions,
  ): SymbolicTensor | Tensor {
    if (this.outputCount !== 1) {
      fail(this.className, `layer '${this.name}' returns ${this.outputCount} tensors; get them with applyAll(), e.g. const [output, ...states] = layer.applyAll(x)`);
    }
    return this.applyEither(inputs, ctx)[0];
  }

  /**
   * Applies the layer and returns all its outputs: [output, ...states] for an RNN with
   * returnState (Keras's `output, h, c = lstm(x)`), [output] for other layers.
   * @example
   * ```ts
   * const [output, h, c] = new LSTM({ units: 16, returnState: true }).applyAll(encoderInputs);
   * const decoded = new LSTM({ units: 16 }).apply(decoderInputs, { initialState: [h, c] });
   * ```
   */
  applyAll(inputs: SymbolicTensor | SymbolicTensor[], options?: ApplyOptions): SymbolicTensor[];
  applyAll(inputs: Tensor | Tensor[], ctx?: Partial<CallContext> & ApplyOptions): Tensor[];
  applyAll(
    inputs: SymbolicTensor | SymbolicTensor[] | Tensor | Tensor[], ctx?: Partial<CallContext> & ApplyOptions,
  ): SymbolicTensor[] | Tensor[] {
    return this.applyEither(inputs, ctx);
  }

  /** apply and applyAll: records a node on symbolic inputs, computes on real ones. */
  private applyEither(
    inputs: SymbolicTensor | SymbolicTensor[] | Tensor | Tensor[], ctx?: Partial<CallContext> & ApplyOptions,
  ): SymbolicTensor[] | Tensor[] {
    const given = (Array.isArray(inputs) ? inputs : [inputs]) as (SymbolicTensor | Tensor)[];
    // Keras and TensorFlow.js record an initial state as extra inputs of the node.
    const list = [...given, ...(ctx?.initialState ?? [])];
    if (given.length === 0) fail(this.className, `expected at least one input for layer '${this.name}', got none`);
    if (list.every((t) => t instanceof SymbolicTensor)) {
      const symbolic = list as SymbolicTensor[];
      const shapes = symbolic.map((t) => t.shape);
      this.checkInputShapes(shapes);
      this.ensureBuilt(shapes);
      const node = new Node(this, symbolic);
      const masked = this.outputsMasked(symbolic.map((t) => t.masked));
      const outShapes = this.computeOutputShapes(shapes);
      node.outputs = outShapes.map((shape, i) => new SymbolicTensor(
        shape, node, `${this.name}/output_${this.nodes.length}${outShapes.length > 1 ? `_${i}` : ''}`, i, masked[i],
      ));
      this.nodes.push(node);
      return node.outputs;
    }
    if (list.every((t) => t instanceof Tensor)) {
      const real = list as Tensor[];
      const shapes = real.map((t) => [null, ...t.shape.slice(1)]);
      this.checkInputShapes(shapes);
      this.ensureBuilt(shapes);
      return this.callAll(real, {
        training: ctx?.training ?? false,
        rng: ctx?.rng ?? globalRandom(),
        masks: ctx?.masks,
      });
    }
    return fail(this.className, `expected all inputs of layer '${this.name}' to be tensors or all symbolic, got a mix`);
  }

  /** Layers override this to reject input shapes they cannot handle, with a clear message. */
  protected checkInputShapes(shapes: SymbolicShape[]): void {
    void shapes;
  }

  /** Throws the standard error for an input of the wrong rank or size. */
  protected expectInput(shapes: SymbolicShape[], rank: number, what: string): SymbolicShape {
    if (shapes.length !== 1) fail(this.className, `expected 1 input for layer '${this.name}', got ${shapes.length}`);
    const shape = shapes[0];
    if (shape.length !== rank) {
      fail(this.className, `expected input of rank ${rank} (${what}) for layer '${this.name}', got shape ${formatSymbolicShape(shape)}`);
    }
    return shape;
  }

  toString(): string {
    return `${this.className}(${this.name})`;
  }
}
