// Every layer's gradients (with respect to its input and to each weight) against central
// finite differences, in training mode. One table row per layer class; the test at the end
// fails when a layer class has no row.

import { describe, expect, it } from 'vitest';
import { valueAndGrads } from '../../src/autodiff/backprop.js';
import { noGrad } from '../../src/autodiff/tape.js';
import * as layers from '../../src/layers/index.js';
import { Layer } from '../../src/layers/layer.js';
import * as ops from '../../src/ops/index.js';
import { tensor, type Tensor } from '../../src/tensor.js';
import { Random } from '../../src/util/random.js';

interface Row {
  make: () => Layer;
  /** Input shapes, batch included. */
  inputs: number[][];
  /** Finite-difference step; smaller where a kink (a max) is near. */
  eps?: number;
}

export const LAYER_ROWS: Record<string, Row> = {
  Dense: { make: () => new layers.Dense({ units: 3, activation: 'tanh' }), inputs: [[2, 4]] },
  Conv2D: { make: () => new layers.Conv2D({ filters: 3, kernelSize: 3, padding: 'same', strides: 2, activation: 'sigmoid' }), inputs: [[2, 5, 5, 2]] },
  Conv1D: { make: () => new layers.Conv1D({ filters: 2, kernelSize: 3 }), inputs: [[2, 6, 3]] },
  DepthwiseConv2D: { make: () => new layers.DepthwiseConv2D({ kernelSize: 3, depthMultiplier: 2 }), inputs: [[1, 5, 5, 2]] },
  SeparableConv2D: { make: () => new layers.SeparableConv2D({ filters: 3, kernelSize: 3, padding: 'same' }), inputs: [[1, 4, 4, 2]] },
  MaxPooling2D: { make: () => new layers.MaxPooling2D({ poolSize: 2 }), inputs: [[2, 4, 4, 2]], eps: 1e-3 },
  AveragePooling2D: { make: () => new layers.AveragePooling2D({ poolSize: 3, strides: 2, padding: 'same' }), inputs: [[1, 5, 5, 2]] },
  GlobalAveragePooling2D: { make: () => new layers.GlobalAveragePooling2D(), inputs: [[2, 3, 3, 2]] },
  GlobalMaxPooling2D: { make: () => new layers.GlobalMaxPooling2D(), inputs: [[2, 3, 3, 2]], eps: 1e-3 },
  Flatten: { make: () => new layers.Flatten(), inputs: [[2, 3, 2]] },
  Reshape: { make: () => new layers.Reshape({ targetShape: [3, -1] }), inputs: [[2, 6]] },
  Dropout: { make: () => new layers.Dropout({ rate: 0.5 }), inputs: [[2, 6]] },
  Activation: { make: () => new layers.Activation({ activation: 'softmax' }), inputs: [[2, 5]] },
  // Inputs in [-1, 1) never equal maskValue 2 exactly: every step is kept, the gradient is 1.
  // (test/layers/recurrent.test.ts checks gradients through masked steps.)
  Masking: { make: () => new layers.Masking({ maskValue: 2 }), inputs: [[2, 3, 2]] },
  BatchNormalization: { make: () => new layers.BatchNormalization(), inputs: [[4, 2, 3]] },
  Add: { make: () => new layers.Add(), inputs: [[2, 3], [2, 3]] },
  Multiply: { make: () => new layers.Multiply(), inputs: [[2, 3], [2, 3]] },
  Average: { make: () => new layers.Average(), inputs: [[2, 3], [2, 3], [2, 3]] },
  Concatenate: { make: () => new layers.Concatenate(), inputs: [[2, 2, 3], [2, 2, 1]] },
  LayerNormalization: { make: () => new layers.LayerNormalization({ gammaInitializer: 'glorotUniform', betaInitializer: 'glorotUniform' }), inputs: [[2, 3, 4]] },
  ZeroPadding2D: { make: () => new layers.ZeroPadding2D({ padding: [[1, 0], [2, 1]] }), inputs: [[1, 2, 3, 2]] },
  UpSampling2D: { make: () => new layers.UpSampling2D({ size: [2, 3] }), inputs: [[1, 2, 2, 2]] },
  RandomTranslation: { make: () => new layers.RandomTranslation({ heightFactor: 0.5, widthFactor: [-0.4, 0.4], fillMode: 'constant', fillValue: 0.3 }), inputs: [[2, 4, 5, 2]] },
  RandomRotation: { make: () => new layers.RandomRotation({ factor: 0.2, fillMode: 'constant', fillValue: 0.3 }), inputs: [[2, 4, 5, 2]] },
  RandomZoom: { make: () => new layers.RandomZoom({ heightFactor: 0.4, widthFactor: [-0.3, 0.2], fillMode: 'reflect' }), inputs: [[2, 4, 5, 2]] },
  Normalization: { make: () => new layers.Normalization({ mean: [0.5, -1, 2], variance: [4, 0.25, 1] }), inputs: [[2, 2, 3]] },
  // Ids in (-1, 1) truncate to 0: the table's row 0 gets gradients, the ids none.
  Embedding: { make: () => new layers.Embedding({ inputDim: 3, outputDim: 2 }), inputs: [[2, 3]] },
  SimpleRNN: { make: () => new layers.SimpleRNN({ units: 2, returnSequences: true }), inputs: [[2, 3, 2]] },
  LSTM: { make: () => new layers.LSTM({ units: 2, biasInitializer: 'glorotUniform' }), inputs: [[2, 3, 2]] },
  GRU: { make: () => new layers.GRU({ units: 2, returnSequences: true, biasInitializer: 'glorotUniform' }), inputs: [[2, 3, 2]] },
  Bidirectional: { make: () => new layers.Bidirectional({ layer: new layers.LSTM({ units: 2, returnSequences: true }) }), inputs: [[2, 3, 2]] },
};

