// TensorFlow.js with its WebAssembly backend (XNNPACK, one thread) and its plain JavaScript
// CPU backend, and tfjs-layers for the training workloads. Both backends live in one tfjs
// engine; the harness activates the right backend before each sample, since tfjs would
// otherwise move tensors between backends inside a timed run.

import { ADAM, classCount, trainingRun, weightShapes } from '../lib/training.mjs';

let loaded = null;

async function loadTfjs() {
  // Every tfjs package is loaded the same way (import() of its CommonJS build, which is what
  // Node picks for these packages), so that tfjs-layers and both backends share the one
  // tfjs-core instance and its registry of backends and kernels.
  loaded ??= (async () => {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu'); // registers 'cpu'
    const wasm = await import('@tensorflow/tfjs-backend-wasm'); // registers 'wasm'
    const layers = await import('@tensorflow/tfjs-layers');
    return { tf, wasm, layers };
  })();
  return loaded;
}

async function activate(tf, name) {
  if (tf.getBackend() === name) return;
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend '${name}' failed to start`);
}

function tfjsEngine({ tf, layers }, name, backend, policy, readback, describe) {
  return {
    name,
    ctx: { tf, layers, readback },
    policy,
    describe,
    activate: () => activate(tf, backend),
    // Data buffers held by this backend (tf.memory() counts every backend's tensors together);
    // a timed loop that forgets to dispose a tensor shows up here.
    memory: () => tf.findBackend(backend).numDataIds(),
    memoryUnit: 'data buffers',
  };
}

/** @returns {Promise<import('./index.mjs').Engine>} */
export async function prepareTfjsWasm({ readback }) {
  const tfjs = await loadTfjs();
  const { tf, wasm, layers } = tfjs;
  // Must come before the backend starts; XNNPACK otherwise uses one thread per core.
  wasm.setThreadsCount(1);
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threadsSupported = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  await activate(tf, 'wasm');
  const threads = typeof wasm.getThreadsCount === 'function' ? wasm.getThreadsCount() : null;
  if (threads !== null && threads !== 1) {
    throw new Error(`tfjs-wasm runs ${threads} threads; the comparison needs 1`);
  }
  // The same choice tfjs makes in getPathToWasmBinary.
  const binary = simd && threadsSupported
    ? 'tfjs-backend-wasm-threaded-simd.wasm'
    : simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm';
  return tfjsEngine(tfjs, 'tfjs-wasm', 'wasm', 'fast', readback, {
    version: wasm.version_wasm, layers: layers.version_layers, simd,
    threads: threads ?? 'unknown', binary,
    timed: readback ? 'op + dataSync()' : 'op alone',
  });
}

/** @returns {Promise<import('./index.mjs').Engine>} */
export async function prepareTfjsCpu({ readback }) {
  const tfjs = await loadTfjs();
  const { tf, layers } = tfjs;
  await activate(tf, 'cpu');
  // The cpu backend advertises tfjs-node on its first tensor; keep that out of the report.
  const warn = console.warn;
  console.warn = () => {};
  try {
    tf.scalar(0).dispose();
  } finally {
    console.warn = warn;
  }
  return tfjsEngine(tfjs, 'tfjs-cpu', 'cpu', 'slow', readback, {
    version: tf.version_core, layers: layers.version_layers,
    timed: readback ? 'op + dataSync()' : 'op alone',
  });
}

/**
 * Wraps a tfjs op for the harness. `setup(tf, inputs)` returns the input tensors and `op()`.
 * By default the timed run includes dataSync(), so the result is materialized as a user would
 * read it, and disposes the result so that tfjs's memory stays flat. Without readback
 * (--no-readback) the timed run is the op alone: both tfjs backends compute synchronously
 * inside the op call, and the result is read only after timing, for the check.
 */
export function tfjsOp(setup) {
  return ({ tf, readback }, inputs) => {
    const { tensors, op } = setup(tf, inputs);
    let last = null;
    let lastTensor = null;
    const run = readback
      ? () => {
          const y = op();
          last = y.dataSync();
          y.dispose();
        }
      : () => {
          lastTensor?.dispose();
          lastTensor = op();
        };
    return {
      run,
      result: () => (readback ? last : lastTensor?.dataSync() ?? null),
      dispose: () => {
        lastTensor?.dispose();
        for (const t of tensors) t.dispose();
      },
    };
  };
}

/**
 * A training step through tfjs-layers, on whichever backend the harness activated: the same
 * Sequential model built with tfjs-layers, compiled once with Adam, given the workload's initial
 * weights; each run is `await model.trainOnBatch(x, y)`, which reads the loss back.
 * @param {import('../lib/training.mjs').ModelSpec} spec
 * @param {number} batch
 */
export function tfjsTraining(spec, batch) {
  return ({ tf, layers }, inputs) => {
    const model = layers.sequential({
      layers: spec.layers.map((layer, i) =>
        tfjsLayer(layers, layer, i === 0 ? spec.inputShape : undefined)),
    });
    const { learningRate, beta1, beta2, epsilon } = ADAM;
    const optimizer = tf.train.adam(learningRate, beta1, beta2, epsilon);
    model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    const initial = weightShapes(spec).map((shape, i) => tf.tensor(inputs.weights[i], shape));
    model.setWeights(initial);
    tf.dispose(initial);
    const x = tf.tensor(inputs.x, [batch, ...spec.inputShape]);
    const y = tf.tensor(inputs.y, [batch, classCount(spec)]);
    return trainingRun({
      async: true,
      step: () => model.trainOnBatch(x, y),
      dispose: () => {
        model.dispose();
        optimizer.dispose();
        tf.dispose([x, y]);
      },
    });
  };
}

function tfjsLayer(layers, layer, inputShape) {
  const first = inputShape ? { inputShape } : {};
  switch (layer.kind) {
    case 'dense':
      return layers.layers.dense({ units: layer.units, activation: layer.activation, ...first });
    case 'conv2d':
      return layers.layers.conv2d({
        filters: layer.filters, kernelSize: layer.kernel, activation: layer.activation, ...first,
      });
    case 'maxPool2d':
      return layers.layers.maxPooling2d({ poolSize: layer.pool, ...first });
    case 'flatten':
      return layers.layers.flatten(first);
    default:
      throw new Error(`unknown layer kind '${layer.kind}'`);
  }
}
