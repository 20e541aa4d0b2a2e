// In-place optimizer updates over one parameter tensor and its gradient. Slot tensors
// (velocity, moments) have the parameter's shape and are updated in place too.

import type { Tensor } from '../tensor.js';
import { expectShape, fail, sameBackend } from './check.js';

function checkSlots(op: string, w: Tensor, g: Tensor, slots: Record<string, Tensor | undefined>): void {
  expectShape(op, 'w', w, w.shape);
  expectShape(op, 'g', g, w.shape);
  for (const [name, t] of Object.entries(slots)) if (t) expectShape(op, name, t, w.shape);
  sameBackend(op, w, g, ...Object.values(slots));
}

function positive(op: string, name: string, value: number): number {
  if (!(value >= 0) || !Number.isFinite(value)) fail(op, `expected ${name} >= 0, got ${value}`);
  return value;
}

export interface SgdSlots {
  learningRate: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  /** Required when momentum > 0. */
  velocity?: Tensor;
}

/** One SGD step (Keras 3 rule) on w in place. */
export function sgdUpdate(w: Tensor, g: Tensor, o: SgdSlots): void {
  const op = 'sgdUpdate';
  const momentum = positive(op, 'momentum', o.momentum ?? 0);
  if (momentum > 0 && !o.velocity) fail(op, 'expected a velocity tensor when momentum > 0');
  checkSlots(op, w, g, { velocity: o.velocity });
  w.backend.kernels.f32_sgd(
    w.ptr, g.ptr, momentum > 0 ? o.velocity!.ptr : 0, w.size, positive(op, 'learningRate', o.learningRate),
    momentum, o.nesterov ? 1 : 0, positive(op, 'weightDecay', o.weightDecay ?? 0),
  );
}

export interface AdamSlots {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** The step number, starting at 1. */
  step: number;
  /** Decoupled weight decay (AdamW). */
  weightDecay?: number;
  m: Tensor;
  v: Tensor;
}

/** One Adam / AdamW step (Keras 3 rule, with bias correction) on w in place. */
export function adamUpdate(w: Tensor, g: Tensor, o: AdamSlots): void {
  const op = 'adamUpdate';
  if (!Number.isInteger(o.step) || o.step < 1) fail(op, `expected step >= 1, got ${o.step}`);
  checkSlots(op, w, g, { m: o.m, v: o.v });
  w.backend.kernels.f32_adam(
    w.ptr, g.ptr, o.m.ptr, o.v.ptr, w.size, positive(op, 'learningRate', o.learningRate),
    o.beta1 ?? 0.9, o.beta2 ?? 0.999, o.epsilon ?? 1e-7, o.step,
    positive(op, 'weightDecay', o.weightDecay ?? 0),
  );
}

export interface RmspropSlots {
  learningRate: number;
  rho?: number;
  momentum?: number;
  epsilon?: number;
  centered?: boolean;
  meanSquare: Tensor;
  /** Required when momentum > 0. */
  moment?: Tensor;
  /** Required when centered. */
  meanGrad?: Tensor;
}

/** One RMSprop step (Keras 3 rule) on w in place. */
export function rmspropUpdate(w: Tensor, g: Tensor, o: RmspropSlots): void {
  const op = 'rmspropUpdate';
  const momentum = positive(op, 'momentum', o.momentum ?? 0);
  if (momentum > 0 && !o.moment) fail(op, 'expected a moment tensor when momentum > 0');
  if (o.centered && !o.meanGrad) fail(op, 'expected a meanGrad tensor when centered');
  checkSlots(op, w, g, { meanSquare: o.meanSquare, moment: o.moment, meanGrad: o.meanGrad });
  w.backend.kernels.f32_rmsprop(
    w.ptr, g.ptr, o.meanSquare.ptr, momentum > 0 ? o.moment!.ptr : 0,
    o.centered ? o.meanGrad!.ptr : 0, w.size, positive(op, 'learningRate', o.learningRate),
    o.rho ?? 0.9, momentum, o.epsilon ?? 1e-7, o.centered ? 1 : 0,
  );
}

export interface AdagradSlots {
  learningRate: number;
  epsilon?: number;
  accumulator: Tensor;
}

/** One Adagrad step (Keras 3 rule) on w in place. */
export function adagradUpdate(w: Tensor, g: Tensor, o: AdagradSlots): void {
  const op = 'adagradUpdate';
  checkSlots(op, w, g, { accumulator: o.accumulator });
  w.backend.kernels.f32_adagrad(
    w.ptr, g.ptr, o.accumulator.ptr, w.size, positive(op, 'learningRate', o.learningRate),
    o.epsilon ?? 1e-7,
  );
}
