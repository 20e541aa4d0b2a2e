// Every differentiable op's gradient, from the tape, against central finite differences of
// the op itself. The table is keyed by op name, so an op without a case does not compile.

import { describe, expect, it } from 'vitest';
import { valueAndGrads } from '../../src/autodiff/backprop.js';
import { DIFFERENTIABLE_OPS } from '../../src/autodiff/gradients.js';
import type { OpName } from '../../src/autodiff/tape.js';
import { noGrad } from '../../src/autodiff/tape.js';
import * as ops from '../../src/ops/index.js';
import { tensor, type Tensor } from '../../src/tensor.js';
import { Random } from '../../src/util/random.js';

interface Case {
  name: string;
  shapes: number[][];
  /** Builds the scalar to differentiate; inputs are f32 tensors of `shapes`. */
  f: (...xs: Tensor[]) => Tensor;
  /** Inputs away from kinks/ties: values drawn from [low, high). */
  range?: [number, number];
}

/** A fixed random projection makes the scalar depend on every output element differently. */
function project(y: Tensor): Tensor {
  const rng = new Random(7);
  const weights = new Float32Array(y.size).map(() => rng.uniformRange(0.5, 1.5));
  return ops.sum(ops.mul(y, tensor(weights, y.shape)));
}

const CASES: Record<OpName, Case[]> = {
  matmul: [
    { name: 'plain', shapes: [[3, 4], [4, 5]], f: (a, b) => project(ops.matmul(a, b)) },
    { name: 'tA', shapes: [[4, 3], [4, 5]], f: (a, b) => project(ops.matmul(a, b, { transposeA: true })) },
    { name: 'tB', shapes: [[3, 4], [5, 4]], f: (a, b) => project(ops.matmul(a, b, { transposeB: true })) },
    { name: 'tA tB', shapes: [[4, 3], [5, 4]], f: (a, b) => project(ops.matmul(a, b, { transposeA: true, transposeB: true })) },
    { name: 'bias tanh', shapes: [[3, 4], [4, 5], [5]], f: (a, b, c) => project(ops.matmul(a, b, { bias: c, activation: 'tanh' })) },
    // relu, sigmoid and tanh stay fused while recording (their gradient reads the output);
    // elu and the others run as a separate unary op.
    { name: 'bias relu', shapes: [[3, 4], [4, 5], [5]], f: (a, b, c) => project(ops.matmul(a, b, { bias: c, activation: 'relu' })) },
    { name: 'elu', shapes: [[3, 4], [4, 5]], f: (a, b) => project(ops.matmul(a, b, { activation: 'elu' })) },
  ],
  conv2d: [
    { name: 'same s2 bias', shapes: [[2, 5, 6, 3], [3, 3, 3, 4], [4]], f: (x, w, b) => project(ops.conv2d(x, w, { padding: 'same', strides: 2, bias: b })) },
    { name: 'valid dilated sigmoid', shapes: [[1, 7, 7, 2], [2, 2, 2, 3]], f: (x, w) => project(ops.conv2d(x, w, { dilations: 2, activation: 'sigmoid' })) },
    { name: 'valid relu', shapes: [[2, 5, 5, 2], [3, 3, 2, 3]], f: (x, w) => project(ops.conv2d(x, w, { activation: 'relu' })) },
    { name: 'same gelu', shapes: [[1, 4, 4, 2], [3, 3, 2, 2]], f: (x, w) => project(ops.conv2d(x, w, { padding: 'same', activation: 'gelu' })) },
    // 3x3, stride 1, 16 channels in and out: the Winograd paths of all three kernels.
    { name: '3x3 same bias tanh, 16 channels', shapes: [[1, 5, 4, 16], [3, 3, 16, 16], [16]], f: (x, w, b) => project(ops.conv2d(x, w, { padding: 'same', bias: b, activation: 'tanh' })) },
  ],
  depthwiseConv2d: [
    { name: 'same m2 bias', shapes: [[2, 5, 5, 3], [3, 3, 3, 2], [6]], f: (x, w, b) => project(ops.depthwiseConv2d(x, w, { padding: 'same', bias: b })) },
    { name: 'valid relu', shapes: [[1, 5, 5, 3], [3, 3, 3, 1]], f: (x, w) => project(ops.depthwiseConv2d(x, w, { activation: 'relu' })) },
  ],
  maxPool: [{ name: '2x2', shapes: [[2, 4, 6, 3]], f: (x) => project(ops.maxPool(x)) }],
  avgPool: [{ name: '3x3 s2 same', shapes: [[1, 5, 5, 2]], f: (x) => project(ops.avgPool(x, { poolSize: 3, strides: 2, padding: 'same' })) }],
  unary: [
    { name: 'relu', shapes: [[7]], f: (x) => project(ops.relu(x)) },
    { name: 'elu', shapes: [[7]], f: (x) => project(ops.elu(x)) },
    { name: 'gelu', shapes: [[7]], f: (x) => project(ops.gelu(x)) },
    { name: 'swish', shapes: [[7]], f: (x) => project(ops.swish(x)) },
    { name: 'softplus', shapes: [[7]], f: (x) => project(ops.softplus(x)) },
    { name: 'log', shapes: [[7]], f: (x) => project(ops.log(x)), range: [0.5, 2] },
    { name: 'sqrt', shapes: [[7]], f: (x) => project(ops.sqrt(x)), range: [0.5, 2] },
  ],
  binary: [
    { name: 'add bias', shapes: [[3, 4], [4]], f: (a, b) => project(ops.add(a, b)) },
    { name: 'mul scalar', shapes: [[3, 4], [1]], f: (a, b) => project(ops.mul(a, b)) },
    { name: 'div', shapes: [[3, 4], [3, 4]], f: (a, b) => project(ops.div(a, b)), range: [0.5, 2] },
    { name: 'squared difference', shapes: [[5], [5]], f: (a, b) => project(ops.squaredDifference(a, b)) },
  ],
  scaleShift: [{ name: 'scale', shapes: [[6]], f: (x) => project(ops.scaleShift(x, -2.5, 1)) }],
  softmax: [{ name: 'rows', shapes: [[3, 5]], f: (x) => project(ops.softmax(x)) }],
  reduce: [
    { name: 'sum axis 1', shapes: [[3, 4, 2]], f: (x) => project(ops.sum(x, { axis: 1 })) },
    { name: 'mean all', shapes: [[3, 4]], f: (x) => ops.mean(x) },
    { name: 'max axis 0', shapes: [[4, 3]], f: (x) => project(ops.max(x, { axis: 0 })) },
  ],
  softmaxCrossEntropy: [{
    name: 'soft labels', shapes: [[4, 5]],
    f: (x) => project(ops.softmaxCrossEntropy(x, ops.softmax(tensor(new Float32Array(20).map((_, i) => Math.sin(i)), [4, 5]))).loss),
  }],
  sparseSoftmaxCrossEntropy: [{
    name: 'labels', shapes: [[4, 5]],
    f: (x) => project(ops.sparseSoftmaxCrossEntropy(x, tensor([0, 4, 2, 2], [4], 'int32')).loss),
  }],
  reshape: [{ name: 'view', shapes: [[2, 6]], f: (x) => project(ops.softmax(x.reshape([3, 4]))) }],
  transpose: [
    { name: 'reverse', shapes: [[3, 5]], f: (x) => project(ops.transpose(x)) },
    { name: 'perm 2 0 1', shapes: [[2, 3, 4]], f: (x) => project(ops.transpose(x, [2, 0, 1])) },
  ],
  slice: [
    { name: 'window', shapes: [[3, 4, 5]], f: (x) => project(ops.slice(x, [1, 0, 2], [2, -1, 2])) },
    { name: 'split', shapes: [[4, 6]], f: (x) => { const [a, b] = ops.split(x, [2, -1], 1); return ops.add(project(a), project(ops.square(b))); } },
    { name: 'unstack', shapes: [[3, 4]], f: (x) => { const [a, , c] = ops.unstack(x, 0); return project(ops.mul(a, c)); } },
  ],
  pad: [{ name: 'value 0.5', shapes: [[3, 4]], f: (x) => project(ops.pad(x, [[1, 2], [0, 3]], 0.5)) }],
  concat: [
    { name: 'axis 1', shapes: [[2, 3], [2, 1], [2, 4]], f: (a, b, c) => project(ops.concat([a, b, c], 1)) },
    { name: 'axis -3', shapes: [[1, 2, 3], [2, 2, 3]], f: (a, b) => project(ops.concat([a, b], -3)) },
    { name: 'stack', shapes: [[3, 2], [3, 2]], f: (a, b) => project(ops.stack([a, b], 1)) },
  ],
  broadcastTo: [
    { name: 'column', shapes: [[3, 1]], f: (x) => project(ops.broadcastTo(x, [2, 3, 4])) },
    { name: 'centre rows', shapes: [[3, 4]], f: (x) => project(ops.sub(x, ops.broadcastTo(ops.mean(x, { axis: 1, keepDims: true }), [3, 4]))) },
    { name: 'tile', shapes: [[2, 3]], f: (x) => project(ops.tile(x, [3, 2])) },
    { name: 'upSampling2d', shapes: [[1, 2, 3, 2]], f: (x) => project(ops.upSampling2d(x, [2, 3])) },
  ],
  gather: [
    { name: 'repeated rows', shapes: [[5, 3]], f: (x) => project(ops.gather(x, tensor([4, 0, 4, 2, 4], [5], 'int32'))) },
    { name: 'axis 1, 2d indices', shapes: [[2, 4, 3]], f: (x) => project(ops.gather(x, tensor([3, 0, 3, 1], [2, 2], 'int32'), 1)) },
  ],
  weightedGather: [
    {
      name: 'four taps, repeated rows and the fill', shapes: [[5, 3]],
      f: (x) => project(ops.weightedGather(x, tensor([4, 0, -1, 2, 4, 1, 0, 3, 4, -1, 2, 2], [4, 3], 'int32'), tensor([0.5, -1.25, 2, 0.75, 0.3, 1, -0.6, 0.2, 1.5, 0.9, -0.4, 0.1], [4, 3]), 0.7)),
    },
  ],
};

