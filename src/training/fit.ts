// compile / fit / evaluate / predict / trainOnBatch.
//
// A training step runs inside a StepArena: the first step allocates every tensor it makes,
// later steps reuse the same blocks, so training allocates nothing after the first step and
// copies only the batch in. Values that must outlive a step (losses, metrics) are read out as
// numbers inside it.
//
// Arrays of tensors that a step passes on are built with Array.from rather than map(): an
// optimized map() returns a holey array where the interpreter's is packed, so the code that
// receives them would see a new hidden class, and deoptimize, once its caller is optimized.

import { valueAndGrads } from '../autodiff/backprop.js';
import { noGrad } from '../autodiff/tape.js';
import { fail } from '../ops/check.js';
import * as ops from '../ops/index.js';
import { outsideArena, StepArena, Tensor, tensor, type Shape } from '../tensor.js';
import { globalRandom } from '../util/seed.js';
import type { Model } from '../models/model.js';
import { Callback, History, type Logs, type TrainingTarget } from './callbacks.js';
import { getLoss, type LossFn, type LossIdentifier } from './losses.js';
import { getMetric, type Metric, type MetricIdentifier } from './metrics.js';
import { getOptimizer, type Optimizer, type OptimizerIdentifier } from './optimizers.js';
import { ProgressLogger } from './progress.js';

export interface CompileArgs {
  optimizer: OptimizerIdentifier | Optimizer;
  /** One loss for all outputs, or one per output. */
  loss: LossIdentifier | LossFn | (LossIdentifier | LossFn)[];
  metrics?: (MetricIdentifier | Metric)[];
  /** Weights of each output's loss in the total (multi-output models). */
  lossWeights?: number[];
}

export interface Compiled {
  optimizer: Optimizer;
  losses: LossFn[];
  lossWeights: number[];
  /** metrics[output] */
  metrics: Metric[][];
  arena: StepArena;
}

export type Data = Tensor | Tensor[] | number[] | number[][] | number[][][] | number[][][][];

export interface Batch {
  xs: Tensor | Tensor[];
  ys: Tensor | Tensor[];
}

export interface FitArgs {
  epochs?: number;
  batchSize?: number;
  /** 0: silent; 1: progress bar in a terminal, a line per epoch elsewhere. */
  verbose?: 0 | 1 | 2;
  validationSplit?: number;
  validationData?: [Data, Data];
  shuffle?: boolean;
  callbacks?: Callback[];
  /** Weights per class index, multiplying each sample's loss. */
  classWeight?: Record<number, number>;
  initialEpoch?: number;
  /** For iterable data: batches per epoch (default: until the iterator ends). */
  stepsPerEpoch?: number;
}

export function compile(model: Model, args: CompileArgs): Compiled {
  const outputs = model.outputs.length;
  if (outputs === 0) fail('compile', 'expected a built model (give the first layer an inputShape, or call fit first)');
  const lossSpecs = Array.isArray(args.loss) ? args.loss : new Array(outputs).fill(args.loss);
  if (lossSpecs.length !== outputs) fail('compile', `expected ${outputs} losses (one per output), got ${lossSpecs.length}`);
  const losses = lossSpecs.map(getLoss);
  const lossWeights = args.lossWeights ?? new Array(outputs).fill(1);
  if (lossWeights.length !== outputs) fail('compile', `expected ${outputs} lossWeights, got ${lossWeights.length}`);
  const metrics = losses.map((loss) => (args.metrics ?? []).map((m) => getMetric(m, loss.lossName)));
  return { optimizer: getOptimizer(args.optimizer), losses, lossWeights, metrics, arena: new StepArena() };
}

function toTensors(data: Data, what: string): Tensor[] {
  if (data instanceof Tensor) return [data];
  if (Array.isArray(data) && data.length > 0 && data.every((d) => d instanceof Tensor)) return data as Tensor[];
  if (Array.isArray(data)) return [tensor(data as number[])];
  return fail('fit', `expected ${what} as a Tensor, an array of Tensors or nested number arrays, got ${typeof data}`);
}

function sampleCount(xs: Tensor[], ys: Tensor[]): number {
  const all = [...xs.map((t, i) => [`x[${i}]`, t] as const), ...ys.map((t, i) => [`y[${i}]`, t] as const)];
  const n = all[0][1].shape[0];
  for (const [name, t] of all) {
    if (t.rank === 0) fail('fit', `expected ${name} to have a sample axis, got a scalar`);
    if (t.shape[0] !== n) {
      fail('fit', `expected x and y with the same number of samples, got ${all.map(([k, v]) => `${k} ${v.shape[0]}`).join(', ')}`);
    }
  }
  return n;
}

