// Recurrent layers (SimpleRNN, LSTM, GRU, Bidirectional) and Embedding: Keras weight layouts,
// output shapes, values against a float64 transcription of Keras's equations, goBackwards,
// gradients through time against finite differences, errors, a sequence task learned with
// fit, and a flat heap over many training steps; returnState, initialState, stateful layers and
// masks (Embedding maskZero, Masking) against the same transcription. At the end, the shapes, values and errors of
// the layers added with them (Concatenate, LayerNormalization, ZeroPadding2D, UpSampling2D);
// test/layers/tfjs-parity.node.test.ts checks all of them against tfjs-layers. Runs in Node
// and in the browser.

import { expectTapeMatchesDifferences } from '../helpers/gradients.js';
import { describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autodiff/tape.js';
import { getBackend } from '../../src/backend/backend.js';
import {
  Bidirectional, Concatenate, Conv1D, Dense, Dropout, Embedding, Flatten, GRU, Input, io, LayerNormalization,
  loadModel, LSTM, Masking, Model, Sequential, SimpleRNN, UpSampling2D, ZeroPadding2D, setRandomSeed, tensor,
  type Tensor,
} from '../../src/index.js';
import { saveToMemory } from '../io/helpers.js';
import type { Layer } from '../../src/layers/layer.js';
import * as ops from '../../src/ops/index.js';
import { Random } from '../../src/util/random.js';

const BATCH = 3;
const STEPS = 5;
const FEATURES = 4;
const UNITS = 3;

function sequence(seed: number, shape: number[] = [BATCH, STEPS, FEATURES]): Tensor {
  const rng = new Random(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from({ length: n }, () => rng.uniformRange(-1, 1)), shape);
}

/** Gives every weight of `layer` values in [-0.5, 0.5], so that zero biases hide nothing. */
function randomizeWeights(layer: Layer, seed: number): void {
  const rng = new Random(seed);
  for (const w of layer.weights) w.assign(w.read().map(() => rng.uniformRange(-0.5, 0.5)));
}

// ---- A float64 transcription of Keras's equations (keras/src/layers/rnn/*.py) -------------

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

type Cell = (x: number[], state: number[][]) => number[][];

/** row · matrix for a row-major [rows, cols] matrix. */
function dot(row: number[], m: Float32Array, cols: number): number[] {
  const out = new Array<number>(cols).fill(0);
  row.forEach((v, r) => {
    for (let c = 0; c < cols; c++) out[c] += v * m[r * cols + c];
  });
  return out;
}

function cellOf(layer: SimpleRNN | LSTM | GRU): { cell: Cell; stateCount: number } {
  const [kernel, recurrent, bias] = layer.weights.map((w) => w.read());
  const u = layer.units;
  if (layer instanceof SimpleRNN) {
    return {
      stateCount: 1,
      cell: (x, [h]) => {
        const xk = dot(x, kernel, u);
        const hr = dot(h, recurrent, u);
        return [xk.map((v, j) => Math.tanh(v + hr[j] + bias[j]))];
      },
    };
  }
  if (layer instanceof LSTM) {
    return {
      stateCount: 2,
      cell: (x, [h, c]) => {
        const xk = dot(x, kernel, 4 * u);
        const hr = dot(h, recurrent, 4 * u);
        const z = xk.map((v, j) => v + hr[j] + bias[j]);
        const gate = (k: number, j: number) => z[k * u + j];
        const cNext = c.map((cj, j) => sigmoid(gate(1, j)) * cj + sigmoid(gate(0, j)) * Math.tanh(gate(2, j)));
        const hNext = cNext.map((cj, j) => sigmoid(gate(3, j)) * Math.tanh(cj));
        return [hNext, cNext];
      },
    };
  }
  const resetAfter = layer.resetAfter;
  const inputBias = resetAfter ? bias.subarray(0, 3 * u) : bias;
  const recurrentBias = resetAfter ? bias.subarray(3 * u) : new Float32Array(3 * u);
  return {
    stateCount: 1,
    cell: (x, [h]) => {
      const xk = dot(x, kernel, 3 * u).map((v, j) => v + inputBias[j]);
      const hr = dot(h, recurrent, 3 * u).map((v, j) => v + recurrentBias[j]);
      const z = h.map((_, j) => sigmoid(xk[j] + hr[j]));
      const r = h.map((_, j) => sigmoid(xk[u + j] + hr[u + j]));
      let hh: number[];
      if (resetAfter) {
        hh = h.map((_, j) => Math.tanh(xk[2 * u + j] + r[j] * hr[2 * u + j]));
      } else {
        const rh = h.map((v, j) => r[j] * v);
        const cand = dot(rh, recurrent.filter((_, i) => i % (3 * u) >= 2 * u), u);
        hh = h.map((_, j) => Math.tanh(xk[2 * u + j] + cand[j]));
      }
      return [h.map((v, j) => z[j] * v + (1 - z[j]) * hh[j])];
    },
  };
}

interface Transcribed {
  /** The layer's output, flat. */
  output: number[];
  /** The final state per state tensor, flat ([batch, units]). */
  states: number[][];
}

/**
 * The layer's output and final state computed by the transcription, from `initial` (flat
 * [batch, units] per state tensor; zeros if absent), skipping the steps where `mask` [batch,
 * steps] is 0 as Keras does: the state is kept and the previous output repeated.
 */
function transcribe(layer: SimpleRNN | LSTM | GRU, x: Tensor, initial?: ArrayLike<number>[], mask?: ArrayLike<number>): Transcribed {
  const [batch, steps, features] = x.shape;
  const data = x.dataSync();
  const u = layer.units;
  const { cell, stateCount } = cellOf(layer);
  const out: number[][][] = [];
  const finals: number[][][] = Array.from({ length: stateCount }, () => []);
  for (let b = 0; b < batch; b++) {
    let state = Array.from({ length: stateCount }, (_, k) =>
      initial ? Array.from(initial[k]).slice(b * u, (b + 1) * u) : new Array<number>(u).fill(0));
    const outputs: number[][] = [];
    for (let s = 0; s < steps; s++) {
      const t = layer.goBackwards ? steps - 1 - s : s;
      const xt = Array.from(data.subarray((b * steps + t) * features, (b * steps + t + 1) * features));
      if (!mask || mask[b * steps + t] !== 0) state = cell(xt, state);
      outputs.push(state[0]);
    }
    out.push(layer.returnSequences ? outputs : [outputs[outputs.length - 1]]);
    state.forEach((v, k) => finals[k].push(v));
  }
  return { output: out.flat(2), states: finals.map((f) => f.flat()) };
}

/** The layer's output computed by the transcription, as a flat array. */
function expected(layer: SimpleRNN | LSTM | GRU, x: Tensor): number[] {
  return transcribe(layer, x).output;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tolerance: number, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tolerance * Math.max(1, Math.abs(want[i])))) {
      throw new Error(`${what}: index ${i}: got ${got[i]}, expected ${want[i]}`);
    }
  }
}

