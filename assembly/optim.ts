// Optimizer updates, in place over n parameters: Keras 3's rules, four lanes at a time.
// see: keras/src/optimizers/{sgd,adam,adamw,rmsprop,adagrad}.py; decoupled weight decay is
//      base_optimizer.py's _apply_weight_decay (w -= w * weight_decay * lr, before the step).
//
// Every buffer is a flat f32[n] (w, g and the optimizer's slots), only 4-byte aligned:
//
//   w  | w0 w1 w2 w3 | w4 w5 w6 w7 | ... | w(n-1) |    one v128 per four parameters
//   g  | g0 g1 g2 g3 | ...                          the same index in every buffer
//
// The update of one element depends on nothing but the same element of the other buffers, so
// a step is one pass of loads, a few lane-wise ops and stores: memory-bound. Each kernel writes
// that step once, as an inline function over a v128 of `lanes` valid elements. The main loop
// runs it on full vectors, the leftover loop on one element at a time (loaded into lane 0 with
// load32_zero, stored from lane 0), so every element sees exactly the same arithmetic, wherever
// it sits in the buffer.
//
// Optional slots (SGD's velocity v, RMSprop's mom) are used exactly when their pointer is not 0;
// with the slot and momentum 0 the momentum rule reduces to the plain one for w.

import { at, vload, vmadd, vnmadd, vsplat, vstore, VLANES } from './simd';

// @ts-ignore: decorator
@inline function vloadLanes(p: usize, lanes: i32): v128 {
  return lanes == VLANES ? vload(p) : v128.load32_zero(p);
}

// @ts-ignore: decorator
@inline function vstoreLanes(p: usize, v: v128, lanes: i32): void {
  if (lanes == VLANES) vstore(p, v);
  else v128.store32_lane(p, v, 0);
}

// @ts-ignore: decorator
@inline function sgdStep(
  pw: usize, pg: usize, pv: usize, vlr: v128, vmomentum: v128, nesterov: bool, vdecay: v128,
  lanes: i32,
): void {
  const vg = vloadLanes(pg, lanes);
  let vw = vloadLanes(pw, lanes);
  vw = vnmadd(vdecay, vw, vw); // w -= lr * weightDecay * w
  if (pv == 0) {
    vw = vnmadd(vlr, vg, vw);
  } else {
    const vv = vnmadd(vlr, vg, f32x4.mul(vmomentum, vloadLanes(pv, lanes)));
    vstoreLanes(pv, vv, lanes);
    vw = nesterov ? f32x4.add(vw, vnmadd(vlr, vg, f32x4.mul(vmomentum, vv))) : f32x4.add(vw, vv);
  }
  vstoreLanes(pw, vw, lanes);
}

/**
 * SGD: v = momentum * v - lr * g; w += v (nesterov: w += momentum * v - lr * g), or without a
 * velocity slot (v == 0) w -= lr * g. Decoupled weight decay first: w -= lr * weightDecay * w.
 */
export function f32_sgd(
  w: usize, g: usize, v: usize, n: i32, lr: f32, momentum: f32, nesterov: i32,
  weightDecay: f32,
): void {
  const vlr = vsplat(lr);
  const vmomentum = vsplat(momentum);
  const vdecay = vsplat(lr * weightDecay);
  const useNesterov = nesterov != 0;
  let i = 0;
  for (; i + VLANES <= n; i += VLANES) {
    sgdStep(at(w, i), at(g, i), v ? at(v, i) : 0, vlr, vmomentum, useNesterov, vdecay, VLANES);
  }
  for (; i < n; i++) {
    sgdStep(at(w, i), at(g, i), v ? at(v, i) : 0, vlr, vmomentum, useNesterov, vdecay, 1);
  }
}

// @ts-ignore: decorator
@inline function adamStep(
  pw: usize, pg: usize, pm: usize, pv: usize, vbeta1: v128, vbeta2: v128, vepsilon: v128,
  valpha: v128, vdecay: v128, lanes: i32,
): void {
  const vg = vloadLanes(pg, lanes);
  let vw = vloadLanes(pw, lanes);
  vw = vnmadd(vdecay, vw, vw);
  const vone = vsplat(1);
  const vm = vmadd(vbeta1, vloadLanes(pm, lanes), f32x4.mul(f32x4.sub(vone, vbeta1), vg));
  const vg2 = f32x4.mul(vg, vg);
  const vv = vmadd(vbeta2, vloadLanes(pv, lanes), f32x4.mul(f32x4.sub(vone, vbeta2), vg2));
  vstoreLanes(pm, vm, lanes);
  vstoreLanes(pv, vv, lanes);
  const vdenom = f32x4.add(f32x4.sqrt(vv), vepsilon);
  vw = f32x4.sub(vw, f32x4.div(f32x4.mul(valpha, vm), vdenom));
  vstoreLanes(pw, vw, lanes);
}

/**
 * Adam / AdamW at step t >= 1, Keras's form: the bias corrections are folded into the step size
 * alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t), and epsilon is added to sqrt(v) unscaled.
 * Decoupled weight decay (AdamW) first: w -= lr * weightDecay * w.
 */
