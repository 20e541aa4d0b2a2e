// Elementwise kernels: unary ops and their derivatives, binary ops with trailing-axis broadcast
// and their derivatives, scale/shift, fill, and row-wise softmax.
//
// Every kernel streams f32x4 vectors and ends with a leftover loop that pushes the last n % 4
// elements through lane 0 of the same vector code, so that a value gets the same result
// whatever its position. The reference, src/backend/reference/elementwise.ts, is the
// specification; the conventions listed there (NaN propagates, flat derivatives give an exact
// 0) hold here too.
//
// The activations (ACT_* codes) of f32_unary come from activation.ts, shared with the GEMM and
// conv epilogues. The other transcendental ops and all derivatives use the vector math below:
// within 1 ulp for exp and log over the whole f32 range (subnormal results included), and a
// relative 5e-7 for the normal cdf down to its subnormal tail. It is inlined into the loops so
// that four independent vectors per step can overlap their polynomial chains.

import {
  ACT_ELU, ACT_GELU, ACT_LEAKY_RELU, ACT_LINEAR, ACT_RELU, ACT_SIGMOID, ACT_SWISH, ACT_TANH,
  BINARY_ADD, BINARY_DIV, BINARY_MAX, BINARY_MIN, BINARY_MUL, BINARY_SQUARED_DIFFERENCE,
  BINARY_SUB, UNARY_ABS, UNARY_EXP, UNARY_LOG, UNARY_NEG, UNARY_RECIPROCAL, UNARY_SOFTPLUS,
  UNARY_SQRT, UNARY_SQUARE,
} from '../src/backend/opcodes';
import { activate4 } from './activation';
import { at, vhmax, vhsum, vload, vmadd, vnmadd, vsplat, vstore } from './simd';

// ---- Vector math ----------------------------------------------------------------------------

const LOG2E: f32 = 1.44269504088896341;
// ln 2 split so that n * LN2_HI is exact for |n| < 2^15 (LN2_HI has 9 significant bits).
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
// exp overflows to inf above ln(FLT_MAX) = 88.72 and underflows to 0 below -103.97; clamping
// just past both keeps n = round(x / ln 2) within [-150, 128], where 2^n still splits into two
// normal factors.
const EXP_HI: f32 = 89;
const EXP_LO: f32 = -104;
const SQRT_HALF: f32 = 0.707106781186547524;
const ONE_OVER_SQRT_2PI: f32 = 0.398942280401432678;

/** e^r - 1 - r = r^2 P(r) for |r| <= ln(2) / 2, minimax. see: Cephes expf.c */
// @ts-ignore: decorator
@inline function vexpm1Tail(r: v128): v128 {
  let vp = vmadd(vsplat(1.9875691500e-4), r, vsplat(1.3981999507e-3));
  vp = vmadd(vp, r, vsplat(8.3334519073e-3));
  vp = vmadd(vp, r, vsplat(4.1665795894e-2));
  vp = vmadd(vp, r, vsplat(1.6666665459e-1));
  vp = vmadd(vp, r, vsplat(5.0000001201e-1));
  return f32x4.mul(vp, f32x4.mul(r, r));
}

/**
 * p * 2^n for n = vn in [-150, 128] (an integer-valued f32). 2^n is applied as two normal
 * factors so that results in the subnormal range are rounded once, at the last multiply, and
 * 2^128 (overflow) still gives inf. A NaN vn leaves p unscaled (trunc_sat gives 0).
 */
// @ts-ignore: decorator
@inline function vldexp(p: v128, vn: v128): v128 {
  const n = i32x4.trunc_sat_f32x4_s(vn);
  const n1 = i32x4.shr_s(n, 1);
  const n2 = i32x4.sub(n, n1);
  const vscale1 = i32x4.shl(i32x4.add(n1, i32x4.splat(127)), 23);
  const vscale2 = i32x4.shl(i32x4.add(n2, i32x4.splat(127)), 23);
  return f32x4.mul(f32x4.mul(p, vscale1), vscale2);
}

/** n = round(x / ln 2), as a whole f32. */
// @ts-ignore: decorator
@inline function vexpExponent(vx: v128): v128 {
  return f32x4.nearest(f32x4.mul(vx, vsplat(LOG2E)));
}

/** r = x - n ln 2, in [-ln(2)/2, ln(2)/2] (Cody and Waite's two-step reduction). */
// @ts-ignore: decorator
@inline function vexpReduce(vx: v128, vn: v128): v128 {
  return vnmadd(vn, vsplat(LN2_LO), vnmadd(vn, vsplat(LN2_HI), vx));
}

/** e^x, within 1 ulp; exp(89) = inf, exp(-104) = 0, NaN stays NaN. see: Cephes expf.c */
// @ts-ignore: decorator
@inline function vexp(x: v128): v128 {
  const vx = f32x4.max(f32x4.min(x, vsplat(EXP_HI)), vsplat(EXP_LO));
  const vn = vexpExponent(vx);
  const r = vexpReduce(vx, vn);
  return vldexp(f32x4.add(f32x4.add(vexpm1Tail(r), r), vsplat(1)), vn);
}

/**
 * e^(hi + lo) for |lo| < ~1, without rounding hi + lo first: callers pass an exact hi (such as
 * the exact part of -x^2/2), because exp turns an absolute error of the argument into a relative
 * error of the result, and rounding a large hi + lo would cost |hi| / 2^24 of it.
 */
