// The optimizer's state in a saved model, as TensorFlow.js writes it with includeOptimizer:
// after the model's weights, in the manifest group 'optimizer',
//
//   'iter'                  int32 []   the step count
//   '<weight>/<slot>'       float32    each kind of slot for every trainable weight in turn:
//                                      Adam m then v, RMSProp rms, momentum (and mg when
//                                      centered), Momentum momentum, Adagrad accumulator
//
// Slots are matched to the model's trainable weights by position, as TensorFlow.js does (its
// names hold its own variable names); every shape is checked first.
// see: tfjs-layers/src/engine/training.ts save(), tfjs-layers/src/models.ts
//      (decodeModelAndOptimizerWeights), tfjs-core/src/optimizers/*_optimizer.ts getWeights()

import { fail } from '../ops/check.js';
import { formatShape } from '../tensor.js';
import type { Model } from '../models/model.js';
import { kerasWeights } from './serialization.js';
import type { WeightSpec } from './types.js';
import type { DecodedWeight } from './weights.js';

export const OPTIMIZER_GROUP = 'optimizer';

/** The optimizer's entries of the manifest and their bytes (little-endian). */
export function encodeOptimizerState(model: Model, op = 'save'): { specs: WeightSpec[]; data: ArrayBuffer } {
  const optimizer = model.compiled?.optimizer;
  if (!optimizer) fail(op, `expected a compiled model to save its optimizer (includeOptimizer), got model '${model.name}' uncompiled`);
  const vars = model.trainableWeights;
  const kerasNames = new Map(model.layers.flatMap(kerasWeights).map((w) => [w.variable, w.name]));
  const state = optimizer.getState(vars);
  const names = state.length === 0 ? [] : optimizer.slotLayout().flatMap(({ suffix }) => vars.map((v) => `${kerasNames.get(v) ?? v.name}/${suffix}`));
  const specs: WeightSpec[] = [
    { name: 'iter', shape: [], dtype: 'int32', group: OPTIMIZER_GROUP },
    ...state.map((_, k) => ({ name: names[k], shape: [...vars[k % vars.length].shape], dtype: 'float32', group: OPTIMIZER_GROUP })),
  ];
  const bytes = 4 * (1 + state.reduce((n, s) => n + s.length, 0));
  const view = new DataView(new ArrayBuffer(bytes));
  view.setInt32(0, optimizer.iterations, true);
  let offset = 4;
  for (const values of state) {
    for (const x of values) {
      view.setFloat32(offset, x, true);
      offset += 4;
    }
  }
  return { specs, data: view.buffer };
}

/** Whether decoded weights hold optimizer state. */
export function hasOptimizerState(weights: readonly DecodedWeight[]): boolean {
  return weights.some((d) => d.spec.group === OPTIMIZER_GROUP);
}

/**
 * Restores the optimizer state among `weights` into the compiled model's optimizer: the step
 * count first, then its slots for the trainable weights in order. Everything is checked
 * before anything is written.
 */
export function restoreOptimizerState(model: Model, weights: readonly DecodedWeight[], op: string): void {
  const optimizer = model.compiled?.optimizer;
  if (!optimizer) fail(op, `expected a compiled model to restore the saved optimizer state into, got model '${model.name}' uncompiled`);
  const entries = weights.filter((d) => d.spec.group === OPTIMIZER_GROUP);
  const [iter, ...slots] = entries;
  if (!iter || iter.spec.shape.length !== 0 || !/(^|\/)iter(ations)?(:\d+)?$/.test(iter.spec.name)) {
    fail(op, `expected the optimizer state to start with the step count 'iter' (a scalar), got ${iter ? `'${iter.spec.name}' of shape ${formatShape(iter.spec.shape)}` : 'nothing'}`);
  }
  const vars = model.trainableWeights;
  slots.forEach((d, k) => {
    const v = vars[k % Math.max(1, vars.length)];
    if (v && formatShape(d.spec.shape) !== formatShape(v.shape)) {
      fail(op, `expected optimizer slot '${d.spec.name}' (entry ${k + 1} of the optimizer state) to have the shape of trainable weight ${k % vars.length} '${v.name}', ${formatShape(v.shape)}, got ${formatShape(d.spec.shape)}`);
    }
  });
  optimizer.setState(vars, iter.values[0], slots.map((d) => d.values), slots.map((d) => d.spec.name));
}
