// jax-js (@jax-js/jax): JAX's API in JavaScript, whose jit() fuses a traced function into
// WebAssembly kernels generated at run time. Only the training workloads have a jax-js
// implementation: the training step written the JAX way, as one jit-compiled function of the
// params pytree.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ADAM, classCount, layerShapes, trainingRun } from '../lib/training.mjs';

/** @returns {Promise<import('./index.mjs').Engine>} */
export async function prepareJax() {
  const jax = await import('@jax-js/jax');
  // jax-js's wasm backend spreads kernels over Web Workers when SharedArrayBuffer and a global
  // Worker exist (browsers, Deno). Node has no global Worker, so it computes on this thread.
  if (typeof globalThis.Worker !== 'undefined') {
    throw new Error('a global Worker exists, so jax-js would run multi-threaded; ' +
      'the comparison needs 1 thread');
  }
  const devices = await jax.init('wasm');
  if (!devices.includes('wasm')) throw new Error('jax-js could not start its wasm backend');
  jax.defaultDevice('wasm');
  return {
    name: 'jax-js',
    ctx: jax,
    policy: 'fast',
    describe: { version: packageVersion('@jax-js/jax'), device: 'wasm', threads: 1 },
    activate: async () => {
      jax.defaultDevice('wasm');
    },
    // jax-js does not expose its allocator; the step below disposes what it replaces.
    memory: () => NaN,
    memoryUnit: 'untracked',
  };
}

function packageVersion(name) {
  // The package's exports hide package.json; it sits beside dist/.
  const main = createRequire(import.meta.url).resolve(name);
  const json = new URL('../package.json', `file://${main}`);
  return JSON.parse(readFileSync(json, 'utf8')).version;
}

/**
 * The step as JAX users write it: `jit` of a function that takes the params pytree (a list,
 * in getWeights() order) and Adam's moments, computes `valueAndGrad` of the loss and returns
 * the updated pytrees. The bias-corrected step size is passed in as an array, so that one
 * compiled program serves every step. Each run reads the loss back (`dataSync()`), which
 * executes the whole compiled step: all outputs of a jit call share its pending kernels.
 *
 * jax-js counts references: a function consumes the arrays passed to it, and `.ref` (or
 * `tree.ref`) keeps one for later use.
 * @param {import('../lib/training.mjs').ModelSpec} spec
 * @param {number} batch
 */