/** Throws if any value is NaN or infinite, naming the sample. */
function checkFinite(t: Tensor, what: string): void {
  if (t.dtype !== 'float32') return;
  // The data may be tens of megabytes, checked at every fit. A NaN or an infinity makes the
  // sum (one SIMD pass) NaN or infinite; a finite sum clears every value. Only a non-finite
  // sum, which finite values can also give by overflowing, needs the scan that finds the value.
  const total = noGrad(() => ops.sum(t));
  const sum = total.dataSync()[0];
  total.dispose();
  if (Number.isFinite(sum)) return;
  // A view of the heap, not a copy.
  const start = t.ptr >> 2;
  const data = t.backend.heap.f32.subarray(start, start + t.size);
  const per = t.size / Math.max(1, t.shape[0]);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      fail('fit', `expected finite values in ${what}, got ${data[i]} in sample ${Math.floor(i / per)} (flat index ${i})`);
    }
  }
}

/** Copies rows indices[start..end) of `src` into a new tensor (an arena block inside a step). */
export function takeRows(src: Tensor, indices: Int32Array | null, start: number, end: number): Tensor {
  const rowShape = src.shape.slice(1);
  const row = src.size / Math.max(1, src.shape[0]);
  const out = Tensor.empty([end - start, ...rowShape] as Shape, src.dtype, src.backend);
  const heap = src.dtype === 'int32' ? src.backend.heap.i32 : src.backend.heap.f32;
  const from = src.ptr >> 2;
  const to = out.ptr >> 2;
  if (indices === null) {
    heap.copyWithin(to, from + start * row, from + end * row);
  } else {
    for (let i = start; i < end; i++) {
      const r = indices[i];
      heap.copyWithin(to + (i - start) * row, from + r * row, from + (r + 1) * row);
    }
  }
  return out;
}

function classOf(y: Tensor, i: number, data: ArrayLike<number>): number {
  const per = y.size / y.shape[0];
  if (per === 1) return data[i];
  let best = 0;
  for (let j = 1; j < per; j++) if (data[i * per + j] > data[i * per + best]) best = j;
  return best;
}

function sampleWeights(ys: Tensor[], classWeight: Record<number, number> | undefined): Float32Array | undefined {
  if (!classWeight) return undefined;
  const y = ys[0];
  const data = y.dataSync();
  const w = new Float32Array(y.shape[0]);
  for (let i = 0; i < w.length; i++) w[i] = classWeight[classOf(y, i, data)] ?? 1;
  return w;
}

/** The weighted total loss of one batch (recorded when called under a tape). */
function totalLoss(model: Model, c: Compiled, outputs: Tensor[], ys: Tensor[], weights?: Float32Array): Tensor {
  let total: Tensor | null = null;
  outputs.forEach((out, i) => {
    let perSample = c.losses[i](ys[i], out);
    if (weights) perSample = ops.mul(perSample, tensor(weights, [weights.length]));
    let l = ops.mean(perSample);
    if (c.lossWeights[i] !== 1) l = ops.scaleShift(l, c.lossWeights[i]);
    total = total ? ops.add(total, l) : l;
  });
  for (const v of model.trainableWeights) {
    if (v.regularizer) total = ops.add(total!, v.regularizer.penalty(v.value));
  }
  return total!;
}

function updateMetrics(c: Compiled, ys: Tensor[], outputs: Tensor[], weights?: Float32Array): void {
  c.metrics.forEach((list, i) => list.forEach((m) => m.update(ys[i], outputs[i], weights)));
}

function metricLogs(model: Model, c: Compiled, prefix = ''): Logs {
  const logs: Logs = {};
  c.metrics.forEach((list, i) => {
    const outName = model.outputs.length > 1 ? `${model.outputs[i].node.layer.name}_` : '';
    for (const m of list) logs[`${prefix}${outName}${m.name}`] = m.result();
  });
  return logs;
}

/** One optimizer step on a batch; returns the batch loss. Runs inside the compiled arena. */
function trainStep(model: Model, c: Compiled, xs: () => Tensor[], ys: () => Tensor[], classWeight?: Record<number, number>): number {
  const vars = model.trainableWeights;
  c.optimizer.build(vars); // outside the arena: slots are persistent
  return c.arena.run(() => {
    const xb = xs();
    const yb = ys();
    const weights = sampleWeights(yb, classWeight);
    let outputs: Tensor[] = [];
    const { value, grads } = valueAndGrads(() => {
      outputs = model.run(xb, { training: true, rng: globalRandom() });
      return totalLoss(model, c, outputs, yb, weights);
    }, Array.from(vars, (v) => v.value));
    const loss = value.dataSync()[0];
    if (Number.isFinite(loss)) c.optimizer.applyGradients(vars, grads);
    noGrad(() => updateMetrics(c, yb, outputs, weights));
    return loss;
  });
}

