// Recurrent layers (SimpleRNN, LSTM, GRU) and the Bidirectional wrapper, over [batch, steps,
// features] sequences, with Keras 3's weight layouts:
//
//   kernel            [features, k * units]   k = 1 (SimpleRNN), 4 (LSTM: i f c o), 3 (GRU: z r h)
//   recurrent_kernel  [units, k * units]
//   bias              [k * units]             GRU with resetAfter: [2, 3 * units], row 0 for the
//                                             input projection, row 1 for the recurrent one
//
// A layer is unrolled over time with ops, so backpropagation through time comes from the tape.
// The input projection of every step is one matmul, [batch * steps, features] x kernel, made
// before the loop; each step then only multiplies the state by the recurrent kernel.
//
// Inputs of a node: the sequence, then the initial state if one is given ([h], or [h, c] for
// LSTM), as Keras 2 and TensorFlow.js record Keras's initial_state. Outputs: the output, then
// with returnState the final state. A mask on the sequence (Embedding maskZero, Masking) makes
// a masked step keep the previous state and repeat the previous output, as Keras does.
// see: keras/src/layers/rnn/{rnn,simple_rnn,lstm,gru,bidirectional}.py

import { isRecording } from '../autodiff/tape.js';
import { fail } from '../ops/check.js';
import * as ops from '../ops/index.js';
import { formatShape, outsideArena, sizeOf, tensor, type Tensor } from '../tensor.js';
import type { Random } from '../util/random.js';
import { getActivation, type Activation, type ActivationIdentifier } from './activations.js';
import { dropoutMaskValues } from './core.js';
import { getInitializer, Initializer, serializeInitializer, type InitializerLike } from './initializers.js';
import {
  Layer, formatSymbolicShape, type CallContext, type LayerArgs, type SymbolicShape, type Variable,
} from './layer.js';
import { getRegularizer, type RegularizerLike } from './regularizers.js';

export interface RNNArgs extends LayerArgs {
  units: number;
  /** Default 'tanh'. */
  activation?: ActivationIdentifier;
  useBias?: boolean;
  /** Return the whole output sequence [batch, steps, units] rather than the last output. */
  returnSequences?: boolean;
  /** Process the sequence from its end; the output sequence is then in reversed order. */
  goBackwards?: boolean;
  /**
   * Also return the final state: the layer then has outputs [output, h] (SimpleRNN, GRU) or
   * [output, h, c] (LSTM), which applyAll() gives.
   */
  returnState?: boolean;
  /**
   * Carry the final state of each batch over as the initial state of the next (sample i of a
   * batch continues sample i of the previous one), until resetStates(). Needs a fixed batch
   * size: batchInputShape, or inputShape with batchSize, or Input({ shape, batchSize }).
   */
  stateful?: boolean;
  /** Default 'glorotUniform'. */
  kernelInitializer?: InitializerLike;
  /** Default 'orthogonal'. */
  recurrentInitializer?: InitializerLike;
  /** Default 'zeros'. */
  biasInitializer?: InitializerLike;
  kernelRegularizer?: RegularizerLike;
  recurrentRegularizer?: RegularizerLike;
  biasRegularizer?: RegularizerLike;
  /** Fraction of input features dropped while training (one mask for all steps). */
  dropout?: number;
  /** Fraction of the state dropped before the recurrent product while training. */
  recurrentDropout?: number;
}

export interface LSTMArgs extends RNNArgs {
  /** Activation of the gates, default 'sigmoid'. */
  recurrentActivation?: ActivationIdentifier;
  /** Start the forget gate's bias at 1 (Keras's default, true). */
  unitForgetBias?: boolean;
}

export interface GRUArgs extends RNNArgs {
  /** Activation of the gates, default 'sigmoid'. */
  recurrentActivation?: ActivationIdentifier;
  /**
   * Apply the reset gate after the recurrent product (Keras 3's default, true; bias [2, 3 *
   * units]) or before it (false; bias [3 * units], the only form tfjs-layers supports).
   */
  resetAfter?: boolean;
}