export function jaxTraining(spec, batch) {
  return (jax, inputs) => {
    const { jit, numpy: np, tree, valueAndGrad } = jax;
    const layers = layerShapes(spec);
    const inputShape = layers[0].input;
    const x = inputShape.length === 3
      ? np.array(toNchw(inputs.x, batch, inputShape)).reshape(nchw(batch, inputShape))
      : np.array(inputs.x).reshape([batch, ...inputShape]);
    const y = np.array(inputs.y).reshape([batch, classCount(spec)]);
    let params = jaxParams(np, layers, inputs.weights);
    let m = tree.map((p) => np.zerosLike(p.ref), params);
    let v = tree.map((p) => np.zerosLike(p.ref), params);

    const loss = (p, xs, ys) => {
      const logProbs = forward(jax, layers, p, xs, batch);
      return logProbs.mul(ys).sum().mul(-1 / batch);
    };
    const { beta1, beta2, epsilon } = ADAM;
    // Adam as Keras writes it (the bias correction folded into the step size alpha).
    const step = jit((p, mOld, vOld, alpha, xs, ys) => {
      const [value, grads] = valueAndGrad(loss)(tree.ref(p), xs, ys);
      const mNew = tree.map((mi, g) => mi.mul(beta1).add(g.mul(1 - beta1)), mOld, tree.ref(grads));
      const vNew = tree.map((vi, g) => vi.mul(beta2).add(g.ref.mul(g).mul(1 - beta2)), vOld, grads);
      const pNew = tree.map(
        (pi, mi, vi) => pi.sub(alpha.ref.mul(mi).div(np.sqrt(vi).add(epsilon))),
        p, tree.ref(mNew), tree.ref(vNew),
      );
      alpha.dispose();
      return [value, pNew, mNew, vNew];
    });

    let t = 0;
    return trainingRun({
      step: () => {
        t++;
        const alpha = (ADAM.learningRate * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
        const [value, pNew, mNew, vNew] = step(params, m, v, np.array(alpha), x.ref, y.ref);
        [params, m, v] = [pNew, mNew, vNew];
        return value.dataSync()[0];
      },
      dispose: () => {
        tree.dispose([params, m, v, x, y]);
        step.dispose();
      },
    });
  };
}

/**
 * Forward pass to log-probabilities. jax-js convolves NCHW activations with OIHW filters, so
 * spatial activations are NCHW here, and the flatten that follows them yields channel-major
 * rows (jaxParams reorders the next dense kernel to match).
 */
function forward({ lax, nn, numpy: np }, layers, params, x, batch) {
  let act = x;
  let w = 0;
  for (const { layer, output } of layers) {
    switch (layer.kind) {
      case 'dense':
        act = np.dot(act, params[w]).add(params[w + 1]);
        w += 2;
        break;
      case 'conv2d':
        act = lax.convGeneralDilated(act, params[w], [1, 1], 'VALID').add(params[w + 1]);
        w += 2;
        break;
      case 'maxPool2d':
        act = lax.reduceWindow(act, np.max, [layer.pool, layer.pool], [layer.pool, layer.pool]);
        break;
      case 'flatten':
        act = act.reshape([batch, output[0]]);
        break;
    }
    const activation = 'activation' in layer ? layer.activation : null;
    if (activation === 'relu') act = nn.relu(act);
    else if (activation === 'softmax') act = nn.logSoftmax(act);
  }
  return act;
}

/**
 * The workload's weights (Keras layouts) as jax-js params: conv kernels HWIO -> OIHW, conv
 * biases [CO] -> [CO,1,1] to broadcast over NCHW, and the rows of a dense kernel after a
 * flatten of [H,W,C] reordered from (h, w, c) to (c, h, w) order. The same numbers, so the
 * same function.
 */
function jaxParams(np, layers, weights) {
  const params = [];
  let w = 0;
  let flattenedFrom = null;
  for (const { layer, input } of layers) {
    if (layer.kind === 'flatten' && input.length === 3) flattenedFrom = input;
    if (layer.kind === 'conv2d') {
      const [k, c, co] = [layer.kernel, input[2], layer.filters];
      params.push(np.array(hwioToOihw(weights[w], k, c, co)).reshape([co, c, k, k]));
      params.push(np.array(weights[w + 1]).reshape([co, 1, 1]));
      w += 2;
    } else if (layer.kind === 'dense') {
      const kernel = flattenedFrom ? chwRows(weights[w], flattenedFrom, layer.units) : weights[w];
      params.push(np.array(kernel).reshape([input[0], layer.units]));
      params.push(np.array(weights[w + 1]));
      flattenedFrom = null;
      w += 2;
    }
  }
  return params;
}

function hwioToOihw(kernel, k, c, co) {
  const out = new Float32Array(kernel.length);
  for (let ky = 0; ky < k; ky++) {
    for (let kx = 0; kx < k; kx++) {
      for (let ci = 0; ci < c; ci++) {
        for (let o = 0; o < co; o++) {
          out[((o * c + ci) * k + ky) * k + kx] = kernel[((ky * k + kx) * c + ci) * co + o];
        }
      }
    }
  }
  return out;
}

/** Dense kernel rows in (h, w, c) order -> (c, h, w) order. */
function chwRows(kernel, shape, units) {
  const [h, w, c] = shape;
  const out = new Float32Array(kernel.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ci = 0; ci < c; ci++) {
        const from = ((y * w + x) * c + ci) * units;
        const to = ((ci * h + y) * w + x) * units;
        out.set(kernel.subarray(from, from + units), to);
      }
    }
  }
  return out;
}

function toNchw(x, batch, shape) {
  const [h, w, c] = shape;
  const out = new Float32Array(x.length);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < h * w; i++) {
      for (let ci = 0; ci < c; ci++) out[(b * c + ci) * h * w + i] = x[(b * h * w + i) * c + ci];
    }
  }
  return out;
}

function nchw(batch, shape) {
  const [h, w, c] = shape;
  return [batch, c, h, w];
}
