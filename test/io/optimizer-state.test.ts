// Optimizer state in saved models (includeOptimizer): training 3 steps, saving, loading and
// training 2 more gives the weights of 5 steps in one go, for every optimizer; the manifest
// holds the state as TensorFlow.js writes it; bad state is rejected naming what was wrong.
// test/io/tfjs-interop.node.test.ts continues training across the two libraries. Runs in Node
// and in the browser.

import { describe, expect, it } from 'vitest';
import {
  Adagrad, Adam, AdamW, BatchNormalization, cosineDecay, Dense, exponentialDecay, io, loadModel, LSTM, RMSprop, Sequential,
  SGD, setRandomSeed, tensor, type Model, type Optimizer, type Tensor,
} from '../../src/index.js';
import { Random } from '../../src/util/random.js';
import { saveToMemory } from './helpers.js';

function batch(seed: number, shape: number[]): Tensor {
  const rng = new Random(seed);
  return tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniformRange(-1, 1)), shape);
}

const X = [batch(1, [6, 4, 2]), batch(2, [6, 4, 2]), batch(3, [6, 4, 2]), batch(4, [6, 4, 2]), batch(5, [6, 4, 2])];
const Y = [batch(6, [6, 2]), batch(7, [6, 2]), batch(8, [6, 2]), batch(9, [6, 2]), batch(10, [6, 2])];

/** An LSTM, a batch normalization (non-trainable weights between trainable ones) and a Dense. */
function build(optimizer: () => Optimizer): Model {
  setRandomSeed(12);
  const model = new Sequential([
    new LSTM({ units: 3, returnSequences: true, inputShape: [4, 2] }),
    new BatchNormalization(),
    new LSTM({ units: 3 }),
    new Dense({ units: 2 }),
  ]);
  model.compile({ optimizer: optimizer(), loss: 'mse' });
  return model;
}

function train(model: Model, from: number, to: number): void {
  for (let i = from; i < to; i++) model.trainOnBatch(X[i], Y[i]);
}

function weightsOf(model: Model): number[] {
  return model.weights.flatMap((w) => Array.from(w.read()));
}

interface Case {
  name: string;
  make: () => Optimizer;
  /** Largest relative difference from 5 steps in one go (0: bit-identical). */
  tolerance: number;
}

const CASES: Case[] = [
  { name: 'SGD', make: () => new SGD({ learningRate: 0.1 }), tolerance: 0 },
  // TensorFlow.js keeps momentum / -learningRate: the round trip divides and multiplies.
  { name: 'SGD with momentum', make: () => new SGD({ learningRate: 0.1, momentum: 0.9 }), tolerance: 1e-6 },
  { name: 'SGD with momentum and a cosine-decaying learning rate', make: () => new SGD({ learningRate: cosineDecay(0.1, 6), momentum: 0.9 }), tolerance: 1e-6 },
  { name: 'SGD with Nesterov momentum', make: () => new SGD({ learningRate: 0.1, momentum: 0.8, nesterov: true }), tolerance: 1e-6 },
  { name: 'Adam', make: () => new Adam({ learningRate: 0.05 }), tolerance: 0 },
  { name: 'Adam with a decaying learning rate and clipnorm', make: () => new Adam({ learningRate: exponentialDecay(0.05, 2, 0.5), clipnorm: 0.5 }), tolerance: 0 },
  { name: 'AdamW', make: () => new AdamW({ learningRate: 0.05, weightDecay: 0.1 }), tolerance: 0 },
  { name: 'RMSprop', make: () => new RMSprop({ learningRate: 0.01 }), tolerance: 0 },
  { name: 'RMSprop centered with momentum', make: () => new RMSprop({ learningRate: 0.01, momentum: 0.5, centered: true }), tolerance: 0 },
  { name: 'Adagrad', make: () => new Adagrad({ learningRate: 0.1 }), tolerance: 0 },
];

function expectWeights(got: number[], want: number[], tolerance: number, what: string): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const ok = tolerance === 0 ? Object.is(got[i], want[i]) : Math.abs(got[i] - want[i]) <= tolerance * Math.max(1, Math.abs(want[i]));
    if (!ok) throw new Error(`${what}: weight value ${i}: got ${got[i]}, expected ${want[i]} (tolerance ${tolerance})`);
  }
}

