// Optimizers: Keras 3 update rules, each one in-place kernel per weight. Slots (momentum,
// moments) are allocated once, outside the training step, when the optimizer first sees
// the weights.

import { fail } from '../ops/check.js';
import * as ops from '../ops/index.js';
import { formatShape, Tensor } from '../tensor.js';
import type { Variable } from '../layers/layer.js';

/** A learning rate that depends on the step (0-based). */
export interface LearningRateSchedule {
  (step: number): number;
  config?: Record<string, unknown>;
}

/**
 * lr * decayRate ^ (step / decaySteps), or with staircase, ^ floor(step / decaySteps).
 * @example `new SGD({ learningRate: exponentialDecay(0.1, 1000, 0.96) })`
 */
export function exponentialDecay(initial: number, decaySteps: number, decayRate: number, staircase = false): LearningRateSchedule {
  if (!(decaySteps > 0)) fail('exponentialDecay', `expected decaySteps > 0, got ${decaySteps}`);
  const f: LearningRateSchedule = (step) => {
    const p = step / decaySteps;
    return initial * decayRate ** (staircase ? Math.floor(p) : p);
  };
  f.config = { className: 'ExponentialDecay', initial, decaySteps, decayRate, staircase };
  return f;
}

/** Cosine decay from `initial` to initial * alpha over decaySteps (Keras CosineDecay). */
export function cosineDecay(initial: number, decaySteps: number, alpha = 0): LearningRateSchedule {
  if (!(decaySteps > 0)) fail('cosineDecay', `expected decaySteps > 0, got ${decaySteps}`);
  const f: LearningRateSchedule = (step) => {
    const p = Math.min(step, decaySteps) / decaySteps;
    const cosine = 0.5 * (1 + Math.cos(Math.PI * p));
    return initial * ((1 - alpha) * cosine + alpha);
  };
  f.config = { className: 'CosineDecay', initial, decaySteps, alpha };
  return f;
}

/**
 * One kind of slot as TensorFlow.js saves it: the name suffix of its entries
 * (`<weight>/<suffix>`), the slot it is, and the factor from kerasm's value to the saved one
 * where the two libraries keep different quantities (SGD's momentum).
 */
export interface SlotLayout {
  suffix: string;
  slot: number;
  scale?: number;
}

export interface OptimizerArgs {
  learningRate?: number | LearningRateSchedule;
  /** Clip each step's gradients to this global L2 norm (Keras global_clipnorm / clipnorm). */
  clipnorm?: number;
  weightDecay?: number;
}

export abstract class Optimizer {
  abstract readonly className: string;
  /** Steps taken so far. */
  iterations = 0;
  private lr: number | LearningRateSchedule;
  readonly clipnorm?: number;
  readonly weightDecay: number;
  private readonly slots = new Map<Variable, Tensor[]>();

  constructor(args: OptimizerArgs, defaultLr: number) {
    this.lr = args.learningRate ?? defaultLr;
    if (typeof this.lr === 'number' && !(this.lr >= 0)) fail(this.constructor.name, `expected learningRate >= 0, got ${this.lr}`);
    if (args.clipnorm !== undefined && !(args.clipnorm > 0)) fail(this.constructor.name, `expected clipnorm > 0, got ${args.clipnorm}`);
    this.clipnorm = args.clipnorm;
    this.weightDecay = args.weightDecay ?? 0;
  }

  /** The learning rate for the current step. */
  get learningRate(): number {
    return typeof this.lr === 'number' ? this.lr : this.lr(this.iterations);
  }

  /** Replaces the learning rate (ReduceLROnPlateau); a schedule becomes a constant. */
  set learningRate(value: number) {
    if (!(value >= 0)) fail('Optimizer.learningRate', `expected a learning rate >= 0, got ${value}`);
    this.lr = value;
  }

  /** How many slot tensors of the weight's shape this optimizer keeps per weight. */
  protected abstract slotCount(): number;
  /** Initial slot value (Adagrad starts its accumulator at 0.1). */
  protected slotInitialValue(index: number): number {
    void index;
    return 0;
  }

  /** Allocates slots for `vars`; call outside a training step's arena. */
  build(vars: readonly Variable[]): void {
    for (const v of vars) {
      if (this.slots.has(v)) continue;
      this.slots.set(v, Array.from({ length: this.slotCount() }, (_, i) => ops.fill(v.shape, this.slotInitialValue(i))));
    }
  }

  /** Applies one step: grads[i] is the gradient of vars[i]. Gradients may be clipped in place. */
  applyGradients(vars: readonly Variable[], grads: readonly Tensor[]): void {
    if (vars.length !== grads.length) fail('applyGradients', `expected ${vars.length} gradients, got ${grads.length}`);
    if (this.clipnorm !== undefined) ops.clipByGlobalNorm(grads, this.clipnorm);
    const lr = this.learningRate;
    this.iterations++;
    vars.forEach((v, i) => {
      const slots = this.slots.get(v);
      if (!slots) fail('applyGradients', `optimizer was not built for weight '${v.name}'`);
      this.update(v.value, grads[i], slots, lr, this.iterations);
    });
  }

