// The implementations under comparison. A workload names, per implementation, a factory
// `setup(engine.ctx, inputs) -> { run, result, dispose }`; the harness does the rest.

import { prepareJax } from './jax.mjs';
import { prepareKerasm } from './kerasm.mjs';
import { prepareTfjsCpu, prepareTfjsWasm } from './tfjs.mjs';

/**
 * @typedef {object} Engine
 * @property {string} name
 * @property {any} ctx             what the workload factories receive (kerasm's API, tf, jax)
 * @property {'fast' | 'slow'} policy  which sampling policy applies (see lib/measure.mjs)
 * @property {Record<string, unknown>} describe  printed in the machine description
 * @property {() => Promise<void>} activate  called before every setup and sample
 * @property {() => number} memory memory in use, checked to stay flat while timing
 * @property {string} memoryUnit
 */

/**
 * Implementation names in the order they run and are printed; tfjs-wasm is the baseline.
 * jax-js has only the training workloads.
 */
export const IMPL_NAMES = ['kerasm', 'tfjs-wasm', 'tfjs-cpu', 'jax-js'];
export const BASELINE = 'tfjs-wasm';

/** Prepares one implementation by name. */
export function prepare(name, { flavor, readback }) {
  switch (name) {
    case 'kerasm': return prepareKerasm(flavor);
    case 'tfjs-wasm': return prepareTfjsWasm({ readback });
    case 'tfjs-cpu': return prepareTfjsCpu({ readback });
    case 'jax-js': return prepareJax();
    default: throw new Error(`unknown implementation '${name}'`);
  }
}
