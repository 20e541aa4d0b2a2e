// Recurrent layers' returnState, initialState, stateful and masks (Embedding maskZero,
// Masking) against tfjs-layers 4.22 (cpu backend): the same graphs with the same weights give
// the same outputs, every output of a multi-output model included. The notes at the top of
// tfjs-parity.node.test.ts on matching the two libraries apply here too (sigmoid gates, GRU
// with resetAfter false).

import { createRequire } from 'node:module';
import type * as TF from '@tensorflow/tfjs-core';
import type * as TFL from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Bidirectional, Dense, Embedding, GRU, Input, LSTM, Masking, Model, Sequential, SimpleRNN, setRandomSeed, tensor,
  type SymbolicTensor, type Tensor,
} from '../../src/index.js';
import { Random } from '../../src/util/random.js';

const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs-core') as typeof TF;
require('@tensorflow/tfjs-backend-cpu');
const tfl = require('@tensorflow/tfjs-layers') as typeof TFL;

const RELATIVE = 1e-4;
const L = tfl.layers;
/** Keras 3's gate activation; an initializer the CommonJS bundle can run (weights are overwritten). */
const tfRnn = { recurrentActivation: 'sigmoid', recurrentInitializer: 'glorotUniform' } as const;

/** Copies kerasm's weights, randomized, into tfjs's layers, in layer order. */
function copyWeights(kerasm: Model, tfjs: TFL.LayersModel, seed: number): void {
  const rng = new Random(seed);
  const kerasmLayers = kerasm.layers.filter((l) => l.className !== 'InputLayer');
  const tfLayers = tfjs.layers.filter((l) => l.getClassName() !== 'InputLayer');
  expect(kerasmLayers.map((l) => l.className)).toEqual(tfLayers.map((l) => l.getClassName()));
  kerasmLayers.forEach((layer, i) => {
    for (const w of layer.weights) w.assign(w.read().map(() => rng.uniformRange(-0.6, 0.6)));
    tfLayers[i].setWeights(layer.weights.map((w) => tf.tensor(w.read(), w.shape as number[])));
  });
}

function expectClose(what: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const scale = Math.max(1e-3, ...Array.from(want, Math.abs));
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= RELATIVE * scale)) {
      throw new Error(`${what}: index ${i}: kerasm ${got[i]}, tfjs ${want[i]}`);
    }
  }
}

function compare(what: string, kerasm: Model, tfjs: TFL.LayersModel, x: number[], shape: number[], ids = false): void {
  const got = kerasm.predict(ids ? tensor(Int32Array.from(x), shape, 'int32') : tensor(x, shape), { batchSize: shape[0] });
  const want = tfjs.predict(tf.tensor(x, shape), { batchSize: shape[0] }) as TF.Tensor | TF.Tensor[];
  const gotList = Array.isArray(got) ? got : [got];
  const wantList = Array.isArray(want) ? want : [want];
  expect(gotList.length).toBe(wantList.length);
  gotList.forEach((g: Tensor, k) => expectClose(`${what}, output ${k}`, g.dataSync(), wantList[k].dataSync()));
}

/** Ids with padding (0) at the end, at the start, in the middle, and none. */
const IDS = [
  [3, 1, 4, 0, 0, 0],
  [0, 0, 2, 7, 1, 5],
  [5, 0, 9, 0, 2, 0],
  [1, 2, 3, 4, 5, 6],
];

beforeAll(async () => {
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu');
});