// ---- Cases --------------------------------------------------------------------------------

interface Case {
  name: string;
  make: (extra: { returnSequences?: boolean; goBackwards?: boolean; returnState?: boolean }) => SimpleRNN | LSTM | GRU;
  /** Kernel columns per unit. */
  gates: number;
  biasShape: number[];
}

const CASES: Case[] = [
  { name: 'SimpleRNN', make: (e) => new SimpleRNN({ units: UNITS, ...e }), gates: 1, biasShape: [UNITS] },
  { name: 'LSTM', make: (e) => new LSTM({ units: UNITS, ...e }), gates: 4, biasShape: [4 * UNITS] },
  { name: 'GRU', make: (e) => new GRU({ units: UNITS, ...e }), gates: 3, biasShape: [2, 3 * UNITS] },
  { name: 'GRU (resetAfter false)', make: (e) => new GRU({ units: UNITS, resetAfter: false, ...e }), gates: 3, biasShape: [3 * UNITS] },
];

describe('recurrent layers', () => {
  for (const c of CASES) {
    describe(c.name, () => {
      it('declares Keras weight layouts and gives the output shapes of returnSequences', () => {
        const last = c.make({});
        const x = Input({ shape: [STEPS, FEATURES] });
        expect(last.apply(x).shape).toEqual([null, UNITS]);
        expect(last.weights.map((w) => w.shape)).toEqual([
          [FEATURES, c.gates * UNITS], [UNITS, c.gates * UNITS], c.biasShape,
        ]);
        expect(last.weights.map((w) => w.name.split('/')[1])).toEqual(['kernel', 'recurrent_kernel', 'bias']);
        const all = c.make({ returnSequences: true });
        expect(all.apply(x).shape).toEqual([null, STEPS, UNITS]);
        const real = all.apply(sequence(1));
        expect(real.shape).toEqual([BATCH, STEPS, UNITS]);
      });

      for (const goBackwards of [false, true]) {
        for (const returnSequences of [false, true]) {
          it(`matches Keras's equations (goBackwards ${goBackwards}, returnSequences ${returnSequences})`, () => {
            const layer = c.make({ goBackwards, returnSequences });
            const x = sequence(2);
            layer.apply(x); // builds
            randomizeWeights(layer, 7);
            expectClose(layer.apply(x).dataSync(), expected(layer, x), 1e-5, c.name);
          });
        }
      }

      it('goBackwards equals running forwards over the reversed sequence', () => {
        const forwards = c.make({ returnSequences: true });
        const backwards = c.make({ returnSequences: true, goBackwards: true });
        const x = sequence(3);
        forwards.apply(x);
        backwards.apply(x);
        randomizeWeights(forwards, 9);
        randomizeWeights(backwards, 9);
        const reversed = ops.gather(x, tensor([4, 3, 2, 1, 0], [5], 'int32'), 1);
        expectClose(backwards.apply(x).dataSync(), forwards.apply(reversed).dataSync(), 1e-6, c.name);
      });
    });
  }

  it('LSTM starts the forget gate bias at 1 (unitForgetBias) unless told not to', () => {
    const x = sequence(4);
    const lstm = new LSTM({ units: 2 });
    lstm.apply(x);
    expect(Array.from(lstm.bias!.read())).toEqual([0, 0, 1, 1, 0, 0, 0, 0]);
    const plain = new LSTM({ units: 2, unitForgetBias: false });
    plain.apply(x);
    expect(Array.from(plain.bias!.read())).toEqual(new Array(8).fill(0));
  });

  it('getConfig lists the constructor arguments in camelCase', () => {
    const config = new GRU({ units: 4, returnSequences: true, resetAfter: false }).getConfig();
    expect(config).toMatchObject({
      units: 4, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true,
      returnSequences: true, goBackwards: false, resetAfter: false, dropout: 0, recurrentDropout: 0,
      kernelInitializer: { className: 'GlorotUniform' }, recurrentInitializer: { className: 'Orthogonal' },
    });
    expect(new LSTM({ units: 1 }).getConfig()).toMatchObject({ unitForgetBias: true });
  });

  it('rejects inputs that are not [batch, steps, features], naming the layer', () => {
    const lstm = new LSTM({ units: 2, name: 'seq' });
    expect(() => lstm.apply(Input({ shape: [4] }))).toThrow(
      "kerasm.LSTM: expected input of rank 3 (batch, timesteps, features) for layer 'seq', got shape (None, 4)",
    );
    lstm.apply(Input({ shape: [5, 3] }));
    expect(() => lstm.apply(sequence(1, [2, 5, 4]))).toThrow(
      "kerasm.LSTM: expected input with 3 features (last axis) for layer 'seq', got shape (None, 5, 4)",
    );
    expect(() => new GRU({ units: 0 })).toThrow('kerasm.GRU: expected units to be a positive integer, got 0');
    expect(() => new SimpleRNN({ units: 2, dropout: 1 })).toThrow('kerasm.SimpleRNN: expected dropout in [0, 1), got 1');
  });

  it('dropout and recurrentDropout act while training only', () => {
    const layer = new LSTM({ units: 3, dropout: 0.5, recurrentDropout: 0.5 });
    const x = sequence(5);
    const inference = layer.apply(x).dataSync();
    expect(layer.apply(x).dataSync()).toEqual(inference);
    const trained = layer.apply(x, { training: true, rng: new Random(1) }).dataSync();
    expect(Array.from(trained)).not.toEqual(Array.from(inference));
  });
});

