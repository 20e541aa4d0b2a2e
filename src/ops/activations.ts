// Activation names as users write them (Keras identifiers and camelCase) mapped to the kernel
// codes of the fused epilogues and f32_unary.

import * as codes from '../backend/opcodes.js';
import { fail } from './check.js';

export type ActivationName =
  | 'linear' | 'relu' | 'leakyRelu' | 'leaky_relu' | 'elu' | 'sigmoid' | 'tanh' | 'gelu'
  | 'swish' | 'silu';

const ACTIVATIONS: Record<ActivationName, number> = {
  linear: codes.ACT_LINEAR,
  relu: codes.ACT_RELU,
  leakyRelu: codes.ACT_LEAKY_RELU,
  leaky_relu: codes.ACT_LEAKY_RELU,
  elu: codes.ACT_ELU,
  sigmoid: codes.ACT_SIGMOID,
  tanh: codes.ACT_TANH,
  gelu: codes.ACT_GELU,
  swish: codes.ACT_SWISH,
  silu: codes.ACT_SWISH,
};

/** Keras's default alphas: leaky relu 0.2 (Keras 3), elu 1. */
export function defaultAlpha(code: number): number {
  if (code === codes.ACT_LEAKY_RELU) return 0.2;
  if (code === codes.ACT_ELU) return 1;
  return 0;
}

/**
 * Whether f32_unary_backward gets the activation's derivative right when handed the output y
 * in place of the input x: sigmoid and tanh read only y, and relu's test x > 0 is y > 0. Such
 * activations can stay fused in a recorded matmul or conv, whose input to the activation is
 * then never stored.
 */
export function gradientFromOutput(code: number): boolean {
  return (
    code === codes.ACT_LINEAR || code === codes.ACT_RELU || code === codes.ACT_SIGMOID ||
    code === codes.ACT_TANH
  );
}

/** The kernel code of an activation name (undefined means linear). */
export function activationCode(op: string, name: ActivationName | undefined): number {
  if (name === undefined) return codes.ACT_LINEAR;
  const code = ACTIVATIONS[name];
  if (code === undefined) {
    fail(op, `expected an activation among ${Object.keys(ACTIVATIONS).join(', ')}, got '${name}'`);
  }
  return code;
}
