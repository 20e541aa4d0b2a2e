// fit() options and callbacks.

import { describe, expect, it } from 'vitest';
import {
  CSVLogger, Dense, EarlyStopping, LambdaCallback, ReduceLROnPlateau, SGD, Sequential,
  TerminateOnNaN, setRandomSeed, tensor, type Batch,
} from '../../src/index.js';
import { Random } from '../../src/util/random.js';

/** y = 2x + 1 with noise, a problem a single Dense unit solves. */
function line(n: number, seed = 1) {
  const rng = new Random(seed);
  const x = new Float32Array(n).map(() => rng.uniformRange(-1, 1));
  const y = x.map((v) => 2 * v + 1 + 0.01 * rng.normal());
  return { x: tensor(x, [n, 1]), y: tensor(y, [n, 1]) };
}

function regressor(lr = 0.1) {
  const model = new Sequential([new Dense({ units: 1, inputShape: [1] })]);
  model.compile({ optimizer: new SGD({ learningRate: lr }), loss: 'mse' });
  return model;
}

describe('fit options', () => {
  it('learns y = 2x + 1 and reports validation metrics from validationSplit', async () => {
    setRandomSeed(1);
    const model = regressor();
    const { x, y } = line(200);
    const h = await model.fit(x, y, { epochs: 30, batchSize: 16, validationSplit: 0.25, verbose: 0 });
    expect(h.history.val_loss.at(-1)).toBeLessThan(1e-3);
    const [w, b] = model.getWeights().map((t) => t.dataSync()[0]);
    expect(w).toBeCloseTo(2, 1);
    expect(b).toBeCloseTo(1, 1);
  });

  it('initialEpoch continues the epoch count', async () => {
    const model = regressor();
    const { x, y } = line(32);
    const h = await model.fit(x, y, { epochs: 5, initialEpoch: 3, verbose: 0 });
    expect(h.epoch).toEqual([3, 4]);
  });

  it('classWeight scales each sample loss by its class weight', async () => {
    const make = () => {
      setRandomSeed(9);
      const m = new Sequential([new Dense({ units: 2, activation: 'softmax', inputShape: [2] })]);
      m.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
      return m;
    };
    const x = tensor([[1, 0], [0, 1], [1, 1], [0, 0]]);
    const y = tensor([0, 1, 1, 0]);
    const plain = await make().fit(x, y, { epochs: 1, shuffle: false, verbose: 0 });
    const weighted = await make().fit(x, y, { epochs: 1, shuffle: false, verbose: 0, classWeight: { 0: 3, 1: 3 } });
    expect(weighted.history.loss[0]).toBeCloseTo(3 * plain.history.loss[0], 4);
  });

  it('trains from an async iterable of batches', async () => {
    setRandomSeed(2);
    const model = regressor();
    const { x, y } = line(64);
    const data: AsyncIterable<Batch> = {
      async *[Symbol.asyncIterator]() {
        for (let i = 0; i < 64; i += 16) {
          yield { xs: tensor(x.dataSync().slice(i, i + 16), [16, 1]), ys: tensor(y.dataSync().slice(i, i + 16), [16, 1]) };
        }
      },
    };
    const h = await model.fit(data, { epochs: 20, verbose: 0 });
    expect(h.history.loss).toHaveLength(20);
    expect(h.history.loss[19]).toBeLessThan(h.history.loss[0] / 10);
  });
});

describe('callbacks', () => {
  it('EarlyStopping stops on a plateau and restores the best weights', async () => {
    setRandomSeed(4);
    const model = regressor(1.5); // too large a rate: the loss gets worse after a while
    const { x, y } = line(64);
    const stop = new EarlyStopping({ monitor: 'loss', patience: 2, restoreBestWeights: true });
    let bestWeights: number[] = [];
    let best = Infinity;
    const spy = new LambdaCallback({
      onEpochEnd: (_e, logs) => {
        if (logs!.loss < best) {
          best = logs!.loss;
          bestWeights = model.getWeights().map((t) => t.dataSync()[0]);
        }
      },
    });
    const h = await model.fit(x, y, { epochs: 50, batchSize: 64, callbacks: [spy, stop], verbose: 0 });
    expect(h.epoch.length).toBeLessThan(50);
    expect(model.getWeights().map((t) => t.dataSync()[0])).toEqual(bestWeights);
  });

  it('ReduceLROnPlateau lowers the learning rate', async () => {
    const model = regressor(0.5);
    const { x } = line(32);
    const noise = tensor(new Float32Array(32).map((_, i) => (i % 2 ? 1 : -1)), [32, 1]);
    const reduce = new ReduceLROnPlateau({ monitor: 'loss', factor: 0.5, patience: 1, minDelta: 10 });
    await model.fit(x, noise, { epochs: 4, batchSize: 32, callbacks: [reduce], verbose: 0 });
    expect(model.optimizer!.learningRate).toBeLessThan(0.5);
  });

  it('TerminateOnNaN stops at the first non-finite loss', async () => {
    const model = regressor(1e6);
    const { x, y } = line(64);
    const nan = new TerminateOnNaN();
    const h = await model.fit(x, tensor(y.dataSync().map((v) => v * 1e20), [64, 1]), { epochs: 10, batchSize: 8, callbacks: [nan], verbose: 0 });
    expect(nan.reason).toMatch(/^batch \d+: loss is (NaN|Infinity)$/);
    expect(h.epoch.length).toBe(1);
  });

  it('CSVLogger writes one row per epoch, as CSV or JSON lines', async () => {
    const model = regressor();
    const { x, y } = line(16);
    let csv = '';
    let json = '';
    await model.fit(x, y, { epochs: 3, verbose: 0, callbacks: [new CSVLogger((t) => (csv += t)), new CSVLogger((t) => (json += t), 'json')] });
    const rows = csv.trim().split('\n');
    expect(rows[0]).toBe('epoch,loss');
    expect(rows).toHaveLength(4);
    expect(JSON.parse(json.trim().split('\n')[2]).epoch).toBe(2);
  });

  it('LambdaCallback sees every hook in order', async () => {
    const model = regressor();
    const { x, y } = line(8);
    const events: string[] = [];
    await model.fit(x, y, {
      epochs: 2, batchSize: 4, verbose: 0,
      callbacks: [new LambdaCallback({
        onTrainBegin: () => void events.push('train'), onEpochBegin: (e) => void events.push(`e${e}`),
        onBatchEnd: (b) => void events.push(`b${b}`), onEpochEnd: (e) => void events.push(`/e${e}`),
        onTrainEnd: () => void events.push('/train'),
      })],
    });
    expect(events).toEqual(['train', 'e0', 'b0', 'b1', '/e0', 'e1', 'b0', 'b1', '/e1', '/train']);
  });
});