function checkRate(layer: string, name: string, rate: number | undefined): number {
  const r = rate ?? 0;
  if (!(r >= 0 && r < 1)) fail(layer, `expected ${name} in [0, 1), got ${rate}`);
  return r;
}

/** A dropout mask of `shape`: 1 / keep with probability keep, else 0. */
function dropoutMask(shape: readonly number[], rate: number, rng: Random): Tensor {
  return tensor(dropoutMaskValues(sizeOf(shape), rate, rng), shape);
}

/**
 * A [batch, steps] mask as one [batch, units] tensor per step, each row all 1 or all 0 (the
 * elementwise ops broadcast only over leading axes, so the row is spelled out).
 */
function stepMasks(mask: Tensor, batch: number, steps: number, units: number): Tensor[] {
  if (mask.size !== batch * steps) {
    fail('RNN', `expected a mask of shape [${batch}, ${steps}] (batch, timesteps), got ${formatShape(mask.shape)}`);
  }
  const m = mask.dataSync();
  return Array.from({ length: steps }, (_, t) => {
    const rows = new Float32Array(batch * units);
    for (let b = 0; b < batch; b++) rows.fill(m[b * steps + t] !== 0 ? 1 : 0, b * units, (b + 1) * units);
    return tensor(rows, [batch, units]);
  });
}

/**
 * The steps of a [batch, steps, n] sequence, as [batch, n] tensors.
 *
 * The gradient of a slice is its gradient padded with zeros to the size of the whole sequence,
 * so taking the steps one slice each would cost steps x (sequence size) in the backward pass.
 * While recording, the sequence is halved recursively instead: each level of halving costs
 * about one sequence size backwards, so all of it costs log2(steps) sizes.
 */
function timeSteps(seq: Tensor): Tensor[] {
  if (!isRecording()) return ops.unstack(seq, 1);
  const [batch, steps, n] = seq.shape;
  if (steps === 1) return [seq.reshape([batch, n])];
  const half = steps >> 1;
  const [early, late] = ops.split(seq, [half, steps - half], 1);
  return [...timeSteps(early), ...timeSteps(late)];
}

/** Keras's unit_forget_bias: the bias initializer's values, with the forget gate's set to 1. */
class UnitForgetBias extends Initializer {
  constructor(private readonly base: Initializer, private readonly units: number) {
    super();
  }
  get className() {
    return this.base.className;
  }
  generate(_shape: readonly number[], rng: Random): Float32Array {
    const u = this.units;
    const values = new Float32Array(4 * u);
    values.set(this.base.generate([u], rng), 0);
    values.fill(1, u, 2 * u);
    values.set(this.base.generate([2 * u], rng), 2 * u);
    return values;
  }
}

/**
 * What SimpleRNN, LSTM and GRU share: weights, checks, the loop over time and the output.
 * Subclasses give the number of gates and one step of the recurrence.
 */
abstract class RecurrentLayer<A extends RNNArgs = RNNArgs> extends Layer {
  /** Blocks of `units` columns in the kernels: 1, 4 or 3. */
  protected abstract readonly gates: number;
  /** Tensors in the state: 1 (h), or 2 for LSTM (h, c). */
  abstract readonly stateCount: number;
  override readonly supportsMasking = true;
  readonly units: number;
  readonly activation: Activation;
  readonly useBias: boolean;
  readonly returnSequences: boolean;
  readonly goBackwards: boolean;
  readonly returnState: boolean;
  readonly stateful: boolean;
  /** A stateful layer's state between calls (outside any training step's memory). */
  private carried: Tensor[] | null = null;
  /** A stateful layer's batch size, fixed when it is built. */
  private fixedBatch: number | null = null;
  readonly dropout: number;
  readonly recurrentDropout: number;
  protected readonly args: A;
  kernel!: Variable;
  recurrentKernel!: Variable;
  bias?: Variable;