// ---- Gradients through time -----------------------------------------------------------------

/** Checks the tape's gradients of sum(w * layer(x)) against central differences. */
function checkGradients(layer: Layer, x: Tensor, watchInput = true, masks?: Tensor[]): void {
  const run = () => layer.apply(x, { training: true, rng: new Random(5), masks });
  const shape = noGrad(run).shape; // builds the layer
  const rng = new Random(11);
  const n = shape.reduce((p, d) => p * d, 1);
  const w = tensor(Float32Array.from({ length: n }, () => rng.uniformRange(0.5, 1.5)), shape);
  const forward = () => ops.sum(ops.mul(run(), w));
  const watched = [...(watchInput ? [x] : []), ...layer.trainableWeights.map((v) => v.value)];
  expectTapeMatchesDifferences(layer.className, forward, watched);
}

describe('gradients through time match finite differences', () => {
  it('GRU with resetAfter false, returning sequences', () => {
    const layer = new GRU({ units: 2, resetAfter: false, returnSequences: true, biasInitializer: 'glorotUniform' });
    checkGradients(layer, sequence(6, [2, 4, 3]));
  });

  it('LSTM going backwards, with dropout and recurrent dropout', () => {
    const layer = new LSTM({ units: 2, goBackwards: true, dropout: 0.3, recurrentDropout: 0.3 });
    checkGradients(layer, sequence(7, [2, 4, 3]));
  });

  it('Bidirectional GRU, merge mode ave (last outputs)', () => {
    const layer = new Bidirectional({ layer: new GRU({ units: 2 }), mergeMode: 'ave' });
    checkGradients(layer, sequence(8, [2, 3, 2]));
  });

  it('Embedding: each id\'s row gets the sum of its gradients (repeated ids add up)', () => {
    const layer = new Embedding({ inputDim: 5, outputDim: 3 });
    checkGradients(layer, tensor([[0, 4, 4], [2, 0, 4]], [2, 3], 'int32'), false);
  });
});

// ---- Bidirectional ----------------------------------------------------------------------------

