// The workloads. Adding one is adding an entry here (and, for a new kind, a file beside this
// one that builds the object described below).

import { conv2d } from './conv2d.mjs';
import { matmul } from './matmul.mjs';
import { maxPool } from './maxpool.mjs';
import { search } from './search.mjs';
import { CONVNET, MLP, training } from './training.mjs';

/**
 * @typedef {object} Workload
 * @property {string} name      unique; also what --only matches
 * @property {string} family    'matmul', 'conv2d', 'train', 'search', ... (the relaxed-SIMD
 *   child runs 'matmul')
 * @property {'search'} [kind]  a whole search timed by workloads/search.mjs, not by the harness
 * @property {'op' | 'train'} [sampling]  which sampling policies apply (lib/measure.mjs);
 *   default 'op'
 * @property {string[]} tags    what the targets in targets.mjs select on
 * @property {'GFLOP/s' | 'GB/s' | 'samples/s'} unit
 * @property {number} work      FLOPs or bytes moved per run, or samples per training step
 * @property {number} tolerance for lib/check.mjs's compare
 * @property {(random: () => number) => object} inputs   the same inputs for every implementation
 * @property {(inputs: object) => { values: Float64Array, scale: Float64Array | null }} reference
 * @property {Record<string, (ctx: any, inputs: object) => Instance>} impls
 *
 * @typedef {object} Instance  one implementation set up for one workload
 * @property {() => void | Promise<void>} run  one timed run
 * @property {boolean} [async]  run returns a promise, awaited inside the timing (tfjs-layers'
 *   trainOnBatch); synchronous runs are never awaited, so they pay no microtask
 * @property {() => Float32Array | null} result  what the numeric check compares
 * @property {() => number[]} [losses]  a training run's first losses, shown in the report
 * @property {() => void} dispose
 */

/** @returns {Workload[]} */
export function workloads({ quick }) {
  // --quick keeps the shapes' character (channels, kernel, padding) and shrinks the batch.
  const batch = quick ? 4 : 32;
  const side = quick ? 28 : 56;
  const matmulSizes = quick ? [128, 256] : [128, 256, 512, 1024];
  const mlpBatch = quick ? 32 : 128;
  const convnetBatch = quick ? 8 : 64;
  return [
    ...matmulSizes.map(matmul),
    conv2d({ n: batch, h: 28, w: 28, c: 1, k: 3, co: 32, padding: 'valid', tags: ['conv-c1'] }),
    conv2d({ n: batch, h: 26, w: 26, c: 32, k: 3, co: 64, padding: 'valid', tags: ['conv-deep'] }),
    conv2d({ n: 1, h: side, w: side, c: 64, k: 3, co: 64, padding: 'same', tags: ['conv-deep'] }),
    maxPool({ n: batch, h: 24, w: 24, c: 64, pool: 2, stride: 2, tags: ['pool'] }),
    training({ name: 'mlp 784-256-128-10', spec: MLP, batch: mlpBatch, tags: ['train-mlp'] }),
    training({
      name: 'mnist convnet', spec: CONVNET, batch: convnetBatch, tags: ['train-convnet'],
    }),
    search({ quick }),
    ...(quick ? [] : [search({ quick, epochs: 12 })]),
  ];
}