  /** `what` is the class name for errors (subclass fields are not set yet here). */
  constructor(args: A, defaultName: string, what: string) {
    super(args, defaultName);
    if (!Number.isInteger(args.units) || args.units < 1) {
      fail(what, `expected units to be a positive integer, got ${args.units}`);
    }
    this.units = args.units;
    this.activation = getActivation(args.activation ?? 'tanh', what);
    this.useBias = args.useBias ?? true;
    this.returnSequences = args.returnSequences ?? false;
    this.goBackwards = args.goBackwards ?? false;
    this.returnState = args.returnState ?? false;
    this.stateful = args.stateful ?? false;
    this.dropout = checkRate(what, 'dropout', args.dropout);
    this.recurrentDropout = checkRate(what, 'recurrentDropout', args.recurrentDropout);
    this.args = args;
  }

  /**
   * A fresh layer of the same class and arguments, with `changes` applied (Bidirectional's
   * forward and backward copies). Its weights are newly initialized, as in Keras.
   */
  copyWith(changes: Partial<RNNArgs>): RecurrentLayer {
    const make = this.constructor as new (args: A) => RecurrentLayer;
    return new make({ ...this.args, inputShape: undefined, batchInputShape: undefined, ...changes });
  }

  override get outputCount(): number {
    return this.returnState ? 1 + this.stateCount : 1;
  }

  protected override checkInputShapes(shapes: SymbolicShape[]): void {
    this.checkSequence(shapes);
  }

  /**
   * Rejects inputs that are not [batch, steps, features] with the built number of features,
   * followed by nothing or by an initial state of stateCount [batch, units] tensors.
   */
  checkSequence(shapes: SymbolicShape[]): void {
    const states = shapes.slice(1);
    const [, steps, features] = this.expectInput(shapes.slice(0, 1), 3, 'batch, timesteps, features');
    if (steps === 0) fail(this.className, `expected at least one timestep for layer '${this.name}', got shape ${formatSymbolicShape(shapes[0])}`);
    if (this.built && features !== this.kernel.shape[0]) {
      fail(this.className, `expected input with ${this.kernel.shape[0]} features (last axis) for layer '${this.name}', got shape ${formatSymbolicShape(shapes[0])}`);
    }
    if (states.length === 0) return;
    const what = this.stateCount === 1 ? '[h]' : '[h, c]';
    if (states.length !== this.stateCount) {
      fail(this.className, `expected an initial state of ${this.stateCount} tensor(s) ${what} for layer '${this.name}', got ${states.length}`);
    }
    const batch = shapes[0][0];
    for (const s of states) {
      const ok = s.length === 2 && s[1] === this.units && (s[0] === null || batch === null || s[0] === batch);
      if (!ok) {
        fail(this.className, `expected each initial state of layer '${this.name}' to have shape ${formatSymbolicShape([batch, this.units])}, got ${formatSymbolicShape(s)}`);
      }
    }
  }

  override build([shape]: SymbolicShape[]): void {
    const features = shape[2];
    if (features === null) fail(this.className, `expected a known last axis (features) for layer '${this.name}', got ${formatSymbolicShape(shape)}`);
    if (this.stateful) {
      this.fixedBatch = shape[0] ?? this.batchInputShape?.[0] ?? null;
      if (this.fixedBatch === null) {
        fail(this.className, `expected a fixed batch size for stateful layer '${this.name}' (give it batchInputShape, or inputShape with batchSize, or use Input({ shape, batchSize })), got input shape ${formatSymbolicShape(shape)}`);
      }
    }
    const width = this.gates * this.units;
    this.kernel = this.addWeight('kernel', {
      shape: [features, width], initializer: this.args.kernelInitializer ?? 'glorotUniform',
      regularizer: this.args.kernelRegularizer,
    });
    this.recurrentKernel = this.addWeight('recurrent_kernel', {
      shape: [this.units, width], initializer: this.args.recurrentInitializer ?? 'orthogonal',
      regularizer: this.args.recurrentRegularizer,
    });
    if (this.useBias) {
      this.bias = this.addWeight('bias', {
        shape: this.biasShape(), initializer: this.biasInitializer(),
        regularizer: this.args.biasRegularizer,
      });
    }
  }

  protected biasShape(): number[] {
    return [this.gates * this.units];
  }

  protected biasInitializer(): InitializerLike {
    return this.args.biasInitializer ?? 'zeros';
  }

