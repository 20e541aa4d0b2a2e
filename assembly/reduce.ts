// Reductions over the middle axis of x viewed as [outer, axis, inner], and the softmax
// cross-entropy losses. The reference, src/backend/reference/reduce.ts, is the specification;
// its conventions (NaN propagates through max / min, gradients route to the first extremum,
// a zero label adds nothing to the loss) hold here too.
//
//   x:  o = 0 [ a = 0: inner ][ a = 1: inner ] ... [ a = axis-1: inner ]   o = 1 [ ... ] ...
//   y:  o = 0 [ inner ]                                                     o = 1 [ ... ] ...
//
// Two loop shapes:
//   inner == 1  each row of `axis` elements is contiguous: vectorize along it (16 lanes per
//               step in four accumulators), then fold the lanes horizontally.
//   inner > 1   vectorize across inner: a block of 16 (then 4) columns is carried in registers
//               down the whole axis, reading one 64-byte line per row, and stored once.

import { REDUCE_MAX, REDUCE_MEAN, REDUCE_MIN, REDUCE_SUM } from '../src/backend/opcodes';
import { vexp } from './activation';
import { at, vhmax, vhsum, vload, vsplat, vstore } from './simd';

// ---- Reductions ---------------------------------------------------------------------------

/** The combining step of a reduce op, four lanes at a time (sum and mean both add). */
// @ts-ignore: decorator
@inline function vcombine(op: i32, vacc: v128, vx: v128): v128 {
  if (op == REDUCE_MAX) return f32x4.max(vacc, vx); // NaN propagates, like Math.max
  if (op == REDUCE_MIN) return f32x4.min(vacc, vx);
  return f32x4.add(vacc, vx);
}

/** The starting value of a reduce op: the identity of its combining step. */
// @ts-ignore: decorator
@inline function identity(op: i32): f32 {
  if (op == REDUCE_MAX) return -Infinity;
  if (op == REDUCE_MIN) return Infinity;
  return 0;
}

/** Folds the four lanes of an accumulator into one value. */
// @ts-ignore: decorator
@inline function fold(op: i32, vacc: v128): f32 {
  if (op == REDUCE_MAX) return vhmax(vacc);
  if (op == REDUCE_MIN) return -vhmax(f32x4.neg(vacc));
  return vhsum(vacc);
}

/** Reduces n contiguous elements (the inner == 1 case). */
// @ts-ignore: decorator
@inline function reduceRow(op: i32, x: usize, n: i32): f32 {
  let vacc0 = vsplat(identity(op));
  let vacc1 = vacc0;
  let vacc2 = vacc0;
  let vacc3 = vacc0;
  let a = 0;
  for (; a + 16 <= n; a += 16) {
    vacc0 = vcombine(op, vacc0, vload(at(x, a)));
    vacc1 = vcombine(op, vacc1, vload(at(x, a + 4)));
    vacc2 = vcombine(op, vacc2, vload(at(x, a + 8)));
    vacc3 = vcombine(op, vacc3, vload(at(x, a + 12)));
  }
  for (; a + 4 <= n; a += 4) vacc0 = vcombine(op, vacc0, vload(at(x, a)));
  let acc = fold(op, vcombine(op, vcombine(op, vacc0, vacc1), vcombine(op, vacc2, vacc3)));
  for (; a < n; a++) {
    acc = f32x4.extract_lane(vcombine(op, vsplat(acc), v128.load32_zero(at(x, a))), 0);
  }
  return acc;
}

/**
 * Reduces the axis of one [axis, inner] slab into inner outputs, carrying column blocks in
 * registers down the axis (the inner > 1 case).
 */
