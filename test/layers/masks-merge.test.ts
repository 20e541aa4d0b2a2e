// Masks through the merge layers (Add, Average, Multiply, Concatenate) and the normalization layers
// (LayerNormalization, BatchNormalization). Each model with a mask is checked against the same
// LSTM run, sample by sample, on only the steps the mask keeps (the padded steps cut out by
// hand), and each check also confirms that a dropped or different mask would give other values.
// Runs in Node and in the browser.

import { expectTapeMatchesDifferences } from '../helpers/gradients.js';
import { describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autodiff/tape.js';
import { getBackend } from '../../src/backend/backend.js';
import {
  Add, BatchNormalization, Concatenate, Dense, Embedding, Input, LayerNormalization, LSTM, Masking, Model,
  Multiply, Average, setRandomSeed, tensor, type Tensor,
} from '../../src/index.js';
import type { Layer } from '../../src/layers/layer.js';
import * as ops from '../../src/ops/index.js';
import { Random } from '../../src/util/random.js';

const UNITS = 3;

/** Ids [3, 5] with padding (0) at different steps in each input. */
const IDS_A = [[3, 1, 4, 0, 0], [0, 0, 2, 7, 1], [5, 0, 9, 6, 2]];
const IDS_B = [[2, 6, 0, 1, 0], [0, 3, 8, 0, 4], [1, 7, 4, 3, 0]];

const keepOf = (ids: number[][]) => ids.flat().map((id) => (id === 0 ? 0 : 1));
const and = (a: number[], b: number[]) => a.map((v, i) => v * b[i]);
const or = (a: number[], b: number[]) => a.map((v, i) => Math.max(v, b[i]));

function values(seed: number, shape: number[]): Tensor {
  const rng = new Random(seed);
  return tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniformRange(-1, 1)), shape);
}

/** Gives every weight of `layer` values in [-0.5, 0.5], so that zero biases hide nothing. */
function randomizeWeights(layer: Layer, seed: number): void {
  const rng = new Random(seed);
  for (const w of layer.weights) w.assign(w.read().map(() => rng.uniformRange(-0.5, 0.5)));
}

/**
 * The LSTM's last output per sample of `seq` [batch, steps, features], run on only the steps
 * where `keep` [batch * steps] is 1: what a mask must amount to.
 */
function onKeptSteps(lstm: LSTM, seq: Tensor, keep: number[]): number[] {
  const [batch, steps, features] = seq.shape;
  const data = seq.dataSync();
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    const kept: number[] = [];
    for (let t = 0; t < steps; t++) {
      if (keep[b * steps + t] === 1) kept.push(...data.subarray((b * steps + t) * features, (b * steps + t + 1) * features));
    }
    expect(kept.length, `sample ${b} keeps a step`).toBeGreaterThan(0);
    out.push(...lstm.apply(tensor(kept, [1, kept.length / features, features])).dataSync());
  }
  return out;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tolerance: number, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tolerance * Math.max(1, Math.abs(want[i])))) {
      throw new Error(`${what}: index ${i}: got ${got[i]}, expected ${want[i]}`);
    }
  }
}

/** The largest absolute difference: shows that a wrong mask would be caught. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/**
 * Checks that `model` (ending in `lstm`) gives the LSTM's output on only the steps `keep` marks,
 * where `seq` is what reaches the LSTM, and that each mask in `wrong` would give other values.
 */
function expectMasked(model: Model, x: Tensor[], lstm: LSTM, seq: Tensor, keep: number[], wrong: Record<string, number[]>): void {
  const got = (model.predict(x) as Tensor).dataSync();
  expectClose(got, onKeptSteps(lstm, seq, keep), 1e-5, 'masked model against the kept steps');
  for (const [what, mask] of Object.entries(wrong)) {
    expect(maxDiff(got, onKeptSteps(lstm, seq, mask)), `${what} would differ`).toBeGreaterThan(1e-3);
  }
}