  /** The bias added to the input projection (GRU with resetAfter keeps a second one). */
  protected inputBias(): Tensor | undefined {
    return this.bias?.value;
  }

  computeOutputShape([shape]: SymbolicShape[]): SymbolicShape {
    return this.returnSequences ? [shape[0], shape[1], this.units] : [shape[0], this.units];
  }

  override computeOutputShapes(shapes: SymbolicShape[]): SymbolicShape[] {
    const output = this.computeOutputShape(shapes);
    if (!this.returnState) return [output];
    return [output, ...new Array<SymbolicShape>(this.stateCount).fill([shapes[0][0], this.units])];
  }

  /** The output sequence keeps the input's mask; a last output or a state has none. */
  override computeMask(_inputs: Tensor[], masks: readonly (Tensor | null)[]): (Tensor | null)[] {
    const out = new Array<Tensor | null>(this.outputCount).fill(null);
    if (this.returnSequences) out[0] = masks[0] ?? null;
    return out;
  }

  override outputsMasked(inputsMasked: readonly boolean[]): boolean[] {
    const out = new Array<boolean>(this.outputCount).fill(false);
    out[0] = this.returnSequences && inputsMasked[0] === true;
    return out;
  }

  /**
   * Sets a stateful layer's state to zeros, or to `states` ([h], or [h, c] for LSTM, each
   * [batch, units] with the layer's fixed batch size).
   * @example
   * ```ts
   * lstm.resetStates(); // before a new set of sequences
   * ```
   */
  resetStates(states?: readonly Tensor[]): void {
    if (!this.stateful) fail(this.className, `expected a stateful layer for resetStates, got layer '${this.name}' with stateful false`);
    if (!this.built || this.fixedBatch === null) {
      fail(this.className, `expected layer '${this.name}' to be built (applied to an input) before resetStates`);
    }
    const shape = [this.fixedBatch, this.units];
    if (states !== undefined) {
      if (states.length !== this.stateCount || states.some((t) => formatShape(t.shape) !== formatShape(shape))) {
        fail(this.className, `expected ${this.stateCount} state tensor(s) of shape ${formatShape(shape)} for layer '${this.name}', got ${states.map((t) => formatShape(t.shape)).join(', ') || 'none'}`);
      }
    }
    this.carried = outsideArena(() => Array.from({ length: this.stateCount }, (_, i) =>
      states ? tensor(states[i].dataSync().slice(), shape) : ops.zeros(shape)));
  }

  /** A stateful layer's current state (copies), or null before its first call. */
  get states(): Tensor[] | null {
    return this.carried?.map((t) => tensor(t.dataSync().slice(), t.shape)) ?? null;
  }

  /** The state a call starts from: given, carried over (stateful), or zeros. */
  private startState(batch: number, given: Tensor[]): Tensor[] {
    if (given.length > 0) return given;
    if (!this.stateful) return Array.from({ length: this.stateCount }, () => ops.zeros([batch, this.units]));
    if (batch !== this.fixedBatch) {
      fail(this.className, `expected batches of ${this.fixedBatch} samples for stateful layer '${this.name}' (its fixed batch size), got ${batch}`);
    }
    if (this.carried === null) this.resetStates();
    // Copies: the carried tensors are overwritten at the end of this call, while the tape
    // may still need the values it started from.
    return this.carried!.map((t) => tensor(t.dataSync().slice(), t.shape));
  }

  /**
   * One step of the recurrence, made once per call (so that slices of the weights are cut
   * once, not once per step, and each of their gradients is padded back once). The step takes
   * this step's input projection `x` [batch, gates * units] (bias included), the previous
   * state, and `hIn`, the previous output after recurrent dropout: the value the recurrent
   * kernel multiplies. It returns the new state, output first.
   */
  protected abstract stepper(): (x: Tensor, state: Tensor[], hIn: Tensor) => Tensor[];

  call(inputs: Tensor[], ctx: CallContext): Tensor {
    return this.callAll(inputs, ctx)[0];
  }