function project(y: Tensor): Tensor {
  const rng = new Random(11);
  return ops.sum(ops.mul(y, tensor(new Float32Array(y.size).map(() => rng.uniformRange(0.5, 1.5)), y.shape)));
}

function check(name: string, row: Row): void {
  const layer = row.make();
  const rng = new Random(3);
  const values = row.inputs.map((s) => Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.uniformRange(-1, 1)));
  const inputs = values.map((v, i) => tensor(v, row.inputs[i]));
  const forward = (xs: Tensor[]) => project(layer.apply(xs, { training: true, rng: new Random(5) }));
  noGrad(() => forward(inputs)); // builds the layer
  const weights = layer.trainableWeights;
  const watched = [...inputs, ...weights.map((w) => w.value)];
  const { grads } = valueAndGrads(() => forward(inputs), watched);
  const eps = row.eps ?? 1e-2;
  const evaluate = () => noGrad(() => forward(inputs).dataSync()[0]);
  watched.forEach((t, k) => {
    const what = k < inputs.length ? `input ${k}` : `weight '${weights[k - inputs.length].name}'`;
    // The view is taken afresh for every write: a forward pass may grow the memory, which
    // detaches earlier views (writes to them would silently do nothing).
    const heap = () => t.backend.heap.f32;
    const base = t.ptr >> 2;
    const analytic = grads[k].dataSync();
    for (let i = 0; i < t.size; i++) {
      const saved = heap()[base + i];
      heap()[base + i] = saved + eps;
      const up = evaluate();
      heap()[base + i] = saved - eps;
      const down = evaluate();
      heap()[base + i] = saved;
      const numeric = (up - down) / (2 * eps);
      if (!(Math.abs(analytic[i] - numeric) <= 2e-2 * Math.max(1, Math.abs(numeric)))) {
        throw new Error(`${name}: ${what}, index ${i}: tape gradient ${analytic[i]}, finite difference ${numeric}`);
      }
    }
  });
}

describe('layer gradients match finite differences', () => {
  for (const [name, row] of Object.entries(LAYER_ROWS)) it(name, () => check(name, row));

  it('every exported layer class has a row', () => {
    const classes = Object.entries(layers)
      .filter(([, v]) => typeof v === 'function' && v.prototype instanceof Layer && v !== layers.InputLayer)
      .map(([k]) => k);
    const missing = classes.filter((c) => !(c in LAYER_ROWS));
    expect(missing).toEqual([]);
  });
});