// @ts-ignore: decorator
@inline function vexp2(hi: v128, lo: v128): v128 {
  const vx = f32x4.max(f32x4.min(hi, vsplat(EXP_HI)), vsplat(EXP_LO));
  const vn = vexpExponent(f32x4.add(vx, lo));
  const r = f32x4.add(vexpReduce(vx, vn), lo);
  return vldexp(f32x4.add(f32x4.add(vexpm1Tail(r), r), vsplat(1)), vn);
}

/**
 * ln(x) for positive, normal, finite x, within 1 ulp: x = m 2^e with m in [sqrt(1/2), sqrt(2)),
 * ln x = e ln 2 + ln(1 + f), f = m - 1, ln(1 + f) = f - f^2/2 + f^3 P(f).
 * see: Cephes logf.c
 */
// @ts-ignore: decorator
@inline function vlogNormal(x: v128): v128 {
  let ve = i32x4.sub(i32x4.shr_u(x, 23), i32x4.splat(126));
  const vm = v128.or(v128.and(x, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000)); // [0.5, 1)
  const small = f32x4.lt(vm, vsplat(SQRT_HALF));
  ve = i32x4.add(ve, small); // a true mask is -1: m doubles, e drops by one
  const f = f32x4.sub(f32x4.add(vm, v128.and(vm, small)), vsplat(1));
  const vef = f32x4.convert_i32x4_s(ve);
  const f2 = f32x4.mul(f, f);
  let vp = vmadd(vsplat(7.0376836292e-2), f, vsplat(-1.1514610310e-1));
  vp = vmadd(vp, f, vsplat(1.1676998740e-1));
  vp = vmadd(vp, f, vsplat(-1.2420140846e-1));
  vp = vmadd(vp, f, vsplat(1.4249322787e-1));
  vp = vmadd(vp, f, vsplat(-1.6668057665e-1));
  vp = vmadd(vp, f, vsplat(2.0000714765e-1));
  vp = vmadd(vp, f, vsplat(-2.4999993993e-1));
  vp = vmadd(vp, f, vsplat(3.3333331174e-1));
  let vy = f32x4.mul(f32x4.mul(vp, f), f2);
  vy = vmadd(vef, vsplat(LN2_LO), vy);
  vy = vnmadd(f2, vsplat(0.5), vy);
  return vmadd(vef, vsplat(LN2_HI), f32x4.add(f, vy));
}

/** ln(x) over the whole f32 range: ln 0 = -inf, ln inf = inf, negative or NaN gives NaN. */
// @ts-ignore: decorator
@inline function vlog(x: v128): v128 {
  // Subnormals are scaled into the normal range by 2^23 first.
  const subnormal = f32x4.lt(x, vsplat(1.17549435e-38));
  const vx = v128.bitselect(f32x4.mul(x, vsplat(8388608)), x, subnormal);
  let vy = f32x4.sub(vlogNormal(vx), v128.and(subnormal, vsplat(15.9423851528787))); // 23 ln 2
  vy = v128.bitselect(vsplat(-Infinity), vy, f32x4.eq(x, vsplat(0)));
  vy = v128.bitselect(x, vy, f32x4.eq(x, vsplat(Infinity)));
  return v128.bitselect(vsplat(NaN), vy, v128.not(f32x4.ge(x, vsplat(0))));
}

/**
 * ln(1 + t) for t in [0, inf]. u = 1 + t rounds; (t - (u - 1)) / u corrects for it, which also
 * gives exactly t when u rounds to 1. see: Goldberg, "What every computer scientist should know
 * about floating-point arithmetic", theorem 4 (the same correction as fdlibm's log1pf).
 */
// @ts-ignore: decorator
@inline function vlog1p(t: v128): v128 {
  const u = f32x4.add(t, vsplat(1));
  const correction = f32x4.div(f32x4.sub(t, f32x4.sub(u, vsplat(1))), u);
  const vy = f32x4.add(vlogNormal(u), correction);
  return v128.bitselect(u, vy, f32x4.eq(u, vsplat(Infinity)));
}

/** 1 / (1 + e^-x), through e = e^-|x| so that neither tail overflows or cancels. */
// @ts-ignore: decorator
@inline function vsigmoid(x: v128): v128 {
  const e = vexp(f32x4.neg(f32x4.abs(x)));
  const numerator = v128.bitselect(vsplat(1), e, f32x4.ge(x, vsplat(0)));
  return f32x4.div(numerator, f32x4.add(e, vsplat(1)));
}

/**
 * The split of -x^2 / 2 into an exact hi and a small lo: x = xh + xl with xh holding the top 12
 * significant bits, so xh^2 is exact and x^2 = xh^2 + xl (x + xh). Rounding x^2 instead would
 * cost e^(x^2/2) a relative error of about x^2 ulp.
 */
// @ts-ignore: decorator
@inline function vhalfSquareHi(x: v128): v128 {
  const xh = v128.and(x, i32x4.splat(0xfffff000));
  return f32x4.mul(f32x4.mul(xh, xh), vsplat(-0.5));
}

// @ts-ignore: decorator
@inline function vhalfSquareLo(x: v128): v128 {
  const xh = v128.and(x, i32x4.splat(0xfffff000));
  return f32x4.mul(f32x4.mul(f32x4.sub(x, xh), f32x4.add(x, xh)), vsplat(-0.5));
}

/**
 * Phi(x) = erfc(-x / sqrt 2) / 2, the standard normal cdf, with relative error below 5e-7
 * down to the subnormal tail (x = -14). erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z/2).
 * see: Numerical Recipes in C, 2nd ed., section 6.2, erfcc (fractional error below 1.2e-7)
 */
