// Metrics: stateful accumulators over batches, computed from the batch's targets and
// predictions read back as arrays (they are not differentiated). 'accuracy' resolves to
// categorical, sparse or binary accuracy from the loss, as Keras does.

import { fail } from '../ops/check.js';
import type { Tensor } from '../tensor.js';
import { snakeCase } from './losses.js';

export abstract class Metric {
  abstract readonly name: string;
  abstract reset(): void;
  abstract update(yTrue: Tensor, yPred: Tensor, sampleWeight?: Float32Array): void;
  abstract result(): number;
}

/** A weighted mean of per-sample values. */
abstract class MeanMetric extends Metric {
  private total = 0;
  private count = 0;
  reset() {
    this.total = 0;
    this.count = 0;
  }
  protected add(values: ArrayLike<number>, weights?: Float32Array) {
    for (let i = 0; i < values.length; i++) {
      const w = weights ? weights[i] : 1;
      this.total += values[i] * w;
      this.count += w;
    }
  }
  result() {
    return this.count === 0 ? 0 : this.total / this.count;
  }
}

function rows(t: Tensor): { data: ArrayLike<number>; n: number; k: number } {
  const n = t.shape[0];
  return { data: t.dataSync(), n, k: n === 0 ? 0 : t.size / n };
}

function argmax(data: ArrayLike<number>, offset: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (data[offset + j] > data[offset + best]) best = j;
  return best;
}

export class CategoricalAccuracy extends MeanMetric {
  constructor(readonly name = 'categorical_accuracy') {
    super();
  }
  update(yTrue: Tensor, yPred: Tensor, w?: Float32Array) {
    const t = rows(yTrue);
    const p = rows(yPred);
    const hits = new Float32Array(p.n);
    for (let i = 0; i < p.n; i++) hits[i] = argmax(t.data, i * t.k, t.k) === argmax(p.data, i * p.k, p.k) ? 1 : 0;
    this.add(hits, w);
  }
}

export class SparseCategoricalAccuracy extends MeanMetric {
  constructor(readonly name = 'sparse_categorical_accuracy') {
    super();
  }
  update(yTrue: Tensor, yPred: Tensor, w?: Float32Array) {
    const labels = yTrue.dataSync();
    const p = rows(yPred);
    const hits = new Float32Array(p.n);
    for (let i = 0; i < p.n; i++) hits[i] = argmax(p.data, i * p.k, p.k) === labels[i] ? 1 : 0;
    this.add(hits, w);
  }
}

export class BinaryAccuracy extends MeanMetric {
  constructor(readonly name = 'binary_accuracy', readonly threshold = 0.5) {
    super();
  }
  update(yTrue: Tensor, yPred: Tensor, w?: Float32Array) {
    const t = rows(yTrue);
    const p = rows(yPred);
    const perSample = new Float32Array(p.n);
    for (let i = 0; i < p.n; i++) {
      let s = 0;
      for (let j = 0; j < p.k; j++) s += (p.data[i * p.k + j] > this.threshold ? 1 : 0) === t.data[i * t.k + j] ? 1 : 0;
      perSample[i] = s / p.k;
    }
    this.add(perSample, w);
  }
}

export class TopKCategoricalAccuracy extends MeanMetric {
  constructor(readonly k = 5, readonly name = 'top_k_categorical_accuracy', readonly sparse = false) {
    super();
  }
  update(yTrue: Tensor, yPred: Tensor, w?: Float32Array) {
    const p = rows(yPred);
    const t = rows(yTrue);
    const hits = new Float32Array(p.n);
    for (let i = 0; i < p.n; i++) {
      const label = this.sparse ? t.data[i] : argmax(t.data, i * t.k, t.k);
      const score = p.data[i * p.k + label];
      let above = 0;
      for (let j = 0; j < p.k; j++) if (p.data[i * p.k + j] > score) above++;
      hits[i] = above < this.k ? 1 : 0;
    }
    this.add(hits, w);
  }
}