export function f32_adam(
  w: usize, g: usize, m: usize, v: usize, n: i32, lr: f32, beta1: f32, beta2: f32,
  epsilon: f32, step: i32, weightDecay: f32,
): void {
  // Once per call and in f64: beta2^t is close to 1 for small t, where 1 - beta2^t loses
  // digits in f32.
  const t = <f64>step;
  const alpha = <f64>lr * Math.sqrt(1 - Math.pow(<f64>beta2, t)) / (1 - Math.pow(<f64>beta1, t));
  const vbeta1 = vsplat(beta1);
  const vbeta2 = vsplat(beta2);
  const vepsilon = vsplat(epsilon);
  const valpha = vsplat(<f32>alpha);
  const vdecay = vsplat(lr * weightDecay);
  let i = 0;
  for (; i + VLANES <= n; i += VLANES) {
    adamStep(
      at(w, i), at(g, i), at(m, i), at(v, i), vbeta1, vbeta2, vepsilon, valpha, vdecay, VLANES,
    );
  }
  for (; i < n; i++) {
    adamStep(at(w, i), at(g, i), at(m, i), at(v, i), vbeta1, vbeta2, vepsilon, valpha, vdecay, 1);
  }
}

// @ts-ignore: decorator
@inline function rmspropStep(
  pw: usize, pg: usize, pms: usize, pmom: usize, pmg: usize, vlr: v128, vrho: v128,
  vmomentum: v128, vepsilon: v128, centered: bool, lanes: i32,
): void {
  const vg = vloadLanes(pg, lanes);
  const vone_rho = f32x4.sub(vsplat(1), vrho);
  const vms = vmadd(vrho, vloadLanes(pms, lanes), f32x4.mul(vone_rho, f32x4.mul(vg, vg)));
  vstoreLanes(pms, vms, lanes);
  let vdenom = vms;
  if (centered) {
    const vmg = vmadd(vrho, vloadLanes(pmg, lanes), f32x4.mul(vone_rho, vg));
    vstoreLanes(pmg, vmg, lanes);
    vdenom = vnmadd(vmg, vmg, vms); // ms - mg^2: the variance of g
  }
  let vinc = f32x4.div(f32x4.mul(vlr, vg), f32x4.sqrt(f32x4.add(vdenom, vepsilon)));
  if (pmom != 0) {
    vinc = vmadd(vmomentum, vloadLanes(pmom, lanes), vinc);
    vstoreLanes(pmom, vinc, lanes);
  }
  vstoreLanes(pw, f32x4.sub(vloadLanes(pw, lanes), vinc), lanes);
}

/**
 * RMSprop: ms = rho ms + (1-rho) g^2; centered: mg = rho mg + (1-rho) g and the denominator is
 * ms - mg^2, else ms; inc = lr g / sqrt(denominator + epsilon); with a momentum slot (mom != 0)
 * mom = momentum mom + inc and w -= mom, else w -= inc. mg is read only when centered.
 */
export function f32_rmsprop(
  w: usize, g: usize, ms: usize, mom: usize, mg: usize, n: i32, lr: f32, rho: f32,
  momentum: f32, epsilon: f32, centered: i32,
): void {
  const vlr = vsplat(lr);
  const vrho = vsplat(rho);
  const vmomentum = vsplat(momentum);
  const vepsilon = vsplat(epsilon);
  const isCentered = centered != 0;
  let i = 0;
  for (; i + VLANES <= n; i += VLANES) {
    rmspropStep(
      at(w, i), at(g, i), at(ms, i), mom ? at(mom, i) : 0, at(mg, i),
      vlr, vrho, vmomentum, vepsilon, isCentered, VLANES,
    );
  }
  for (; i < n; i++) {
    rmspropStep(
      at(w, i), at(g, i), at(ms, i), mom ? at(mom, i) : 0, at(mg, i),
      vlr, vrho, vmomentum, vepsilon, isCentered, 1,
    );
  }
}

// @ts-ignore: decorator
@inline function adagradStep(
  pw: usize, pg: usize, pacc: usize, vlr: v128, vepsilon: v128, lanes: i32,
): void {
  const vg = vloadLanes(pg, lanes);
  const vacc = vmadd(vg, vg, vloadLanes(pacc, lanes));
  vstoreLanes(pacc, vacc, lanes);
  const vinc = f32x4.div(f32x4.mul(vlr, vg), f32x4.sqrt(f32x4.add(vacc, vepsilon)));
  vstoreLanes(pw, f32x4.sub(vloadLanes(pw, lanes), vinc), lanes);
}

/** Adagrad: acc += g^2; w -= lr * g / sqrt(acc + epsilon). */
export function f32_adagrad(w: usize, g: usize, acc: usize, n: i32, lr: f32, epsilon: f32): void {
  const vlr = vsplat(lr);
  const vepsilon = vsplat(epsilon);
  let i = 0;
  for (; i + VLANES <= n; i += VLANES) {
    adagradStep(at(w, i), at(g, i), at(acc, i), vlr, vepsilon, VLANES);
  }
  for (; i < n; i++) {
    adagradStep(at(w, i), at(g, i), at(acc, i), vlr, vepsilon, 1);
  }
}