// @ts-ignore: decorator
@inline function vnormcdf(x: v128): v128 {
  const ax = f32x4.min(f32x4.abs(x), vsplat(20)); // Phi(-20) is far below the smallest f32
  const t = f32x4.div(vsplat(1), vmadd(ax, vsplat(0.5 * SQRT_HALF), vsplat(1)));
  let vp = vmadd(vsplat(0.17087277), t, vsplat(-0.82215223));
  vp = vmadd(vp, t, vsplat(1.48851587));
  vp = vmadd(vp, t, vsplat(-1.13520398));
  vp = vmadd(vp, t, vsplat(0.27886807));
  vp = vmadd(vp, t, vsplat(-0.18628806));
  vp = vmadd(vp, t, vsplat(0.09678418));
  vp = vmadd(vp, t, vsplat(0.37409196));
  vp = vmadd(vp, t, vsplat(1.00002368));
  vp = vmadd(vp, t, vsplat(-1.26551223));
  const lo = f32x4.add(vhalfSquareLo(ax), vp);
  const tail = f32x4.mul(f32x4.mul(t, vexp2(vhalfSquareHi(ax), lo)), vsplat(0.5)); // Phi(-|x|)
  const cdf = v128.bitselect(tail, f32x4.sub(vsplat(1), tail), f32x4.lt(x, vsplat(0)));
  return v128.bitselect(x, cdf, f32x4.ne(x, x));
}

// ---- Unary ------------------------------------------------------------------------------------

/**
 * f(x) for a unary op code, four lanes at a time. The activations come from activation.ts, so
 * that they give exactly the values of the fused GEMM and conv epilogues.
 */
// @ts-ignore: decorator
@inline function vunary(op: i32, vx: v128, alpha: f32): v128 {
  switch (op) {
    case UNARY_EXP: return vexp(vx);
    case UNARY_LOG: return vlog(vx);
    case UNARY_NEG: return f32x4.neg(vx);
    case UNARY_ABS: return f32x4.abs(vx);
    case UNARY_SQRT: return f32x4.sqrt(vx);
    case UNARY_SQUARE: return f32x4.mul(vx, vx);
    case UNARY_RECIPROCAL: return f32x4.div(vsplat(1), vx);
    case UNARY_SOFTPLUS: {
      // ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|)
      const vtail = vlog1p(vexp(f32x4.neg(f32x4.abs(vx))));
      return f32x4.add(f32x4.max(vx, vsplat(0)), vtail);
    }
  }
  if (op >= ACT_LINEAR && op <= ACT_SWISH) return activate4(op, vx, alpha);
  return vsplat(NaN); // an unknown op code: make the mistake visible
}

/**
 * y = f(x) over n elements, 16 per step: four independent vectors let the CPU overlap the
 * long dependency chains of the polynomials (about 1.8x faster for exp than one vector per
 * step). Inlined with a constant op, so that the switch in vunary folds away and every op gets
 * its own straight loop.
 */
// @ts-ignore: decorator
@inline function unaryLoop(op: i32, x: usize, y: usize, n: i32, alpha: f32): void {
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const vx0123 = vload(at(x, i));
    const vx4567 = vload(at(x, i + 4));
    const vx89AB = vload(at(x, i + 8));
    const vxCDEF = vload(at(x, i + 12));
    vstore(at(y, i), vunary(op, vx0123, alpha));
    vstore(at(y, i + 4), vunary(op, vx4567, alpha));
    vstore(at(y, i + 8), vunary(op, vx89AB, alpha));
    vstore(at(y, i + 12), vunary(op, vxCDEF, alpha));
  }
  for (; i + 4 <= n; i += 4) vstore(at(y, i), vunary(op, vload(at(x, i)), alpha));
  // Leftovers, one at a time through lane 0.
  for (; i < n; i++) {
    v128.store32_lane(at(y, i), vunary(op, v128.load32_zero(at(x, i)), alpha), 0);
  }
}

/** y[i] = f(x[i]) for an ACT_* / UNARY_* code. In place allowed. */
export function f32_unary(op: i32, x: usize, y: usize, n: i32, alpha: f32): void {
  switch (op) {
    case ACT_LINEAR: unaryLoop(ACT_LINEAR, x, y, n, alpha); break;
    case ACT_RELU: unaryLoop(ACT_RELU, x, y, n, alpha); break;
    case ACT_LEAKY_RELU: unaryLoop(ACT_LEAKY_RELU, x, y, n, alpha); break;
    case ACT_ELU: unaryLoop(ACT_ELU, x, y, n, alpha); break;
    case ACT_SIGMOID: unaryLoop(ACT_SIGMOID, x, y, n, alpha); break;
    case ACT_TANH: unaryLoop(ACT_TANH, x, y, n, alpha); break;
    case ACT_GELU: unaryLoop(ACT_GELU, x, y, n, alpha); break;
    case ACT_SWISH: unaryLoop(ACT_SWISH, x, y, n, alpha); break;
    case UNARY_EXP: unaryLoop(UNARY_EXP, x, y, n, alpha); break;
    case UNARY_LOG: unaryLoop(UNARY_LOG, x, y, n, alpha); break;
    case UNARY_NEG: unaryLoop(UNARY_NEG, x, y, n, alpha); break;
    case UNARY_ABS: unaryLoop(UNARY_ABS, x, y, n, alpha); break;
    case UNARY_SQRT: unaryLoop(UNARY_SQRT, x, y, n, alpha); break;
    case UNARY_SQUARE: unaryLoop(UNARY_SQUARE, x, y, n, alpha); break;
    case UNARY_RECIPROCAL: unaryLoop(UNARY_RECIPROCAL, x, y, n, alpha); break;
    case UNARY_SOFTPLUS: unaryLoop(UNARY_SOFTPLUS, x, y, n, alpha); break;
    default: f32_fill(y, n, NaN);
  }
}