// @ts-ignore: decorator
@inline function reduceColumns(op: i32, x: usize, y: usize, axis: i32, inner: i32): void {
  const stride = <usize>inner << 2;
  const vaxis = vsplat(<f32>axis);
  let i = 0;
  for (; i + 16 <= inner; i += 16) {
    let vacc0123 = vsplat(identity(op));
    let vacc4567 = vacc0123;
    let vacc89AB = vacc0123;
    let vaccCDEF = vacc0123;
    let p = at(x, i);
    for (let a = 0; a < axis; a++, p += stride) {
      vacc0123 = vcombine(op, vacc0123, vload(p));
      vacc4567 = vcombine(op, vacc4567, vload(p + 16));
      vacc89AB = vcombine(op, vacc89AB, vload(p + 32));
      vaccCDEF = vcombine(op, vaccCDEF, vload(p + 48));
    }
    if (op == REDUCE_MEAN) {
      vacc0123 = f32x4.div(vacc0123, vaxis);
      vacc4567 = f32x4.div(vacc4567, vaxis);
      vacc89AB = f32x4.div(vacc89AB, vaxis);
      vaccCDEF = f32x4.div(vaccCDEF, vaxis);
    }
    vstore(at(y, i), vacc0123);
    vstore(at(y, i + 4), vacc4567);
    vstore(at(y, i + 8), vacc89AB);
    vstore(at(y, i + 12), vaccCDEF);
  }
  for (; i + 4 <= inner; i += 4) {
    let vacc = vsplat(identity(op));
    let p = at(x, i);
    for (let a = 0; a < axis; a++, p += stride) vacc = vcombine(op, vacc, vload(p));
    if (op == REDUCE_MEAN) vacc = f32x4.div(vacc, vaxis);
    vstore(at(y, i), vacc);
  }
  // Leftover columns, one at a time through lane 0.
  for (; i < inner; i++) {
    let vacc = vsplat(identity(op));
    let p = at(x, i);
    for (let a = 0; a < axis; a++, p += stride) vacc = vcombine(op, vacc, v128.load32_zero(p));
    if (op == REDUCE_MEAN) vacc = f32x4.div(vacc, vaxis);
    v128.store32_lane(at(y, i), vacc, 0);
  }
}

// @ts-ignore: decorator
@inline function reduceLoop(op: i32, x: usize, y: usize, outer: i32, axis: i32, inner: i32): void {
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const acc = reduceRow(op, at(x, o * axis), axis);
      store<f32>(at(y, o), op == REDUCE_MEAN ? acc / <f32>axis : acc);
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    reduceColumns(op, at(x, o * axis * inner), at(y, o * inner), axis, inner);
  }
}

/** y[o, i] = reduce over a of x[o, a, i], for x viewed as [outer, axis, inner]. */
export function f32_reduce(op: i32, x: usize, y: usize, outer: i32, axis: i32, inner: i32): void {
  switch (op) {
    case REDUCE_SUM: reduceLoop(REDUCE_SUM, x, y, outer, axis, inner); break;
    case REDUCE_MEAN: reduceLoop(REDUCE_MEAN, x, y, outer, axis, inner); break;
    case REDUCE_MAX: reduceLoop(REDUCE_MAX, x, y, outer, axis, inner); break;
    case REDUCE_MIN: reduceLoop(REDUCE_MIN, x, y, outer, axis, inner); break;
    default: fill(y, outer * inner, NaN); // an unknown op code: make the mistake visible
  }
}

/** y[i] = value. */
// @ts-ignore: decorator
@inline function fill(y: usize, n: i32, value: f32): void {
  const vvalue = vsplat(value);
  let i = 0;
  for (; i + 4 <= n; i += 4) vstore(at(y, i), vvalue);
  for (; i < n; i++) store<f32>(at(y, i), value);
}

/** Lanes where x is the extremum y that f32_reduce found: x == y, or both NaN. */
// @ts-ignore: decorator
@inline function vmatches(vx: v128, vy: v128): v128 {
  return v128.or(f32x4.eq(vx, vy), v128.and(f32x4.ne(vx, vx), f32x4.ne(vy, vy)));
}

