// validationSplit holds out the last samples, as Keras does: training never sees them and the
// validation metrics are those of evaluate() on them. The split refers to the data in place;
// these tests pin what it must compute.

import { describe, expect, it } from 'vitest';
import { Dense, SGD, Sequential, setRandomSeed, tensor } from '../../src/index.js';
import { Random } from '../../src/util/random.js';

function data(n: number) {
  const rng = new Random(3);
  const x = new Float32Array(n * 2).map(() => rng.uniformRange(-1, 1));
  const y = new Float32Array(n).map((_, i) => x[2 * i] - 0.5 * x[2 * i + 1] + 0.3);
  return { x, y };
}

function model() {
  setRandomSeed(7);
  const m = new Sequential([new Dense({ units: 3, activation: 'tanh', inputShape: [2] }), new Dense({ units: 1 })]);
  m.compile({ optimizer: new SGD({ learningRate: 0.05 }), loss: 'mse', metrics: ['mae'] });
  return m;
}

describe('fit validationSplit', () => {
  it('trains on the first samples only and validates on the last ones, like evaluate()', async () => {
    const n = 50;
    const { x, y } = data(n);
    const nTrain = 40; // validationSplit 0.2 of 50
    const split = model();
    setRandomSeed(11);
    const h = await split.fit(tensor(x, [n, 2]), tensor(y, [n, 1]), { epochs: 3, batchSize: 8, validationSplit: 0.2, verbose: 0 });

    const head = model();
    setRandomSeed(11);
    await head.fit(tensor(x.slice(0, nTrain * 2), [nTrain, 2]), tensor(y.slice(0, nTrain), [nTrain, 1]), { epochs: 3, batchSize: 8, verbose: 0 });
    const a = split.getWeights().map((t) => Array.from(t.dataSync()));
    const b = head.getWeights().map((t) => Array.from(t.dataSync()));
    expect(a).toEqual(b);

    const tail = split.evaluate(tensor(x.slice(nTrain * 2), [n - nTrain, 2]), tensor(y.slice(nTrain), [n - nTrain, 1]), { batchSize: 8 });
    expect(h.history.val_loss.at(-1)).toBeCloseTo(tail.loss, 6);
    expect(h.history.val_mae.at(-1)).toBeCloseTo(tail.mae, 6);
  });

  it('leaves the caller\'s tensors as they were', async () => {
    const { x, y } = data(20);
    const xt = tensor(x, [20, 2]);
    const yt = tensor(y, [20, 1]);
    await model().fit(xt, yt, { epochs: 2, batchSize: 4, validationSplit: 0.25, verbose: 0 });
    expect(Array.from(xt.dataSync())).toEqual(Array.from(x));
    expect(Array.from(yt.dataSync())).toEqual(Array.from(y));
  });
});
