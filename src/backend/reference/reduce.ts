// Reference reductions and softmax cross-entropy losses, in float64 between the f32 loads and
// stores.
//
// Reductions view x as [outer, axis, inner] and reduce the middle axis:
//
//   x: o = 0 [ a = 0: inner values ][ a = 1: inner values ] ... [ a = axis-1 ]   o = 1 [ ...
//   y: o = 0 [ inner values ]                                                     o = 1 [ ...
//
// Conventions that the wasm kernels keep exactly:
//   - max and min propagate NaN (Math.max, like f32x4.max); over an empty axis they give -inf
//     and +inf, sum gives 0 and mean NaN (0 / 0).
//   - The gradient of max / min goes to the first element equal to y (the first NaN when y is
//     NaN); every other element gets an exact 0.
//   - In the soft-label cross-entropy a class whose label is exactly 0 adds nothing to the loss,
//     even when its logit is -inf (0 * log 0 = 0), so -inf can mask a class out.

import type { Heap } from '../heap.js';
import type { Kernels } from '../kernels.js';
import { REDUCE_MAX, REDUCE_MEAN, REDUCE_MIN, REDUCE_SUM } from '../opcodes.js';

/** True when v is the extremum y that f32_reduce found (NaN matches NaN). */
function isExtremum(v: number, y: number): boolean {
  return v === y || (Number.isNaN(v) && Number.isNaN(y));
}

/** log(sum_c exp(x[c])) of `cols` values from `start`, computed stably; also the row max. */
function logSumExp(f32: Float32Array, start: number, cols: number): number {
  let max = -Infinity;
  for (let c = 0; c < cols; c++) max = Math.max(max, f32[start + c]);
  let sum = 0;
  for (let c = 0; c < cols; c++) sum += Math.exp(f32[start + c] - max);
  return max + Math.log(sum);
}

export function reduceReference(
  heap: Heap,
): Pick<
  Kernels,
  | 'f32_reduce' | 'f32_reduce_backward' | 'f32_sum_squares' | 'f32_softmax_cross_entropy'
  | 'f32_sparse_softmax_cross_entropy'
> {
  return {
    f32_reduce(op, x, y, outer, axis, inner) {
      const f32 = heap.f32;
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          let acc = op === REDUCE_MAX ? -Infinity : op === REDUCE_MIN ? Infinity : 0;
          for (let a = 0; a < axis; a++) {
            const v = f32[(x >> 2) + (o * axis + a) * inner + i];
            if (op === REDUCE_SUM || op === REDUCE_MEAN) acc += v;
            else if (op === REDUCE_MAX) acc = Math.max(acc, v);
            else if (op === REDUCE_MIN) acc = Math.min(acc, v);
            else throw new RangeError(`kerasm: ${op} is not a reduce op code`);
          }
          f32[(y >> 2) + o * inner + i] = op === REDUCE_MEAN ? acc / axis : acc;
        }
      }
    },

    f32_reduce_backward(op, x, y, dy, dx, outer, axis, inner) {
      const f32 = heap.f32;
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const g = f32[(dy >> 2) + o * inner + i];
          const yi = f32[(y >> 2) + o * inner + i];
          let routed = false;
          for (let a = 0; a < axis; a++) {
            const k = (dx >> 2) + (o * axis + a) * inner + i;
            if (op === REDUCE_SUM) f32[k] = g;
            else if (op === REDUCE_MEAN) f32[k] = g / axis;
            else if (op === REDUCE_MAX || op === REDUCE_MIN) {
              const v = f32[(x >> 2) + (o * axis + a) * inner + i];
              const hit: boolean = !routed && isExtremum(v, yi);
              f32[k] = hit ? g : 0;
              routed ||= hit;
            } else throw new RangeError(`kerasm: ${op} is not a reduce op code`);
          }
        }
      }
    },

    f32_sum_squares(x, n) {
      const f32 = heap.f32;
      let acc = 0;
      for (let i = 0; i < n; i++) acc += f32[(x >> 2) + i] * f32[(x >> 2) + i];
      return acc;
    },

    f32_softmax_cross_entropy(logits, labels, loss, dlogits, rows, cols, gradScale) {
      const f32 = heap.f32;
      const scale = Math.fround(gradScale);
      for (let r = 0; r < rows; r++) {
        const [zr, tr] = [(logits >> 2) + r * cols, (labels >> 2) + r * cols];
        const lse = logSumExp(f32, zr, cols);
        // loss = -sum_c t_c (z_c - lse); dlogits = softmax * sum_c t_c - t
        let l = 0;
        let labelSum = 0;
        for (let c = 0; c < cols; c++) {
          const t = f32[tr + c];
          labelSum += t;
          if (t !== 0) l -= t * (f32[zr + c] - lse);
        }
        f32[(loss >> 2) + r] = l;
        if (dlogits === 0) continue;
        for (let c = 0; c < cols; c++) {
          const p = Math.exp(f32[zr + c] - lse);
          f32[(dlogits >> 2) + r * cols + c] = (p * labelSum - f32[tr + c]) * scale;
        }
      }
    },

    f32_sparse_softmax_cross_entropy(logits, labels, loss, dlogits, rows, cols, gradScale) {
      const f32 = heap.f32;
      const i32 = heap.i32;
      const scale = Math.fround(gradScale);
      let invalid = 0;
      for (let r = 0; r < rows; r++) {
        const zr = (logits >> 2) + r * cols;
        const label = i32[(labels >> 2) + r];
        if (!(label >= 0 && label < cols)) {
          // Never index the row with a bad label: report it as NaN and count it.
          invalid++;
          f32[(loss >> 2) + r] = Number.NaN;
          const row = (dlogits >> 2) + r * cols;
          if (dlogits !== 0) f32.fill(Number.NaN, row, row + cols);
          continue;
        }
        const lse = logSumExp(f32, zr, cols);
        f32[(loss >> 2) + r] = lse - f32[zr + label];
        if (dlogits === 0) continue;
        for (let c = 0; c < cols; c++) {
          const p = Math.exp(f32[zr + c] - lse);
          f32[(dlogits >> 2) + r * cols + c] = (p - (c === label ? 1 : 0)) * scale;
        }
      }
      return invalid;
    },
  };
}