/** dx for max / min over one contiguous row: dy at the first element matching y, 0 elsewhere. */
// @ts-ignore: decorator
@inline function routeRow(x: usize, dx: usize, n: i32, y: f32, dy: f32): void {
  const vy = vsplat(y);
  let first = n; // no match (y inconsistent with x): the gradient goes nowhere
  let a = 0;
  for (; a + 4 <= n; a += 4) {
    const hits = i32x4.bitmask(vmatches(vload(at(x, a)), vy)); // bit l: lane l matches
    if (hits != 0) {
      first = a + ctz(hits);
      break;
    }
  }
  if (first == n) {
    for (; a < n; a++) {
      const hit = i32x4.extract_lane(vmatches(v128.load32_zero(at(x, a)), vy), 0);
      if (hit != 0) {
        first = a;
        break;
      }
    }
  }
  fill(dx, n, 0);
  if (first < n) store<f32>(at(dx, first), dy);
}

/** dx for max / min over an [axis, inner] slab, column blocks carried down the axis. */
// @ts-ignore: decorator
@inline function routeColumns(
  x: usize, y: usize, dy: usize, dx: usize, axis: i32, inner: i32,
): void {
  const stride = <usize>inner << 2;
  let i = 0;
  for (; i + 4 <= inner; i += 4) {
    const vy = vload(at(y, i));
    const vdy = vload(at(dy, i));
    let vrouted = vsplat(0); // lanes whose extremum was already found
    let px = at(x, i);
    let pdx = at(dx, i);
    for (let a = 0; a < axis; a++, px += stride, pdx += stride) {
      const vhit = vmatches(vload(px), vy);
      vstore(pdx, v128.and(vdy, v128.andnot(vhit, vrouted)));
      vrouted = v128.or(vrouted, vhit);
    }
  }
  for (; i < inner; i++) {
    const vy = v128.load32_zero(at(y, i));
    const vdy = v128.load32_zero(at(dy, i));
    let vrouted = vsplat(0);
    let px = at(x, i);
    let pdx = at(dx, i);
    for (let a = 0; a < axis; a++, px += stride, pdx += stride) {
      const vhit = vmatches(v128.load32_zero(px), vy);
      v128.store32_lane(pdx, v128.and(vdy, v128.andnot(vhit, vrouted)), 0);
      vrouted = v128.or(vrouted, vhit);
    }
  }
}

/** dx for sum / mean over an [axis, inner] slab: dy (times 1 / axis for mean) in every row. */
// @ts-ignore: decorator
@inline function spreadColumns(
  op: i32, dy: usize, dx: usize, axis: i32, inner: i32,
): void {
  const stride = <usize>inner << 2;
  const vaxis = vsplat(<f32>axis);
  let i = 0;
  for (; i + 4 <= inner; i += 4) {
    let vg = vload(at(dy, i));
    if (op == REDUCE_MEAN) vg = f32x4.div(vg, vaxis); // as the reference: dy / axis, rounded once
    let pdx = at(dx, i);
    for (let a = 0; a < axis; a++, pdx += stride) vstore(pdx, vg);
  }
  for (; i < inner; i++) {
    let g = load<f32>(at(dy, i));
    if (op == REDUCE_MEAN) g /= <f32>axis;
    let pdx = at(dx, i);
    for (let a = 0; a < axis; a++, pdx += stride) store<f32>(pdx, g);
  }
}

/** dx[o, a, i] from dy[o, i]; max/min route to the first extremum, found again from x and y. */
export function f32_reduce_backward(
  op: i32, x: usize, y: usize, dy: usize, dx: usize, outer: i32, axis: i32, inner: i32,
): void {
  const extremum = op == REDUCE_MAX || op == REDUCE_MIN;
  if (!extremum && op != REDUCE_SUM && op != REDUCE_MEAN) {
    fill(dx, outer * axis * inner, NaN);
    return;
  }
  for (let o = 0; o < outer; o++) {
    const xslab = at(x, o * axis * inner);
    const dxslab = at(dx, o * axis * inner);
    const yrow = at(y, o * inner);
    const dyrow = at(dy, o * inner);
    if (inner == 1) {
      const g = load<f32>(dyrow);
      if (extremum) routeRow(xslab, dxslab, axis, load<f32>(yrow), g);
      else fill(dxslab, axis, op == REDUCE_MEAN ? g / <f32>axis : g);
    } else if (extremum) {
      routeColumns(xslab, yrow, dyrow, dxslab, axis, inner);
    } else if (op == REDUCE_MEAN) {
      spreadColumns(REDUCE_MEAN, dyrow, dxslab, axis, inner);
    } else {
      spreadColumns(REDUCE_SUM, dyrow, dxslab, axis, inner);
    }
  }
}