describe('Bidirectional', () => {
  it('runs a forward and a backward copy and merges them, backward outputs flipped in time', () => {
    const x = sequence(9);
    const expectedShapes = { concat: [BATCH, STEPS, 2 * UNITS], sum: [BATCH, STEPS, UNITS], mul: [BATCH, STEPS, UNITS], ave: [BATCH, STEPS, UNITS] };
    for (const mergeMode of ['concat', 'sum', 'mul', 'ave'] as const) {
      const bi = new Bidirectional({ layer: new LSTM({ units: UNITS, returnSequences: true, name: `l_${mergeMode}` }), mergeMode });
      const y = bi.apply(x);
      expect(y.shape).toEqual(expectedShapes[mergeMode]);
      expect(bi.weights.map((w) => w.name)).toEqual([
        `forward_l_${mergeMode}/kernel`, `forward_l_${mergeMode}/recurrent_kernel`, `forward_l_${mergeMode}/bias`,
        `backward_l_${mergeMode}/kernel`, `backward_l_${mergeMode}/recurrent_kernel`, `backward_l_${mergeMode}/bias`,
      ]);
      expect(bi.backwardLayer.goBackwards).toBe(true);
      randomizeWeights(bi, 3);
      const f = Array.from(bi.forwardLayer.apply(x).dataSync());
      const b = Array.from(bi.backwardLayer.apply(x).dataSync());
      // Row (batch i, step t) of the backward output is the backward layer's step STEPS-1-t.
      const flipped = f.map((_, k) => {
        const j = k % UNITS;
        const t = Math.floor(k / UNITS) % STEPS;
        const i = Math.floor(k / (UNITS * STEPS));
        return b[(i * STEPS + (STEPS - 1 - t)) * UNITS + j];
      });
      const merged = {
        concat: f.flatMap((_, k) => (k % UNITS === 0 ? [...f.slice(k, k + UNITS), ...flipped.slice(k, k + UNITS)] : [])),
        sum: f.map((v, k) => v + flipped[k]),
        mul: f.map((v, k) => v * flipped[k]),
        ave: f.map((v, k) => (v + flipped[k]) / 2),
      }[mergeMode];
      expectClose(bi.apply(x).dataSync(), merged, 1e-6, `Bidirectional ${mergeMode}`);
    }
  });

  it('takes its input shape from the wrapped layer and rejects what it cannot wrap', () => {
    const model = new Sequential([
      new Bidirectional({ layer: new SimpleRNN({ units: 2, inputShape: [4, 3] }) }),
      new Dense({ units: 1 }),
    ]);
    expect(model.outputs[0].shape).toEqual([null, 1]);
    expect(model.weights).toHaveLength(8);
    expect(() => new Bidirectional({ layer: new Dense({ units: 2 }) as unknown as LSTM })).toThrow(
      /kerasm.Bidirectional: expected layer to be a SimpleRNN, LSTM or GRU, got Dense/,
    );
    expect(() => new Bidirectional({ layer: new LSTM({ units: 2 }), mergeMode: 'max' as 'sum' })).toThrow(
      "kerasm.Bidirectional: expected mergeMode among concat, sum, mul, ave, got 'max'",
    );
    expect(new Bidirectional({ layer: new GRU({ units: 2 }), mergeMode: 'sum' }).getConfig()).toMatchObject({
      mergeMode: 'sum', layer: { className: 'GRU', config: { units: 2, resetAfter: true } },
    });
  });
});

// ---- Embedding --------------------------------------------------------------------------------

describe('Embedding', () => {
  it('looks up rows for int32 ids, and for float ids cast as Keras casts them', () => {
    const layer = new Embedding({ inputDim: 4, outputDim: 2 });
    const ids = tensor([[3, 0], [1, 1]], [2, 2], 'int32');
    const y = layer.apply(ids);
    expect(y.shape).toEqual([2, 2, 2]);
    const table = layer.embeddings.read();
    expect(Array.from(y.dataSync())).toEqual([3, 0, 1, 1].flatMap((id) => [table[2 * id], table[2 * id + 1]]));
    expect(Array.from(layer.apply(tensor([[3, 0], [1.7, 1]])).dataSync())).toEqual(Array.from(y.dataSync()));
    expect(Array.from(table).every((v) => v >= -0.05 && v <= 0.05)).toBe(true);
    expect(layer.getConfig()).toMatchObject({ inputDim: 4, outputDim: 2, embeddingsInitializer: { className: 'RandomUniform' } });
    expect(layer.apply(Input({ shape: [7] })).shape).toEqual([null, 7, 2]);
  });

  it('names an id out of range', () => {
    const layer = new Embedding({ inputDim: 4, outputDim: 2, name: 'words' });
    expect(() => layer.apply(tensor([[1, 4]], [1, 2], 'int32'))).toThrow(
      "kerasm.Embedding: expected ids in [0, 3] (inputDim 4) for layer 'words', got 4 at flat index 1 of an input of shape [1, 2]",
    );
    expect(() => layer.apply(tensor([[-1, 0]]))).toThrow(/got -1 at flat index 0/);
    expect(() => new Embedding({ inputDim: 0, outputDim: 2 })).toThrow('kerasm.Embedding: expected inputDim to be a positive integer, got 0');
  });
});

// ---- Training ---------------------------------------------------------------------------------

/** Sequences of 8 numbers in [-1, 1]; the label says whether their sum is positive. */
function sumSign(n: number, seed: number) {
  const rng = new Random(seed);
  const x = new Float32Array(n * 8).map(() => rng.uniformRange(-1, 1));
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) y[i] = x.subarray(i * 8, i * 8 + 8).reduce((a, b) => a + b, 0) > 0 ? 1 : 0;
  return { x: tensor(x, [n, 8, 1]), y: tensor(y, [n, 1]) };
}

describe('training', () => {
  it('an LSTM learns the sign of a sequence\'s sum with fit', async () => {
    setRandomSeed(1);
    const model = new Sequential([
      new LSTM({ units: 8, inputShape: [8, 1] }),
      new Dense({ units: 1, activation: 'sigmoid' }),
    ]);
    model.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] });
    (model.optimizer as unknown as { learningRate: number }).learningRate = 0.03;
    const train = sumSign(512, 2);
    await model.fit(train.x, train.y, { epochs: 6, batchSize: 32, verbose: 0 });
    const test = sumSign(200, 3);
    expect(model.evaluate(test.x, test.y).accuracy).toBeGreaterThan(0.9);
  });

  it('many training steps of Embedding + Bidirectional GRU keep the heap flat', () => {
    setRandomSeed(2);
    const ids = Input({ shape: [6] });
    const h = new Bidirectional({ layer: new GRU({ units: 4, returnSequences: true, dropout: 0.2 }) }).apply(
      new Embedding({ inputDim: 10, outputDim: 3 }).apply(ids),
    );
    const out = new Dense({ units: 2, activation: 'softmax' }).apply(new LSTM({ units: 3 }).apply(h));
    const model = new Model({ inputs: ids, outputs: out });
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
    const x = tensor(Int32Array.from({ length: 24 }, (_, i) => (i * 7) % 10), [4, 6], 'int32');
    const y = tensor([0, 1, 1, 0], [4], 'int32');
    model.trainOnBatch(x, y);
    model.trainOnBatch(x, y);
    const heap = getBackend().heap;
    const bytes = heap.byteLength;
    const inUse = heap.bytesInUse;
    for (let i = 0; i < 100; i++) model.trainOnBatch(x, y);
    expect(heap.byteLength).toBe(bytes);
    expect(heap.bytesInUse).toBe(inUse);
  });
});