function checkCase(op: OpName, c: Case): void {
  const rng = new Random(42);
  const [low, high] = c.range ?? [-1.5, 1.5];
  const values = c.shapes.map((s) => Float64Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.uniformRange(low, high)));
  const inputs = values.map((v, i) => tensor(Float32Array.from(v), c.shapes[i]));
  const { grads } = valueAndGrads(() => c.f(...inputs), inputs);
  const evaluate = (vs: Float64Array[]) =>
    noGrad(() => c.f(...vs.map((v, i) => tensor(Float32Array.from(v), c.shapes[i]))).dataSync()[0]);
  const eps = 1e-2;
  values.forEach((v, k) => {
    const analytic = grads[k].dataSync();
    for (let i = 0; i < v.length; i++) {
      const saved = v[i];
      v[i] = saved + eps;
      const up = evaluate(values);
      v[i] = saved - eps;
      const down = evaluate(values);
      v[i] = saved;
      const numeric = (up - down) / (2 * eps);
      const tol = 2e-2 * Math.max(1, Math.abs(numeric));
      if (!(Math.abs(analytic[i] - numeric) <= tol)) {
        throw new Error(`${op} (${c.name}): input ${k} of shape [${c.shapes[k]}], index ${i}: tape gradient ${analytic[i]}, finite difference ${numeric}`);
      }
    }
  });
}

describe('gradients match central finite differences', () => {
  it('every differentiable op has cases', () => {
    for (const op of DIFFERENTIABLE_OPS) expect(CASES[op].length, op).toBeGreaterThan(0);
  });
  for (const op of Object.keys(CASES) as OpName[]) {
    for (const c of CASES[op]) it(`${op}: ${c.name}`, () => checkCase(op, c));
  }
});

describe('valueAndGrads', () => {
  it('accumulates gradients of a tensor used twice and zero-fills unused ones', () => {
    const x = tensor([1, 2, 3]);
    const unused = tensor([5]);
    const { value, grads } = valueAndGrads(() => ops.sum(ops.mul(x, x)), [x, unused]);
    expect(value.dataSync()[0]).toBe(14);
    expect(Array.from(grads[0].dataSync())).toEqual([2, 4, 6]);
    expect(Array.from(grads[1].dataSync())).toEqual([0]);
  });

  it('rejects a non-scalar result without dy', () => {
    const x = tensor([1, 2]);
    expect(() => valueAndGrads(() => ops.relu(x), [x])).toThrow('kerasm.valueAndGrads: expected f to return a scalar (or pass dy), got shape [2]');
  });
});
