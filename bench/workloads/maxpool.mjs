// 2-D max pooling, x NHWC, 'valid' windows. Memory-bound, so measured in GB/s:
// (input + output bytes) / time.

import { kerasmOp } from '../impls/kerasm.mjs';
import { tfjsOp } from '../impls/tfjs.mjs';
import { uniform } from '../lib/random.mjs';

/**
 * @param {{ n: number, h: number, w: number, c: number, pool: number, stride: number,
 *   tags?: string[] }} shape
 * @returns {import('./index.mjs').Workload}
 */
export function maxPool({ n, h, w, c, pool, stride, tags = [] }) {
  const oh = Math.floor((h - pool) / stride) + 1;
  const ow = Math.floor((w - pool) / stride) + 1;
  const xShape = [n, h, w, c];
  const outShape = [n, oh, ow, c];
  return {
    name: `maxPool ${pool}x${pool}/${stride} ${n}x${h}x${w}x${c}`,
    family: 'maxPool',
    tags,
    unit: 'GB/s',
    work: 4 * (n * h * w * c + n * oh * ow * c),
    // A maximum is one of its inputs: any difference is a bug.
    tolerance: 0,
    inputs: (random) => ({ x: uniform(random, n * h * w * c) }),
    reference: ({ x }) => ({
      values: poolReference(x, { n, h, w, c, pool, stride, oh, ow }),
      scale: null,
    }),
    impls: {
      kerasm: kerasmOp(({ tensor, ops }, inputs) => {
        const tx = tensor(inputs.x, xShape);
        const options = { poolSize: [pool, pool], strides: [stride, stride], padding: 'valid' };
        return { tensors: [tx], outShape, op: (out) => ops.maxPool(tx, { ...options, out }) };
      }),
      'tfjs-wasm': tfjsPool(xShape, pool, stride),
      'tfjs-cpu': tfjsPool(xShape, pool, stride),
    },
  };
}

function tfjsPool(xShape, pool, stride) {
  return tfjsOp((tf, inputs) => {
    const tx = tf.tensor4d(inputs.x, xShape);
    return { tensors: [tx], op: () => tf.maxPool(tx, [pool, pool], [stride, stride], 'valid') };
  });
}

function poolReference(x, { n, h, w, c, pool, stride, oh, ow }) {
  const values = new Float64Array(n * oh * ow * c);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ci = 0; ci < c; ci++) {
          let max = -Infinity;
          for (let ky = 0; ky < pool; ky++) {
            for (let kx = 0; kx < pool; kx++) {
              const iy = oy * stride + ky;
              const ix = ox * stride + kx;
              max = Math.max(max, x[((b * h + iy) * w + ix) * c + ci]);
            }
          }
          values[((b * oh + oy) * ow + ox) * c + ci] = max;
        }
      }
    }
  }
  return values;
}
