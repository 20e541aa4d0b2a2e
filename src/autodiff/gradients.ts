// The gradient rule of every differentiable op, in one typed table: an op recorded on the tape
// without a rule here does not compile. A rule receives the tape entry and the gradient of the
// op's output, and returns one gradient per input (undefined for inputs that get none, such as
// integer labels).

import type { Tensor } from '../tensor.js';
import { binaryGrad, reduceGrad, unaryGrad } from '../ops/backward.js';
import { conv2dBackpropFilter, conv2dBackpropInput, depthwiseConv2dBackpropFilter, depthwiseConv2dBackpropInput } from '../ops/conv.js';
import { scaleShift, softmaxGrad } from '../ops/elementwise.js';
import { matmul } from '../ops/matmul.js';
import { gatherGrad, inversePermutation, pad, slice, split, sumToShape, transpose, weightedGatherGrad } from '../ops/movement.js';
import { avgPoolGrad, maxPoolGrad } from '../ops/pool.js';
import { softmaxCrossEntropy, sparseSoftmaxCrossEntropy, sum } from '../ops/reduce.js';
import type { FusedAttrs, OpName, TapeEntry } from './tape.js';

/**
 * `needs[i]` says whether input i's gradient is used; rules of expensive ops skip the others
 * (a model's input never needs one, so the first conv's backward-data pass is not run).
 */
export type GradientRule<K extends OpName> = (
  entry: TapeEntry<K>, dy: Tensor, needs: readonly boolean[],
) => (Tensor | undefined)[];

/** The bias gradient of an op whose output's last axis is the bias axis. */
function biasGrad(dy: Tensor): Tensor {
  const channels = dy.shape[dy.rank - 1];
  return sum(dy.reshape([-1, channels]), { axis: 0 });
}

/**
 * The gradient before an activation fused in the op (see gradientFromOutput in
 * src/ops/activations.ts): computed from the op's output, which is all the tape keeps.
 */
function throughFused(fused: FusedAttrs['fused'], output: Tensor, dy: Tensor): Tensor {
  return fused ? unaryGrad(fused.code, fused.alpha, output, output, dy) : dy;
}

/** rows[r, :] *= scale[r], one scale_shift call per row (losses are per-row). */
function scaleRows(rows: Tensor, scale: Tensor): Tensor {
  const [n, c] = rows.shape;
  const factors = scale.dataSync();
  const k = rows.backend.kernels;
  for (let r = 0; r < n; r++) {
    const ptr = rows.ptr + r * c * 4;
    k.f32_scale_shift(ptr, ptr, c, factors[r], 0);
  }
  return rows;
}

export const GRADIENTS: { [K in OpName]: GradientRule<K> } = {
  matmul: ({ inputs: [a, b, bias], output, attrs }, dyOut, needs) => {
    const { transposeA: tA, transposeB: tB } = attrs;
    const dy = throughFused(attrs.fused, output, dyOut);
    // see: the four cases of d(op(A) op(B)) in e.g. The Matrix Cookbook, section 2.4
    const da = !needs[0] ? undefined : tA
      ? matmul(b, dy, { transposeA: tB, transposeB: true })
      : matmul(dy, b, { transposeB: !tB });
    const db = !needs[1] ? undefined : tB
      ? matmul(dy, a, { transposeA: true, transposeB: tA })
      : matmul(a, dy, { transposeA: !tA });
    return [da, db, bias && needs[2] ? biasGrad(dy) : undefined];
  },
  conv2d: ({ inputs: [x, w, bias], output, attrs }, dyOut, needs) => {
    const dy = throughFused(attrs.fused, output, dyOut);
    return [
      needs[0] ? conv2dBackpropInput(dy, w, x.shape, attrs) : undefined,
      needs[1] ? conv2dBackpropFilter(x, dy, w.shape, attrs) : undefined,
      bias && needs[2] ? biasGrad(dy) : undefined,
    ];
  },
  depthwiseConv2d: ({ inputs: [x, w, bias], output, attrs }, dyOut, needs) => {
    const dy = throughFused(attrs.fused, output, dyOut);
    return [
      needs[0] ? depthwiseConv2dBackpropInput(dy, w, x.shape, attrs) : undefined,
      needs[1] ? depthwiseConv2dBackpropFilter(x, dy, w.shape, attrs) : undefined,
      bias && needs[2] ? biasGrad(dy) : undefined,
    ];
  },
  maxPool: ({ inputs: [x], attrs }, dy) => [maxPoolGrad(dy, x, attrs)],
  avgPool: ({ inputs: [x], attrs }, dy) => [avgPoolGrad(dy, x.shape, attrs)],
  unary: ({ inputs: [x], output, attrs }, dy) => [unaryGrad(attrs.code, attrs.alpha, x, output, dy)],
  binary: ({ inputs: [a, b], attrs }, dy) => binaryGrad(attrs.code, a, b, dy),
  scaleShift: ({ attrs }, dy) => [scaleShift(dy, attrs.scale, 0)],
  softmax: ({ output }, dy) => [softmaxGrad(output, dy)],
  reduce: ({ inputs: [x], output, attrs }, dy) => [
    reduceGrad(attrs.code, x, output, dy, attrs.outer, attrs.axis, attrs.inner),
  ],
  softmaxCrossEntropy: ({ inputs: [logits, labels] }, dy) => [
    scaleRows(softmaxCrossEntropy(logits, labels, 1).dlogits!, dy),
    undefined,
  ],
  sparseSoftmaxCrossEntropy: ({ inputs: [logits, labels] }, dy) => [
    scaleRows(sparseSoftmaxCrossEntropy(logits, labels, 1).dlogits!, dy),
    undefined,
  ],
  reshape: ({ inputs: [x] }, dy) => [dy.reshape(x.shape)],
  transpose: ({ attrs: { perm } }, dy) => [transpose(dy, inversePermutation(perm))],
  slice: ({ inputs: [x], attrs: { begin } }, dy) => [
    pad(dy, x.shape.map((d, i): [number, number] => [begin[i], d - begin[i] - dy.shape[i]])),
  ],
  pad: ({ inputs: [x], attrs: { paddings } }, dy) => [slice(dy, paddings.map(([before]) => before), x.shape)],
  concat: ({ inputs, attrs: { axis } }, dy) => split(dy, inputs.map((t) => t.shape[axis]), axis),
  broadcastTo: ({ inputs: [x] }, dy) => [sumToShape(dy, x.shape)],
  gather: ({ inputs: [x, indices], attrs: { axis } }, dy) => [gatherGrad(dy, indices, x.shape, axis), undefined],
  weightedGather: ({ inputs: [x, indices, weights] }, dy) => [weightedGatherGrad(dy, indices, weights, x.shape), undefined, undefined],
};

/** Ops whose rule is defined (for the generated docs table and its test). */
export const DIFFERENTIABLE_OPS = Object.keys(GRADIENTS) as OpName[];
