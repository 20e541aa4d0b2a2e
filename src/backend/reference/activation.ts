// The fused activations (ACT_* codes) in float64: the specification that the SIMD epilogues
// of GEMM and conv, and the elementwise kernels, are tested against.

import {
  ACT_ELU, ACT_GELU, ACT_LEAKY_RELU, ACT_LINEAR, ACT_RELU, ACT_SIGMOID, ACT_SWISH, ACT_TANH,
} from '../opcodes.js';

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const ONE_OVER_SQRT_PI = 0.5641895835477563;
const SQRT_HALF = 0.7071067811865476;

/**
 * erf(x) and erfc(x) to about 1e-15 relative error, tails included, so that gelu(x) = x * Phi(x)
 * stays accurate where Phi(x) is tiny (x << 0) instead of cancelling in 1 + erf(x / sqrt 2).
 * see: Abramowitz and Stegun 7.1.6 (a series of positive terms for erf, small |x|) and 7.1.14
 * (the continued fraction for erfc, large x).
 */
export function erf(x: number): number {
  if (Math.abs(x) < SERIES_LIMIT) return erfSeries(x);
  return x > 0 ? 1 - erfc(x) : erfc(-x) - 1;
}

export function erfc(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x < 0) return 2 - erfc(-x);
  if (x < SERIES_LIMIT) return 1 - erfSeries(x);
  if (x > 27) return 0; // below the smallest float64
  // erfc(x) = exp(-x^2) / sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + 2 / (x + ...))))),
  // evaluated from the bottom up; 80 levels are plenty for x >= 2.
  let tail = x;
  for (let n = 80; n >= 1; n--) tail = x + n / 2 / tail;
  return (ONE_OVER_SQRT_PI * Math.exp(-x * x)) / tail;
}

/** Below this |x| the series is used; above it the continued fraction converges quickly. */
const SERIES_LIMIT = 2;

/** erf(x) = 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (1 * 3 * ... * (2n+1)), |x| < 2. */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/**
 * y = act(x) for an ACT_* code, in float64. `alpha` is the slope of leaky relu and the scale of
 * elu. Other codes are not activations and throw.
 */
export function activate(act: number, x: number, alpha: number): number {
  switch (act) {
    case ACT_LINEAR:
      return x;
    case ACT_RELU:
      return x > 0 ? x : Number.isNaN(x) ? x : 0;
    case ACT_LEAKY_RELU:
      return x > 0 ? x : alpha * x;
    case ACT_ELU:
      return x > 0 ? x : alpha * Math.expm1(x);
    case ACT_SIGMOID:
      return 1 / (1 + Math.exp(-x));
    case ACT_TANH:
      return Math.tanh(x);
    case ACT_GELU:
      return x * 0.5 * erfc(-x * SQRT_HALF);
    case ACT_SWISH:
      return x / (1 + Math.exp(-x));
    default:
      throw new RangeError(`kerasm: ${act} is not an activation code (ACT_LINEAR..ACT_SWISH)`);
  }
}
