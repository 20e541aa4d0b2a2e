// Training throughput: one step (forward, backward, Adam update, loss read back) on a fixed
// batch, in samples per second. Every library starts from the same seeded weights, so the loss
// of its first step (taken before any update) is checked against a float64 forward pass.

import { kerasmTraining } from '../impls/kerasm.mjs';
import { jaxTraining } from '../impls/jax.mjs';
import { tfjsTraining } from '../impls/tfjs.mjs';
import { classCount, layerShapes } from '../lib/training.mjs';

/** @type {import('../lib/training.mjs').ModelSpec} */
export const MLP = {
  inputShape: [784],
  layers: [
    { kind: 'dense', units: 256, activation: 'relu' },
    { kind: 'dense', units: 128, activation: 'relu' },
    { kind: 'dense', units: 10, activation: 'softmax' },
  ],
};

/**
 * The Keras MNIST convnet without its two Dropout layers, which every library would implement
 * with its own random masks: without them all do the same arithmetic.
 * see: keras-io/examples/vision/mnist_convnet.py
 * @type {import('../lib/training.mjs').ModelSpec}
 */
export const CONVNET = {
  inputShape: [28, 28, 1],
  layers: [
    { kind: 'conv2d', filters: 32, kernel: 3, activation: 'relu' },
    { kind: 'conv2d', filters: 64, kernel: 3, activation: 'relu' },
    { kind: 'maxPool2d', pool: 2 },
    { kind: 'flatten' },
    { kind: 'dense', units: 128, activation: 'relu' },
    { kind: 'dense', units: 10, activation: 'softmax' },
  ],
};

/**
 * @param {{ name: string, spec: import('../lib/training.mjs').ModelSpec, batch: number,
 *   tags?: string[] }} args
 * @returns {import('./index.mjs').Workload}
 */
export function training({ name, spec, batch, tags = [] }) {
  return {
    name: `train ${name} (batch ${batch})`,
    family: 'train',
    sampling: 'train',
    tags,
    unit: 'samples/s',
    work: batch,
    // Relative error of the first step's loss. float32 forward passes land within a few 1e-6
    // of the float64 loss; a wrong weight layout moves it by 4e-3 (a conv window read
    // transposed) to 7e-2 (a dense kernel read transposed). A missing bias may move it less.
    tolerance: 1e-3,
    inputs: (random) => trainingInputs(random, spec, batch),
    reference: (inputs) => {
      const loss = referenceLoss(spec, inputs, batch);
      return { values: Float64Array.of(loss), scale: Float64Array.of(Math.abs(loss)) };
    },
    impls: {
      kerasm: kerasmTraining(spec, batch),
      'tfjs-wasm': tfjsTraining(spec, batch),
      'tfjs-cpu': tfjsTraining(spec, batch),
      'jax-js': jaxTraining(spec, batch),
    },
  };
}

/**
 * Pixels in [0, 1), one-hot labels of random classes, and initial weights: Glorot-uniform
 * kernels (Keras's default) and small nonzero biases, so that the check also covers the biases.
 */
function trainingInputs(random, spec, batch) {
  const inputSize = spec.inputShape.reduce((a, b) => a * b, 1);
  const classes = classCount(spec);
  const x = new Float32Array(batch * inputSize);
  for (let i = 0; i < x.length; i++) x[i] = random();
  const y = new Float32Array(batch * classes);
  for (let b = 0; b < batch; b++) y[b * classes + Math.floor(random() * classes)] = 1;
  const weights = [];
  for (const { weights: shapes } of layerShapes(spec)) {
    if (shapes.length === 0) continue;
    const [kernel, bias] = shapes;
    // see: keras glorot_uniform; a conv kernel's fans count its window (kh * kw * c, ...).
    const receptive = kernel.slice(0, -2).reduce((a, b) => a * b, 1);
    const fanIn = receptive * kernel[kernel.length - 2];
    const fanOut = receptive * kernel[kernel.length - 1];
    weights.push(scaled(random, kernel, Math.sqrt(6 / (fanIn + fanOut))));
    weights.push(scaled(random, bias, 0.05));
  }
  return { x, y, weights };
}