// ---- Concatenate, LayerNormalization, ZeroPadding2D, UpSampling2D ----------------------------

describe('layers added with the recurrent ones', () => {
  it('Concatenate joins along an axis and names inputs that disagree', () => {
    const a = tensor([[[1, 2]], [[3, 4]]]); // [2, 1, 2]
    const b = tensor([[[5]], [[6]]]); // [2, 1, 1]
    expect(new Concatenate().apply([a, b]).arraySync()).toEqual([[[1, 2, 5]], [[3, 4, 6]]]);
    expect(new Concatenate({ axis: 1 }).apply([a, a]).shape).toEqual([2, 2, 2]);
    expect(new Concatenate().apply([Input({ shape: [4] }), Input({ shape: [3] })]).shape).toEqual([null, 7]);
    expect(() => new Concatenate({ name: 'cat' }).apply([Input({ shape: [4, 2] }), Input({ shape: [3, 2] })])).toThrow(
      "kerasm.Concatenate: expected inputs that agree on every axis but 2 for layer 'cat', got (None, 4, 2) and (None, 3, 2)",
    );
    expect(() => new Concatenate({ axis: 0 }).apply([a, a])).toThrow(/not the batch axis/);
  });

  it('LayerNormalization normalizes each row, then scales and shifts', () => {
    const layer = new LayerNormalization({ epsilon: 1e-3 });
    const x = tensor([[1, 2, 3, 6], [0, 0, 0, 4]]);
    layer.apply(x);
    layer.gamma!.assign(new Float32Array([1, 2, 1, 1]));
    layer.beta!.assign(new Float32Array([0, 0, 0, 1]));
    const want = [[1, 2, 3, 6], [0, 0, 0, 4]].flatMap((row) => {
      const mean = row.reduce((t, v) => t + v, 0) / 4;
      const variance = row.reduce((t, v) => t + (v - mean) ** 2, 0) / 4;
      return row.map((v, j) => ((v - mean) / Math.sqrt(variance + 1e-3)) * [1, 2, 1, 1][j] + [0, 0, 0, 1][j]);
    });
    expectClose(layer.apply(x).dataSync(), want, 1e-5, 'LayerNormalization');
    expect(layer.weights.map((w) => w.name.split('/')[1])).toEqual(['gamma', 'beta']);
    expect(() => new LayerNormalization({ name: 'ln' }).apply(Input({ shape: [] }))).toThrow(
      "kerasm.LayerNormalization: expected one input of rank >= 2 for layer 'ln', got (None,)",
    );
    expect(() => layer.apply(tensor([[1, 2]]))).toThrow(/expected input with last axis 4/);
  });

  it('ZeroPadding2D and UpSampling2D change the image size as Keras does', () => {
    const x = tensor([1, 2, 3, 4], [1, 2, 2, 1]);
    expect(new ZeroPadding2D().apply(x).shape).toEqual([1, 4, 4, 1]);
    expect(new ZeroPadding2D({ padding: [1, 2] }).apply(x).shape).toEqual([1, 4, 6, 1]);
    const padded = new ZeroPadding2D({ padding: [[0, 1], [1, 0]] }).apply(x);
    expect(padded.reshape([3, 3]).arraySync()).toEqual([[0, 1, 2], [0, 3, 4], [0, 0, 0]]);
    expect(new ZeroPadding2D({ padding: 2 }).getConfig()).toMatchObject({ padding: [[2, 2], [2, 2]] });
    expect(() => new ZeroPadding2D({ padding: [-1, 0] })).toThrow(/expected padding as a number/);
    const up = new UpSampling2D({ size: [1, 2] }).apply(x);
    expect(up.reshape([2, 4]).arraySync()).toEqual([[1, 1, 2, 2], [3, 3, 4, 4]]);
    expect(new UpSampling2D().apply(Input({ shape: [3, 5, 2] })).shape).toEqual([null, 6, 10, 2]);
    expect(() => new UpSampling2D({ name: 'up' }).apply(Input({ shape: [3, 5] }))).toThrow(
      "kerasm.UpSampling2D: expected input of rank 4 (batch, height, width, channels) for layer 'up', got shape (None, 3, 5)",
    );
    expect(() => new UpSampling2D({ interpolation: 'bilinear' as 'nearest' })).toThrow(/expected interpolation 'nearest'/);
  });
});

// ---- returnState, initialState, stateful, masks ----------------------------------------------

/** A [batch, units] state of values in [-1, 1]. */
function stateValues(seed: number, batch = BATCH, units = UNITS): Tensor {
  return sequence(seed, [batch, units]);
}