describe('optimizer state in saved models', () => {
  for (const c of CASES) {
    it(`${c.name}: 3 steps, save, load, 2 steps = 5 steps`, async () => {
      const straight = build(c.make);
      train(straight, 0, 5);

      const first = build(c.make);
      train(first, 0, 3);
      const artifacts = await saveToMemory(first, { includeOptimizer: true });
      const resumed = await loadModel(io.fromMemory(artifacts));
      expect(resumed.optimizer!.iterations).toBe(3);
      expect(resumed.optimizer!.className).toBe(first.optimizer!.className);
      train(resumed, 3, 5);
      expectWeights(weightsOf(resumed), weightsOf(straight), c.tolerance, c.name);

      if (first.optimizer!.slotLayout().length > 0 || c.name.includes('decaying')) {
        // Without the state, training does not continue the same way.
        const fresh = await loadModel(io.fromMemory(await saveToMemory(first)));
        expect(fresh.optimizer!.iterations).toBe(0);
        train(fresh, 3, 5);
        const diff = weightsOf(fresh).reduce((m, v, i) => Math.max(m, Math.abs(v - weightsOf(straight)[i])), 0);
        expect(diff).toBeGreaterThan(1e-4);
      }
    });
  }

  it('writes the state as TensorFlow.js does: group optimizer, iter first, then each kind of slot for every trainable weight', async () => {
    const model = build(() => new Adam());
    train(model, 0, 2);
    const artifacts = await saveToMemory(model, { includeOptimizer: true });
    const specs = artifacts.weightSpecs!;
    const own = specs.filter((s) => s.group !== 'optimizer');
    const state = specs.filter((s) => s.group === 'optimizer');
    expect(specs.slice(own.length)).toEqual(state); // after the model's weights
    expect(state[0]).toEqual({ name: 'iter', shape: [], dtype: 'int32', group: 'optimizer' });
    const trainable = model.trainableWeights.map((w) => w.name);
    expect(state.slice(1).map((s) => s.name)).toEqual([...trainable.map((n) => `${n}/m`), ...trainable.map((n) => `${n}/v`)]);
    expect(state.slice(1).map((s) => s.shape)).toEqual([...model.trainableWeights, ...model.trainableWeights].map((w) => w.shape));
    const bytes = new DataView(artifacts.weightData as ArrayBuffer);
    const ownBytes = own.reduce((n, s) => n + 4 * s.shape.reduce((a, b) => a * b, 1), 0);
    expect(bytes.getInt32(ownBytes, true)).toBe(2);
    // Without includeOptimizer, no state is written.
    expect((await saveToMemory(model)).weightSpecs!.some((s) => s.group === 'optimizer')).toBe(false);
    // Before any step there are no slots yet: only the step count.
    const untrained = build(() => new Adam());
    const early = (await saveToMemory(untrained, { includeOptimizer: true })).weightSpecs!.filter((s) => s.group === 'optimizer');
    expect(early.map((s) => s.name)).toEqual(['iter']);
    expect((await loadModel(io.fromMemory(await saveToMemory(untrained, { includeOptimizer: true })))).optimizer!.iterations).toBe(0);
  });

  it('rejects what cannot be saved or restored, naming it', async () => {
    const uncompiled = new Sequential([new Dense({ units: 2, inputShape: [3] })]);
    await expect(saveToMemory(uncompiled, { includeOptimizer: true })).rejects.toThrow(
      /kerasm.save: expected a model compiled with names .* to save its optimizer; got model '.*' uncompiled/,
    );
    const model = build(() => new Adam());
    train(model, 0, 1);
    const artifacts = await saveToMemory(model, { includeOptimizer: true });
    // A slot of the wrong shape: the first m swapped for a bias-sized one.
    const specs = artifacts.weightSpecs!.map((s) => ({ ...s }));
    const firstSlot = specs.findIndex((s) => s.name.endsWith('/m'));
    const kernelSpec = specs[firstSlot];
    const biasSlot = specs.findIndex((s) => s.name.endsWith('lstm/bias/m') || /lstm(_\d+)?\/bias\/m$/.test(s.name));
    [specs[firstSlot], specs[biasSlot]] = [{ ...specs[biasSlot] }, { ...kernelSpec }];
    // Same total size, so only the shape check can catch it.
    const swapped = { ...artifacts, weightSpecs: specs };
    await expect(loadModel(io.fromMemory(swapped))).rejects.toThrow(/kerasm.loadModel: expected optimizer slot '.*' \(entry 1 of the optimizer state\) to have the shape of trainable weight 0 '.*', \[2, 12\], got \[12\]/);
    // A state without its step count.
    const noIter = { ...artifacts, weightSpecs: artifacts.weightSpecs!.map((s) => (s.name === 'iter' ? { ...s, name: 'step', shape: [1] } : s)) };
    await expect(loadModel(io.fromMemory(noIter))).rejects.toThrow(
      "kerasm.loadModel: expected the optimizer state to start with the step count 'iter' (a scalar), got 'step' of shape [1]",
    );
    // Loaded uncompiled, the state is ignored.
    expect((await loadModel(io.fromMemory(artifacts), { compile: false })).compiled).toBeNull();
  });
});