/** dy * f'(x) for a unary op code; vy = f(x). */
// @ts-ignore: decorator
@inline function vunaryBackward(op: i32, vx: v128, vy: v128, vdy: v128, valpha: v128): v128 {
  const positive = f32x4.gt(vx, vsplat(0));
  switch (op) {
    case ACT_LINEAR: return vdy;
    case ACT_RELU: return v128.and(vdy, positive); // an exact 0 where flat, even for dy = inf
    case ACT_LEAKY_RELU: return v128.bitselect(vdy, f32x4.mul(vdy, valpha), positive);
    case ACT_ELU: {
      // alpha e^x from x rather than y + alpha, which cancels as y approaches -alpha
      const vneg = f32x4.mul(f32x4.mul(vdy, valpha), vexp(f32x4.min(vx, vsplat(0))));
      return v128.bitselect(vdy, vneg, positive);
    }
    case ACT_SIGMOID: return f32x4.mul(f32x4.mul(vdy, vy), f32x4.sub(vsplat(1), vy));
    case ACT_TANH: {
      // 1 - y^2 as (1 - y)(1 + y): exact factors, where 1 - y*y would cancel near |y| = 1
      const vd = f32x4.mul(f32x4.sub(vsplat(1), vy), f32x4.add(vsplat(1), vy));
      return f32x4.mul(vdy, vd);
    }
    case ACT_GELU: {
      // Phi(x) + x phi(x), phi(x) = e^(-x^2/2) / sqrt(2 pi); phi(20) is already 0 in f32, and
      // clamping keeps x^2 finite
      const ax = f32x4.min(f32x4.abs(vx), vsplat(20));
      const vgauss = vexp2(vhalfSquareHi(ax), vhalfSquareLo(ax));
      const vpdf = f32x4.mul(vgauss, vsplat(ONE_OVER_SQRT_2PI));
      return f32x4.mul(vdy, vmadd(vx, vpdf, vnormcdf(vx)));
    }
    case ACT_SWISH: {
      // s + x s (1 - s) = s (1 + x sigmoid(-x)); both sigmoids share e = e^-|x|
      const e = vexp(f32x4.neg(f32x4.abs(vx)));
      const vdenominator = f32x4.add(e, vsplat(1));
      const nonnegative = f32x4.ge(vx, vsplat(0));
      const s = f32x4.div(v128.bitselect(vsplat(1), e, nonnegative), vdenominator);
      const sneg = f32x4.div(v128.bitselect(e, vsplat(1), nonnegative), vdenominator);
      return f32x4.mul(vdy, f32x4.mul(s, vmadd(vx, sneg, vsplat(1))));
    }
    case UNARY_EXP: return f32x4.mul(vdy, vy);
    case UNARY_LOG: return f32x4.div(vdy, vx);
    case UNARY_NEG: return f32x4.neg(vdy);
    case UNARY_ABS: {
      // dy with x's sign; 0 at x = 0; NaN x stays NaN
      const vsigned = v128.xor(vdy, v128.and(vx, i32x4.splat(0x80000000)));
      const vd = v128.and(vsigned, f32x4.ne(vx, vsplat(0)));
      return v128.bitselect(vx, vd, f32x4.ne(vx, vx));
    }
    case UNARY_SQRT: return f32x4.div(f32x4.mul(vdy, vsplat(0.5)), vy);
    case UNARY_SQUARE: return f32x4.mul(f32x4.add(vdy, vdy), vx);
    case UNARY_RECIPROCAL: return f32x4.neg(f32x4.mul(f32x4.mul(vdy, vy), vy));
    case UNARY_SOFTPLUS: return f32x4.mul(vdy, vsigmoid(vx));
  }
  return vsplat(NaN);
}

/** dy * f'(x) for the four elements at index i. */
// @ts-ignore: decorator
@inline function vunaryBackwardAt(
  op: i32, x: usize, y: usize, dy: usize, i: i32, valpha: v128,
): v128 {
  return vunaryBackward(op, vload(at(x, i)), vload(at(y, i)), vload(at(dy, i)), valpha);
}

/** dx = dy * f'(x) over n elements, 16 per step (see unaryLoop). */
// @ts-ignore: decorator
@inline function unaryBackwardLoop(
  op: i32, x: usize, y: usize, dy: usize, dx: usize, n: i32, alpha: f32,
): void {
  const valpha = vsplat(alpha);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const vdx0123 = vunaryBackwardAt(op, x, y, dy, i, valpha);
    const vdx4567 = vunaryBackwardAt(op, x, y, dy, i + 4, valpha);
    const vdx89AB = vunaryBackwardAt(op, x, y, dy, i + 8, valpha);
    const vdxCDEF = vunaryBackwardAt(op, x, y, dy, i + 12, valpha);
    vstore(at(dx, i), vdx0123);
    vstore(at(dx, i + 4), vdx4567);
    vstore(at(dx, i + 8), vdx89AB);
    vstore(at(dx, i + 12), vdxCDEF);
  }
  for (; i + 4 <= n; i += 4) vstore(at(dx, i), vunaryBackwardAt(op, x, y, dy, i, valpha));
  for (; i < n; i++) {
    const vx = v128.load32_zero(at(x, i));
    const vy = v128.load32_zero(at(y, i));
    const vdx = vunaryBackward(op, vx, vy, v128.load32_zero(at(dy, i)), valpha);
    v128.store32_lane(at(dx, i), vdx, 0);
  }
}