describe('returnState and initialState', () => {
  for (const c of CASES) {
    it(`${c.name}: returns [output, ...final state] and starts from a given state`, () => {
      const layer = c.make({ returnSequences: true });
      const x = sequence(21);
      layer.apply(x);
      randomizeWeights(layer, 5);
      const stateCount = layer instanceof LSTM ? 2 : 1;
      const initial = Array.from({ length: stateCount }, (_, k) => stateValues(30 + k));
      const want = transcribe(layer, x, initial.map((t) => t.dataSync()));
      expectClose(layer.apply(x, { initialState: initial }).dataSync(), want.output, 1e-5, `${c.name} output`);

      const returning = c.make({ returnSequences: true, returnState: true });
      returning.applyAll(x);
      returning.weights.forEach((w, i) => w.assign(layer.weights[i].read()));
      const all = returning.applyAll(x, { initialState: initial });
      expect(all).toHaveLength(1 + stateCount);
      expectClose(all[0].dataSync(), want.output, 1e-5, `${c.name} output with returnState`);
      want.states.forEach((s, k) => expectClose(all[1 + k].dataSync(), s, 1e-5, `${c.name} state ${k}`));
    });
  }

  it('in the functional API: an encoder hands its state to a decoder; saved and loaded', async () => {
    setRandomSeed(3);
    const source = Input({ shape: [5, 2] });
    const target = Input({ shape: [4, 3] });
    const [, h, c] = new LSTM({ units: 3, returnState: true, name: 'encoder' }).applyAll(source);
    expect([h.shape, c.shape]).toEqual([[null, 3], [null, 3]]);
    const decoded = new LSTM({ units: 3, returnSequences: true, name: 'decoder' }).apply(target, { initialState: [h, c] });
    const model = new Model({ inputs: [source, target], outputs: [new Dense({ units: 2 }).apply(decoded), h] });
    const xs = [sequence(40, [2, 5, 2]), sequence(41, [2, 4, 3])];
    const [y, hOut] = model.predict(xs) as Tensor[];

    // The same computation, layer by layer.
    const encoder = model.getLayer('encoder') as LSTM;
    const decoder = model.getLayer('decoder') as LSTM;
    const enc = transcribe(encoder, xs[0]);
    expectClose(hOut.dataSync(), enc.states[0], 1e-5, 'encoder h');
    const dec = transcribe(decoder, xs[1], enc.states);
    expectClose(decoder.apply(xs[1], { initialState: [tensor(enc.states[0], [2, 3]), tensor(enc.states[1], [2, 3])] }).dataSync(), dec.output, 1e-5, 'decoder');
    expect(y.shape).toEqual([2, 4, 2]);

    const artifacts = await saveToMemory(model);
    const topology = JSON.stringify(artifacts.modelTopology);
    expect(topology).toContain('"return_state":true');
    expect(topology).toContain('["encoder",0,2,{}]'); // c: the encoder node's third output
    const copy = await loadModel(io.fromMemory(artifacts));
    const [y2, h2] = copy.predict(xs) as Tensor[];
    expect(Array.from(y2.dataSync())).toEqual(Array.from(y.dataSync()));
    expect(Array.from(h2.dataSync())).toEqual(Array.from(hOut.dataSync()));
  });

  it('Bidirectional with returnState returns the merged output, then both directions\' states', () => {
    const bi = new Bidirectional({ layer: new LSTM({ units: 2, returnState: true }) });
    const outs = bi.applyAll(Input({ shape: [4, 3] }));
    expect(outs.map((t) => t.shape)).toEqual([[null, 4], [null, 2], [null, 2], [null, 2], [null, 2]]);
    const x = sequence(50, [2, 4, 3]);
    const [y, hf, , hb] = bi.applyAll(x);
    const f = transcribe(bi.forwardLayer as LSTM, x);
    const b = transcribe(bi.backwardLayer as LSTM, x);
    expectClose(hf.dataSync(), f.states[0], 1e-5, 'forward h');
    expectClose(hb.dataSync(), b.states[0], 1e-5, 'backward h');
    expectClose(y.dataSync(), [0, 1].flatMap((i) => [...f.output.slice(2 * i, 2 * i + 2), ...b.output.slice(2 * i, 2 * i + 2)]), 1e-5, 'merged');
  });

  it('rejects apply() on a layer with several outputs, and initial states of the wrong count or shape', () => {
    const lstm = new LSTM({ units: 3, returnState: true, name: 'enc' });
    expect(() => lstm.apply(Input({ shape: [5, 2] }))).toThrow(
      "kerasm.LSTM: layer 'enc' returns 3 tensors; get them with applyAll(), e.g. const [output, ...states] = layer.applyAll(x)",
    );
    const gru = new GRU({ units: 3, name: 'dec' });
    expect(() => gru.apply(Input({ shape: [5, 2] }), { initialState: [Input({ shape: [3] }), Input({ shape: [3] })] })).toThrow(
      "kerasm.GRU: expected an initial state of 1 tensor(s) [h] for layer 'dec', got 2",
    );
    expect(() => gru.apply(Input({ shape: [5, 2] }), { initialState: [Input({ shape: [4] })] })).toThrow(
      "kerasm.GRU: expected each initial state of layer 'dec' to have shape (None, 3), got (None, 4)",
    );
    expect(() => new LSTM({ units: 2 }).apply(sequence(1), { initialState: [stateValues(2, BATCH, 2)] })).toThrow(
      /expected an initial state of 2 tensor\(s\) \[h, c\]/,
    );
  });
});