/** Binary precision or recall at a threshold, over all elements. */
class Confusion extends Metric {
  private tp = 0;
  private fp = 0;
  private fn = 0;
  constructor(readonly name: string, private readonly which: 'precision' | 'recall', readonly threshold = 0.5) {
    super();
  }
  reset() {
    this.tp = this.fp = this.fn = 0;
  }
  update(yTrue: Tensor, yPred: Tensor) {
    const t = yTrue.dataSync();
    const p = yPred.dataSync();
    for (let i = 0; i < p.length; i++) {
      const predicted = p[i] > this.threshold;
      const actual = t[i] >= 0.5;
      if (predicted && actual) this.tp++;
      else if (predicted) this.fp++;
      else if (actual) this.fn++;
    }
  }
  result() {
    const denominator = this.which === 'precision' ? this.tp + this.fp : this.tp + this.fn;
    return denominator === 0 ? 0 : this.tp / denominator;
  }
}

/** Mean absolute or squared error per sample (averaged over its outputs), as Keras's 'mae' and 'mse'. */
export class MeanError extends MeanMetric {
  constructor(readonly name: 'mae' | 'mse', private readonly power: 1 | 2) {
    super();
  }
  update(yTrue: Tensor, yPred: Tensor, w?: Float32Array) {
    const t = rows(yTrue);
    const p = rows(yPred);
    if (t.n * t.k !== p.n * p.k) fail(this.name, `expected targets with ${p.n * p.k} values (the predictions' count), got ${t.n * t.k}`);
    const errors = new Float32Array(p.n);
    for (let i = 0; i < p.n; i++) {
      let sum = 0;
      for (let j = 0; j < p.k; j++) sum += Math.abs(t.data[i * p.k + j] - p.data[i * p.k + j]) ** this.power;
      errors[i] = sum / p.k;
    }
    this.add(errors, w);
  }
}

export const Precision = (threshold = 0.5) => new Confusion('precision', 'precision', threshold);
export const Recall = (threshold = 0.5) => new Confusion('recall', 'recall', threshold);

export type MetricIdentifier =
  | 'accuracy' | 'acc' | 'categorical_accuracy' | 'categoricalAccuracy' | 'sparse_categorical_accuracy'
  | 'sparseCategoricalAccuracy' | 'binary_accuracy' | 'binaryAccuracy' | 'precision' | 'recall'
  | 'top_k_categorical_accuracy' | 'topKCategoricalAccuracy' | 'sparse_top_k_categorical_accuracy'
  | 'mae' | 'mean_absolute_error' | 'meanAbsoluteError' | 'mse' | 'mean_squared_error' | 'meanSquaredError';

/** Resolves a metric name; 'accuracy' follows the loss, as in Keras. */
export function getMetric(spec: MetricIdentifier | Metric, lossName: string): Metric {
  if (spec instanceof Metric) return spec;
  const key = snakeCase(String(spec));
  if (key === 'accuracy' || key === 'acc') {
    if (lossName.startsWith('sparse_categorical')) return new SparseCategoricalAccuracy('accuracy');
    if (lossName.startsWith('binary')) return new BinaryAccuracy('accuracy');
    return new CategoricalAccuracy('accuracy');
  }
  switch (key) {
    case 'categorical_accuracy': return new CategoricalAccuracy();
    case 'sparse_categorical_accuracy': return new SparseCategoricalAccuracy();
    case 'binary_accuracy': return new BinaryAccuracy();
    case 'precision': return Precision();
    case 'recall': return Recall();
    case 'top_k_categorical_accuracy': return new TopKCategoricalAccuracy();
    case 'sparse_top_k_categorical_accuracy': return new TopKCategoricalAccuracy(5, 'sparse_top_k_categorical_accuracy', true);
    case 'mae': case 'mean_absolute_error': return new MeanError('mae', 1);
    case 'mse': case 'mean_squared_error': return new MeanError('mse', 2);
  }
  return fail('compile', `unknown metric '${String(spec)}'; expected accuracy, categorical_accuracy, sparse_categorical_accuracy, binary_accuracy, precision, recall, top_k_categorical_accuracy, mae, mse or a Metric`);
}
