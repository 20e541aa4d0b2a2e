// Models: the functional API (several inputs and outputs, shared layers), Sequential, summary,
// weights, and the errors users get for bad input.

import { describe, expect, it } from 'vitest';
import {
  Add, Dense, Flatten, Input, Model, Sequential, Conv2D, setRandomSeed, tensor, MaxPooling2D,
} from '../../src/index.js';

describe('functional models', () => {
  it('runs several inputs and outputs through a shared layer', async () => {
    setRandomSeed(3);
    const a = Input({ shape: [4] });
    const b = Input({ shape: [4] });
    const shared = new Dense({ units: 3, activation: 'tanh', name: 'shared' });
    const sum = new Add().apply([shared.apply(a), shared.apply(b)]);
    const out1 = new Dense({ units: 2, name: 'head1' }).apply(sum);
    const out2 = new Dense({ units: 1, name: 'head2' }).apply(shared.apply(a));
    const model = new Model({ inputs: [a, b], outputs: [out1, out2] });
    expect(model.layers.map((l) => l.name).filter((n) => !n.startsWith('input')).sort()).toEqual(['add', 'head1', 'head2', 'shared']);
    expect(model.weights).toHaveLength(6); // shared layer counted once
    const xa = tensor(new Float32Array(20).map((_, i) => Math.sin(i)), [5, 4]);
    const xb = tensor(new Float32Array(20).map((_, i) => Math.cos(i)), [5, 4]);
    const [y1, y2] = model.predict([xa, xb]) as ReturnType<typeof tensor>[];
    expect(y1.shape).toEqual([5, 2]);
    expect(y2.shape).toEqual([5, 1]);
    model.compile({ optimizer: 'adam', loss: ['mse', 'mae'], lossWeights: [1, 0.5] });
    const h = await model.fit([xa, xb], [tensor(new Float32Array(10), [5, 2]), tensor(new Float32Array(5), [5, 1])], { epochs: 3, verbose: 0 });
    expect(h.history.loss[2]).toBeLessThan(h.history.loss[0]);
  });

  it('rejects graphs whose outputs need inputs it was not given', () => {
    const a = Input({ shape: [2] });
    const b = Input({ shape: [2] });
    const y = new Add().apply([a, b]);
    expect(() => new Model({ inputs: a, outputs: y })).toThrow(/which is not among the model's inputs/);
  });
});

describe('Sequential', () => {
  it('builds with add() and prints a Keras-style summary', () => {
    const model = new Sequential();
    model.add(new Conv2D({ filters: 8, kernelSize: 3, inputShape: [10, 10, 1], name: 'c' }));
    model.add(new MaxPooling2D({ name: 'p' }));
    model.add(new Flatten({ name: 'f' }));
    model.add(new Dense({ units: 4, name: 'd' }));
    const lines: string[] = [];
    model.summary((l) => lines.push(l));
    const text = lines.join('\n');
    expect(text).toContain('c (Conv2D)');
    expect(text).toMatch(/\(None, 8, 8, 8\)\s+80/);
    expect(text).toMatch(/d \(Dense\)\s+\(None, 4\)\s+516/);
    expect(text).toContain('Total params: 596');
    expect(text).toContain('Trainable params: 596');
    expect(model.getLayer('d').countParams()).toBe(516);
    expect(() => model.getLayer('nope')).toThrow("kerasm.getLayer: no layer named 'nope'; layers are c, p, f, d");
  });

  it('builds on first use when the first layer has no input shape', async () => {
    const model = new Sequential([new Dense({ units: 3 }), new Dense({ units: 1 })]);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const x = tensor(new Float32Array(12), [4, 3]);
    await model.fit(x, tensor(new Float32Array(4), [4, 1]), { verbose: 0 });
    expect((model.predict(x) as ReturnType<typeof tensor>).shape).toEqual([4, 1]);
  });

  it('getWeights and setWeights round-trip; a bad list changes nothing', () => {
    const model = new Sequential([new Dense({ units: 2, inputShape: [3] })]);
    const before = model.getWeights().map((w) => Array.from(w.dataSync()));
    expect(() => model.setWeights([tensor(new Float32Array(6), [3, 2]), tensor([1, 2, 3])])).toThrow(
      /expected weight 1 \('dense(_\d+)?\/bias'\) of shape \[2\], got \[3\]/,
    );
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
    model.setWeights([tensor(new Float32Array(6).fill(1), [3, 2]), tensor([5, 6])]);
    expect(Array.from(model.getWeights()[1].dataSync())).toEqual([5, 6]);
  });
});

describe('bad input names what was expected and what was found', () => {
  const model = () => {
    const m = new Sequential([new Dense({ units: 3, activation: 'softmax', inputShape: [4] })]);
    m.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    return m;
  };
  const x = () => tensor(new Float32Array(8), [2, 4]);

  it('x that does not match the model input', async () => {
    await expect(model().fit(tensor(new Float32Array(10), [2, 5]), tensor([0, 1]), { verbose: 0 })).rejects.toThrow(
      /expected input 0 of model 'sequential(_\d+)?' with shape \(None, 4\), got \[2, 5\]/,
    );
  });
  it('x and y with different sample counts', async () => {
    await expect(model().fit(x(), tensor([0, 1, 2]), { verbose: 0 })).rejects.toThrow(
      'kerasm.fit: expected x and y with the same number of samples, got x[0] 2, y[0] 3',
    );
  });
  it('labels out of range for sparse losses', async () => {
    await expect(model().fit(x(), tensor([0, 3]), { verbose: 0 })).rejects.toThrow(
      'kerasm.sparse_categorical_crossentropy: expected labels in [0, 2], got 3 at index 1',
    );
  });
  it('NaN in inputs', async () => {
    const bad = x();
    bad.backend.heap.f32[(bad.ptr >> 2) + 5] = Number.NaN;
    await expect(model().fit(bad, tensor([0, 1]), { verbose: 0 })).rejects.toThrow(
      'kerasm.fit: expected finite values in x[0], got NaN in sample 1 (flat index 5)',
    );
    // An infinity among values large enough that a finite sum could not tell (the sum would be
    // infinite anyway), and large finite values whose sum overflows but which are accepted.
    const big = tensor([[3e38, 3e38, 3e38, 1], [3e38, 3e38, 3e38, 1]]);
    const history = await model().fit(big, tensor([0, 1]), { verbose: 0, epochs: 1 });
    expect(history.epoch).toEqual([0]);
    const inf = tensor([[1, 2, 3, 4], [5, 6, Number.NEGATIVE_INFINITY, 8]]);
    await expect(model().fit(inf, tensor([0, 1]), { verbose: 0 })).rejects.toThrow(
      'kerasm.fit: expected finite values in x[0], got -Infinity in sample 1 (flat index 6)',
    );
  });
  it('unknown layer activation, optimizer and loss names', () => {
    expect(() => new Dense({ units: 2, activation: 'rleu' as never })).toThrow(/unknown activation 'rleu'; expected one of linear, relu/);
    const m = new Sequential([new Dense({ units: 2, inputShape: [2] })]);
    expect(() => m.compile({ optimizer: 'adamm' as never, loss: 'mse' })).toThrow(/unknown optimizer 'adamm'; expected one of sgd, adam/);
    expect(() => m.compile({ optimizer: 'adam', loss: 'msee' as never })).toThrow(/unknown loss 'msee'; expected one of categorical_crossentropy/);
  });
  it('fit before compile', async () => {
    const m = new Sequential([new Dense({ units: 2, inputShape: [2] })]);
    await expect(m.fit(tensor(new Float32Array(4), [2, 2]), tensor(new Float32Array(4), [2, 2]))).rejects.toThrow(
      'kerasm.fit: expected a compiled model: call model.compile({ optimizer, loss }) before fit',
    );
  });
});