describe('stateful', () => {
  it('carries the state across calls until resetStates, as one long sequence would', () => {
    const layer = new GRU({ units: UNITS, stateful: true, returnSequences: true, batchInputShape: [BATCH, STEPS, FEATURES] });
    const plain = new GRU({ units: UNITS, returnSequences: true });
    const first = sequence(60);
    const second = sequence(61);
    layer.apply(first);
    plain.apply(first);
    randomizeWeights(layer, 4);
    randomizeWeights(plain, 4);
    layer.resetStates();
    const a = layer.apply(first).dataSync().slice();
    const b = layer.apply(second).dataSync().slice();
    const whole = plain.apply(ops.concat([first, second], 1)).dataSync();
    // whole is [BATCH, 2 * STEPS, UNITS]: the first call gives its first half in time.
    const half = (k: number) => Array.from({ length: BATCH }, (_, i) =>
      Array.from(whole.subarray((i * 2 + k) * STEPS * UNITS, (i * 2 + k + 1) * STEPS * UNITS))).flat();
    expectClose(a, half(0), 1e-5, 'first call');
    expectClose(b, half(1), 1e-5, 'second call, continuing the first');
    expect(layer.states![0].shape).toEqual([BATCH, UNITS]);
    layer.resetStates();
    expect(Array.from(layer.apply(first).dataSync())).toEqual(Array.from(a));
    layer.resetStates([stateValues(62)]);
    expectClose(layer.apply(first).dataSync(), transcribe(layer, first, [stateValues(62).dataSync()]).output, 1e-5, 'from a given state');
  });

  it('in a Sequential model trained with fit (shuffle false), predict continues from the trained state', async () => {
    setRandomSeed(8);
    const model = new Sequential([
      new LSTM({ units: 4, stateful: true, batchInputShape: [2, 3, 1] }),
      new Dense({ units: 1 }),
    ]);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const x = sequence(70, [4, 3, 1]);
    const y = sequence(71, [4, 1]);
    await model.fit(x, y, { epochs: 2, batchSize: 2, shuffle: false, verbose: 0 });
    const lstm = model.layers[0] as LSTM;
    expect(lstm.states![0].dataSync().some((v) => v !== 0)).toBe(true);
    const p1 = (model.predict(ops.slice(x, [0, 0, 0], [2, -1, -1]), { batchSize: 2 }) as Tensor).dataSync().slice();
    const p2 = (model.predict(ops.slice(x, [0, 0, 0], [2, -1, -1]), { batchSize: 2 }) as Tensor).dataSync().slice();
    expect(Array.from(p1)).not.toEqual(Array.from(p2)); // the state moved on
    model.resetStates();
    expect(lstm.states!.every((t) => t.dataSync().every((v) => v === 0))).toBe(true);
    await expect(model.fit(x, y, { epochs: 1, batchSize: 3, shuffle: false, verbose: 0 })).rejects.toThrow(
      /expected batches of 2 samples for stateful layer 'lstm(_\d+)?' \(its fixed batch size\), got 3/,
    );
  });

  it('needs a fixed batch size, and says so', () => {
    expect(() => new Sequential([new SimpleRNN({ units: 2, stateful: true, inputShape: [3, 1], name: 'srnn' })])).toThrow(
      "kerasm.SimpleRNN: expected a fixed batch size for stateful layer 'srnn' (give it batchInputShape, or inputShape with batchSize, or use Input({ shape, batchSize })), got input shape (None, 3, 1)",
    );
    const ok = new SimpleRNN({ units: 2, stateful: true, name: 'srnn2' });
    ok.apply(Input({ shape: [3, 1], batchSize: 5 }));
    expect(() => ok.resetStates([tensor(new Float32Array(4), [2, 2])])).toThrow(
      "kerasm.SimpleRNN: expected 1 state tensor(s) of shape [5, 2] for layer 'srnn2', got [2, 2]",
    );
    expect(() => new SimpleRNN({ units: 2 }).resetStates()).toThrow(/expected a stateful layer for resetStates/);
  });
});

