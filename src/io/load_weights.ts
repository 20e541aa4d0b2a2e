// Putting decoded weights into a model's variables. Everything is matched and checked first;
// only then is anything written, so a failed load leaves the model exactly as it was.
//
// Like save.ts, this module imports the model classes as types only (Model.loadWeights uses it).

import { fail } from '../ops/check.js';
import { formatShape } from '../tensor.js';
import type { Model } from '../models/model.js';
import { resolveHandler, type LoadedArtifacts } from './handlers.js';
import { kerasWeights } from './serialization.js';
import type { IOHandler } from './types.js';
import { weightBuffers } from './types.js';
import { decodeWeights, type DecodedWeight, type KerasWeight } from './weights.js';

export interface LoadWeightsOptions {
  /**
   * How saved weights find the model's: 'name' (default) matches `layerName/weightName`, as
   * TensorFlow.js does; 'order' takes them in order, for the same architecture built with
   * other layer names.
   */
  matchBy?: 'name' | 'order';
}

function listNames(items: readonly { name: string; shape: readonly number[] }[], max = 6): string {
  const shown = items.slice(0, max).map((w) => `'${w.name}' ${formatShape(w.shape)}`);
  return items.length > max ? `${shown.join(', ')} and ${items.length - max} more` : shown.join(', ');
}

/**
 * Whether a saved name is this weight's under another convention: a ':0' suffix (TensorFlow
 * variables), a prefix (Keras 3 paths), or a cell scope (Keras 2 RNNs: lstm/lstm_cell/kernel).
 */
function sameWeight(saved: string, name: string): boolean {
  const clean = saved.replace(/:\d+$/, '');
  const parts = clean.split('/');
  const noScope = parts.length >= 3 ? [...parts.slice(0, -2), parts[parts.length - 1]].join('/') : clean;
  return [clean, noScope].some((s) => s === name || s.endsWith(`/${name}`));
}

function matchByName(vars: readonly KerasWeight[], saved: readonly DecodedWeight[], op: string): DecodedWeight[] {
  const exact = new Map(saved.map((d) => [d.spec.name, d]));
  const used = new Set<DecodedWeight>();
  const missing: KerasWeight[] = [];
  const matched = vars.map((v) => {
    let d = exact.get(v.name);
    if (!d || used.has(d)) {
      const candidates = saved.filter((s) => !used.has(s) && sameWeight(s.spec.name, v.name));
      d = candidates.length === 1 ? candidates[0] : undefined;
    }
    if (d) used.add(d);
    else missing.push(v);
    return d!;
  });
  const unused = saved.filter((d) => !used.has(d)).map((d) => d.spec);
  if (missing.length > 0 || unused.length > 0) {
    const want = missing.length > 0 ? `expected saved weights for ${listNames(missing)}` : 'expected every saved weight to belong to the model';
    const got = unused.length > 0 ? `the saved weights left over are ${listNames(unused)}` : `the saved weights are ${listNames(saved.map((d) => d.spec)) || 'none'}`;
    fail(op, `${want}; ${got}. (To match weights by position instead of name, use loadWeights(source, { matchBy: 'order' }).)`);
  }
  return matched;
}

/**
 * Checks `saved` against the model's variables and, only if every one matches in name (or
 * position) and shape, writes them all.
 */
export function assignWeights(model: Model, saved: readonly DecodedWeight[], op: string, matchBy: 'name' | 'order' = 'name'): void {
  const vars = model.layers.flatMap(kerasWeights);
  // Optimizer state that TensorFlow.js saves with includeOptimizer is not model weights.
  const own = saved.filter((d) => d.spec.group !== 'optimizer');
  let matched: DecodedWeight[];
  if (matchBy === 'order') {
    if (own.length !== vars.length) {
      fail(op, `expected ${vars.length} saved weights for model '${model.name}' (${listNames(vars)}), got ${own.length}`);
    }
    matched = own;
  } else {
    matched = matchByName(vars, own, op);
  }
  vars.forEach((v, i) => {
    const spec = matched[i].spec;
    if (formatShape(spec.shape) !== formatShape(v.shape)) {
      fail(op, `expected '${v.name}' of shape ${formatShape(v.shape)} (from the model's layers), got shape ${formatShape(spec.shape)} for '${spec.name}' in the weights manifest`);
    }
  });
  vars.forEach((v, i) => v.variable.assign(matched[i].values));
}

/** Decodes the weights of loaded artifacts (checked against their bytes). */
export function decodeArtifactsWeights(artifacts: LoadedArtifacts, op: string): DecodedWeight[] {
  if (artifacts.weightSpecs === undefined || artifacts.weightSpecs === null) return [];
  if (artifacts.weightData === undefined || artifacts.weightData === null) {
    fail(op, `expected weightData for the ${artifacts.weightSpecs.length} weights in the manifest, got none`);
  }
  const source = artifacts.weightSource ?? 'weightData';
  return decodeWeights(op, artifacts.weightSpecs, weightBuffers(artifacts.weightData), source);
}

/**
 * Loads saved weights into an existing model of the same architecture. Nothing is written
 * unless every weight is found and has the right shape, so on error the model is unchanged.
 * @example
 * ```ts
 * await model.loadWeights('file://./checkpoints/epoch-10/model.json');
 * ```
 */
export async function loadWeightsInto(model: Model, source: string | IOHandler, options: LoadWeightsOptions = {}): Promise<void> {
  const op = 'loadWeights';
  const matchBy = options.matchBy ?? 'name';
  if (matchBy !== 'name' && matchBy !== 'order') fail(op, `expected matchBy 'name' or 'order', got ${JSON.stringify(matchBy)}`);
  const artifacts = (await resolveHandler(source, 'load', op).load!()) as LoadedArtifacts;
  assignWeights(model, decodeArtifactsWeights(artifacts, op), op, matchBy);
}
