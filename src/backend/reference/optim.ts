// Reference optimizer updates: Keras 3's update rules, element by element, in float64 between
// the f32 loads and stores. All of them update w and their slots in place.
// see: keras/src/optimizers/{sgd,adam,adamw,rmsprop,adagrad}.py and
//      base_optimizer.py (_apply_weight_decay: w -= w * weight_decay * lr, before the step)
//
// An optional slot (SGD's velocity, RMSprop's momentum) is used exactly when its pointer is
// non-zero. With the pointer present and momentum 0 the momentum rule reduces to the plain one
// for w, so this agrees with Keras, which only creates the slot for momentum != 0.

import type { Heap } from '../heap.js';
import type { Kernels } from '../kernels.js';

export function optimReference(
  heap: Heap,
): Pick<Kernels, 'f32_sgd' | 'f32_adam' | 'f32_rmsprop' | 'f32_adagrad'> {
  return {
    f32_sgd(w, g, v, n, lr, momentum, nesterov, weightDecay) {
      const f32 = heap.f32;
      // Numbers cross the wasm boundary as f32; round them the same way here.
      const lr32 = Math.fround(lr);
      const mu = Math.fround(momentum);
      const decay = lr32 * Math.fround(weightDecay);
      const [w0, g0, v0] = [w >> 2, g >> 2, v >> 2];
      for (let i = 0; i < n; i++) {
        const gi = f32[g0 + i];
        let wi = f32[w0 + i];
        wi -= decay * wi;
        if (v === 0) {
          wi -= lr32 * gi;
        } else {
          const vi = mu * f32[v0 + i] - lr32 * gi;
          f32[v0 + i] = vi;
          wi += nesterov ? mu * vi - lr32 * gi : vi;
        }
        f32[w0 + i] = wi;
      }
    },

    f32_adam(w, g, m, v, n, lr, beta1, beta2, epsilon, step, weightDecay) {
      const f32 = heap.f32;
      const lr32 = Math.fround(lr);
      const b1 = Math.fround(beta1);
      const b2 = Math.fround(beta2);
      const eps = Math.fround(epsilon);
      const decay = lr32 * Math.fround(weightDecay);
      // Bias correction folded into the step size, as Keras does.
      const alpha = (lr32 * Math.sqrt(1 - b2 ** step)) / (1 - b1 ** step);
      const [w0, g0, m0, v0] = [w >> 2, g >> 2, m >> 2, v >> 2];
      for (let i = 0; i < n; i++) {
        const gi = f32[g0 + i];
        let wi = f32[w0 + i];
        wi -= decay * wi;
        const mi = b1 * f32[m0 + i] + (1 - b1) * gi;
        const vi = b2 * f32[v0 + i] + (1 - b2) * gi * gi;
        f32[m0 + i] = mi;
        f32[v0 + i] = vi;
        f32[w0 + i] = wi - (alpha * mi) / (Math.sqrt(vi) + eps);
      }
    },

    f32_rmsprop(w, g, ms, mom, mg, n, lr, rho, momentum, epsilon, centered) {
      const f32 = heap.f32;
      const lr32 = Math.fround(lr);
      const r = Math.fround(rho);
      const mu = Math.fround(momentum);
      const eps = Math.fround(epsilon);
      const [w0, g0, ms0, mom0, mg0] = [w >> 2, g >> 2, ms >> 2, mom >> 2, mg >> 2];
      for (let i = 0; i < n; i++) {
        const gi = f32[g0 + i];
        const msi = r * f32[ms0 + i] + (1 - r) * gi * gi;
        f32[ms0 + i] = msi;
        let denom = msi;
        if (centered) {
          const mgi = r * f32[mg0 + i] + (1 - r) * gi;
          f32[mg0 + i] = mgi;
          denom = msi - mgi * mgi;
        }
        const inc = (lr32 * gi) / Math.sqrt(denom + eps);
        if (mom === 0) {
          f32[w0 + i] -= inc;
        } else {
          const mi = mu * f32[mom0 + i] + inc;
          f32[mom0 + i] = mi;
          f32[w0 + i] -= mi;
        }
      }
    },

    f32_adagrad(w, g, acc, n, lr, epsilon) {
      const f32 = heap.f32;
      const lr32 = Math.fround(lr);
      const eps = Math.fround(epsilon);
      const [w0, g0, acc0] = [w >> 2, g >> 2, acc >> 2];
      for (let i = 0; i < n; i++) {
        const gi = f32[g0 + i];
        const ai = f32[acc0 + i] + gi * gi;
        f32[acc0 + i] = ai;
        f32[w0 + i] -= (lr32 * gi) / Math.sqrt(ai + eps);
      }
    },
  };
}