  override callAll([x, ...initialState]: Tensor[], ctx: CallContext): Tensor[] {
    const [batch, steps, features] = x.shape;
    let seq = x;
    if (ctx.training && this.dropout > 0) {
      // One mask per sample and feature, the same at every step (Keras's DropoutRNNCell).
      const mask = dropoutMask([batch, 1, features], this.dropout, ctx.rng);
      seq = ops.mul(seq, ops.broadcastTo(mask, [batch, steps, features]));
    }
    const width = this.gates * this.units;
    const projected = ops.matmul(seq.reshape([batch * steps, features]), this.kernel.value, {
      bias: this.inputBias(),
    }).reshape([batch, steps, width]);
    const inputs = timeSteps(projected);
    if (this.goBackwards) inputs.reverse();
    const stateMask = ctx.training && this.recurrentDropout > 0
      ? dropoutMask([batch, this.units], this.recurrentDropout, ctx.rng)
      : null;
    const keep = ctx.masks?.[0] ? stepMasks(ctx.masks[0], batch, steps, this.units) : null;
    if (keep && this.goBackwards) keep.reverse();
    const step = this.stepper();
    let state = this.startState(batch, initialState);
    const outputs: Tensor[] = [];
    inputs.forEach((input, t) => {
      const h = state[0];
      const next = step(input, state, stateMask ? ops.mul(h, stateMask) : h);
      // A masked step keeps the state: previous + keep * (next - previous).
      state = keep ? next.map((s, i) => ops.add(state[i], ops.mul(keep[t], ops.sub(s, state[i])))) : next;
      if (this.returnSequences) outputs.push(state[0]);
    });
    if (this.stateful && initialState.length === 0) {
      for (const [i, s] of state.entries()) this.carried![i].backend.heap.f32.set(s.dataSync(), this.carried![i].ptr >> 2);
    }
    const output = this.returnSequences ? ops.stack(outputs, 1) : state[0];
    return this.returnState ? [output, ...state] : [output];
  }

  override getConfig(): Record<string, unknown> {
    const a = this.args;
    return {
      ...super.getConfig(), units: this.units, activation: this.activation.name, useBias: this.useBias,
      returnSequences: this.returnSequences, goBackwards: this.goBackwards,
      returnState: this.returnState, stateful: this.stateful,
      kernelInitializer: serializeInitializer(getInitializer(a.kernelInitializer ?? 'glorotUniform')),
      recurrentInitializer: serializeInitializer(getInitializer(a.recurrentInitializer ?? 'orthogonal')),
      biasInitializer: serializeInitializer(getInitializer(a.biasInitializer ?? 'zeros')),
      kernelRegularizer: getRegularizer(a.kernelRegularizer)?.config() ?? null,
      recurrentRegularizer: getRegularizer(a.recurrentRegularizer)?.config() ?? null,
      biasRegularizer: getRegularizer(a.biasRegularizer)?.config() ?? null,
      dropout: this.dropout, recurrentDropout: this.recurrentDropout,
    };
  }
}

/**
 * A fully connected recurrent layer: h_t = activation(x_t · kernel + h_{t-1} · recurrent_kernel
 * + bias).
 * @example
 * ```ts
 * const model = new Sequential([
 *   new SimpleRNN({ units: 16, inputShape: [10, 3] }), // 10 steps of 3 features
 *   new Dense({ units: 1 }),
 * ]);
 * ```
 */
export class SimpleRNN extends RecurrentLayer {
  readonly className = 'SimpleRNN';
  protected readonly gates = 1;
  readonly stateCount = 1;

  constructor(args: RNNArgs) {
    super(args, 'simple_rnn', 'SimpleRNN');
  }

  protected stepper() {
    const rk = this.recurrentKernel.value;
    return (x: Tensor, _state: Tensor[], hIn: Tensor) => [this.activation.apply(ops.add(x, ops.matmul(hIn, rk)))];
  }
}

