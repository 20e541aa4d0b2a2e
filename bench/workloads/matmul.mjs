// Square matrix product C[N,N] = A[N,N] * B[N,N]; 2 N^3 FLOPs.

import { dotTolerance } from '../lib/check.mjs';
import { kerasmOp } from '../impls/kerasm.mjs';
import { tfjsOp } from '../impls/tfjs.mjs';
import { uniform } from '../lib/random.mjs';

/** @returns {import('./index.mjs').Workload} */
export function matmul(n) {
  return {
    name: `matmul N=${n}`,
    family: 'matmul',
    tags: n >= 256 ? ['matmul-large'] : [],
    unit: 'GFLOP/s',
    work: 2 * n ** 3,
    tolerance: dotTolerance(n),
    inputs: (random) => ({ a: uniform(random, n * n), b: uniform(random, n * n) }),
    reference: ({ a, b }) => matmulReference(a, b, n),
    impls: {
      kerasm: kerasmOp(({ tensor, ops }, { a, b }) => {
        const ta = tensor(a, [n, n]);
        const tb = tensor(b, [n, n]);
        return { tensors: [ta, tb], outShape: [n, n], op: (out) => ops.matmul(ta, tb, { out }) };
      }),
      'tfjs-wasm': tfjsMatmul(n),
      'tfjs-cpu': tfjsMatmul(n),
    },
  };
}

function tfjsMatmul(n) {
  return tfjsOp((tf, { a, b }) => {
    const ta = tf.tensor2d(a, [n, n]);
    const tb = tf.tensor2d(b, [n, n]);
    return { tensors: [ta, tb], op: () => tf.matMul(ta, tb) };
  });
}

/** float64 product, and per element the sum of |a_ik * b_kj| (the check's scale). */
function matmulReference(a, b, n) {
  const values = new Float64Array(n * n);
  const scale = new Float64Array(n * n);
  const absB = Float64Array.from(b, Math.abs);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let k = 0; k < n; k++) {
      const aik = a[row + k];
      const absAik = Math.abs(aik);
      const bRow = k * n;
      for (let j = 0; j < n; j++) {
        values[row + j] += aik * b[bRow + j];
        scale[row + j] += absAik * absB[bRow + j];
      }
    }
  }
  return { values, scale };
}
