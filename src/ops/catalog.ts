// Every public op, with how it differentiates. The table is typed over the `ops` namespace, so
// a new op without a row does not compile; docs/ops.md is generated from it, and a test fails
// when a differentiable op's tape entry has no gradient rule or no finite-difference case.

import type { OpName } from '../autodiff/tape.js';
import type * as ops from './index.js';

export interface CatalogEntry {
  /** The tape entry the op records, or null for ops that are not differentiated. */
  records: OpName | 'composite' | null;
  /** How the gradient is computed, or why there is none. */
  gradient: string;
}

type OpFunctionName = {
  [K in keyof typeof ops]: (typeof ops)[K] extends (...args: never[]) => unknown ? K : never;
}[keyof typeof ops];

const unary = (d: string): CatalogEntry => ({ records: 'unary', gradient: `dx = dy * ${d} (f32_unary_backward)` });
const binary = (d: string): CatalogEntry => ({ records: 'binary', gradient: `${d}; b's gradient summed over the rows it repeats over (f32_binary_backward); an operand expanded by other broadcasting gets broadcastTo's gradient` });
const reduce = (d: string): CatalogEntry => ({ records: 'reduce', gradient: `${d} (f32_reduce_backward)` });
const none = (why: string): CatalogEntry => ({ records: null, gradient: why });

export const OP_CATALOG: Record<OpFunctionName, CatalogEntry> = {
  matmul: { records: 'matmul', gradient: 'dA = dC op(B)^T, dB = op(A)^T dC (each transpose case), dbias = column sums of dC' },
  conv2d: { records: 'conv2d', gradient: 'dx = conv2dBackpropInput, dw = conv2dBackpropFilter, dbias = sum of dy over N, H, W' },
  depthwiseConv2d: { records: 'depthwiseConv2d', gradient: 'dx = depthwiseConv2dBackpropInput, dw = depthwiseConv2dBackpropFilter, dbias = sum of dy' },
  conv2dBackpropInput: none('a gradient itself (first-order autodiff)'),
  conv2dBackpropFilter: none('a gradient itself (first-order autodiff)'),
  depthwiseConv2dBackpropInput: none('a gradient itself (first-order autodiff)'),
  depthwiseConv2dBackpropFilter: none('a gradient itself (first-order autodiff)'),
  maxPool: { records: 'maxPool', gradient: 'dy routed to the first maximum of each window (maxPoolGrad)' },
  avgPool: { records: 'avgPool', gradient: 'dy spread evenly over each window\'s inputs (avgPoolGrad)' },
  maxPoolGrad: none('a gradient itself'),
  avgPoolGrad: none('a gradient itself'),
  relu: unary('(x > 0)'),
  leakyRelu: unary('(x > 0 ? 1 : alpha)'),
  elu: unary('(x > 0 ? 1 : y + alpha)'),
  sigmoid: unary('y (1 - y)'),
  tanh: unary('(1 - y^2)'),
  gelu: unary('(Phi(x) + x phi(x))'),
  swish: unary('(s + x s (1 - s)), s = sigmoid(x)'),
  exp: unary('y'),
  log: unary('1 / x'),
  neg: unary('-1'),
  abs: unary('sign(x)'),
  sqrt: unary('1 / (2 y)'),
  square: unary('2 x'),
  reciprocal: unary('-y^2'),
  softplus: unary('sigmoid(x)'),
  add: binary('da = dy, db = dy'),
  sub: binary('da = dy, db = -dy'),
  mul: binary('da = dy b, db = dy a'),
  div: binary('da = dy / b, db = -dy a / b^2'),
  maximum: binary('dy to the larger input (a on ties)'),
  minimum: binary('dy to the smaller input (a on ties)'),
  squaredDifference: binary('da = 2 (a - b) dy, db = -da'),
  scaleShift: { records: 'scaleShift', gradient: 'dx = scale dy' },
  softmax: { records: 'softmax', gradient: 'dx = y (dy - sum(dy y)) per row (f32_softmax_backward)' },
  softmaxGrad: none('a gradient itself'),
  fill: none('a constant'),
  zeros: none('a constant'),
  ones: none('a constant'),
  sum: reduce('dx = dy broadcast over the axis'),
  mean: reduce('dx = dy / n broadcast over the axis'),
  max: reduce('dy to the first maximum along the axis'),
  min: reduce('dy to the first minimum along the axis'),
  softmaxCrossEntropy: { records: 'softmaxCrossEntropy', gradient: 'dlogits = (softmax(logits) sum(labels) - labels) dy per row; labels are constants' },
  sparseSoftmaxCrossEntropy: { records: 'sparseSoftmaxCrossEntropy', gradient: 'dlogits = (softmax(logits) - onehot(labels)) dy per row' },
  globalNorm: none('returns a number'),
  clipByGlobalNorm: none('an in-place update'),
  sgdUpdate: none('an in-place optimizer update'),
  adamUpdate: none('an in-place optimizer update'),
  rmspropUpdate: none('an in-place optimizer update'),
  adagradUpdate: none('an in-place optimizer update'),
  transpose: { records: 'transpose', gradient: 'transpose by the inverse permutation' },
  slice: { records: 'slice', gradient: 'dy padded with zeros back to x\'s shape' },
  split: { records: 'composite', gradient: 'slices' },
  pad: { records: 'pad', gradient: 'the slice of dy that covers x' },
  concat: { records: 'concat', gradient: 'dy split back into the inputs\' sizes' },
  stack: { records: 'composite', gradient: 'expandDims + concat' },
  unstack: { records: 'composite', gradient: 'slices + reshape' },
  expandDims: { records: 'composite', gradient: 'a reshape view' },
  squeeze: { records: 'composite', gradient: 'a reshape view' },
  broadcastTo: { records: 'broadcastTo', gradient: 'dy summed over the broadcast axes' },
  tile: { records: 'composite', gradient: 'reshape + broadcastTo' },
  upSampling2d: { records: 'composite', gradient: 'reshape + broadcastTo' },
  gather: { records: 'gather', gradient: 'dy scatter-added into zeros of x\'s shape (indices may repeat); indices are constants' },
  weightedGather: { records: 'weightedGather', gradient: 'weights x dy scatter-added into zeros of x\'s shape; indices and weights are constants' },
  oneHot: none('integer input'),
};

/** The markdown of docs/ops.md. */
export function catalogMarkdown(): string {
  const rows = Object.entries(OP_CATALOG)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, e]) => `| \`ops.${name}\` | ${e.records === null ? 'no' : e.records === 'composite' ? 'composed' : `\`${e.records}\``} | ${e.gradient} |`);
  return [
    '# Ops and their gradients',
    '',
    'Generated from `src/ops/catalog.ts` by `npm run docs:ops`; a test fails when this file is stale.',
    '"composed" ops are built from other ops and reshape views, and get their gradient from them.',
    '',
    '| op | tape entry | gradient |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