function scaled(random, shape, limit) {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = (random() * 2 - 1) * limit;
  return values;
}

/** Mean categorical cross-entropy of the initial model on the batch, in float64. */
function referenceLoss(spec, { x, y, weights }, batch) {
  let act = Float64Array.from(x);
  let w = 0;
  for (const { layer, input, output } of layerShapes(spec)) {
    switch (layer.kind) {
      case 'dense':
        act = denseF64(act, weights[w], weights[w + 1], batch, input[0], layer.units);
        w += 2;
        break;
      case 'conv2d':
        act = convF64(act, weights[w], weights[w + 1], batch, input, output, layer.kernel);
        w += 2;
        break;
      case 'maxPool2d':
        act = poolF64(act, batch, input, output, layer.pool);
        break;
      case 'flatten':
        break; // NHWC rows are already flat in Keras's order
    }
    if ('activation' in layer && layer.activation === 'relu') act = act.map((a) => Math.max(a, 0));
  }
  // Softmax and cross-entropy together: -log softmax(z)[label] = logsumexp(z) - z[label].
  const classes = classCount(spec);
  let total = 0;
  for (let b = 0; b < batch; b++) {
    const z = act.subarray(b * classes, (b + 1) * classes);
    const max = Math.max(...z);
    let sum = 0;
    for (let j = 0; j < classes; j++) sum += Math.exp(z[j] - max);
    const logSumExp = max + Math.log(sum);
    for (let j = 0; j < classes; j++) total += y[b * classes + j] * (logSumExp - z[j]);
  }
  return total / batch;
}

function denseF64(x, kernel, bias, batch, units, outUnits) {
  const out = new Float64Array(batch * outUnits);
  for (let b = 0; b < batch; b++) {
    const row = out.subarray(b * outUnits, (b + 1) * outUnits);
    for (let j = 0; j < outUnits; j++) row[j] = bias[j];
    for (let i = 0; i < units; i++) {
      const xi = x[b * units + i];
      if (xi === 0) continue; // after a relu, about half the inputs
      const kRow = i * outUnits;
      for (let j = 0; j < outUnits; j++) row[j] += xi * kernel[kRow + j];
    }
  }
  return out;
}

/** 'valid' convolution, stride 1: x NHWC, kernel HWIO; shapes [H,W,C] without the batch. */
function convF64(x, kernel, bias, batch, inShape, outShape, k) {
  const [h, w, c] = inShape;
  const [oh, ow, co] = outShape;
  const out = new Float64Array(batch * oh * ow * co);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const o = ((b * oh + oy) * ow + ox) * co;
        const row = out.subarray(o, o + co);
        for (let j = 0; j < co; j++) row[j] = bias[j];
        for (let ky = 0; ky < k; ky++) {
          for (let kx = 0; kx < k; kx++) {
            const xBase = ((b * h + oy + ky) * w + ox + kx) * c;
            const kBase = (ky * k + kx) * c * co;
            for (let ci = 0; ci < c; ci++) {
              const xv = x[xBase + ci];
              if (xv === 0) continue;
              const kRow = kBase + ci * co;
              for (let j = 0; j < co; j++) row[j] += xv * kernel[kRow + j];
            }
          }
        }
      }
    }
  }
  return out;
}

/** Max pooling, window = stride = pool, 'valid'. */
function poolF64(x, batch, inShape, outShape, pool) {
  const [h, w, c] = inShape;
  const [oh, ow] = outShape;
  const out = new Float64Array(batch * oh * ow * c).fill(-Infinity);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const o = ((b * oh + oy) * ow + ox) * c;
        for (let py = 0; py < pool; py++) {
          for (let px = 0; px < pool; px++) {
            const i = ((b * h + oy * pool + py) * w + ox * pool + px) * c;
            for (let ci = 0; ci < c; ci++) out[o + ci] = Math.max(out[o + ci], x[i + ci]);
          }
        }
      }
    }
  }
  return out;
}
