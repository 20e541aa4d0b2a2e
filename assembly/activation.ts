// Activations (ACT_* codes), four lanes at a time, for the fused epilogues of GEMM and conv and
// for the elementwise kernels. The scalar `activate` runs the same SIMD code on one lane, so a
// value gets the same result whether it falls in a full tile or in a leftover.
//
// Accuracy (float32 results, against float64): linear, relu and leaky relu are exact; the
// others are within a few ulp where the result is not tiny, and keep a small relative error in
// the tails (sigmoid and gelu for x << 0), because they are built on exp and erfc rather than on
// 1 - something.

import {
  ACT_ELU, ACT_GELU, ACT_LEAKY_RELU, ACT_LINEAR, ACT_RELU, ACT_SIGMOID, ACT_SWISH, ACT_TANH,
} from '../src/backend/opcodes';
import { vmadd, vsplat } from './simd';

/** y = act(x) for one value; see `activate4`. */
export function activate(act: i32, x: f32, alpha: f32): f32 {
  return f32x4.extract_lane(activate4(act, f32x4.splat(x), alpha), 0);
}

/**
 * y = act(x) lane-wise. linear, relu and leaky relu are inlined where this is called; the
 * transcendental ones go through one out-of-line call, which keeps kernels that inline this
 * small. A code that is not an activation gives x unchanged (callers validate codes).
 */
// @ts-ignore: decorator
@inline export function activate4(act: i32, v: v128, alpha: f32): v128 {
  if (act == ACT_LINEAR) return v;
  // pmax(v, 0) is (v < 0 ? 0 : v): one instruction on x86, and NaN stays NaN.
  if (act == ACT_RELU) return f32x4.pmax(v, f32x4.splat(0));
  if (act == ACT_LEAKY_RELU) {
    return v128.bitselect(v, f32x4.mul(v, f32x4.splat(alpha)), f32x4.gt(v, f32x4.splat(0)));
  }
  return activate4Transcendental(act, v, alpha);
}

/** The activations built on exp or erfc. */
function activate4Transcendental(act: i32, v: v128, alpha: f32): v128 {
  const vone = vsplat(1);
  switch (act) {
    case ACT_ELU: {
      const vneg = f32x4.mul(vsplat(alpha), vexpm1Lanes(v));
      return v128.bitselect(v, vneg, f32x4.gt(v, f32x4.splat(0)));
    }
    case ACT_SIGMOID:
      return f32x4.div(vone, f32x4.add(vone, vexpLanes(f32x4.neg(v))));
    case ACT_TANH:
      return vtanhLanes(v);
    case ACT_GELU:
      return vgeluLanes(v);
    case ACT_SWISH:
      return f32x4.div(v, f32x4.add(vone, vexpLanes(f32x4.neg(v))));
    default:
      return v;
  }
}

// exp(x) = 2^n * exp(r), n = round(x / ln 2), r = x - n ln 2 in [-ln2/2, ln2/2], with
// exp(r) - 1 = r + r^2 P(r). ln 2 is split in two so that n * LN2_HI is exact.
// see: Cephes expf.c (S. L. Moshier), whose range reduction and P coefficients these are.
const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const EXP_P0: f32 = 1.9875691500e-4;
const EXP_P1: f32 = 1.3981999507e-3;
const EXP_P2: f32 = 8.3334519073e-3;
const EXP_P3: f32 = 4.1665795894e-2;
const EXP_P4: f32 = 1.6666665459e-1;
const EXP_P5: f32 = 5.0000001201e-1;
/** Above this, exp(x) overflows float32. */
const EXP_MAX: f32 = 88.72283;
/** exp builds 2^(n - 1), a normal float32 for n >= -125: below this x it returns 0 (< 2.2e-38). */
const EXP_MIN: f32 = -86.98;
/** expm1 builds 2^n, so it covers n in [-126, 127]; above this x it defers to exp. */
const EXPM1_MAX: f32 = 88.37;
/** Below this x, expm1(x) is -1 in float32. */
const EXPM1_MIN: f32 = -87.0;

/** n = round(x / ln 2), as a whole f32. */
// @ts-ignore: decorator
@inline function vexpExponent(v: v128): v128 {
  return f32x4.nearest(f32x4.mul(v, vsplat(LOG2E)));
}