/** dx[i] = dy[i] * f'(x[i]); y = f(x) is given too. dx may alias dy. */
export function f32_unary_backward(
  op: i32, x: usize, y: usize, dy: usize, dx: usize, n: i32, alpha: f32,
): void {
  switch (op) {
    case ACT_LINEAR: unaryBackwardLoop(ACT_LINEAR, x, y, dy, dx, n, alpha); break;
    case ACT_RELU: unaryBackwardLoop(ACT_RELU, x, y, dy, dx, n, alpha); break;
    case ACT_LEAKY_RELU: unaryBackwardLoop(ACT_LEAKY_RELU, x, y, dy, dx, n, alpha); break;
    case ACT_ELU: unaryBackwardLoop(ACT_ELU, x, y, dy, dx, n, alpha); break;
    case ACT_SIGMOID: unaryBackwardLoop(ACT_SIGMOID, x, y, dy, dx, n, alpha); break;
    case ACT_TANH: unaryBackwardLoop(ACT_TANH, x, y, dy, dx, n, alpha); break;
    case ACT_GELU: unaryBackwardLoop(ACT_GELU, x, y, dy, dx, n, alpha); break;
    case ACT_SWISH: unaryBackwardLoop(ACT_SWISH, x, y, dy, dx, n, alpha); break;
    case UNARY_EXP: unaryBackwardLoop(UNARY_EXP, x, y, dy, dx, n, alpha); break;
    case UNARY_LOG: unaryBackwardLoop(UNARY_LOG, x, y, dy, dx, n, alpha); break;
    case UNARY_NEG: unaryBackwardLoop(UNARY_NEG, x, y, dy, dx, n, alpha); break;
    case UNARY_ABS: unaryBackwardLoop(UNARY_ABS, x, y, dy, dx, n, alpha); break;
    case UNARY_SQRT: unaryBackwardLoop(UNARY_SQRT, x, y, dy, dx, n, alpha); break;
    case UNARY_SQUARE: unaryBackwardLoop(UNARY_SQUARE, x, y, dy, dx, n, alpha); break;
    case UNARY_RECIPROCAL: unaryBackwardLoop(UNARY_RECIPROCAL, x, y, dy, dx, n, alpha); break;
    case UNARY_SOFTPLUS: unaryBackwardLoop(UNARY_SOFTPLUS, x, y, dy, dx, n, alpha); break;
    default: f32_fill(dx, n, NaN);
  }
}

// ---- Binary -----------------------------------------------------------------------------------
//
// out[i] = a[i] op b[i % bn]. Three layouts of b, each with its own loop:
//
//   bn >= 4     rows:     a, out [ row 0: bn ][ row 1: bn ] ...    b [ bn ]   (bn == n: one row)
//   bn <= 3     pattern:  b repeats every 12 elements (12 is a multiple of 1, 2, 3 and 4), so
//                         three vectors vb0 = b[0..3], vb1 = b[4..7], vb2 = b[8..11] (indices
//                         mod bn) cover every vector of a. bn == 1 is a splat.

/** a op b, four lanes at a time. */
// @ts-ignore: decorator
@inline function vbinary(op: i32, va: v128, vb: v128): v128 {
  switch (op) {
    case BINARY_ADD: return f32x4.add(va, vb);
    case BINARY_SUB: return f32x4.sub(va, vb);
    case BINARY_MUL: return f32x4.mul(va, vb);
    case BINARY_DIV: return f32x4.div(va, vb);
    case BINARY_MAX: return f32x4.max(va, vb); // NaN propagates, like Math.max
    case BINARY_MIN: return f32x4.min(va, vb);
    case BINARY_SQUARED_DIFFERENCE: {
      const vd = f32x4.sub(va, vb);
      return f32x4.mul(vd, vd);
    }
  }
  return vsplat(NaN);
}

/** Four consecutive elements of b repeated with period bn (bn <= 4), from flat index i. */
// @ts-ignore: decorator
@inline function vpattern(b: usize, bn: i32, i: i32): v128 {
  let vb = v128.load32_splat(at(b, i % bn));
  vb = v128.load32_lane(at(b, (i + 1) % bn), vb, 1);
  vb = v128.load32_lane(at(b, (i + 2) % bn), vb, 2);
  return v128.load32_lane(at(b, (i + 3) % bn), vb, 3);
}

/** out = a op b over n elements in the rows or pattern layout (see above). */
// @ts-ignore: decorator
@inline function binaryLoop(op: i32, a: usize, b: usize, out: usize, n: i32, bn: i32): void {
  if (bn >= 4) {
    for (let row = 0; row < n; row += bn) {
      const arow = at(a, row);
      const orow = at(out, row);
      let j = 0;
      for (; j + 8 <= bn; j += 8) {
        const vo0123 = vbinary(op, vload(at(arow, j)), vload(at(b, j)));
        const vo4567 = vbinary(op, vload(at(arow, j + 4)), vload(at(b, j + 4)));
        vstore(at(orow, j), vo0123);
        vstore(at(orow, j + 4), vo4567);
      }
      for (; j + 4 <= bn; j += 4) {
        vstore(at(orow, j), vbinary(op, vload(at(arow, j)), vload(at(b, j))));
      }
      for (; j < bn; j++) {
        const vo = vbinary(op, v128.load32_zero(at(arow, j)), v128.load32_zero(at(b, j)));
        v128.store32_lane(at(orow, j), vo, 0);
      }
    }
    return;
  }
  const vb0 = vpattern(b, bn, 0);
  const vb1 = vpattern(b, bn, 4);
  const vb2 = vpattern(b, bn, 8);
  let i = 0;
  for (; i + 12 <= n; i += 12) {
    const vo0 = vbinary(op, vload(at(a, i)), vb0);
    const vo1 = vbinary(op, vload(at(a, i + 4)), vb1);
    const vo2 = vbinary(op, vload(at(a, i + 8)), vb2);
    vstore(at(out, i), vo0);
    vstore(at(out, i + 4), vo1);
    vstore(at(out, i + 8), vo2);
  }
  for (; i < n; i++) {
    const vo = vbinary(op, v128.load32_zero(at(a, i)), v128.load32_zero(at(b, i % bn)));
    v128.store32_lane(at(out, i), vo, 0);
  }
}