/**
 * Long short-term memory (Hochreiter and Schmidhuber 1997), gates in Keras's order i, f, c, o:
 *
 *   [i f g o] = x_t · kernel + h · recurrent_kernel + bias
 *   c = sigma(f) * c + sigma(i) * tanh(g);   h = sigma(o) * tanh(c)
 *
 * @example
 * ```ts
 * const model = new Sequential([
 *   new Embedding({ inputDim: 1000, outputDim: 32, inputShape: [20] }),
 *   new LSTM({ units: 32 }),
 *   new Dense({ units: 1, activation: 'sigmoid' }),
 * ]);
 * ```
 */
export class LSTM extends RecurrentLayer<LSTMArgs> {
  readonly className = 'LSTM';
  protected readonly gates = 4;
  readonly stateCount = 2;
  readonly recurrentActivation: Activation;
  readonly unitForgetBias: boolean;

  constructor(args: LSTMArgs) {
    super(args, 'lstm', 'LSTM');
    this.recurrentActivation = getActivation(args.recurrentActivation ?? 'sigmoid', 'LSTM');
    this.unitForgetBias = args.unitForgetBias ?? true;
  }

  protected override biasInitializer(): InitializerLike {
    const base = getInitializer(this.args.biasInitializer ?? 'zeros', 'LSTM');
    return this.unitForgetBias ? new UnitForgetBias(base, this.units) : base;
  }

  protected stepper() {
    const rk = this.recurrentKernel.value;
    const sigma = this.recurrentActivation;
    const tanh = this.activation;
    return (x: Tensor, [, c]: Tensor[], hIn: Tensor) => {
      const [zi, zf, zg, zo] = ops.split(ops.add(x, ops.matmul(hIn, rk)), 4, 1);
      const cNext = ops.add(ops.mul(sigma.apply(zf), c), ops.mul(sigma.apply(zi), tanh.apply(zg)));
      return [ops.mul(sigma.apply(zo), tanh.apply(cNext)), cNext];
    };
  }

  override getConfig() {
    return {
      ...super.getConfig(), recurrentActivation: this.recurrentActivation.name,
      unitForgetBias: this.unitForgetBias,
    };
  }
}

/**
 * Gated recurrent unit (Cho et al. 2014), gates in Keras's order z, r, h:
 *
 *   z = sigma(x_z + h · U_z),  r = sigma(x_r + h · U_r)
 *   resetAfter:  hh = tanh(x_h + r * (h · U_h + b_h'))    (Keras 3's default)
 *   otherwise:   hh = tanh(x_h + (r * h) · U_h)
 *   h = z * h + (1 - z) * hh
 *
 * @example
 * ```ts
 * new GRU({ units: 32, returnSequences: true })
 * new GRU({ units: 32, resetAfter: false }) // the variant tfjs-layers implements
 * ```
 */
export class GRU extends RecurrentLayer<GRUArgs> {
  readonly className = 'GRU';
  protected readonly gates = 3;
  readonly stateCount = 1;
  readonly recurrentActivation: Activation;
  readonly resetAfter: boolean;

  constructor(args: GRUArgs) {
    super(args, 'gru', 'GRU');
    this.recurrentActivation = getActivation(args.recurrentActivation ?? 'sigmoid', 'GRU');
    this.resetAfter = args.resetAfter ?? true;
  }

  protected override biasShape(): number[] {
    return this.resetAfter ? [2, 3 * this.units] : [3 * this.units];
  }

  /** Row `row` of the [2, 3 * units] bias. */
  private biasRow(row: number): Tensor | undefined {
    if (!this.bias) return undefined;
    return ops.slice(this.bias.value, [row, 0], [1, -1]).reshape([3 * this.units]);
  }

  protected override inputBias(): Tensor | undefined {
    return this.resetAfter ? this.biasRow(0) : this.bias?.value;
  }

