import { describe, expect, it } from 'vitest';
import { cosineDecay, exponentialDecay, SGD, tensor } from '../../src/index.js';
import { getMetric, Precision, Recall, TopKCategoricalAccuracy } from '../../src/training/metrics.js';

describe('metrics', () => {
  it("'accuracy' follows the loss, as in Keras", () => {
    expect(getMetric('accuracy', 'categorical_crossentropy').constructor.name).toBe('CategoricalAccuracy');
    expect(getMetric('accuracy', 'sparse_categorical_crossentropy').constructor.name).toBe('SparseCategoricalAccuracy');
    expect(getMetric('acc', 'binary_crossentropy').constructor.name).toBe('BinaryAccuracy');
  });

  it('categorical, sparse and binary accuracy count hits', () => {
    const pred = tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]]);
    const cat = getMetric('accuracy', 'categorical_crossentropy');
    cat.update(tensor([[0, 1], [1, 0], [1, 0], [1, 0]]), pred);
    expect(cat.result()).toBe(0.75);
    const sparse = getMetric('accuracy', 'sparse_categorical_crossentropy');
    sparse.update(tensor([1, 1, 1, 0]), pred);
    expect(sparse.result()).toBe(0.75);
    const binary = getMetric('accuracy', 'binary_crossentropy');
    binary.update(tensor([[1], [0], [0], [1]]), tensor([[0.9], [0.2], [0.7], [0.4]]));
    expect(binary.result()).toBe(0.5);
  });

  it('precision, recall and top-k', () => {
    const yTrue = tensor([1, 0, 1, 1, 0]);
    const yPred = tensor([0.9, 0.8, 0.2, 0.7, 0.1]);
    const p = Precision();
    const r = Recall();
    p.update(yTrue, yPred);
    r.update(yTrue, yPred);
    expect(p.result()).toBeCloseTo(2 / 3);
    expect(r.result()).toBeCloseTo(2 / 3);
    const top2 = new TopKCategoricalAccuracy(2);
    top2.update(tensor([[0, 1, 0], [1, 0, 0]]), tensor([[0.5, 0.3, 0.2], [0.2, 0.5, 0.3]]));
    expect(top2.result()).toBe(0.5);
  });

  it("'mae' and 'mse' average each sample's error over its outputs, weighted by sample", () => {
    const mae = getMetric('mae', 'mse');
    const mse = getMetric('meanSquaredError', 'mse');
    const yTrue = tensor([[1, 2], [0, 0], [3, -1]]);
    const yPred = tensor([[2, 0], [0, 1], [3, 1]]);
    mae.update(yTrue, yPred, Float32Array.of(1, 1, 2));
    mse.update(yTrue, yPred);
    // per sample: |e| means 1.5, 0.5, 1; e^2 means 2.5, 0.5, 2
    expect(mae.result()).toBeCloseTo((1.5 + 0.5 + 2 * 1) / 4);
    expect(mse.result()).toBeCloseTo((2.5 + 0.5 + 2) / 3);
    expect([mae.name, mse.name]).toEqual(['mae', 'mse']);
    expect(() => mae.update(tensor([1, 2]), tensor([[1, 2, 3]]))).toThrow(/mae: expected targets with 3 values/);
  });
});

describe('learning-rate schedules', () => {
  it('exponential and cosine decay follow the Keras formulas', () => {
    const e = exponentialDecay(0.1, 10, 0.5);
    expect(e(0)).toBe(0.1);
    expect(e(10)).toBeCloseTo(0.05);
    expect(exponentialDecay(0.1, 10, 0.5, true)(15)).toBeCloseTo(0.05);
    const c = cosineDecay(1, 100, 0.1);
    expect(c(0)).toBeCloseTo(1);
    expect(c(50)).toBeCloseTo(0.55);
    expect(c(100)).toBeCloseTo(0.1);
    expect(c(1000)).toBeCloseTo(0.1);
  });

  it('an optimizer reads the schedule at each step', () => {
    const opt = new SGD({ learningRate: exponentialDecay(1, 1, 0.5) });
    expect(opt.learningRate).toBe(1);
    opt.iterations = 2;
    expect(opt.learningRate).toBe(0.25);
  });
});