/**
 * out[i] = a[i] op b[i % bn], bn divides n. out may alias a, or b when bn == n (every element
 * is read before it is written, and only at the same index).
 */
export function f32_binary(op: i32, a: usize, b: usize, out: usize, n: i32, bn: i32): void {
  if (n <= 0 || bn <= 0) return;
  switch (op) {
    case BINARY_ADD: binaryLoop(BINARY_ADD, a, b, out, n, bn); break;
    case BINARY_SUB: binaryLoop(BINARY_SUB, a, b, out, n, bn); break;
    case BINARY_MUL: binaryLoop(BINARY_MUL, a, b, out, n, bn); break;
    case BINARY_DIV: binaryLoop(BINARY_DIV, a, b, out, n, bn); break;
    case BINARY_MAX: binaryLoop(BINARY_MAX, a, b, out, n, bn); break;
    case BINARY_MIN: binaryLoop(BINARY_MIN, a, b, out, n, bn); break;
    case BINARY_SQUARED_DIFFERENCE:
      binaryLoop(BINARY_SQUARED_DIFFERENCE, a, b, out, n, bn);
      break;
    default: f32_fill(out, n, NaN);
  }
}

/** dout * d(a op b)/da. Ties of max and min go to a. */
// @ts-ignore: decorator
@inline function vgradA(op: i32, va: v128, vb: v128, vd: v128): v128 {
  switch (op) {
    case BINARY_ADD: return vd;
    case BINARY_SUB: return vd;
    case BINARY_MUL: return f32x4.mul(vd, vb);
    case BINARY_DIV: return f32x4.div(vd, vb);
    case BINARY_MAX: return v128.and(vd, f32x4.ge(va, vb));
    case BINARY_MIN: return v128.and(vd, f32x4.le(va, vb));
    case BINARY_SQUARED_DIFFERENCE: return f32x4.mul(f32x4.add(vd, vd), f32x4.sub(va, vb));
  }
  return vsplat(NaN);
}

/** dout * d(a op b)/db, given vga = vgradA(op, va, vb, vd). */
// @ts-ignore: decorator
@inline function vgradB(op: i32, va: v128, vb: v128, vd: v128, vga: v128): v128 {
  switch (op) {
    case BINARY_ADD: return vd;
    case BINARY_SUB: return f32x4.neg(vd);
    case BINARY_MUL: return f32x4.mul(vd, va);
    case BINARY_DIV: return f32x4.neg(f32x4.mul(vga, f32x4.div(va, vb))); // -dout a / b^2
    case BINARY_MAX: return v128.andnot(vd, f32x4.ge(va, vb));
    case BINARY_MIN: return v128.andnot(vd, f32x4.le(va, vb));
    case BINARY_SQUARED_DIFFERENCE: return f32x4.neg(vga);
  }
  return vsplat(NaN);
}

/** The sum of the lanes k < 12 of [vdb0 vdb1 vdb2] with k % bn == j: db[j] in pattern layout. */
// @ts-ignore: decorator
@inline function patternLaneSum(vdb0: v128, vdb1: v128, vdb2: v128, bn: i32, j: i32): f32 {
  let sum: f32 = 0;
  if (0 % bn == j) sum += f32x4.extract_lane(vdb0, 0);
  if (1 % bn == j) sum += f32x4.extract_lane(vdb0, 1);
  if (2 % bn == j) sum += f32x4.extract_lane(vdb0, 2);
  if (3 % bn == j) sum += f32x4.extract_lane(vdb0, 3);
  if (4 % bn == j) sum += f32x4.extract_lane(vdb1, 0);
  if (5 % bn == j) sum += f32x4.extract_lane(vdb1, 1);
  if (6 % bn == j) sum += f32x4.extract_lane(vdb1, 2);
  if (7 % bn == j) sum += f32x4.extract_lane(vdb1, 3);
  if (8 % bn == j) sum += f32x4.extract_lane(vdb2, 0);
  if (9 % bn == j) sum += f32x4.extract_lane(vdb2, 1);
  if (10 % bn == j) sum += f32x4.extract_lane(vdb2, 2);
  if (11 % bn == j) sum += f32x4.extract_lane(vdb2, 3);
  return sum;
}