  protected stepper() {
    const u = this.units;
    const rk = this.recurrentKernel.value;
    const sigma = this.recurrentActivation;
    // The recurrent terms of a step: the one added to the z and r gates, and a function of r
    // giving the one added to the candidate (where the two forms differ).
    let recurrentTerms: (hIn: Tensor) => [Tensor, (r: Tensor) => Tensor];
    if (this.resetAfter) {
      const recurrentBias = this.biasRow(1);
      recurrentTerms = (hIn) => {
        const [innerZR, innerH] = ops.split(ops.matmul(hIn, rk, { bias: recurrentBias }), [2 * u, u], 1);
        return [innerZR, (r) => ops.mul(r, innerH)];
      };
    } else {
      const kernelZR = ops.slice(rk, [0, 0], [u, 2 * u]);
      const kernelH = ops.slice(rk, [0, 2 * u], [u, u]);
      recurrentTerms = (hIn) => [ops.matmul(hIn, kernelZR), (r) => ops.matmul(ops.mul(r, hIn), kernelH)];
    }
    return (x: Tensor, [h]: Tensor[], hIn: Tensor) => {
      const [xzr, xh] = ops.split(x, [2 * u, u], 1);
      const [innerZR, candidateTerm] = recurrentTerms(hIn);
      const [z, r] = ops.split(sigma.apply(ops.add(xzr, innerZR)), 2, 1);
      const hh = this.activation.apply(ops.add(xh, candidateTerm(r)));
      // z * h + (1 - z) * hh, written as hh + z * (h - hh): one op fewer per step.
      return [ops.add(hh, ops.mul(z, ops.sub(h, hh)))];
    };
  }

  override getConfig() {
    return {
      ...super.getConfig(), recurrentActivation: this.recurrentActivation.name,
      resetAfter: this.resetAfter,
    };
  }
}

export type BidirectionalMergeMode = 'concat' | 'sum' | 'mul' | 'ave';

export interface BidirectionalArgs extends LayerArgs {
  /** The recurrent layer to run both ways: a SimpleRNN, LSTM or GRU. */
  layer: SimpleRNN | LSTM | GRU;
  /** How the two outputs combine; default 'concat' (last axis). */
  mergeMode?: BidirectionalMergeMode;
}

const MERGE_MODES: readonly BidirectionalMergeMode[] = ['concat', 'sum', 'mul', 'ave'];

/**
 * Runs a recurrent layer forwards and a copy of it backwards over the sequence and merges the
 * two outputs. As in Keras, both copies are new layers made from `layer`'s arguments (named
 * forward_<name> and backward_<name>); their weights are the forward layer's, then the
 * backward layer's. With returnSequences, the backward output is flipped back to the input's
 * time order before merging.
 * @example
 * ```ts
 * const model = new Sequential([
 *   new Bidirectional({ layer: new LSTM({ units: 16, returnSequences: true }), inputShape: [10, 8] }),
 *   new Bidirectional({ layer: new LSTM({ units: 16 }) }),
 *   new Dense({ units: 5, activation: 'softmax' }),
 * ]);
 * ```
 */
export class Bidirectional extends Layer {
  readonly className = 'Bidirectional';
  override readonly supportsMasking = true;
  readonly forwardLayer: RecurrentLayer;
  readonly backwardLayer: RecurrentLayer;
  readonly mergeMode: BidirectionalMergeMode;

  constructor(args: BidirectionalArgs) {
    const { layer } = args;
    // An input shape given to the wrapped layer starts a Sequential model just as well.
    const given = args.batchInputShape !== undefined || args.inputShape !== undefined;
    const inherited = given ? {} : { batchInputShape: layer?.batchInputShape };
    super({ ...args, ...inherited }, 'bidirectional');
    if (!(layer instanceof RecurrentLayer)) {
      fail('Bidirectional', `expected layer to be a SimpleRNN, LSTM or GRU, got ${String(layer)}`);
    }
    this.mergeMode = args.mergeMode ?? 'concat';
    if (!MERGE_MODES.includes(this.mergeMode)) {
      fail('Bidirectional', `expected mergeMode among ${MERGE_MODES.join(', ')}, got '${String(args.mergeMode)}'`);
    }
    this.forwardLayer = layer.copyWith({ name: `forward_${layer.name}` });
    this.backwardLayer = layer.copyWith({ name: `backward_${layer.name}`, goBackwards: !layer.goBackwards });
  }

  protected override sublayers(): Layer[] {
    return [this.forwardLayer, this.backwardLayer];
  }