/** r = x - n ln 2, in [-ln2/2, ln2/2]. */
// @ts-ignore: decorator
@inline function vexpReduce(v: v128, vn: v128): v128 {
  const vr = vmadd(vn, vsplat(-LN2_HI), v);
  return vmadd(vn, vsplat(-LN2_LO), vr);
}

/** exp(r) - 1 for |r| <= ln2 / 2, without the cancellation of exp(r) - 1 near 0. */
// @ts-ignore: decorator
@inline function vexpm1Reduced(vr: v128): v128 {
  let vp = vmadd(vsplat(EXP_P0), vr, vsplat(EXP_P1));
  vp = vmadd(vp, vr, vsplat(EXP_P2));
  vp = vmadd(vp, vr, vsplat(EXP_P3));
  vp = vmadd(vp, vr, vsplat(EXP_P4));
  vp = vmadd(vp, vr, vsplat(EXP_P5));
  return vmadd(f32x4.mul(vr, vr), vp, vr);
}

/** 2^n for whole n in [-126, 127], built in the exponent field. */
// @ts-ignore: decorator
@inline function vpow2(vn: v128): v128 {
  return i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(vn), i32x4.splat(127)), 23);
}

/** exp(x) lane-wise: overflow gives +Inf, results below 2.2e-38 give 0, NaN stays NaN. */
function vexpLanes(v: v128): v128 {
  const vn = vexpExponent(v);
  const vq = vexpm1Reduced(vexpReduce(v, vn));
  // 2^(n-1) (1 + q), doubled: n reaches 128 just below the overflow threshold.
  const vhalf = vpow2(f32x4.sub(vn, vsplat(1)));
  const vy = f32x4.mul(vmadd(vhalf, vq, vhalf), vsplat(2));
  const vhigh = f32x4.gt(v, vsplat(EXP_MAX));
  const vlow = f32x4.lt(v, vsplat(EXP_MIN));
  return v128.andnot(v128.bitselect(vsplat(Infinity), vy, vhigh), vlow);
}

/** exp(x) - 1 lane-wise, accurate near 0: 2^n q + (2^n - 1) cannot cancel when n != 0. */
function vexpm1Lanes(v: v128): v128 {
  const vn = vexpExponent(v);
  const vq = vexpm1Reduced(vexpReduce(v, vn));
  const vs = vpow2(vn);
  let vy = vmadd(vs, vq, f32x4.sub(vs, vsplat(1)));
  vy = v128.bitselect(vsplat(-1), vy, f32x4.lt(v, vsplat(EXPM1_MIN)));
  const vhigh = f32x4.gt(v, vsplat(EXPM1_MAX));
  if (v128.any_true(vhigh)) {
    // Rare: 2^n would overflow although the result may not; there exp(x) - 1 == exp(x).
    vy = v128.bitselect(vexpLanes(v), vy, vhigh);
  }
  return vy;
}

// tanh: an odd polynomial for |x| < 0.625, where 1 - 2 / (exp(2|x|) + 1) would cancel.
// see: Cephes tanhf.c (S. L. Moshier).
const TANH_SMALL: f32 = 0.625;
const TANH_P0: f32 = -5.70498872745e-3;
const TANH_P1: f32 = 2.06390887954e-2;
const TANH_P2: f32 = -5.37397155531e-2;
const TANH_P3: f32 = 1.33314422036e-1;
const TANH_P4: f32 = -3.33332819422e-1;

/** tanh(x) lane-wise. */
function vtanhLanes(v: v128): v128 {
  const vone = vsplat(1);
  const vz = f32x4.mul(v, v);
  let vp = vmadd(vsplat(TANH_P0), vz, vsplat(TANH_P1));
  vp = vmadd(vp, vz, vsplat(TANH_P2));
  vp = vmadd(vp, vz, vsplat(TANH_P3));
  vp = vmadd(vp, vz, vsplat(TANH_P4));
  const vsmall = vmadd(f32x4.mul(vz, v), vp, v);
  const vabs = f32x4.abs(v);
  const vexp2x = vexpLanes(f32x4.add(vabs, vabs));
  const vlarge = f32x4.sub(vone, f32x4.div(vsplat(2), f32x4.add(vexp2x, vone)));
  // Copy the sign of x onto tanh(|x|).
  const vsign = v128.and(v, i32x4.splat(0x80000000));
  const vsigned = v128.or(vlarge, vsign);
  return v128.bitselect(vsmall, vsigned, f32x4.lt(vabs, vsplat(TANH_SMALL)));
}

// erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z / 2), for z >= 0, with a fractional error below
// 1.2e-7 everywhere: the tail stays accurate relative to its own size.
// see: Numerical Recipes in C, 2nd ed., section 6.2, erfcc (Chebyshev fit).
const ERFC_C0: f32 = -1.26551223;
const ERFC_C1: f32 = 1.00002368;
const ERFC_C2: f32 = 0.37409196;
const ERFC_C3: f32 = 0.09678418;
const ERFC_C4: f32 = -0.18628806;
const ERFC_C5: f32 = 0.27886807;
const ERFC_C6: f32 = -1.13520398;
const ERFC_C7: f32 = 1.48851587;
const ERFC_C8: f32 = -0.82215223;
const ERFC_C9: f32 = 0.17087277;
const SQRT_HALF: f32 = 0.70710678118654752;

/**
 * erfc(z) lane-wise for z >= 0, given z and z^2. z^2 comes from the caller so that it can be
 * computed with one rounding: it is the argument of exp, whose relative error it becomes.
 */
// @ts-ignore: decorator
@inline function verfcPositive(vz: v128, vz2: v128): v128 {
  const vt = f32x4.div(vsplat(1), vmadd(vz, vsplat(0.5), vsplat(1)));
  let vp = vmadd(vsplat(ERFC_C9), vt, vsplat(ERFC_C8));
  vp = vmadd(vp, vt, vsplat(ERFC_C7));
  vp = vmadd(vp, vt, vsplat(ERFC_C6));
  vp = vmadd(vp, vt, vsplat(ERFC_C5));
  vp = vmadd(vp, vt, vsplat(ERFC_C4));
  vp = vmadd(vp, vt, vsplat(ERFC_C3));
  vp = vmadd(vp, vt, vsplat(ERFC_C2));
  vp = vmadd(vp, vt, vsplat(ERFC_C1));
  vp = vmadd(vp, vt, vsplat(ERFC_C0));
  return f32x4.mul(vt, vexpLanes(f32x4.sub(vp, vz2)));
}

/**
 * gelu(x) = x Phi(x) = x erfc(-x / sqrt 2) / 2, the exact form. For x < 0, Phi(x) is the small
 * erfc tail itself; for x >= 0 it is 1 - that tail, which cannot cancel since the tail <= 1/2.
 */
function vgeluLanes(v: v128): v128 {
  const vz = f32x4.mul(f32x4.abs(v), vsplat(SQRT_HALF));
  // (x / sqrt 2)^2 as x * x / 2: one rounding instead of two.
  const vz2 = f32x4.mul(f32x4.mul(v, v), vsplat(0.5));
  const vtail = f32x4.mul(verfcPositive(vz, vz2), vsplat(0.5));
  const vphi = v128.bitselect(vtail, f32x4.sub(vsplat(1), vtail), f32x4.lt(v, vsplat(0)));
  return f32x4.mul(v, vphi);
}

// Exported names for other kernel families. They are inlined wrappers around out-of-line
// bodies, because a non-inlined exported function with v128 in its signature draws an
// embedding warning from asc.

/** exp(x) lane-wise: overflow gives +Inf, results below 2.2e-38 give 0, NaN stays NaN. */
// @ts-ignore: decorator
@inline export function vexp(v: v128): v128 {
  return vexpLanes(v);
}

/** exp(x) - 1 lane-wise, accurate near 0. */
// @ts-ignore: decorator
@inline export function vexpm1(v: v128): v128 {
  return vexpm1Lanes(v);
}

/** tanh(x) lane-wise. */
// @ts-ignore: decorator
@inline export function vtanh(v: v128): v128 {
  return vtanhLanes(v);
}

/** gelu(x) = x Phi(x) lane-wise, the exact (erf) form. */
// @ts-ignore: decorator
@inline export function vgelu(v: v128): v128 {
  return vgeluLanes(v);
}