/** da and db over n elements in the rows or pattern layout (see above). */
// @ts-ignore: decorator
@inline function binaryBackwardLoop(
  op: i32, a: usize, b: usize, dout: usize, da: usize, db: usize, n: i32, bn: i32,
): void {
  if (bn >= 4) {
    // Row 0 writes db, later rows add to it. Each da element is written after the dout element
    // at its index is read, so da may alias dout.
    for (let row = 0; row < n; row += bn) {
      const arow = at(a, row);
      const drow = at(dout, row);
      const darow = at(da, row);
      let j = 0;
      for (; j + 4 <= bn; j += 4) {
        const va = vload(at(arow, j));
        const vb = vload(at(b, j));
        const vd = vload(at(drow, j));
        const vga = vgradA(op, va, vb, vd);
        if (da != 0) vstore(at(darow, j), vga);
        if (db != 0) {
          const vgb = vgradB(op, va, vb, vd, vga);
          vstore(at(db, j), row == 0 ? vgb : f32x4.add(vload(at(db, j)), vgb));
        }
      }
      for (; j < bn; j++) {
        const va = v128.load32_zero(at(arow, j));
        const vb = v128.load32_zero(at(b, j));
        const vd = v128.load32_zero(at(drow, j));
        const vga = vgradA(op, va, vb, vd);
        if (da != 0) v128.store32_lane(at(darow, j), vga, 0);
        if (db != 0) {
          const gb = f32x4.extract_lane(vgradB(op, va, vb, vd, vga), 0);
          store<f32>(at(db, j), row == 0 ? gb : load<f32>(at(db, j)) + gb);
        }
      }
    }
    return;
  }
  // bn <= 3: b and the db partial sums repeat every 12 elements (see the layout above).
  const vb0 = vpattern(b, bn, 0);
  const vb1 = vpattern(b, bn, 4);
  const vb2 = vpattern(b, bn, 8);
  let vdb0 = vsplat(0);
  let vdb1 = vsplat(0);
  let vdb2 = vsplat(0);
  let i = 0;
  for (; i + 12 <= n; i += 12) {
    const va0 = vload(at(a, i));
    const va1 = vload(at(a, i + 4));
    const va2 = vload(at(a, i + 8));
    const vd0 = vload(at(dout, i));
    const vd1 = vload(at(dout, i + 4));
    const vd2 = vload(at(dout, i + 8));
    const vga0 = vgradA(op, va0, vb0, vd0);
    const vga1 = vgradA(op, va1, vb1, vd1);
    const vga2 = vgradA(op, va2, vb2, vd2);
    if (da != 0) {
      vstore(at(da, i), vga0);
      vstore(at(da, i + 4), vga1);
      vstore(at(da, i + 8), vga2);
    }
    vdb0 = f32x4.add(vdb0, vgradB(op, va0, vb0, vd0, vga0));
    vdb1 = f32x4.add(vdb1, vgradB(op, va1, vb1, vd1, vga1));
    vdb2 = f32x4.add(vdb2, vgradB(op, va2, vb2, vd2, vga2));
  }
  let db0 = patternLaneSum(vdb0, vdb1, vdb2, bn, 0);
  let db1 = patternLaneSum(vdb0, vdb1, vdb2, bn, 1);
  let db2 = patternLaneSum(vdb0, vdb1, vdb2, bn, 2);
  for (; i < n; i++) {
    const j = i % bn;
    const va = v128.load32_zero(at(a, i));
    const vb = v128.load32_zero(at(b, j));
    const vd = v128.load32_zero(at(dout, i));
    const vga = vgradA(op, va, vb, vd);
    if (da != 0) v128.store32_lane(at(da, i), vga, 0);
    const gb = f32x4.extract_lane(vgradB(op, va, vb, vd, vga), 0);
    if (j == 0) db0 += gb;
    else if (j == 1) db1 += gb;
    else db2 += gb;
  }
  if (db == 0) return;
  store<f32>(db, db0);
  if (bn > 1) store<f32>(at(db, 1), db1);
  if (bn > 2) store<f32>(at(db, 2), db2);
}

/**
 * da[i] = dout[i] * d(a op b)/da, db[j] = sum over i % bn == j of dout[i] * d(a op b)/db.
 * da or db may be 0 to skip it. da may alias dout.
 */
export function f32_binary_backward(
  op: i32, a: usize, b: usize, dout: usize, da: usize, db: usize, n: i32, bn: i32,
): void {
  if (bn <= 0) return;
  if (n <= 0) {
    if (db != 0) f32_fill(db, bn, 0); // a sum over nothing
    return;
  }
  switch (op) {
    case BINARY_ADD: binaryBackwardLoop(BINARY_ADD, a, b, dout, da, db, n, bn); break;
    case BINARY_SUB: binaryBackwardLoop(BINARY_SUB, a, b, dout, da, db, n, bn); break;
    case BINARY_MUL: binaryBackwardLoop(BINARY_MUL, a, b, dout, da, db, n, bn); break;
    case BINARY_DIV: binaryBackwardLoop(BINARY_DIV, a, b, dout, da, db, n, bn); break;
    case BINARY_MAX: binaryBackwardLoop(BINARY_MAX, a, b, dout, da, db, n, bn); break;
    case BINARY_MIN: binaryBackwardLoop(BINARY_MIN, a, b, dout, da, db, n, bn); break;
    case BINARY_SQUARED_DIFFERENCE:
      binaryBackwardLoop(BINARY_SQUARED_DIFFERENCE, a, b, dout, da, db, n, bn);
      break;
    default:
      if (da != 0) f32_fill(da, n, NaN);
      if (db != 0) f32_fill(db, bn, NaN);
  }
}

// ---- Scale, fill, softmax -------------------------------------------------------------------

/** y[i] = x[i] * scale + shift. In place allowed. */
export function f32_scale_shift(x: usize, y: usize, n: i32, scale: f32, shift: f32): void {
  const vscale = vsplat(scale);
  const vshift = vsplat(shift);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const vy0123 = vmadd(vload(at(x, i)), vscale, vshift);
    const vy4567 = vmadd(vload(at(x, i + 4)), vscale, vshift);
    vstore(at(y, i), vy0123);
    vstore(at(y, i + 4), vy4567);
  }
  for (; i + 4 <= n; i += 4) vstore(at(y, i), vmadd(vload(at(x, i)), vscale, vshift));
  for (; i < n; i++) {
    v128.store32_lane(at(y, i), vmadd(v128.load32_zero(at(x, i)), vscale, vshift), 0);
  }
}

