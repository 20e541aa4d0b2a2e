// Every named activation: its values against a plain formula, and its gradient (through the
// tape) against central finite differences.

import { describe, expect, it } from 'vitest';
import { valueAndGrads } from '../../src/autodiff/backprop.js';
import { getActivation } from '../../src/layers/activations.js';
import * as ops from '../../src/ops/index.js';
import { tensor } from '../../src/tensor.js';

const erf = (x: number) => {
  // Abramowitz and Stegun 7.1.26 is too coarse for 1e-5; integrate instead.
  let sum = 0;
  const n = 2000;
  for (let i = 0; i < n; i++) {
    const t = (x * (i + 0.5)) / n;
    sum += Math.exp(-t * t);
  }
  return (2 / Math.sqrt(Math.PI)) * sum * (x / n);
};

const FORMULAS: Record<string, (x: number) => number> = {
  linear: (x) => x,
  relu: (x) => Math.max(0, x),
  leaky_relu: (x) => (x > 0 ? x : 0.2 * x),
  elu: (x) => (x > 0 ? x : Math.exp(x) - 1),
  selu: (x) => 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * (Math.exp(x) - 1)),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: Math.tanh,
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  silu: (x) => x / (1 + Math.exp(-x)),
  softplus: (x) => Math.log1p(Math.exp(x)),
  exponential: Math.exp,
  hard_sigmoid: (x) => Math.min(1, Math.max(0, 0.2 * x + 0.5)),
};

// Points away from the kinks (0 for relu, +-2.5 for hard_sigmoid) so finite differences hold.
const X = [-3.1, -2.2, -0.7, -0.1, 0.3, 1.2, 2.1, 2.9];

describe('activations', () => {
  for (const [name, f] of Object.entries(FORMULAS)) {
    it(`${name}: values and gradient`, () => {
      const activation = getActivation(name);
      const x = tensor(X);
      const y = activation.apply(x).dataSync();
      X.forEach((v, i) => expect(Math.abs(y[i] - f(v)), `${name}(${v})`).toBeLessThan(2e-4 * Math.max(1, Math.abs(f(v)))));
      const { grads } = valueAndGrads(() => ops.sum(activation.apply(x)), [x]);
      const g = grads[0].dataSync();
      X.forEach((v, i) => {
        const numeric = (f(v + 1e-3) - f(v - 1e-3)) / 2e-3;
        expect(Math.abs(g[i] - numeric), `d${name}/dx at ${v}: tape ${g[i]}, finite difference ${numeric}`).toBeLessThan(2e-3 * Math.max(1, Math.abs(numeric)));
      });
    });
  }

  it('accepts camelCase names and names the known ones when it does not know one', () => {
    expect(getActivation('hardSigmoid').name).toBe('hard_sigmoid');
    expect(getActivation('leakyRelu').name).toBe('leaky_relu');
    expect(() => getActivation('hard_tanh')).toThrow(/unknown activation 'hard_tanh'; expected one of .*hard_sigmoid/);
  });
});
