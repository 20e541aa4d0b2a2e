// What every library's training step shares: the model description each implementation builds
// its model from, the optimizer's settings, and the wrapper that turns a step into the
// harness's { run, result, dispose }.

/**
 * A Sequential model, described once and built by every implementation. Activations are NHWC
 * and conv filters HWIO (Keras's layouts); the last layer is a softmax trained with
 * categorical cross-entropy.
 * @typedef {{ kind: 'dense', units: number, activation: 'relu' | 'softmax' }
 *   | { kind: 'conv2d', filters: number, kernel: number, activation: 'relu' }
 *   | { kind: 'maxPool2d', pool: number }
 *   | { kind: 'flatten' }} LayerSpec
 * @typedef {{ inputShape: number[], layers: LayerSpec[] }} ModelSpec
 */

/** Adam as Keras defines it; every implementation is given these values explicitly. */
export const ADAM = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

/**
 * Each layer's input and output shape (one sample, no batch axis) and the shapes of its
 * weights, in the order of Keras's getWeights(): kernel then bias.
 * @param {ModelSpec} spec
 */
export function layerShapes(spec) {
  let shape = spec.inputShape;
  return spec.layers.map((layer) => {
    const input = shape;
    let weights = [];
    switch (layer.kind) {
      case 'dense':
        if (input.length !== 1) throw new Error('dense needs a flat input: add a flatten layer');
        weights = [[input[0], layer.units], [layer.units]];
        shape = [layer.units];
        break;
      case 'conv2d': {
        const [h, w, c] = input;
        const k = layer.kernel;
        weights = [[k, k, c, layer.filters], [layer.filters]];
        shape = [h - k + 1, w - k + 1, layer.filters]; // 'valid', stride 1
        break;
      }
      case 'maxPool2d': {
        const [h, w, c] = input;
        shape = [Math.floor(h / layer.pool), Math.floor(w / layer.pool), c]; // stride = pool
        break;
      }
      case 'flatten':
        shape = [input.reduce((a, b) => a * b, 1)];
        break;
      default:
        throw new Error(`unknown layer kind '${/** @type {any} */ (layer).kind}'`);
    }
    return { layer, input, output: shape, weights };
  });
}

/** The weight shapes of the whole model, in getWeights() order. */
export function weightShapes(spec) {
  return layerShapes(spec).flatMap((l) => l.weights);
}

/** Number of classes: the width of the last (softmax) layer. */
export function classCount(spec) {
  const shapes = layerShapes(spec);
  return shapes[shapes.length - 1].output[0];
}

/** How many step losses each implementation keeps: the first two tell whether it learns alike. */
const KEPT_LOSSES = 2;

/**
 * Wraps one training step (forward, backward, optimizer update, loss read back as a number)
 * for the harness. `result()` is the loss of the very first step, taken before any update, so
 * that with the same initial weights it must match the float64 reference; `losses()` also
 * gives the loss after the first update, compared across implementations in the report.
 * @param {{ step: () => number | Promise<number>, async?: boolean, dispose: () => void }} args
 */
export function trainingRun({ step, async = false, dispose }) {
  /** @type {number[]} */
  const losses = [];
  const keep = (loss) => {
    if (losses.length < KEPT_LOSSES) losses.push(loss);
  };
  const run = async
    ? async () => keep(await step())
    : () => keep(/** @type {number} */ (step()));
  return {
    run,
    async,
    result: () => (losses.length > 0 ? Float32Array.of(losses[0]) : null),
    losses: () => [...losses],
    dispose,
  };
}