/** Sum of x[i]^2 over n elements, accumulated in f64 (global-norm clipping). */
export function f32_sum_squares(x: usize, n: i32): f64 {
  // Squares are taken in f64 too, so |x| up to FLT_MAX neither overflows nor loses bits.
  let vacc0 = f64x2.splat(0);
  let vacc1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const vx = vload(at(x, i));
    const vx01 = f64x2.promote_low_f32x4(vx);
    const vx23 = f64x2.promote_low_f32x4(i32x4.shuffle(vx, vx, 2, 3, 0, 1));
    vacc0 = f64x2.add(vacc0, f64x2.mul(vx01, vx01));
    vacc1 = f64x2.add(vacc1, f64x2.mul(vx23, vx23));
  }
  const vacc = f64x2.add(vacc0, vacc1);
  let acc = f64x2.extract_lane(vacc, 0) + f64x2.extract_lane(vacc, 1);
  for (; i < n; i++) {
    const v = <f64>load<f32>(at(x, i));
    acc += v * v;
  }
  return acc;
}

// ---- Softmax cross-entropy ------------------------------------------------------------------
//
// Per row, with m = max(z) and s = sum_c e^(z_c - m), so that log_softmax(z) = z - m - ln s:
//   loss = -sum_c t_c (z_c - m - ln s) = sum_c t_c (m - z_c) + (sum_c t_c) ln s
// Both terms are >= 0 for labels t >= 0, so the sum never cancels; ln s is in [0, ln cols].
// The e^(z - m) of the summing pass are kept in dlogits, which the last pass scales:
//   dlogits = (e / s * sum_c t_c - t) * gradScale.

/** The largest of n elements (NaN if any is NaN). */
// @ts-ignore: decorator
@inline function rowMax(x: usize, n: i32): f32 {
  return reduceRow(REDUCE_MAX, x, n);
}

/**
 * sum_c e^(z_c - max) over a row, storing each term in e when e != 0. Returns the sum.
 */
// @ts-ignore: decorator
@inline function sumExp(z: usize, e: usize, cols: i32, max: f32): f32 {
  const vmax = vsplat(max);
  let vsum0 = vsplat(0);
  let vsum1 = vsplat(0);
  let c = 0;
  for (; c + 8 <= cols; c += 8) {
    const ve0123 = vexp(f32x4.sub(vload(at(z, c)), vmax));
    const ve4567 = vexp(f32x4.sub(vload(at(z, c + 4)), vmax));
    if (e != 0) {
      vstore(at(e, c), ve0123);
      vstore(at(e, c + 4), ve4567);
    }
    vsum0 = f32x4.add(vsum0, ve0123);
    vsum1 = f32x4.add(vsum1, ve4567);
  }
  for (; c + 4 <= cols; c += 4) {
    const ve = vexp(f32x4.sub(vload(at(z, c)), vmax));
    if (e != 0) vstore(at(e, c), ve);
    vsum0 = f32x4.add(vsum0, ve);
  }
  let sum = vhsum(f32x4.add(vsum0, vsum1));
  for (; c < cols; c++) {
    const ve = vexp(f32x4.sub(v128.load32_zero(at(z, c)), vmax));
    if (e != 0) v128.store32_lane(at(e, c), ve, 0);
    sum += f32x4.extract_lane(ve, 0);
  }
  return sum;
}

