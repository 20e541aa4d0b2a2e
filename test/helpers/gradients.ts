// The finite-difference check of layer tests: the tape's gradients of a scalar function against
// central differences, nudging each watched tensor's values in place in the heap.

import { valueAndGrads } from '../../src/autodiff/backprop.js';
import { noGrad } from '../../src/autodiff/tape.js';
import type { Tensor } from '../../src/tensor.js';

/**
 * Throws, naming `what`, the tensor and the index, where a gradient of `forward` (a scalar
 * tensor) with respect to `watched` differs from (f(v + eps) - f(v - eps)) / 2eps by more than
 * `tolerance` relative (absolute below 1).
 */
export function expectTapeMatchesDifferences(
  what: string, forward: () => Tensor, watched: Tensor[], { eps = 1e-2, tolerance = 2e-2 } = {},
): void {
  const { grads } = valueAndGrads(forward, watched);
  const evaluate = () => noGrad(() => forward().dataSync()[0]);
  watched.forEach((t, k) => {
    const analytic = grads[k].dataSync();
    const base = t.ptr >> 2;
    for (let i = 0; i < t.size; i++) {
      // A fresh view per write: a forward pass may grow (and so detach) the memory.
      const saved = t.backend.heap.f32[base + i];
      t.backend.heap.f32[base + i] = saved + eps;
      const up = evaluate();
      t.backend.heap.f32[base + i] = saved - eps;
      const down = evaluate();
      t.backend.heap.f32[base + i] = saved;
      const numeric = (up - down) / (2 * eps);
      if (!(Math.abs(analytic[i] - numeric) <= tolerance * Math.max(1, Math.abs(numeric)))) {
        throw new Error(`${what}: tensor ${k}, index ${i}: tape gradient ${analytic[i]}, finite difference ${numeric}`);
      }
    }
  });
}