describe('Add, Average and Multiply merge masks with AND', () => {
  for (const Merge of [Add, Average, Multiply]) {
    it(`${Merge.name}: Embedding(maskZero) on two inputs -> ${Merge.name} -> LSTM skips a step either input pads`, () => {
      setRandomSeed(1);
      const ia = Input({ shape: [5] });
      const ib = Input({ shape: [5] });
      const ea = new Embedding({ inputDim: 10, outputDim: 4, maskZero: true });
      const eb = new Embedding({ inputDim: 10, outputDim: 4, maskZero: true });
      const merged = new Merge().apply([ea.apply(ia), eb.apply(ib)]);
      expect(merged.masked).toBe(true);
      const lstm = new LSTM({ units: UNITS });
      const model = new Model({ inputs: [ia, ib], outputs: lstm.apply(merged) });
      randomizeWeights(lstm, 2);
      const xa = tensor(IDS_A, [3, 5], 'int32');
      const xb = tensor(IDS_B, [3, 5], 'int32');
      const seq = new Merge().apply([ea.apply(xa), eb.apply(xb)]);
      const [a, b] = [keepOf(IDS_A), keepOf(IDS_B)];
      expectMasked(model, [xa, xb], lstm, seq, and(a, b), {
        'no mask': new Array<number>(15).fill(1), 'OR': or(a, b), 'the first input\'s mask': a, 'the second input\'s mask': b,
      });
    });
  }

  it('an input without a mask counts as all ones; no masked input, no mask', () => {
    setRandomSeed(3);
    const ids = Input({ shape: [5] });
    const features = Input({ shape: [5, 4] });
    const embedding = new Embedding({ inputDim: 10, outputDim: 4, maskZero: true });
    // The masked input second: a layer that passed on only its first input's mask would drop it.
    const sum = new Add().apply([features, embedding.apply(ids)]);
    expect(sum.masked).toBe(true);
    expect(new Add().apply([features, features]).masked).toBe(false);
    expect(new Multiply().apply([features, new Dense({ units: 4 }).apply(features)]).masked).toBe(false);
    const lstm = new LSTM({ units: UNITS });
    const model = new Model({ inputs: [ids, features], outputs: lstm.apply(sum) });
    randomizeWeights(lstm, 4);
    const x = tensor(IDS_A, [3, 5], 'int32');
    const f = values(5, [3, 5, 4]);
    const seq = ops.add(f, embedding.apply(x));
    expectMasked(model, [x, f], lstm, seq, keepOf(IDS_A), { 'no mask': new Array<number>(15).fill(1) });

    const add = new Add();
    const m = tensor([[1, 0], [1, 1]]);
    const a = values(6, [2, 2, 3]);
    expect(add.computeMask([a, a, a], [null, null, null])).toEqual([null]);
    expect(Array.from(add.computeMask([a, a, a], [null, m, tensor([[0, 1], [1, 1]])])[0]!.dataSync())).toEqual([0, 0, 1, 1]);
  });

  it('a mask of the wrong shape is named in the error', () => {
    const add = new Add({ name: 'sum' });
    const a = values(7, [2, 3, 4]);
    expect(() => add.computeMask([a, a], [tensor([[1, 0], [1, 1]]), null])).toThrow(
      "kerasm.Add: expected the mask of input 0 of layer 'sum' to have shape [2, 3] (the input's shape without its last axis), got [2, 2]",
    );
  });
});

