// kerasm, loaded from the built bundle exactly as a user would import it.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ADAM, classCount, trainingRun } from '../lib/training.mjs';

const BUNDLE = new URL('../../dist/kerasm.js', import.meta.url);

/**
 * @param {'simd' | 'relaxed-simd' | 'auto'} flavor
 * @returns {Promise<import('./index.mjs').Engine>}
 */
export async function prepareKerasm(flavor) {
  if (!existsSync(fileURLToPath(BUNDLE))) {
    throw new Error('dist/kerasm.js not found: run `npm run build` first');
  }
  const api = await import(BUNDLE.href);
  const backend = await api.init({ flavor });
  if (flavor !== 'auto' && backend.flavor !== flavor) {
    throw new Error(`asked kerasm for flavor '${flavor}', got '${backend.flavor}'`);
  }
  return {
    name: 'kerasm',
    ctx: api,
    policy: 'fast',
    describe: { flavor: backend.flavor },
    activate: async () => {},
    // Bytes allocated in the kernel heap; with `out` tensors a timed loop must not add any.
    memory: () => backend.heap.bytesInUse,
    memoryUnit: 'heap bytes',
  };
}

/**
 * Wraps a kerasm op for the harness. `setup(api, inputs)` returns the input tensors, a
 * preallocated `out` tensor and `op(out)`; the timed run writes into `out`, so it allocates
 * nothing. `out` starts as NaN so that an op that ignores it fails the numeric check.
 */
export function kerasmOp(setup) {
  return (api, inputs) => {
    const { tensors, outShape, op } = setup(api, inputs);
    const size = outShape.reduce((a, b) => a * b, 1);
    const out = api.tensor(new Float32Array(size).fill(NaN), outShape);
    return {
      run: () => op(out),
      result: () => out.dataSync(),
      dispose: () => {
        for (const t of tensors) t.dispose();
        out.dispose();
      },
    };
  };
}

/**
 * A training step through kerasm's public API: the model is built from the spec, compiled
 * once, given the workload's initial weights, and each run is `model.trainOnBatch(x, y)` (its
 * first call plans the step's memory; the harness warms up past it).
 * @param {import('../lib/training.mjs').ModelSpec} spec
 * @param {number} batch
 */
export function kerasmTraining(spec, batch) {
  return (api, inputs) => {
    const layers = spec.layers.map((layer, i) =>
      kerasmLayer(api, layer, i === 0 ? spec.inputShape : undefined));
    const model = new api.Sequential(layers);
    model.compile({ optimizer: new api.Adam(ADAM), loss: 'categorical_crossentropy' });
    model.setWeights(inputs.weights);
    const x = api.tensor(inputs.x, [batch, ...spec.inputShape]);
    const y = api.tensor(inputs.y, [batch, classCount(spec)]);
    return trainingRun({
      step: () => model.trainOnBatch(x, y),
      dispose: () => {
        x.dispose();
        y.dispose();
      },
    });
  };
}

function kerasmLayer(api, layer, inputShape) {
  const first = inputShape ? { inputShape } : {};
  switch (layer.kind) {
    case 'dense':
      return new api.Dense({ units: layer.units, activation: layer.activation, ...first });
    case 'conv2d':
      return new api.Conv2D({
        filters: layer.filters, kernelSize: [layer.kernel, layer.kernel],
        activation: layer.activation, ...first,
      });
    case 'maxPool2d':
      return new api.MaxPooling2D({ poolSize: [layer.pool, layer.pool], ...first });
    case 'flatten':
      return new api.Flatten(first);
    default:
      throw new Error(`unknown layer kind '${layer.kind}'`);
  }
}
