// Reverse-mode differentiation over a tape (see tape.ts for recording).
//
// Arrays are built with Array.from rather than map(), which returns a holey array once
// optimized and a packed one before, so that their receivers see one hidden class.

import { add, ones, zeros } from '../ops/elementwise.js';
import { fail } from '../ops/check.js';
import { formatShape, type Tensor } from '../tensor.js';
import { GRADIENTS, type GradientRule } from './gradients.js';
import { noGrad, withTape, type OpName, type Tape } from './tape.js';

/** Propagates `dy` from `output` back through the tape; returns each watched tensor's gradient. */
export function backprop(tape: Tape, output: Tensor, dy: Tensor, watched: readonly Tensor[]): (Tensor | undefined)[] {
  const grads = new Map<Tensor, Tensor>([[output, dy]]);
  noGrad(() => {
    for (let i = tape.entries.length - 1; i >= 0; i--) {
      const entry = tape.entries[i];
      const g = grads.get(entry.output);
      if (g === undefined) continue;
      const rule = GRADIENTS[entry.op] as GradientRule<OpName>;
      const inputGrads = rule(entry, g, Array.from(entry.inputs, (t) => tape.tracks(t)));
      entry.inputs.forEach((input, k) => {
        const gi = inputGrads[k];
        if (gi === undefined || !tape.tracks(input)) return;
        const previous = grads.get(input);
        grads.set(input, previous === undefined ? gi : add(previous, gi));
      });
    }
  });
  return Array.from(watched, (t) => grads.get(t));
}

/**
 * Evaluates `f` and the gradient of its (scalar, or weighted by `dy`) result with respect to
 * each tensor of `xs`. A tensor that `f` does not use gets a zero gradient.
 *
 * @example
 * ```ts
 * const w = tensor([[1, 2], [3, 4]]);
 * const { value, grads } = valueAndGrads(() => ops.sum(ops.square(w)), [w]);
 * grads[0].arraySync(); // [[2, 4], [6, 8]]
 * ```
 */
export function valueAndGrads(
  f: () => Tensor, xs: readonly Tensor[], dy?: Tensor,
): { value: Tensor; grads: Tensor[] } {
  const { value, tape } = withTape(xs, f);
  if (dy === undefined && value.size !== 1) {
    fail('valueAndGrads', `expected f to return a scalar (or pass dy), got shape ${formatShape(value.shape)}`);
  }
  if (dy !== undefined && formatShape(dy.shape) !== formatShape(value.shape)) {
    fail('valueAndGrads', `expected dy of shape ${formatShape(value.shape)}, got ${formatShape(dy.shape)}`);
  }
  const seed = dy ?? noGrad(() => ones(value.shape));
  const grads = backprop(tape, value, seed, xs);
  return {
    value,
    grads: Array.from(grads, (g, i) => g ?? noGrad(() => zeros(xs[i].shape))),
  };
}

/**
 * Returns a function computing the gradient of `f` at its argument.
 * @example
 * ```ts
 * const g = grad((x) => ops.sum(ops.square(x)));
 * g(tensor([1, 2, 3])).dataSync(); // [2, 4, 6]
 * ```
 */
export function grad(f: (x: Tensor) => Tensor): (x: Tensor) => Tensor {
  return (x) => valueAndGrads(() => f(x), [x]).grads[0];
}
