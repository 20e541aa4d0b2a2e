// Numeric check of one implementation's output against the float64 reference.
//
// For a dot-product workload (matmul, conv) the error of element i is measured against the
// size of the terms that were summed: err_i = |got_i - ref_i| / sum_k |a_k * b_k|. Float32
// summation of K terms in any order keeps err below about K * 2^-24 and, on random data, near
// sqrt(K) * 2^-24; relaxed fused multiply-add only moves the last bits. A missing or doubled
// term, a wrong index or an unwritten element gives an error of order 1/K or more, far above
// the tolerance. Pooling picks one of its inputs, so it must match exactly.

/** Tolerance for sums of K float32 products: 16 * sqrt(K) float32 ulps of the term sum. */
export function dotTolerance(K) {
  return 16 * Math.sqrt(K) * 2 ** -24;
}

/**
 * @param {Float32Array} got
 * @param {{ values: Float64Array, scale: Float64Array | null }} reference
 *   scale: the per-element size of the summed terms, or null for an absolute (exact) check
 * @param {number} tolerance
 */
export function compare(got, reference, tolerance) {
  const { values, scale } = reference;
  if (!got || got.length !== values.length) {
    return {
      ok: false, maxErr: Infinity, index: -1,
      detail: `expected ${values.length} elements, got ${got ? got.length : 'none'}`,
    };
  }
  let maxErr = 0;
  let index = -1;
  for (let i = 0; i < values.length; i++) {
    const diff = Math.abs(got[i] - values[i]);
    // A NaN (an unwritten canary, say) must fail: NaN comparisons are false, so test it.
    const err = Number.isNaN(diff) ? Infinity : scale ? diff / Math.max(scale[i], 1e-30) : diff;
    if (err > maxErr || index < 0) {
      maxErr = err;
      index = i;
    }
  }
  const ok = maxErr <= tolerance;
  const detail = ok
    ? ''
    : `element ${index}: got ${got[index]}, expected ${values[index]} ` +
      `(err ${maxErr.toExponential(2)})`;
  return { ok, maxErr, index, detail };
}