function resetMetrics(c: Compiled): void {
  for (const list of c.metrics) for (const m of list) m.reset();
}

/** Rows [offset, offset + n) of the tensors: a split refers to the data, it never copies it. */
interface Split {
  xs: Tensor[];
  ys: Tensor[];
  offset: number;
  n: number;
}

function splitValidation(xs: Tensor[], ys: Tensor[], n: number, fraction: number): { train: Split; val: Split } {
  if (!(fraction > 0 && fraction < 1)) fail('fit', `expected validationSplit in (0, 1), got ${fraction}`);
  const nVal = Math.floor(n * fraction);
  const nTrain = n - nVal;
  if (nVal === 0 || nTrain === 0) fail('fit', `validationSplit ${fraction} of ${n} samples leaves an empty split`);
  return { train: { xs, ys, offset: 0, n: nTrain }, val: { xs, ys, offset: nTrain, n: nVal } };
}

function isBatchIterable(x: unknown): x is AsyncIterable<Batch> | Iterable<Batch> {
  return typeof x === 'object' && x !== null && !(x instanceof Tensor) && !Array.isArray(x) &&
    (Symbol.asyncIterator in x || Symbol.iterator in x);
}

async function runCallbacks(callbacks: Callback[], f: (cb: Callback) => void | Promise<void>): Promise<void> {
  for (const cb of callbacks) await f(cb);
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export interface Trainable extends TrainingTarget {
  compiled: Compiled | null;
}

function compiledOf(model: Model & Trainable, what: string): Compiled {
  if (!model.compiled) fail(what, `expected a compiled model: call model.compile({ optimizer, loss }) before ${what}`);
  return model.compiled;
}

export async function fit(
  model: Model & Trainable, x: Data | AsyncIterable<Batch> | Iterable<Batch>, y: Data | undefined, args: FitArgs = {},
): Promise<History> {
  const c = compiledOf(model, 'fit');
  const epochs = args.epochs ?? 1;
  const initialEpoch = args.initialEpoch ?? 0;
  if (!Number.isInteger(epochs) || epochs < 1) fail('fit', `expected epochs to be a positive integer, got ${epochs}`);
  const batchSize = args.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) fail('fit', `expected batchSize to be a positive integer, got ${batchSize}`);

  let train: Split | null = null;
  let val: Split | null = null;
  let iterable: AsyncIterable<Batch> | Iterable<Batch> | null = null;
  if (isBatchIterable(x)) {
    iterable = x;
  } else {
    if (y === undefined) fail('fit', 'expected targets y, got undefined');
    const xs = toTensors(x, 'x');
    const ys = toTensors(y, 'y');
    const n = sampleCount(xs, ys);
    model.checkInputs(xs.map((t) => t));
    xs.forEach((t, i) => checkFinite(t, `x[${i}]`));
    ys.forEach((t, i) => checkFinite(t, `y[${i}]`));
    ys.forEach((t, i) => c.losses[i]?.validateTargets?.(t, model.outputs[i].shape));
    train = { xs, ys, offset: 0, n };
    if (args.validationSplit) ({ train, val } = splitValidation(xs, ys, n, args.validationSplit));
  }
  if (args.validationData) {
    const vx = toTensors(args.validationData[0], 'validation x');
    const vy = toTensors(args.validationData[1], 'validation y');
    val = { xs: vx, ys: vy, offset: 0, n: sampleCount(vx, vy) };
  }

  const history = new History();
  const verbose = args.verbose ?? 1;
  const callbacks = [history, ...(verbose ? [new ProgressLogger()] : []), ...(args.callbacks ?? [])];
  const steps = train ? Math.ceil(train.n / batchSize) : args.stepsPerEpoch ?? null;
  const metricNames = ['loss', ...Object.keys(metricLogs(model, c))];
  for (const cb of callbacks) {
    cb.setModel(model);
    cb.setParams({ epochs, steps, verbose, samples: train?.n ?? null, metrics: metricNames });
  }
  model.stopTraining = false;
  await runCallbacks(callbacks, (cb) => cb.onTrainBegin());
  let lastYield = performance.now();

  for (let epoch = initialEpoch; epoch < epochs && !model.stopTraining; epoch++) {
    resetMetrics(c);
    await runCallbacks(callbacks, (cb) => cb.onEpochBegin(epoch));
    let lossSum = 0;
    let seen = 0;
    const onBatch = async (batch: number, size: number, loss: number) => {
      lossSum += loss * size;
      seen += size;
      const logs = { loss: lossSum / seen, ...metricLogs(model, c) };
      await runCallbacks(callbacks, (cb) => cb.onBatchEnd(batch, { ...logs, loss }));
      if (performance.now() - lastYield > 200) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    };
    if (train) {
      const t = train;
      const order = new Int32Array(t.n).map((_, i) => t.offset + i);
      if (args.shuffle ?? true) globalRandom().shuffle(order);
      for (let b = 0, start = 0; start < t.n && !model.stopTraining; b++, start += batchSize) {
        const end = Math.min(start + batchSize, t.n);
        await runCallbacks(callbacks, (cb) => cb.onBatchBegin(b));
        const loss = trainStep(model, c, () => Array.from(t.xs, (s) => takeRows(s, order, start, end)), () => Array.from(t.ys, (s) => takeRows(s, order, start, end)), args.classWeight);
        await onBatch(b, end - start, loss);
      }
    } else {
      let b = 0;
      for await (const batch of iterable! as AsyncIterable<Batch>) {
        if (model.stopTraining || (args.stepsPerEpoch !== undefined && b >= args.stepsPerEpoch)) break;
        const bx = Array.isArray(batch.xs) ? batch.xs : [batch.xs];
        const by = Array.isArray(batch.ys) ? batch.ys : [batch.ys];
        const size = sampleCount(bx, by);
        await runCallbacks(callbacks, (cb) => cb.onBatchBegin(b));
        const loss = trainStep(model, c, () => bx, () => by, args.classWeight);
        await onBatch(b, size, loss);
        b++;
      }
    }
    const logs: Logs = { loss: seen ? lossSum / seen : NaN, ...metricLogs(model, c) };
    if (val) Object.assign(logs, evaluateSplit(model, c, val, batchSize, 'val_'));
    await runCallbacks(callbacks, (cb) => cb.onEpochEnd(epoch, logs));
  }
  await runCallbacks(callbacks, (cb) => cb.onTrainEnd());
  return history;
}

