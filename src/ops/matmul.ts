import { gemmWorkspaceBytes } from '../backend/workspace.js';
import { isRecording, record } from '../autodiff/tape.js';
import type { Tensor } from '../tensor.js';
import type { ActivationName } from './activations.js';
import { epilogue } from './elementwise.js';
import { expectRank, expectShape, fail, output, sameBackend, scratch } from './check.js';

export interface MatmulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
  /** Added to every row of the product: shape [N]. */
  bias?: Tensor;
  /** Applied after the bias, fused into the same pass. */
  activation?: ActivationName;
  /** Alpha of leaky relu / elu. */
  alpha?: number;
  /** Writes the result here instead of a new tensor; must have shape [M, N]. */
  out?: Tensor;
  /** With `out`: out = product + beta * out (gradient accumulation). Default 0. */
  beta?: number;
}

/**
 * The matrix product of two 2-D tensors, optionally transposed, with an optional fused bias
 * and activation.
 *
 * @example
 * ```ts
 * const a = tensor([[1, 2], [3, 4]]);
 * const b = tensor([[5, 6], [7, 8]]);
 * ops.matmul(a, b).arraySync(); // [[19, 22], [43, 50]]
 * ops.matmul(a, b, { transposeB: true, activation: 'relu' });
 * ```
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const op = 'matmul';
  const { transposeA = false, transposeB = false, bias, out, beta = 0 } = options;
  const [ar, ac] = expectRank(op, 'a', a, 2);
  const [br, bc] = expectRank(op, 'b', b, 2);
  const [M, K] = transposeA ? [ac, ar] : [ar, ac];
  const [K2, N] = transposeB ? [bc, br] : [br, bc];
  if (K !== K2) {
    fail(
      op,
      `expected b of shape ${transposeB ? `[*, ${K}]` : `[${K}, *]`} to match a's inner ` +
        `dimension ${K}, got [${b.shape.join(', ')}]`,
    );
  }
  if (bias) expectShape(op, 'bias', bias, [N]);
  if (beta !== 0 && out === undefined) fail(op, 'expected out when beta is not 0');
  const backend = sameBackend(op, a, b, bias, out);
  const c = output(op, backend, [M, N], out);
  if (isRecording() && beta !== 0) fail(op, 'expected beta 0 while gradients are recorded');
  const act = epilogue(op, options.activation, options.alpha);
  backend.kernels.f32_gemm(
    transposeA ? 1 : 0, transposeB ? 1 : 0, M, N, K,
    1, a.ptr, ac, b.ptr, bc,
    beta, c.ptr, N,
    bias ? bias.ptr : 0, act.code, act.alpha,
    scratch(backend, gemmWorkspaceBytes()),
  );
  record(
    'matmul', bias ? [a, b, bias] : [a, b], c,
    { transposeA, transposeB, ...act.attrs },
  );
  return act.finish(c);
}