describe('recurrent state and masks match tfjs-layers 4.22', () => {
  it('returnState, and initialState from another layer\'s state', () => {
    setRandomSeed(1);
    const x = Input({ shape: [5, 3] });
    const [seq, h, c] = new LSTM({ units: 3, returnSequences: true, returnState: true }).applyAll(x);
    const [last, hs] = new SimpleRNN({ units: 3, returnState: true }).applyAll(seq);
    const g = new GRU({ units: 3, resetAfter: false, returnSequences: true }).apply(seq, { initialState: [hs] });
    const kerasm = new Model({ inputs: x, outputs: [seq, h, c, last, g] });

    const tx = tfl.input({ shape: [5, 3] });
    const [tSeq, tH, tC] = L.lstm({ units: 3, returnSequences: true, returnState: true, ...tfRnn }).apply(tx) as TFL.SymbolicTensor[];
    const [tLast, tHs] = L.simpleRNN({ units: 3, returnState: true, ...tfRnn }).apply(tSeq) as TFL.SymbolicTensor[];
    const tG = L.gru({ units: 3, returnSequences: true, ...tfRnn }).apply(tSeq, { initialState: [tHs] }) as TFL.SymbolicTensor;
    const tfjs = tfl.model({ inputs: tx, outputs: [tSeq, tH, tC, tLast, tG] });

    copyWeights(kerasm, tfjs, 2);
    const rng = new Random(3);
    compare('returnState', kerasm, tfjs, Array.from({ length: 2 * 15 }, () => rng.uniformRange(-1, 1)), [2, 5, 3]);
  });

  it('Embedding maskZero into LSTM, Bidirectional GRU and SimpleRNN (padding at the end, the start, inside)', () => {
    setRandomSeed(4);
    const ids = Input({ shape: [6] });
    let h: SymbolicTensor = new Embedding({ inputDim: 10, outputDim: 3, maskZero: true }).apply(ids);
    h = new LSTM({ units: 4, returnSequences: true }).apply(h);
    h = new Bidirectional({ layer: new GRU({ units: 3, resetAfter: false, returnSequences: true }) }).apply(h);
    h = new Dense({ units: 3 }).apply(h);
    const out = new SimpleRNN({ units: 2, goBackwards: true }).apply(h);
    const kerasm = new Model({ inputs: ids, outputs: [out, h] });

    const tIds = tfl.input({ shape: [6] });
    let t = L.embedding({ inputDim: 10, outputDim: 3, maskZero: true }).apply(tIds) as TFL.SymbolicTensor;
    t = L.lstm({ units: 4, returnSequences: true, ...tfRnn }).apply(t) as TFL.SymbolicTensor;
    t = L.bidirectional({ layer: L.gru({ units: 3, returnSequences: true, ...tfRnn }) as TFL.RNN }).apply(t) as TFL.SymbolicTensor;
    t = L.dense({ units: 3 }).apply(t) as TFL.SymbolicTensor;
    const tOut = L.simpleRNN({ units: 2, goBackwards: true, ...tfRnn }).apply(t) as TFL.SymbolicTensor;
    const tfjs = tfl.model({ inputs: tIds, outputs: [tOut, t] });

    copyWeights(kerasm, tfjs, 5);
    compare('maskZero', kerasm, tfjs, IDS.flat(), [4, 6], true);
  });

  it('Masking (all-maskValue steps) into LSTM returning sequences and GRU', () => {
    setRandomSeed(6);
    const kerasm = new Sequential([
      new Masking({ maskValue: 0.5, inputShape: [5, 2] }),
      new LSTM({ units: 3, returnSequences: true }),
      new GRU({ units: 2, resetAfter: false }),
    ]);
    const tfjs = tfl.sequential({
      layers: [
        L.masking({ maskValue: 0.5, inputShape: [5, 2] }),
        L.lstm({ units: 3, returnSequences: true, ...tfRnn }),
        L.gru({ units: 2, ...tfRnn }),
      ],
    });
    copyWeights(kerasm, tfjs, 7);
    const rng = new Random(8);
    const x = Array.from({ length: 3 * 10 }, () => rng.uniformRange(-1, 1));
    x.fill(0.5, 2, 4); // sample 0, step 1
    x.fill(0.5, 10 + 8, 20); // sample 1, step 4 (last)
    x[20] = 0.5; // sample 2, step 0: one feature only, kept
    compare('Masking', kerasm, tfjs, x, [3, 5, 2]);
  });

  it('stateful LSTM: consecutive batches continue the state; resetStates starts over', () => {
    setRandomSeed(9);
    const kerasm = new Sequential([
      new LSTM({ units: 3, stateful: true, returnSequences: true, batchInputShape: [2, 4, 2] }),
      new SimpleRNN({ units: 2, stateful: true }),
    ]);
    const tfjs = tfl.sequential({
      layers: [
        L.lstm({ units: 3, stateful: true, returnSequences: true, batchInputShape: [2, 4, 2], ...tfRnn }),
        L.simpleRNN({ units: 2, stateful: true, ...tfRnn }),
      ],
    });
    copyWeights(kerasm, tfjs, 10);
    const rng = new Random(11);
    const batches = [0, 1, 2].map(() => Array.from({ length: 16 }, () => rng.uniformRange(-1, 1)));
    batches.forEach((x, k) => compare(`stateful batch ${k}`, kerasm, tfjs, x, [2, 4, 2]));
    kerasm.resetStates();
    tfjs.resetStates();
    compare('after resetStates', kerasm, tfjs, batches[1], [2, 4, 2]);
  });

  it('a kerasm model with returnState, stateful and masks loads in tfjs and predicts the same', async () => {
    setRandomSeed(12);
    const ids = Input({ shape: [6], batchSize: 4 });
    const embedded = new Embedding({ inputDim: 10, outputDim: 3, maskZero: true }).apply(ids);
    const [seq, h] = new GRU({ units: 3, resetAfter: false, returnSequences: true, returnState: true }).applyAll(embedded);
    const out = new LSTM({ units: 2, stateful: true }).apply(new Masking({ maskValue: 0 }).apply(seq));
    const kerasm = new Model({ inputs: ids, outputs: [out, h] });
    let saved: TF.io.ModelArtifacts | undefined;
    await kerasm.save({ save: async (a) => {
      saved = a as unknown as TF.io.ModelArtifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', modelTopologyBytes: 0, weightSpecsBytes: 0, weightDataBytes: 0 } };
    } });
    const tfjs = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    compare('loaded in tfjs, first batch', kerasm, tfjs, IDS.flat(), [4, 6], true);
    compare('loaded in tfjs, second batch (stateful)', kerasm, tfjs, IDS.flat().reverse(), [4, 6], true);
  });
});
