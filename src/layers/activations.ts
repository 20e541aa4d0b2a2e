// Layer activations by name. Those with a kernel code can be fused into the Dense/Conv
// epilogue; softmax and the rest run as ops after it.

import { fail } from '../ops/check.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';

export type ActivationIdentifier =
  | 'linear' | 'relu' | 'leakyRelu' | 'leaky_relu' | 'elu' | 'selu' | 'sigmoid' | 'tanh'
  | 'softmax' | 'gelu' | 'swish' | 'silu' | 'softplus' | 'exponential' | 'hard_sigmoid' | 'hardSigmoid';

export interface Activation {
  /** The canonical (Keras) name, used when saving. */
  name: string;
  /** The kernel code when the op can be fused into a GEMM/conv epilogue. */
  fused?: ops.ActivationName;
  apply(x: Tensor): Tensor;
}

// selu constants, see: Klambauer et al. 2017, "Self-Normalizing Neural Networks".
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

const TABLE: Record<string, Activation> = {
  linear: { name: 'linear', fused: 'linear', apply: (x) => x },
  relu: { name: 'relu', fused: 'relu', apply: (x) => ops.relu(x) },
  leaky_relu: { name: 'leaky_relu', fused: 'leakyRelu', apply: (x) => ops.leakyRelu(x) },
  elu: { name: 'elu', fused: 'elu', apply: (x) => ops.elu(x) },
  selu: { name: 'selu', apply: (x) => ops.scaleShift(ops.elu(x, { alpha: SELU_ALPHA }), SELU_SCALE) },
  sigmoid: { name: 'sigmoid', fused: 'sigmoid', apply: (x) => ops.sigmoid(x) },
  tanh: { name: 'tanh', fused: 'tanh', apply: (x) => ops.tanh(x) },
  softmax: { name: 'softmax', apply: (x) => ops.softmax(x) },
  gelu: { name: 'gelu', fused: 'gelu', apply: (x) => ops.gelu(x) },
  silu: { name: 'silu', fused: 'swish', apply: (x) => ops.swish(x) },
  softplus: { name: 'softplus', apply: (x) => ops.softplus(x) },
  exponential: { name: 'exponential', apply: (x) => ops.exp(x) },
  // TensorFlow.js's and Keras 2's: clip(0.2 x + 0.5, 0, 1), the default gate of tfjs's LSTM and
  // GRU. Composed as relu(y) - relu(y - 1), so it is differentiable with the rules of relu.
  hard_sigmoid: {
    name: 'hard_sigmoid',
    apply: (x) => {
      const y = ops.scaleShift(x, 0.2, 0.5);
      return ops.sub(ops.relu(y), ops.relu(ops.scaleShift(y, 1, -1)));
    },
  },
};

const ALIASES: Record<string, string> = { leakyRelu: 'leaky_relu', swish: 'silu', hardSigmoid: 'hard_sigmoid' };

/** Resolves an activation name (Keras identifier or camelCase); undefined means linear. */
export function getActivation(name: string | undefined | null, where = 'activation'): Activation {
  const key = name == null ? 'linear' : ALIASES[name] ?? name;
  const activation = TABLE[key];
  if (!activation) {
    fail(where, `unknown activation '${name}'; expected one of ${[...Object.keys(TABLE), ...Object.keys(ALIASES)].join(', ')}`);
  }
  return activation;
}