/** y[i] = value. */
export function f32_fill(y: usize, n: i32, value: f32): void {
  const vvalue = vsplat(value);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    vstore(at(y, i), vvalue);
    vstore(at(y, i + 4), vvalue);
    vstore(at(y, i + 8), vvalue);
    vstore(at(y, i + 12), vvalue);
  }
  for (; i + 4 <= n; i += 4) vstore(at(y, i), vvalue);
  for (; i < n; i++) store<f32>(at(y, i), value);
}

/** The largest of n elements (NaN if any is NaN; -inf for n == 0). */
// @ts-ignore: decorator
@inline function rowMax(x: usize, n: i32): f32 {
  let vmax0 = vsplat(-Infinity);
  let vmax1 = vsplat(-Infinity);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    vmax0 = f32x4.max(vmax0, vload(at(x, i)));
    vmax1 = f32x4.max(vmax1, vload(at(x, i + 4)));
  }
  for (; i + 4 <= n; i += 4) vmax0 = f32x4.max(vmax0, vload(at(x, i)));
  let max = vhmax(f32x4.max(vmax0, vmax1));
  for (; i < n; i++) max = Mathf.max(max, load<f32>(at(x, i))); // f32.max propagates NaN too
  return max;
}

/**
 * Row-wise softmax of x[rows, cols]: y = e^(x - max) / sum e^(x - max). Subtracting the row max
 * keeps every exponent <= 0, so nothing overflows and the sum is at least 1. In place allowed.
 * Passes per row: max, then e^(x - max) stored in y while summing, then y *= 1 / sum.
 */
export function f32_softmax(x: usize, y: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const xrow = at(x, r * cols);
    const yrow = at(y, r * cols);
    const vmax = vsplat(rowMax(xrow, cols));
    // 16 per step: four independent exp chains (see unaryLoop).
    let vsum0123 = vsplat(0);
    let vsum4567 = vsplat(0);
    let vsum89AB = vsplat(0);
    let vsumCDEF = vsplat(0);
    let c = 0;
    for (; c + 16 <= cols; c += 16) {
      const ve0123 = vexp(f32x4.sub(vload(at(xrow, c)), vmax));
      const ve4567 = vexp(f32x4.sub(vload(at(xrow, c + 4)), vmax));
      const ve89AB = vexp(f32x4.sub(vload(at(xrow, c + 8)), vmax));
      const veCDEF = vexp(f32x4.sub(vload(at(xrow, c + 12)), vmax));
      vstore(at(yrow, c), ve0123);
      vstore(at(yrow, c + 4), ve4567);
      vstore(at(yrow, c + 8), ve89AB);
      vstore(at(yrow, c + 12), veCDEF);
      vsum0123 = f32x4.add(vsum0123, ve0123);
      vsum4567 = f32x4.add(vsum4567, ve4567);
      vsum89AB = f32x4.add(vsum89AB, ve89AB);
      vsumCDEF = f32x4.add(vsumCDEF, veCDEF);
    }
    for (; c + 4 <= cols; c += 4) {
      const ve = vexp(f32x4.sub(vload(at(xrow, c)), vmax));
      vstore(at(yrow, c), ve);
      vsum0123 = f32x4.add(vsum0123, ve);
    }
    let sum = vhsum(f32x4.add(f32x4.add(vsum0123, vsum4567), f32x4.add(vsum89AB, vsumCDEF)));
    for (; c < cols; c++) {
      const ve = vexp(f32x4.sub(v128.load32_zero(at(xrow, c)), vmax));
      v128.store32_lane(at(yrow, c), ve, 0);
      sum += f32x4.extract_lane(ve, 0);
    }
    f32_scale_shift(yrow, yrow, cols, <f32>1 / sum, 0);
  }
}

/** dx = y * (dy - sum(dy * y)) per row, y the softmax output. dx may alias dy. */
export function f32_softmax_backward(y: usize, dy: usize, dx: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const yrow = at(y, r * cols);
    const dyrow = at(dy, r * cols);
    const dxrow = at(dx, r * cols);
    let vdot0 = vsplat(0);
    let vdot1 = vsplat(0);
    let c = 0;
    for (; c + 8 <= cols; c += 8) {
      vdot0 = vmadd(vload(at(yrow, c)), vload(at(dyrow, c)), vdot0);
      vdot1 = vmadd(vload(at(yrow, c + 4)), vload(at(dyrow, c + 4)), vdot1);
    }
    for (; c + 4 <= cols; c += 4) vdot0 = vmadd(vload(at(yrow, c)), vload(at(dyrow, c)), vdot0);
    let dot = vhsum(f32x4.add(vdot0, vdot1));
    for (; c < cols; c++) dot += load<f32>(at(yrow, c)) * load<f32>(at(dyrow, c));
    const vdot = vsplat(dot);
    c = 0;
    for (; c + 4 <= cols; c += 4) {
      const vdx = f32x4.mul(vload(at(yrow, c)), f32x4.sub(vload(at(dyrow, c)), vdot));
      vstore(at(dxrow, c), vdx);
    }
    for (; c < cols; c++) {
      store<f32>(at(dxrow, c), load<f32>(at(yrow, c)) * (load<f32>(at(dyrow, c)) - dot));
    }
  }
}