describe('masks', () => {
  /** Ids with padding (0): sample 0 padded at the end, sample 1 at the start, sample 2 inside. */
  const IDS = [[3, 1, 4, 0, 0], [0, 0, 2, 7, 1], [5, 0, 9, 0, 2]];
  const keep = IDS.flat().map((id) => (id === 0 ? 0 : 1));

  for (const c of CASES) {
    for (const goBackwards of [false, true]) {
      it(`${c.name}${goBackwards ? ' (goBackwards)' : ''} after Embedding maskZero skips padded steps as Keras does`, () => {
        setRandomSeed(9);
        const ids = Input({ shape: [5] });
        const embedding = new Embedding({ inputDim: 10, outputDim: FEATURES, maskZero: true });
        const embedded = embedding.apply(ids);
        expect(embedded.masked).toBe(true);
        const rnn = c.make({ returnSequences: true, goBackwards });
        const seq = rnn.apply(embedded);
        expect(seq.masked).toBe(true);
        const model = new Model({ inputs: ids, outputs: seq });
        randomizeWeights(rnn, 12);
        const x = tensor(IDS, [3, 5], 'int32');
        const vectors = embedding.apply(x);
        const want = transcribe(rnn, vectors, undefined, keep);
        expectClose((model.predict(x) as Tensor).dataSync(), want.output, 1e-5, c.name);
        // Sample 0's outputs at its padded steps repeat its last real output.
        const y = (model.predict(x) as Tensor).dataSync();
        if (!goBackwards) expect(Array.from(y.subarray(3 * UNITS, 4 * UNITS))).toEqual(Array.from(y.subarray(2 * UNITS, 3 * UNITS)));
      });
    }
  }

  it('Masking marks all-maskValue steps; the mask passes Dense and Dropout and reaches the LSTM', () => {
    setRandomSeed(10);
    const x = Input({ shape: [5, 2] });
    const masking = new Masking({ maskValue: -1 });
    const h = new Dropout({ rate: 0.5 }).apply(new Dense({ units: FEATURES }).apply(masking.apply(x)));
    expect(h.masked).toBe(true);
    const lstm = new LSTM({ units: UNITS });
    const y = lstm.apply(h);
    expect(y.masked).toBe(false); // a last output has no time axis left to mask
    const model = new Model({ inputs: x, outputs: y });
    const data = sequence(80, [2, 5, 2]).dataSync().slice();
    data.fill(-1, 2 * 2, 3 * 2); // sample 0, step 2: all -1
    data.fill(-1, 5 * 2 + 4 * 2, 5 * 2 + 5 * 2); // sample 1, step 4
    data[5 * 2 + 1 * 2] = -1; // sample 1, step 1: only one feature is -1, not masked
    const input = tensor(data, [2, 5, 2]);
    const dense = model.layers[2] as Dense;
    const dense3d = dense.apply(masking.apply(input));
    const want = transcribe(lstm, dense3d, undefined, [1, 1, 0, 1, 1, 1, 1, 1, 1, 0]);
    expectClose((model.predict(input) as Tensor).dataSync(), want.output, 1e-5, 'Masking');
    expect(Array.from(masking.apply(input).dataSync().subarray(4, 6), Math.abs)).toEqual([0, 0]);
    expect(new Masking().maskValue).toBe(0);
  });

  it('layers that change the time axis drop the mask (Flatten, Conv1D), as in Keras 3', () => {
    const x = new Embedding({ inputDim: 5, outputDim: 2, maskZero: true }).apply(Input({ shape: [4] }));
    expect(new Flatten().apply(x).masked).toBe(false);
    expect(new Conv1D({ filters: 2, kernelSize: 2 }).apply(x).masked).toBe(false);
    expect(new Embedding({ inputDim: 5, outputDim: 2 }).apply(Input({ shape: [4] })).masked).toBe(false);
  });

  it('gradients through masked steps match finite differences', () => {
    const layer = new LSTM({ units: 2, returnSequences: true, biasInitializer: 'glorotUniform' });
    const mask = tensor([[1, 0, 1, 1], [0, 1, 1, 0]]);
    checkGradients(layer, sequence(90, [2, 4, 3]), true, [mask]);
  });

  it('training with masks and a stateful layer keeps the heap flat', () => {
    setRandomSeed(11);
    const ids = Input({ shape: [6], batchSize: 4 });
    const h = new LSTM({ units: 3, returnSequences: true, stateful: true }).apply(
      new Embedding({ inputDim: 10, outputDim: 3, maskZero: true }).apply(ids),
    );
    const model = new Model({ inputs: ids, outputs: new Dense({ units: 2, activation: 'softmax' }).apply(new GRU({ units: 3 }).apply(h)) });
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
    const x = tensor(Int32Array.from({ length: 24 }, (_, i) => (i * 7) % 10), [4, 6], 'int32');
    const y = tensor([0, 1, 1, 0], [4], 'int32');
    model.trainOnBatch(x, y);
    model.trainOnBatch(x, y);
    const heap = getBackend().heap;
    const bytes = heap.byteLength;
    const inUse = heap.bytesInUse;
    for (let i = 0; i < 50; i++) model.trainOnBatch(x, y);
    expect(heap.byteLength).toBe(bytes);
    expect(heap.bytesInUse).toBe(inUse);
  });

  it('Embedding maskZero and Masking are saved and loaded with their settings', async () => {
    const model = new Sequential([
      new Embedding({ inputDim: 6, outputDim: 3, maskZero: true, inputShape: [4] }),
      new Masking({ maskValue: 0.5 }),
      new GRU({ units: 2, stateful: false }),
    ]);
    const artifacts = await saveToMemory(model);
    const layers = (artifacts.modelTopology.config as { layers: { class_name: string; config: Record<string, unknown> }[] }).layers;
    expect(layers[0].config.mask_zero).toBe(true);
    expect(layers[1]).toMatchObject({ class_name: 'Masking', config: { mask_value: 0.5 } });
    const copy = await loadModel(io.fromMemory(artifacts));
    const x = tensor([[1, 2, 0, 0], [0, 3, 5, 1]], [2, 4], 'int32');
    expect(Array.from((copy.predict(x) as Tensor).dataSync())).toEqual(Array.from((model.predict(x) as Tensor).dataSync()));
    expect((copy.layers[0] as Embedding).maskZero).toBe(true);
  });
});
