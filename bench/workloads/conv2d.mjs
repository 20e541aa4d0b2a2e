// 2-D convolution, x NHWC [N,H,W,C] and w HWIO [KH,KW,C,CO], stride 1;
// 2 * N * OH * OW * CO * KH * KW * C FLOPs.

import { dotTolerance } from '../lib/check.mjs';
import { kerasmOp } from '../impls/kerasm.mjs';
import { tfjsOp } from '../impls/tfjs.mjs';
import { uniform } from '../lib/random.mjs';

/**
 * @param {{ n: number, h: number, w: number, c: number, k: number, co: number,
 *   padding: 'valid' | 'same', tags?: string[] }} shape
 * @returns {import('./index.mjs').Workload}
 */
export function conv2d({ n, h, w, c, k, co, padding, tags = [] }) {
  const geometry = convGeometry(h, w, k, padding);
  const { oh, ow } = geometry;
  const xShape = [n, h, w, c];
  const wShape = [k, k, c, co];
  const outShape = [n, oh, ow, co];
  return {
    name: `conv2d ${n}x${h}x${w}x${c} -> ${co} ${k}x${k} ${padding}`,
    family: 'conv2d',
    tags,
    unit: 'GFLOP/s',
    work: 2 * n * oh * ow * co * k * k * c,
    tolerance: dotTolerance(k * k * c),
    inputs: (random) => ({ x: uniform(random, n * h * w * c), w: uniform(random, k * k * c * co) }),
    reference: (inputs) => convReference(inputs, { n, h, w, c, k, co, ...geometry }),
    impls: {
      kerasm: kerasmOp(({ tensor, ops }, inputs) => {
        const tx = tensor(inputs.x, xShape);
        const tw = tensor(inputs.w, wShape);
        return {
          tensors: [tx, tw],
          outShape,
          op: (out) => ops.conv2d(tx, tw, { strides: [1, 1], padding, out }),
        };
      }),
      'tfjs-wasm': tfjsConv(xShape, wShape, padding),
      'tfjs-cpu': tfjsConv(xShape, wShape, padding),
    },
  };
}

function tfjsConv(xShape, wShape, padding) {
  return tfjsOp((tf, inputs) => {
    const tx = tf.tensor4d(inputs.x, xShape);
    const tw = tf.tensor4d(inputs.w, wShape);
    return { tensors: [tx, tw], op: () => tf.conv2d(tx, tw, 1, padding) };
  });
}

/** Stride 1, dilation 1; 'same' pads like TensorFlow (the extra row/column goes at the end). */
function convGeometry(h, w, k, padding) {
  if (padding === 'valid') return { oh: h - k + 1, ow: w - k + 1, padTop: 0, padLeft: 0 };
  const pad = k - 1;
  return { oh: h, ow: w, padTop: Math.floor(pad / 2), padLeft: Math.floor(pad / 2) };
}

/** float64 convolution, and per output the sum of |x * w| over its taps (the check's scale). */
function convReference({ x, w }, { n, h, w: width, c, k, co, oh, ow, padTop, padLeft }) {
  const values = new Float64Array(n * oh * ow * co);
  const scale = new Float64Array(n * oh * ow * co);
  const absW = Float64Array.from(w, Math.abs);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const o = ((b * oh + oy) * ow + ox) * co;
        for (let ky = 0; ky < k; ky++) {
          const iy = oy - padTop + ky;
          if (iy < 0 || iy >= h) continue; // taps outside the input read zeros
          for (let kx = 0; kx < k; kx++) {
            const ix = ox - padLeft + kx;
            if (ix < 0 || ix >= width) continue;
            const xBase = ((b * h + iy) * width + ix) * c;
            const wBase = (ky * k + kx) * c * co;
            for (let ci = 0; ci < c; ci++) {
              const xv = x[xBase + ci];
              const absX = Math.abs(xv);
              const wRow = wBase + ci * co;
              for (let j = 0; j < co; j++) {
                values[o + j] += xv * w[wRow + j];
                scale[o + j] += absX * absW[wRow + j];
              }
            }
          }
        }
      }
    }
  }
  return { values, scale };
}