describe('Concatenate', () => {
  it('on the features (last axis): a step is kept where every masked input keeps it', () => {
    setRandomSeed(8);
    const ia = Input({ shape: [5] });
    const ib = Input({ shape: [5] });
    const ea = new Embedding({ inputDim: 10, outputDim: 3, maskZero: true });
    const eb = new Embedding({ inputDim: 10, outputDim: 2, maskZero: true });
    const joined = new Concatenate().apply([ea.apply(ia), eb.apply(ib)]);
    expect(joined.masked).toBe(true);
    expect(joined.shape).toEqual([null, 5, 5]);
    const lstm = new LSTM({ units: UNITS });
    const model = new Model({ inputs: [ia, ib], outputs: lstm.apply(joined) });
    randomizeWeights(lstm, 9);
    const xa = tensor(IDS_A, [3, 5], 'int32');
    const xb = tensor(IDS_B, [3, 5], 'int32');
    const seq = ops.concat([ea.apply(xa), eb.apply(xb)], 2);
    const [a, b] = [keepOf(IDS_A), keepOf(IDS_B)];
    expectMasked(model, [xa, xb], lstm, seq, and(a, b), {
      'no mask': new Array<number>(15).fill(1), 'OR (Keras 3)': or(a, b), 'the first input\'s mask': a,
    });
  });

  it('on the steps (axis 1): the masks are joined in time, all ones for an input without one', () => {
    setRandomSeed(10);
    const ia = Input({ shape: [3] });
    const ib = Input({ shape: [4] });
    const ic = Input({ shape: [2] });
    const ea = new Embedding({ inputDim: 10, outputDim: 3, maskZero: true });
    const eb = new Embedding({ inputDim: 10, outputDim: 3 }); // no mask: all its steps count
    const ec = new Embedding({ inputDim: 10, outputDim: 3, maskZero: true });
    const joined = new Concatenate({ axis: 1 }).apply([ea.apply(ia), eb.apply(ib), ec.apply(ic)]);
    expect(joined.masked).toBe(true);
    expect(joined.shape).toEqual([null, 9, 3]);
    const lstm = new LSTM({ units: UNITS });
    const model = new Model({ inputs: [ia, ib, ic], outputs: lstm.apply(joined) });
    randomizeWeights(lstm, 11);
    const ids = { a: [[0, 4, 2], [7, 0, 0], [1, 2, 3]], b: [[0, 5, 1, 0], [2, 2, 0, 9], [0, 0, 0, 0]], c: [[3, 0], [0, 0], [0, 8]] };
    const xs = [tensor(ids.a, [3, 3], 'int32'), tensor(ids.b, [3, 4], 'int32'), tensor(ids.c, [3, 2], 'int32')];
    const seq = ops.concat([ea.apply(xs[0]), eb.apply(xs[1]), ec.apply(xs[2])], 1);
    const row = (m: number[][], r: number) => m[r].map((id) => (id === 0 ? 0 : 1));
    const keep = [0, 1, 2].flatMap((r) => [...row(ids.a, r), 1, 1, 1, 1, ...row(ids.c, r)]);
    const zeroB = [0, 1, 2].flatMap((r) => [...row(ids.a, r), ...row(ids.b, r), ...row(ids.c, r)]);
    expectMasked(model, xs, lstm, seq, keep, {
      'no mask': new Array<number>(27).fill(1), 'zero ids of the unmasked input as padding': zeroB,
    });
  });

  it('on other axes, as Keras: masks of rank-4 inputs joined along axis 1 or 2 (or -2)', () => {
    const x1 = values(12, [2, 2, 3, 4]);
    const x2 = values(13, [2, 2, 1, 4]);
    const x3 = values(14, [2, 1, 3, 4]);
    const m1 = tensor([[[1, 0, 1], [0, 1, 1]], [[1, 1, 0], [0, 0, 1]]]);
    const m2 = tensor([[[0], [1]], [[1], [0]]]);
    for (const axis of [2, -2]) {
      const c = new Concatenate({ axis });
      c.apply([x1, x2]);
      const mask = c.computeMask([x1, x2], [m1, m2])[0]!;
      expect(mask.shape).toEqual([2, 2, 4]);
      expect(Array.from(mask.dataSync())).toEqual([1, 0, 1, 0, 0, 1, 1, 1, 1, 1, 0, 1, 0, 0, 1, 0]);
      expect(Array.from(c.computeMask([x1, x2], [null, m2])[0]!.dataSync())).toEqual([1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
    }
    const c1 = new Concatenate({ axis: 1 });
    c1.apply([x1, x3]);
    const mask = c1.computeMask([x1, x3], [m1, null])[0]!;
    expect(mask.shape).toEqual([2, 3, 3]);
    expect(Array.from(mask.dataSync())).toEqual([1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1]);
    expect(c1.computeMask([x1, x3], [null, null])).toEqual([null]);

    // The symbolic side agrees: Masking on either input masks the output.
    const s1 = Input({ shape: [2, 3, 4] });
    const s2 = Input({ shape: [2, 1, 4] });
    expect(new Concatenate({ axis: 2 }).apply([s1, new Masking().apply(s2)]).masked).toBe(true);
    expect(new Concatenate({ axis: 2 }).apply([s1, s2]).masked).toBe(false);
  });

  it('a mask of the wrong shape is named in the error', () => {
    const c = new Concatenate({ axis: 1, name: 'join' });
    const a = values(15, [2, 3, 4]);
    expect(() => c.computeMask([a, a], [null, tensor([1, 1])])).toThrow(
      "kerasm.Concatenate: expected the mask of input 1 of layer 'join' to have shape [2, 3] (the input's shape without its last axis), got [2]",
    );
  });
});

describe('normalization layers pass the mask on', () => {
  it('LayerNormalization: Embedding(maskZero) -> LayerNormalization -> LSTM skips padded steps', () => {
    setRandomSeed(16);
    const ids = Input({ shape: [5] });
    const embedding = new Embedding({ inputDim: 10, outputDim: 4, maskZero: true });
    const norm = new LayerNormalization({ gammaInitializer: 'glorotUniform', betaInitializer: 'glorotUniform' });
    const normalized = norm.apply(embedding.apply(ids));
    expect(normalized.masked).toBe(true);
    expect(norm.apply(Input({ shape: [5, 4] })).masked).toBe(false);
    const lstm = new LSTM({ units: UNITS });
    const model = new Model({ inputs: ids, outputs: lstm.apply(normalized) });
    randomizeWeights(lstm, 17);
    const x = tensor(IDS_A, [3, 5], 'int32');
    expectMasked(model, [x], lstm, norm.apply(embedding.apply(x)), keepOf(IDS_A), { 'no mask': new Array<number>(15).fill(1) });
  });

  it('BatchNormalization at inference: Embedding(maskZero) -> BatchNormalization -> LSTM skips padded steps', () => {
    setRandomSeed(18);
    const ids = Input({ shape: [5] });
    const embedding = new Embedding({ inputDim: 10, outputDim: 4, maskZero: true });
    const norm = new BatchNormalization();
    const normalized = norm.apply(embedding.apply(ids));
    expect(normalized.masked).toBe(true);
    const lstm = new LSTM({ units: UNITS });
    const model = new Model({ inputs: ids, outputs: lstm.apply(normalized) });
    randomizeWeights(norm, 19);
    norm.movingVariance.assign(new Float32Array([0.5, 1, 2, 1.5]));
    randomizeWeights(lstm, 20);
    const x = tensor(IDS_B, [3, 5], 'int32');
    expectMasked(model, [x], lstm, norm.apply(embedding.apply(x)), keepOf(IDS_B), { 'no mask': new Array<number>(15).fill(1) });
  });

  /** Per channel: the mean and biased variance over the rows of x [rows, channels] that `keep` keeps (float64). */
  function keptMoments(x: ArrayLike<number>, channels: number, keep: number[]): { mean: number[]; variance: number[] } {
    const rows = keep.map((k, r) => (k === 1 ? r : -1)).filter((r) => r >= 0);
    const mean = Array.from({ length: channels }, (_, c) => rows.reduce((s, r) => s + x[r * channels + c], 0) / rows.length);
    const variance = mean.map((m, c) => rows.reduce((s, r) => s + (x[r * channels + c] - m) ** 2, 0) / rows.length);
    return { mean, variance };
  }

  it('BatchNormalization while training takes its statistics over the kept positions only (Keras 3)', () => {
    const norm = new BatchNormalization({ momentum: 0.5, epsilon: 1e-3 });
    const x = values(21, [3, 4, 2]);
    const keep = [1, 1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1];
    const mask = tensor(keep, [3, 4]);
    norm.apply(x);
    randomizeWeights(norm, 22);
    norm.movingMean.assign(new Float32Array([0.2, -0.4]));
    norm.movingVariance.assign(new Float32Array([1, 2]));
    const gamma = norm.gamma!.read().slice();
    const beta = norm.beta!.read().slice();
    const y = norm.apply(x, { training: true, masks: [mask] }).dataSync();
    const data = x.dataSync();
    const { mean, variance } = keptMoments(data, 2, keep);
    // Every position, kept or not, is normalized with the kept positions' statistics.
    const want = Array.from(data, (v, i) => ((v - mean[i % 2]) / Math.sqrt(variance[i % 2] + 1e-3)) * gamma[i % 2] + beta[i % 2]);
    expectClose(y, want, 1e-5, 'masked batch normalization');
    expectClose(norm.movingMean.read(), [0.2 * 0.5 + mean[0] * 0.5, -0.4 * 0.5 + mean[1] * 0.5], 1e-6, 'moving mean');
    expectClose(norm.movingVariance.read(), [1 * 0.5 + variance[0] * 0.5, 2 * 0.5 + variance[1] * 0.5], 1e-6, 'moving variance');
    const all = keptMoments(data, 2, new Array<number>(12).fill(1));
    expect(Math.abs(all.mean[0] - mean[0]) + Math.abs(all.mean[1] - mean[1]), 'the mask changes the statistics').toBeGreaterThan(0.05);

    // A batch whose every position is masked gives mean 0 and variance 0, not NaN.
    const empty = norm.apply(x, { training: true, masks: [tensor(new Array<number>(12).fill(0), [3, 4])] }).dataSync();
    expect(empty.every(Number.isFinite)).toBe(true);
    expect(() => norm.apply(x, { training: true, masks: [tensor([1, 0, 1], [3])] })).toThrow(
      `kerasm.BatchNormalization: expected the mask of input 0 of layer '${norm.name}' to have shape [3, 4] (the input's shape without its last axis), got [3]`,
    );
  });

  it('BatchNormalization with a mask: gradients match finite differences', () => {
    const norm = new BatchNormalization();
    const x = values(23, [2, 3, 2]);
    const masks = [tensor([[1, 0, 1], [1, 1, 0]])];
    const run = () => norm.apply(x, { training: true, rng: new Random(5), masks });
    noGrad(run); // builds the layer
    randomizeWeights(norm, 24);
    const w = values(25, [2, 3, 2]);
    // The moving statistics move at every forward pass; the output does not depend on them.
    const forward = () => ops.sum(ops.mul(run(), w));
    const watched = [x, norm.gamma!.value, norm.beta!.value];
    expectTapeMatchesDifferences('BatchNormalization with a mask', forward, watched);
  });
});

describe('training through merged masks', () => {
  it('Embedding(maskZero) x2 -> Concatenate in time -> BatchNormalization -> LSTM: loss falls and the heap stays flat', async () => {
    setRandomSeed(26);
    const ia = Input({ shape: [3], batchSize: 4 });
    const ib = Input({ shape: [3], batchSize: 4 });
    const joined = new Concatenate({ axis: 1 }).apply([
      new Embedding({ inputDim: 10, outputDim: 3, maskZero: true }).apply(ia),
      new Embedding({ inputDim: 10, outputDim: 3, maskZero: true }).apply(ib),
    ]);
    const h = new Add().apply([new BatchNormalization().apply(joined), new LayerNormalization().apply(joined)]);
    expect(h.masked).toBe(true);
    const out = new Dense({ units: 2, activation: 'softmax' }).apply(new LSTM({ units: 3 }).apply(h));
    const model = new Model({ inputs: [ia, ib], outputs: out });
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
    const xa = tensor(Int32Array.from({ length: 12 }, (_, i) => (i * 7) % 10), [4, 3], 'int32');
    const xb = tensor(Int32Array.from({ length: 12 }, (_, i) => (i * 3 + 1) % 10), [4, 3], 'int32');
    const y = tensor([0, 1, 1, 0], [4], 'int32');
    const first = model.trainOnBatch([xa, xb], y);
    model.trainOnBatch([xa, xb], y);
    const heap = getBackend().heap;
    const bytes = heap.byteLength;
    const inUse = heap.bytesInUse;
    let last = first;
    for (let i = 0; i < 50; i++) last = model.trainOnBatch([xa, xb], y);
    expect(heap.byteLength).toBe(bytes);
    expect(heap.bytesInUse).toBe(inUse);
    expect(last).toBeLessThan(first);
  });
});