  /** With returnState: [output, ...forward state, ...backward state], as Keras. */
  override get outputCount(): number {
    return this.forwardLayer.returnState ? 1 + 2 * this.forwardLayer.stateCount : 1;
  }

  /** An initial state is the forward layer's, then the backward layer's. */
  private splitStates<T>(inputs: T[]): [T, T[], T[]] {
    const [x, ...states] = inputs;
    const half = states.length / 2;
    if (states.length > 0 && states.length !== 2 * this.forwardLayer.stateCount) {
      fail('Bidirectional', `expected an initial state of ${2 * this.forwardLayer.stateCount} tensors (the forward layer's, then the backward layer's) for layer '${this.name}', got ${states.length}`);
    }
    return [x, states.slice(0, half), states.slice(half)];
  }

  protected override checkInputShapes(shapes: SymbolicShape[]): void {
    const [x, forward, backward] = this.splitStates(shapes);
    this.forwardLayer.checkSequence([x, ...forward]);
    this.backwardLayer.checkSequence([x, ...backward]);
  }

  override build(shapes: SymbolicShape[]): void {
    this.forwardLayer.ensureBuilt(shapes.slice(0, 1));
    this.backwardLayer.ensureBuilt(shapes.slice(0, 1));
  }

  computeOutputShape(shapes: SymbolicShape[]): SymbolicShape {
    const shape = this.forwardLayer.computeOutputShape(shapes);
    if (this.mergeMode !== 'concat') return shape;
    return [...shape.slice(0, -1), 2 * this.forwardLayer.units];
  }

  override computeOutputShapes(shapes: SymbolicShape[]): SymbolicShape[] {
    const states = this.forwardLayer.computeOutputShapes(shapes).slice(1);
    return [this.computeOutputShape(shapes), ...states, ...states];
  }

  override computeMask(_inputs: Tensor[], masks: readonly (Tensor | null)[]): (Tensor | null)[] {
    const out = new Array<Tensor | null>(this.outputCount).fill(null);
    if (this.forwardLayer.returnSequences) out[0] = masks[0] ?? null;
    return out;
  }

  override outputsMasked(inputsMasked: readonly boolean[]): boolean[] {
    const out = new Array<boolean>(this.outputCount).fill(false);
    out[0] = this.forwardLayer.returnSequences && inputsMasked[0] === true;
    return out;
  }

  get stateful(): boolean {
    return this.forwardLayer.stateful;
  }

  /** Resets both directions' state (stateful layers). */
  resetStates(): void {
    this.forwardLayer.resetStates();
    this.backwardLayer.resetStates();
  }

  call(inputs: Tensor[], ctx: CallContext): Tensor {
    return this.callAll(inputs, ctx)[0];
  }

  override callAll(inputs: Tensor[], ctx: CallContext): Tensor[] {
    const [x, forwardState, backwardState] = this.splitStates(inputs);
    const [y, ...forwardFinal] = this.forwardLayer.callAll([x, ...forwardState], ctx);
    const [backwardOutput, ...backwardFinal] = this.backwardLayer.callAll([x, ...backwardState], ctx);
    let yBack = backwardOutput;
    if (this.forwardLayer.returnSequences) {
      const steps = yBack.shape[1];
      const reversed = tensor(Int32Array.from({ length: steps }, (_, t) => steps - 1 - t), [steps], 'int32');
      yBack = ops.gather(yBack, reversed, 1);
    }
    return [this.merge(y, yBack), ...forwardFinal, ...backwardFinal];
  }

  private merge(y: Tensor, yBack: Tensor): Tensor {
    switch (this.mergeMode) {
      case 'concat': return ops.concat([y, yBack], -1);
      case 'sum': return ops.add(y, yBack);
      case 'mul': return ops.mul(y, yBack);
      case 'ave': return ops.scaleShift(ops.add(y, yBack), 0.5);
    }
  }

  override getConfig() {
    return {
      ...super.getConfig(), mergeMode: this.mergeMode,
      layer: { className: this.forwardLayer.className, config: this.forwardLayer.getConfig() },
    };
  }
}

