// Weight penalties added to the training loss: l1 * sum(|w|) + l2 * sum(w^2).

import * as ops from '../ops/index.js';
import { fail } from '../ops/check.js';
import type { Tensor } from '../tensor.js';

export interface RegularizerConfig {
  className: 'L1L2' | 'L1' | 'L2';
  config: { l1?: number; l2?: number };
}

export class L1L2 {
  constructor(readonly l1 = 0, readonly l2 = 0) {
    if (!(l1 >= 0) || !(l2 >= 0)) fail('regularizer', `expected l1, l2 >= 0, got l1 ${l1}, l2 ${l2}`);
  }
  /** The penalty as a scalar tensor (recorded, so its gradient reaches the weight). */
  penalty(w: Tensor): Tensor {
    let total: Tensor | null = null;
    if (this.l1 > 0) total = ops.scaleShift(ops.sum(ops.abs(w)), this.l1);
    if (this.l2 > 0) {
      const l2 = ops.scaleShift(ops.sum(ops.square(w)), this.l2);
      total = total ? ops.add(total, l2) : l2;
    }
    return total ?? ops.zeros([]);
  }
  config(): RegularizerConfig {
    return { className: 'L1L2', config: { l1: this.l1, l2: this.l2 } };
  }
}

export type RegularizerLike = L1L2 | RegularizerConfig | 'l1' | 'l2';

/** l1(0.01) as in Keras. */
export const l1 = (value = 0.01) => new L1L2(value, 0);
/** l2(0.01) as in Keras. */
export const l2 = (value = 0.01) => new L1L2(0, value);
export const l1l2 = (a = 0.01, b = 0.01) => new L1L2(a, b);

export function getRegularizer(spec: RegularizerLike | undefined): L1L2 | undefined {
  if (spec === undefined) return undefined;
  if (spec instanceof L1L2) return spec;
  if (spec === 'l1') return l1();
  if (spec === 'l2') return l2();
  if (typeof spec === 'object' && spec && 'config' in spec) return new L1L2(spec.config.l1 ?? 0, spec.config.l2 ?? 0);
  return fail('regularizer', `expected 'l1', 'l2', an L1L2 or its config, got ${JSON.stringify(spec)}`);
}
