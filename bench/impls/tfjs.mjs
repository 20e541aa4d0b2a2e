// TensorFlow.js with its WebAssembly backend (XNNPACK, one thread) and its plain JavaScript
// CPU backend. Both live in one tfjs engine; the harness activates the right backend before
// each sample, since tfjs would otherwise move tensors between backends inside a timed run.

let loaded = null;

async function loadTfjs() {
  loaded ??= (async () => {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu'); // registers 'cpu'
    const wasm = await import('@tensorflow/tfjs-backend-wasm'); // registers 'wasm'
    return { tf, wasm };
  })();
  return loaded;
}

async function activate(tf, name) {
  if (tf.getBackend() === name) return;
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend '${name}' failed to start`);
}

function tfjsEngine(tf, name, backend, policy, readback, describe) {
  return {
    name,
    ctx: { tf, readback },
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
  const { tf, wasm } = await loadTfjs();
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
  return tfjsEngine(tf, 'tfjs-wasm', 'wasm', 'fast', readback, {
    version: wasm.version_wasm, simd, threads: threads ?? 'unknown', binary,
    timed: readback ? 'op + dataSync()' : 'op alone',
  });
}

/** @returns {Promise<import('./index.mjs').Engine>} */
export async function prepareTfjsCpu({ readback }) {
  const { tf } = await loadTfjs();
  await activate(tf, 'cpu');
  // The cpu backend advertises tfjs-node on its first tensor; keep that out of the report.
  const warn = console.warn;
  console.warn = () => {};
  try {
    tf.scalar(0).dispose();
  } finally {
    console.warn = warn;
  }
  return tfjsEngine(tf, 'tfjs-cpu', 'cpu', 'slow', readback, {
    version: tf.version_core, timed: readback ? 'op + dataSync()' : 'op alone',
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
