import * as codes from '../backend/opcodes.js';
import { record } from '../autodiff/tape.js';
import { formatShape, sizeOf, Tensor } from '../tensor.js';
import { expectRank, expectShape, fail, output, sameBackend } from './check.js';

export interface ReduceOptions {
  /** The axis to reduce (negative counts from the end). Omitted: all axes. */
  axis?: number;
  /** Keep the reduced axis with size 1. */
  keepDims?: boolean;
  out?: Tensor;
}

/** The [outer, axis, inner] view of x around `axis`, and the output shape. */
function reduceView(op: string, x: Tensor, options: ReduceOptions) {
  expectShape(op, 'x', x, x.shape);
  if (options.axis === undefined) {
    return { outer: 1, axis: x.size, inner: 1, shape: options.keepDims ? x.shape.map(() => 1) : [] };
  }
  const a = options.axis < 0 ? options.axis + x.rank : options.axis;
  if (!Number.isInteger(a) || a < 0 || a >= x.rank) {
    fail(op, `expected axis in [${-x.rank}, ${x.rank - 1}] for x of shape ${formatShape(x.shape)}, got ${options.axis}`);
  }
  const shape = options.keepDims
    ? x.shape.map((d, i) => (i === a ? 1 : d))
    : x.shape.filter((_, i) => i !== a);
  return {
    outer: sizeOf(x.shape.slice(0, a)), axis: x.shape[a], inner: sizeOf(x.shape.slice(a + 1)), shape,
  };
}

function reduceOp(name: string, code: number) {
  return (x: Tensor, options: ReduceOptions = {}): Tensor => {
    const v = reduceView(name, x, options);
    if (v.axis === 0 && (code === codes.REDUCE_MAX || code === codes.REDUCE_MIN)) {
      fail(name, `expected a non-empty axis, got x of shape ${formatShape(x.shape)}`);
    }
    const backend = sameBackend(name, x, options.out);
    const y = output(name, backend, v.shape, options.out);
    backend.kernels.f32_reduce(code, x.ptr, y.ptr, v.outer, v.axis, v.inner);
    record('reduce', [x], y, { code, outer: v.outer, axis: v.axis, inner: v.inner });
    return y;
  };
}

/** Sum over one axis or all. @example `ops.sum(tensor([[1, 2], [3, 4]]), { axis: 1 }) // [3, 7]` */
export const sum = reduceOp('sum', codes.REDUCE_SUM);
export const mean = reduceOp('mean', codes.REDUCE_MEAN);
export const max = reduceOp('max', codes.REDUCE_MAX);
export const min = reduceOp('min', codes.REDUCE_MIN);

/**
 * Per-row softmax cross-entropy of logits [N, C] against target probabilities [N, C]
 * (one-hot or soft). Returns the losses [N] and, when `gradScale` is given, the gradient with
 * respect to the logits, scaled by it (1 / N for a mean loss).
 */
export function softmaxCrossEntropy(
  logits: Tensor, labels: Tensor, gradScale?: number,
): { loss: Tensor; dlogits?: Tensor } {
  const op = 'softmaxCrossEntropy';
  const [N, C] = expectRank(op, 'logits', logits, 2);
  expectShape(op, 'labels', labels, [N, C]);
  const backend = sameBackend(op, logits, labels);
  const loss = output(op, backend, [N]);
  const dlogits = gradScale === undefined ? undefined : output(op, backend, [N, C]);
  backend.kernels.f32_softmax_cross_entropy(
    logits.ptr, labels.ptr, loss.ptr, dlogits ? dlogits.ptr : 0, N, C, gradScale ?? 0,
  );
  record('softmaxCrossEntropy', [logits, labels], loss, {});
  return { loss, dlogits };
}

/**
 * As softmaxCrossEntropy, with integer class labels [N] (int32). Labels outside [0, C) are an
 * error that names the first one.
 */
export function sparseSoftmaxCrossEntropy(
  logits: Tensor, labels: Tensor, gradScale?: number,
): { loss: Tensor; dlogits?: Tensor } {
  const op = 'sparseSoftmaxCrossEntropy';
  const [N, C] = expectRank(op, 'logits', logits, 2);
  expectShape(op, 'labels', labels, [N], 'int32');
  const values = labels.dataSync();
  for (let i = 0; i < N; i++) {
    if (values[i] < 0 || values[i] >= C) {
      fail(op, `expected labels in [0, ${C - 1}], got ${values[i]} at index ${i}`);
    }
  }
  const backend = sameBackend(op, logits, labels);
  const loss = output(op, backend, [N]);
  const dlogits = gradScale === undefined ? undefined : output(op, backend, [N, C]);
  backend.kernels.f32_sparse_softmax_cross_entropy(
    logits.ptr, labels.ptr, loss.ptr, dlogits ? dlogits.ptr : 0, N, C, gradScale ?? 0,
  );
  record('sparseSoftmaxCrossEntropy', [logits, labels], loss, {});
  return { loss, dlogits };
}

/** The global L2 norm of several tensors, sqrt(sum of all squares), accumulated in float64. */
export function globalNorm(tensors: readonly Tensor[]): number {
  let total = 0;
  for (const [i, t] of tensors.entries()) {
    expectShape('globalNorm', `tensors[${i}]`, t, t.shape);
    total += t.backend.kernels.f32_sum_squares(t.ptr, t.size);
  }
  return Math.sqrt(total);
}

/**
 * Scales `tensors` in place so that their global norm is at most `clipNorm`; returns the norm
 * before clipping.
 */
export function clipByGlobalNorm(tensors: readonly Tensor[], clipNorm: number): number {
  if (!(clipNorm > 0)) fail('clipByGlobalNorm', `expected clipNorm > 0, got ${clipNorm}`);
  const norm = globalNorm(tensors);
  if (norm > clipNorm) {
    const scale = clipNorm / norm;
    for (const t of tensors) t.backend.kernels.f32_scale_shift(t.ptr, t.ptr, t.size, scale, 0);
  }
  return norm;
}