function evaluateSplit(model: Model, c: Compiled, split: Split, batchSize: number, prefix = ''): Logs {
  const { xs, ys, offset, n } = split;
  model.checkInputs(xs);
  resetMetrics(c);
  let lossSum = 0;
  noGrad(() => {
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(start + batchSize, n);
      lossSum += c.arena.run(() => {
        const xb = Array.from(xs, (t) => takeRows(t, null, offset + start, offset + end));
        const yb = Array.from(ys, (t) => takeRows(t, null, offset + start, offset + end));
        const outputs = model.run(xb, { training: false, rng: globalRandom() });
        updateMetrics(c, yb, outputs);
        return totalLoss(model, c, outputs, yb).dataSync()[0] * (end - start);
      });
    }
  });
  return { [`${prefix}loss`]: lossSum / n, ...metricLogs(model, c, prefix) };
}

export function evaluate(model: Model & Trainable, x: Data, y: Data, args: { batchSize?: number } = {}): Logs {
  const c = compiledOf(model, 'evaluate');
  const xs = toTensors(x, 'x');
  const ys = toTensors(y, 'y');
  return evaluateSplit(model, c, { xs, ys, offset: 0, n: sampleCount(xs, ys) }, args.batchSize ?? 32);
}

/** Batched inference; the result is a new tensor (or one per output). */
export function predict(model: Model, x: Data, args: { batchSize?: number } = {}): Tensor | Tensor[] {
  const xs = toTensors(x, 'x');
  model.checkInputs(xs);
  const n = sampleCount(xs, xs);
  const batchSize = args.batchSize ?? 32;
  const arena = new StepArena();
  let results = null as Tensor[] | null;
  try {
    noGrad(() => {
      for (let start = 0; start < n; start += batchSize) {
        const end = Math.min(start + batchSize, n);
        arena.run(() => {
          const outputs = model.run(Array.from(xs, (t) => takeRows(t, null, start, end)), { training: false, rng: globalRandom() });
          if (results === null) {
            // Allocated outside the arena: the results outlive the batches.
            results = outputs.map((o) => outsideArena(() => Tensor.empty([n, ...o.shape.slice(1)], 'float32', o.backend)));
          }
          outputs.forEach((o, i) => {
            const heap = o.backend.heap.f32;
            heap.copyWithin((results![i].ptr >> 2) + start * (o.size / (end - start)), o.ptr >> 2, (o.ptr >> 2) + o.size);
          });
        });
      }
    });
  } finally {
    arena.dispose();
  }
  const out: Tensor[] = results ?? fail('predict', 'expected at least one sample, got 0');
  return out.length === 1 ? out[0] : out;
}

export function trainOnBatch(model: Model & Trainable, x: Data, y: Data, classWeight?: Record<number, number>): number {
  const c = compiledOf(model, 'trainOnBatch');
  const xs = toTensors(x, 'x');
  const ys = toTensors(y, 'y');
  sampleCount(xs, ys);
  model.checkInputs(xs);
  resetMetrics(c);
  return trainStep(model, c, () => xs, () => ys, classWeight);
}