  protected abstract update(w: Tensor, g: Tensor, slots: Tensor[], lr: number, step: number): void;

  /** Slot tensors, for saving optimizer state. */
  slotsOf(v: Variable): Tensor[] | undefined {
    return this.slots.get(v);
  }

  /**
   * The slots TensorFlow.js saves, in its order: every weight's first kind of slot, then
   * every weight's second, ... (after the step count, saved as 'iter').
   * see: tfjs-core/src/optimizers/*_optimizer.ts getWeights()
   */
  slotLayout(): SlotLayout[] {
    return [];
  }

  /**
   * The saved state for `vars`: one array per slot kind and weight, in slotLayout() order
   * (kind-major), or none when the optimizer has not taken a step on these weights yet.
   */
  getState(vars: readonly Variable[]): Float32Array[] {
    if (!vars.every((v) => this.slots.has(v))) return [];
    return this.slotLayout().flatMap(({ slot, scale = 1 }) => vars.map((v) => {
      const values = this.slots.get(v)![slot].dataSync().slice() as Float32Array;
      return scale === 1 ? values : values.map((x) => x * scale);
    }));
  }

  /**
   * Restores a saved state (the inverse of getState) and the step count. All sizes are
   * checked before anything is written.
   */
  setState(vars: readonly Variable[], iterations: number, state: readonly Float32Array[], names: readonly string[] = []): void {
    const layout = this.slotLayout();
    const what = (k: number) => (names[k] ? ` ('${names[k]}')` : '');
    if (!(Number.isInteger(iterations) && iterations >= 0)) {
      fail('Optimizer.setState', `expected a step count that is a non-negative integer, got ${iterations}`);
    }
    if (state.length !== 0 && state.length !== layout.length * vars.length) {
      fail('Optimizer.setState', `expected ${layout.length * vars.length} slot arrays for ${this.className} (${layout.map((l) => l.suffix).join(', ') || 'none'} for each of ${vars.length} trainable weights), got ${state.length}`);
    }
    state.forEach((values, k) => {
      const v = vars[k % vars.length];
      if (values.length !== v.value.size) {
        fail('Optimizer.setState', `expected ${v.value.size} values in slot array ${k}${what(k)} for weight '${v.name}' of shape ${formatShape(v.shape)}, got ${values.length}`);
      }
    });
    this.iterations = iterations;
    if (state.length === 0) return;
    this.build(vars);
    // Laid out again now that the step count is restored: SGD converts its momentum with the
    // learning rate of the current step.
    this.slotLayout().forEach(({ slot, scale = 1 }, kind) => vars.forEach((v, i) => {
      const values = state[kind * vars.length + i];
      const target = this.slots.get(v)![slot];
      target.backend.heap.f32.set(scale === 1 ? values : values.map((x) => x / scale), target.ptr >> 2);
    }));
  }

  getConfig(): Record<string, unknown> {
    const lr = typeof this.lr === 'number' ? this.lr : this.lr.config ?? this.learningRate;
    return { learningRate: lr, clipnorm: this.clipnorm ?? null, weightDecay: this.weightDecay };
  }
}

/** Keras's decoupled weight decay, w -= w * weightDecay * lr, for kernels without it. */
function decoupledDecay(w: Tensor, lr: number, weightDecay: number): void {
  if (weightDecay > 0) ops.scaleShift(w, 1 - lr * weightDecay, 0, { out: w });
}

export interface SGDArgs extends OptimizerArgs {
  momentum?: number;
  nesterov?: boolean;
}

/** Stochastic gradient descent with optional (Nesterov) momentum. Keras default lr 0.01. */
export class SGD extends Optimizer {
  readonly className = 'SGD';
  readonly momentum: number;
  readonly nesterov: boolean;
  constructor(args: SGDArgs = {}) {
    super(args, 0.01);
    this.momentum = args.momentum ?? 0;
    this.nesterov = args.nesterov ?? false;
    if (!(this.momentum >= 0 && this.momentum < 1)) fail('SGD', `expected momentum in [0, 1), got ${this.momentum}`);
  }
  protected slotCount() {
    return this.momentum > 0 ? 1 : 0;
  }
  /**
   * TensorFlow.js's Momentum keeps a = momentum * a + g and steps by -lr * a; Keras's velocity
   * is v = momentum * v - lr * g, so v = -lr * a while the learning rate stays the same (with
   * a schedule, the rate of the current step converts both ways).
   */
  override slotLayout(): SlotLayout[] {
    if (this.momentum === 0) return [];
    const lr = this.learningRate;
    if (lr === 0) fail('SGD', 'cannot save or restore momentum with learning rate 0 (TensorFlow.js keeps momentum / -learningRate)');
    return [{ suffix: 'momentum', slot: 0, scale: -1 / lr }];
  }
  protected update(w: Tensor, g: Tensor, slots: Tensor[], lr: number): void {
    ops.sgdUpdate(w, g, { learningRate: lr, momentum: this.momentum, nesterov: this.nesterov, weightDecay: this.weightDecay, velocity: slots[0] });
  }
  override getConfig() {
    return { ...super.getConfig(), momentum: this.momentum, nesterov: this.nesterov };
  }
}