/** e[c] = (e[c] * k - t[c]) * scale over a row; t may be 0 (no labels to subtract). */
// @ts-ignore: decorator
@inline function finishGradient(e: usize, t: usize, cols: i32, k: f32, scale: f32): void {
  const vk = vsplat(k);
  const vscale = vsplat(scale);
  let c = 0;
  for (; c + 4 <= cols; c += 4) {
    const vt = t != 0 ? vload(at(t, c)) : vsplat(0);
    vstore(at(e, c), f32x4.mul(f32x4.sub(f32x4.mul(vload(at(e, c)), vk), vt), vscale));
  }
  for (; c < cols; c++) {
    const tc: f32 = t != 0 ? load<f32>(at(t, c)) : 0;
    store<f32>(at(e, c), (load<f32>(at(e, c)) * k - tc) * scale);
  }
}

/**
 * Per row r of logits[rows, cols] and target probabilities labels[rows, cols]:
 * loss[r] = -sum_c labels * log_softmax(logits), computed stably;
 * dlogits[r, c] = (softmax * sum_c labels - labels) * gradScale, skipped when dlogits is 0.
 */
export function f32_softmax_cross_entropy(
  logits: usize, labels: usize, loss: usize, dlogits: usize, rows: i32, cols: i32,
  gradScale: f32,
): void {
  for (let r = 0; r < rows; r++) {
    const zrow = at(logits, r * cols);
    const trow = at(labels, r * cols);
    const erow = dlogits != 0 ? at(dlogits, r * cols) : 0;
    if (cols == 0) {
      store<f32>(at(loss, r), 0); // a sum over no classes
      continue;
    }
    const max = rowMax(zrow, cols);
    const sum = sumExp(zrow, erow, cols, max);
    // sum_c t_c (m - z_c) and sum_c t_c; a zero label contributes nothing, even against a
    // -inf logit (0 * inf would be NaN).
    const vmax = vsplat(max);
    let vcross = vsplat(0);
    let vlabels = vsplat(0);
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const vt = vload(at(trow, c));
      const vterm = f32x4.mul(vt, f32x4.sub(vmax, vload(at(zrow, c))));
      vcross = f32x4.add(vcross, v128.and(vterm, f32x4.ne(vt, vsplat(0))));
      vlabels = f32x4.add(vlabels, vt);
    }
    let cross = vhsum(vcross);
    let labelSum = vhsum(vlabels);
    for (; c < cols; c++) {
      const t = load<f32>(at(trow, c));
      if (t != 0) cross += t * (max - load<f32>(at(zrow, c)));
      labelSum += t;
    }
    store<f32>(at(loss, r), cross + labelSum * <f32>Math.log(<f64>sum));
    if (dlogits != 0) finishGradient(erow, trow, cols, labelSum / sum, gradScale);
  }
}

/**
 * As above with integer class labels (i32[rows]). A label outside [0, cols) gives a NaN loss
 * and a NaN gradient row, without reading the row; the return value counts such labels.
 */
export function f32_sparse_softmax_cross_entropy(
  logits: usize, labels: usize, loss: usize, dlogits: usize, rows: i32, cols: i32,
  gradScale: f32,
): i32 {
  let invalid = 0;
  for (let r = 0; r < rows; r++) {
    const zrow = at(logits, r * cols);
    const erow = dlogits != 0 ? at(dlogits, r * cols) : 0;
    const label = load<i32>(at(labels, r));
    if (<u32>label >= <u32>cols) {
      invalid++;
      store<f32>(at(loss, r), NaN);
      if (dlogits != 0) fill(erow, cols, NaN);
      continue;
    }
    const max = rowMax(zrow, cols);
    const sum = sumExp(zrow, erow, cols, max);
    // -log_softmax(z)[label] = (m - z_label) + ln s, both >= 0
    store<f32>(at(loss, r), (max - load<f32>(at(zrow, label))) + <f32>Math.log(<f64>sum));
    if (dlogits != 0) {
      const k = <f32>1 / sum;
      const elabel = load<f32>(at(erow, label));
      finishGradient(erow, 0, cols, k, gradScale);
      store<f32>(at(erow, label), (elabel * k - 1) * gradScale);
    }
  }
  return invalid;
}