export interface AdamArgs extends OptimizerArgs {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** Adam (Keras default lr 0.001, epsilon 1e-7). */
export class Adam extends Optimizer {
  readonly className: string = 'Adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  constructor(args: AdamArgs = {}) {
    super(args, 0.001);
    this.beta1 = args.beta1 ?? 0.9;
    this.beta2 = args.beta2 ?? 0.999;
    this.epsilon = args.epsilon ?? 1e-7;
  }
  protected slotCount() {
    return 2;
  }
  override slotLayout(): SlotLayout[] {
    return [{ suffix: 'm', slot: 0 }, { suffix: 'v', slot: 1 }];
  }
  protected update(w: Tensor, g: Tensor, [m, v]: Tensor[], lr: number, step: number): void {
    ops.adamUpdate(w, g, { learningRate: lr, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, step, weightDecay: this.weightDecay, m, v });
  }
  override getConfig() {
    return { ...super.getConfig(), beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

/** Adam with decoupled weight decay (Keras default weightDecay 0.004). */
export class AdamW extends Adam {
  override readonly className = 'AdamW';
  constructor(args: AdamArgs = {}) {
    super({ ...args, weightDecay: args.weightDecay ?? 0.004 });
  }
}

export interface RMSpropArgs extends OptimizerArgs {
  rho?: number;
  momentum?: number;
  epsilon?: number;
  centered?: boolean;
}

/** RMSprop (Keras default lr 0.001, rho 0.9). */
export class RMSprop extends Optimizer {
  readonly className = 'RMSprop';
  readonly rho: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly centered: boolean;
  constructor(args: RMSpropArgs = {}) {
    super(args, 0.001);
    this.rho = args.rho ?? 0.9;
    this.momentum = args.momentum ?? 0;
    this.epsilon = args.epsilon ?? 1e-7;
    this.centered = args.centered ?? false;
  }
  protected slotCount() {
    return 3;
  }
  override slotLayout(): SlotLayout[] {
    const layout = [{ suffix: 'rms', slot: 0 }, { suffix: 'momentum', slot: 1 }];
    return this.centered ? [...layout, { suffix: 'mg', slot: 2 }] : layout;
  }
  protected update(w: Tensor, g: Tensor, [ms, mom, mg]: Tensor[], lr: number): void {
    decoupledDecay(w, lr, this.weightDecay);
    ops.rmspropUpdate(w, g, {
      learningRate: lr, rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered,
      meanSquare: ms, moment: this.momentum > 0 ? mom : undefined, meanGrad: this.centered ? mg : undefined,
    });
  }
  override getConfig() {
    return { ...super.getConfig(), rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered };
  }
}

export interface AdagradArgs extends OptimizerArgs {
  initialAccumulatorValue?: number;
  epsilon?: number;
}

/** Adagrad (Keras default lr 0.001, initial accumulator 0.1). */
export class Adagrad extends Optimizer {
  readonly className = 'Adagrad';
  readonly initialAccumulatorValue: number;
  readonly epsilon: number;
  constructor(args: AdagradArgs = {}) {
    super(args, 0.001);
    this.initialAccumulatorValue = args.initialAccumulatorValue ?? 0.1;
    this.epsilon = args.epsilon ?? 1e-7;
  }
  protected slotCount() {
    return 1;
  }
  protected override slotInitialValue() {
    return this.initialAccumulatorValue;
  }
  override slotLayout(): SlotLayout[] {
    return [{ suffix: 'accumulator', slot: 0 }];
  }
  protected update(w: Tensor, g: Tensor, [acc]: Tensor[], lr: number): void {
    decoupledDecay(w, lr, this.weightDecay);
    ops.adagradUpdate(w, g, { learningRate: lr, epsilon: this.epsilon, accumulator: acc });
  }
  override getConfig() {
    return { ...super.getConfig(), initialAccumulatorValue: this.initialAccumulatorValue, epsilon: this.epsilon };
  }
}

const OPTIMIZERS: Record<string, () => Optimizer> = {
  sgd: () => new SGD(),
  adam: () => new Adam(),
  adamw: () => new AdamW(),
  rmsprop: () => new RMSprop(),
  adagrad: () => new Adagrad(),
};

export type OptimizerIdentifier = 'sgd' | 'adam' | 'adamw' | 'rmsprop' | 'adagrad' | 'SGD' | 'Adam' | 'AdamW' | 'RMSprop' | 'Adagrad';

/** Resolves 'sgd', 'adam', ... (any case) or an Optimizer instance. */
export function getOptimizer(spec: OptimizerIdentifier | Optimizer): Optimizer {
  if (spec instanceof Optimizer) return spec;
  const factory = typeof spec === 'string' ? OPTIMIZERS[spec.toLowerCase()] : undefined;
  if (!factory) fail('compile', `unknown optimizer '${String(spec)}'; expected one of ${Object.keys(OPTIMIZERS).join(', ')} or an Optimizer`);
  return factory();
}
