// The optimizer family: every kernel and option over one table of update rules, run for several
// steps in a row on the wasm kernels (both SIMD flavors) and on the reference with identical
// inputs, over awkward sizes. Buffers sit one f32 past an aligned boundary with guard elements
// either side that must stay untouched. The reference is in turn checked against an
// independent float64 transcription of Keras 3's update_step, and both backends against the
// golden values in Keras's own optimizer tests.

import { describe, expect, it } from 'vitest';
import { createReferenceBackend, type Backend } from '../../src/backend/backend.js';
import type { Ptr } from '../../src/backend/kernels.js';
import {
  SIZES, expectClose, flavorsUnderTest, pair, uniform, type Tolerance, place, readPlaced, expectGuards, type Placed,
} from '../helpers/kernels.js';

const LENGTHS = [...SIZES, 1000];
const STEPS = 5;
/** The wasm flavors and the reference: hand-checked values hold for every backend. */
const EVERY_BACKEND = [...flavorsUnderTest(), 'reference' as const];
const reference = createReferenceBackend();

// ---- The table of update rules -----------------------------------------------------------------

type Slot = 'v' | 'm' | 'ms' | 'mom' | 'mg' | 'acc';

interface OptimCase {
  name: string;
  kernel: 'f32_sgd' | 'f32_adam' | 'f32_rmsprop' | 'f32_adagrad';
  /** Slots the kernel is given, with their initial value (Keras's initializers). */
  slots: Partial<Record<Slot, number>>;
  lr: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  rho?: number;
  epsilon?: number;
  centered?: boolean;
}

// Each constructor starts from Keras 3's defaults (and its slot initializers: zeros, and 0.1
// for Adagrad's accumulator); a row overrides what it tests.
type Options = Partial<Omit<OptimCase, 'name' | 'kernel'>>;
const sgd = (name: string, o: Options = {}): OptimCase =>
  ({ name, kernel: 'f32_sgd', slots: {}, lr: 0.01, ...o });
const adam = (name: string, o: Options = {}): OptimCase => ({
  name, kernel: 'f32_adam', slots: { m: 0, v: 0 }, lr: 0.001, beta1: 0.9, beta2: 0.999,
  epsilon: 1e-7, ...o,
});
const rmsprop = (name: string, o: Options = {}): OptimCase =>
  ({ name, kernel: 'f32_rmsprop', slots: { ms: 0 }, lr: 0.001, rho: 0.9, epsilon: 1e-7, ...o });
const adagrad = (name: string, o: Options = {}): OptimCase =>
  ({ name, kernel: 'f32_adagrad', slots: { acc: 0.1 }, lr: 0.001, epsilon: 1e-7, ...o });

const OPTIMIZERS: OptimCase[] = [
  sgd('sgd', { lr: 0.1 }),
  sgd('sgd, weight decay', { lr: 0.1, weightDecay: 0.01 }),
  sgd('sgd, momentum', { slots: { v: 0 }, lr: 0.1, momentum: 0.9 }),
  sgd('sgd, nesterov, weight decay',
    { slots: { v: 0 }, lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.02 }),
  sgd('sgd, velocity slot with momentum 0', { slots: { v: 0 }, lr: 0.1, momentum: 0 }),
  adam('adam', { lr: 0.01 }),
  adam('adamw', { lr: 0.01, weightDecay: 0.004 }),
  adam('adam, other betas', { lr: 0.1, beta1: 0.5, beta2: 0.8, epsilon: 1e-3 }),
  rmsprop('rmsprop', { lr: 0.01 }),
  rmsprop('rmsprop, centered', { slots: { ms: 0, mg: 0 }, lr: 0.01, centered: true }),
  rmsprop('rmsprop, momentum', { slots: { ms: 0, mom: 0 }, lr: 0.01, rho: 0.8, momentum: 0.9 }),
  rmsprop('rmsprop, centered, momentum', {
    slots: { ms: 0, mom: 0, mg: 0 }, lr: 0.01, momentum: 0.5, epsilon: 1e-6, centered: true,
  }),
  adagrad('adagrad', { lr: 0.1 }),
];

const read = readPlaced;

// ---- One optimizer's state in one backend ---------------------------------------------------

/** The weights, the gradient buffer and the slots of one optimizer, in one backend's heap. */
class State {
  readonly w: Placed;
  readonly g: Placed;
  readonly slots: Partial<Record<Slot, Placed>> = {};

  constructor(readonly backend: Backend, readonly c: OptimCase, w: Float32Array) {
    this.w = place(backend, w);
    this.g = place(backend, new Float32Array(w.length));
    for (const [slot, init] of Object.entries(c.slots) as [Slot, number][]) {
      this.slots[slot] = place(backend, new Float32Array(w.length).fill(init));
    }
  }

  /** Applies one update with gradient `g` at step `t` (1-based). */
  step(g: Float32Array, t: number): void {
    const { c, w, slots } = this;
    const k = this.backend.kernels;
    const n = w.n;
    const ptr = (slot: Slot) => slots[slot]?.ptr ?? 0;
    this.backend.heap.f32.set(g, this.g.ptr >> 2);
    switch (c.kernel) {
      case 'f32_sgd':
        k.f32_sgd(w.ptr, this.g.ptr, ptr('v'), n, c.lr, c.momentum ?? 0, c.nesterov ? 1 : 0,
          c.weightDecay ?? 0);
        break;
      case 'f32_adam':
        k.f32_adam(w.ptr, this.g.ptr, ptr('m'), ptr('v'), n, c.lr, c.beta1!, c.beta2!,
          c.epsilon!, t, c.weightDecay ?? 0);
        break;
      case 'f32_rmsprop':
        k.f32_rmsprop(w.ptr, this.g.ptr, ptr('ms'), ptr('mom'), ptr('mg'), n, c.lr, c.rho!,
          c.momentum ?? 0, c.epsilon!, c.centered ? 1 : 0);
        break;
      case 'f32_adagrad':
        k.f32_adagrad(w.ptr, this.g.ptr, ptr('acc'), n, c.lr, c.epsilon!);
        break;
    }
  }

  /** Every buffer by name, after checking its guards. */
  buffers(label: string): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const [name, buffer] of [['w', this.w], ['g', this.g], ...Object.entries(this.slots)] as
      [string, Placed][]) {
      expectGuards(this.backend, buffer, `${label}: ${name}`);
      out[name] = read(this.backend, buffer);
    }
    return out;
  }

  release(): void {
    for (const buffer of [this.w, this.g, ...Object.values(this.slots)]) {
      this.backend.heap.free(buffer.block);
    }
  }
}

// ---- wasm vs reference, several steps, every size -------------------------------------------

// Both sides run the same f32 update; the reference keeps float64 between its loads and stores,
// the wasm kernels round every operation to f32 (and relaxed madd may fuse). Over five steps
// that stays within a few ulp of each value; a wrong coefficient is off by far more.
const STEP_TOLERANCE: Tolerance = { rtol: 2e-5, atol: 1e-6 };

describe.each(flavorsUnderTest())('optimizer kernels, %s wasm vs reference', (flavor) => {
  for (const c of OPTIMIZERS) {
    it(`${c.name}: ${STEPS} steps over sizes ${LENGTHS.join(', ')}`, () => {
      const { wasm, ref } = pair(flavor);
      LENGTHS.forEach((n, i) => {
        const w = uniform(n, 10 + i);
        const states = [new State(ref, c, w), new State(wasm, c, w)];
        for (let t = 1; t <= STEPS; t++) {
          const g = uniform(n, 1000 * t + i);
          for (const s of states) s.step(g, t);
          const label = `${flavor} ${c.name} n=${n} step ${t}`;
          const expected = states[0].buffers(`${label} reference`);
          const actual = states[1].buffers(`${label} wasm`);
          expectClose(actual.g, g, `${label}: g must stay unchanged`, { rtol: 0, atol: 0 });
          for (const name of Object.keys(expected)) {
            expectClose(actual[name], expected[name], `${label}: ${name}`, STEP_TOLERANCE);
          }
        }
        for (const s of states) s.release();
      });
    });
  }

  it('keeps the heap flat over repeated calls', () => {
    const { wasm } = pair(flavor);
    const n = 1000;
    const states = OPTIMIZERS.map((c) => new State(wasm, c, uniform(n, 5)));
    const g = uniform(n, 6, -1e-3, 1e-3);
    const before = wasm.heap.byteLength;
    for (let t = 1; t <= 50; t++) for (const s of states) s.step(g, t);
    expect(wasm.heap.byteLength).toBe(before);
    for (const s of states) s.release();
  });
});

// ---- The reference vs Keras's update_step, transcribed in float64 ----------------------------

// see: keras/src/optimizers/{sgd,adam,rmsprop,adagrad}.py update_step, and base_optimizer.py
//      _apply_weight_decay, which runs before it: variable - variable * wd * lr.
// Written in Keras's own operation order (m += (g - m) * (1 - beta_1), ...), so it is an
// independent transcription rather than a copy of the reference.
function kerasStep(
  c: OptimCase, w: number[], g: number[], s: Record<string, number[]>, t: number,
): void {
  const lr = c.lr;
  for (let i = 0; i < w.length; i++) {
    if (c.weightDecay) w[i] = w[i] - w[i] * c.weightDecay * lr;
    switch (c.kernel) {
      case 'f32_sgd':
        if (c.momentum) {
          s.v[i] = s.v[i] * c.momentum - g[i] * lr;
          w[i] += c.nesterov ? s.v[i] * c.momentum - g[i] * lr : s.v[i];
        } else {
          w[i] -= g[i] * lr;
        }
        break;
      case 'f32_adam': {
        const b1 = c.beta1!;
        const b2 = c.beta2!;
        const alpha = (lr * Math.sqrt(1 - Math.pow(b2, t))) / (1 - Math.pow(b1, t));
        s.m[i] += (g[i] - s.m[i]) * (1 - b1);
        s.v[i] += (g[i] * g[i] - s.v[i]) * (1 - b2);
        w[i] -= (s.m[i] * alpha) / (Math.sqrt(s.v[i]) + c.epsilon!);
        break;
      }
      case 'f32_rmsprop': {
        const rho = c.rho!;
        s.ms[i] = rho * s.ms[i] + (1 - rho) * g[i] * g[i];
        let denominator = s.ms[i] + c.epsilon!;
        if (c.centered) {
          s.mg[i] = rho * s.mg[i] + (1 - rho) * g[i];
          denominator = s.ms[i] - s.mg[i] * s.mg[i] + c.epsilon!;
        }
        const increment = (lr * g[i]) / Math.sqrt(denominator);
        if (c.momentum) {
          s.mom[i] = c.momentum * s.mom[i] + increment;
          w[i] -= s.mom[i];
        } else {
          w[i] -= increment;
        }
        break;
      }
      case 'f32_adagrad':
        s.acc[i] += g[i] * g[i];
        w[i] -= (lr * g[i]) / Math.sqrt(s.acc[i] + c.epsilon!);
        break;
    }
  }
}

describe('reference optimizers vs a float64 transcription of Keras', () => {
  // Large steps and hyperparameters that are exact in f32, so every term of the rule moves the
  // weights visibly: a missing bias correction, nesterov term or weight decay, or weight decay
  // applied after the step instead of before, is off by 1e-3 or more.
  // Keras has no velocity slot at momentum 0, so the case that passes one anyway is left out.
  const KERAS_CASES: OptimCase[] = [
    ...OPTIMIZERS.filter((c) => !(c.kernel === 'f32_sgd' && c.slots.v !== undefined &&
      !c.momentum)),
    sgd('sgd, strong nesterov and decay',
      { slots: { v: 0 }, lr: 0.5, momentum: 0.75, nesterov: true, weightDecay: 0.25 }),
    adam('adamw, strong decay',
      { lr: 0.5, beta1: 0.75, beta2: 0.875, epsilon: 0.125, weightDecay: 0.25 }),
  ];
  const ref = reference;
  for (const c of KERAS_CASES) {
    it(c.name, () => {
      const n = 7;
      const w0 = uniform(n, 21);
      const state = new State(ref, c, w0);
      const w = Array.from(w0);
      const slots: Record<string, number[]> = {};
      for (const [slot, init] of Object.entries(c.slots)) slots[slot] = new Array(n).fill(init);
      for (let t = 1; t <= STEPS; t++) {
        const g = uniform(n, 30 + t);
        state.step(g, t);
        kerasStep(c, w, Array.from(g), slots, t);
        const actual = state.buffers(`${c.name} step ${t}`);
        // The reference rounds its state to f32 each step; the transcription keeps float64.
        expectClose(actual.w, w, `${c.name} step ${t}: w`, { rtol: 1e-5, atol: 1e-6 });
        for (const slot of Object.keys(slots)) {
          const label = `${c.name} step ${t}: ${slot}`;
          expectClose(actual[slot], slots[slot], label, { rtol: 1e-5, atol: 1e-7 });
        }
      }
      state.release();
    });
  }
});

// ---- Keras's golden values ------------------------------------------------------------------

// see: keras/src/optimizers/{sgd,adam,adamw,rmsprop,adagrad}_test.py (test_single_step,
//      test_weight_decay, test_correctness_with_golden), compared with Keras's own tolerance.
// Adam's golden run uses amsgrad=True there, which matches plain Adam here because v only grows.
const SINGLE_STEP: { c: OptimCase; expected: number[] }[] = [
  { c: sgd('SGD', { lr: 0.5 }), expected: [0.5, -1.0, -0.5, 3.0] },
  { c: adam('Adam', { lr: 0.5 }), expected: [0.5, 1.5, 2.5, 3.5] },
  { c: adam('AdamW', { lr: 0.5, weightDecay: 0.004 }), expected: [0.498, 1.496, 2.494, 3.492] },
  { c: rmsprop('RMSprop', { lr: 0.5 }), expected: [-0.5811, 0.4189, 1.4189, 2.4189] },
  { c: adagrad('Adagrad', { lr: 0.5 }), expected: [0.5233, 1.5007, 2.5005, 3.5061] },
];

/** Keras lists some golden runs as one value per step, the same for all 10 elements. */
const everyElement = (rows: number[]) => rows.map((x) => new Array<number>(10).fill(x));

const GOLDEN: { c: OptimCase; expected: number[][] }[] = [
  {
    // SGD(nesterov=True) with Keras's default momentum 0: plain SGD.
    c: sgd('SGD', { nesterov: true }),
    expected: [
      [0.9999, 0.9999, 0.9999, 0.9999, 0.9999, 0.9999, 0.9999, 0.9999, 0.9999, 0.9999],
      [0.9989, 0.9979, 0.9969, 0.9959, 0.9949, 0.9939, 0.9929, 0.9919, 0.9909, 0.9899],
      [0.9979, 0.9959, 0.9939, 0.9919, 0.9899, 0.9879, 0.9859, 0.9839, 0.9819, 0.9799],
      [0.9969, 0.9939, 0.9909, 0.9879, 0.9849, 0.9819, 0.9789, 0.9759, 0.9729, 0.9699],
      [0.9959, 0.9919, 0.9879, 0.9839, 0.9799, 0.9759, 0.9719, 0.9679, 0.9639, 0.9599],
    ],
  },
  { c: adam('Adam'), expected: everyElement([0.999, 0.9982, 0.9974, 0.9965, 0.9955]) },
  {
    c: adam('AdamW', { lr: 1.0, epsilon: 2, weightDecay: 0.5 }),
    expected: [
      [0.4998, 0.4998, 0.4998, 0.4998, 0.4998, 0.4998, 0.4998, 0.4998, 0.4998, 0.4998],
      [0.2486, 0.2475, 0.2463, 0.2451, 0.244, 0.2428, 0.2417, 0.2405, 0.2394, 0.2382],
      [0.1223, 0.1198, 0.1174, 0.1149, 0.1124, 0.11, 0.1075, 0.1051, 0.1027, 0.1003],
      [0.0586, 0.0549, 0.0512, 0.0475, 0.0439, 0.0402, 0.0366, 0.033, 0.0294, 0.0258],
      [0.0263, 0.0215, 0.0167, 0.012, 0.0073, 0.0026, -0.0021, -0.0067, -0.0113, -0.0159],
    ],
  },
  {
    c: rmsprop('RMSprop centered', { slots: { ms: 0, mg: 0 }, centered: true }),
    expected: everyElement([0.9967, 0.9933, 0.9908, 0.9885, 0.9864]),
  },
  {
    c: adagrad('Adagrad', { slots: { acc: 0.3 }, lr: 0.2, epsilon: 1e-6 }),
    expected: [
      [0.9963, 0.9963, 0.9963, 0.9963, 0.9963, 0.9963, 0.9963, 0.9963, 0.9963, 0.9963],
      [0.9604, 0.9278, 0.9003, 0.8784, 0.8615, 0.8487, 0.8388, 0.8313, 0.8255, 0.8209],
      [0.9251, 0.8629, 0.8137, 0.7768, 0.7497, 0.7298, 0.7151, 0.704, 0.6956, 0.6891],
      [0.8903, 0.8012, 0.7342, 0.6862, 0.6521, 0.6277, 0.6099, 0.5967, 0.5867, 0.579],
      [0.856, 0.7422, 0.6604, 0.6037, 0.5644, 0.5367, 0.5168, 0.5021, 0.491, 0.4825],
    ],
  },
];

const KERAS_TOLERANCE: Tolerance = { rtol: 5e-4, atol: 5e-4 };

describe.each(EVERY_BACKEND)("Keras's golden values, %s", (flavor) => {
  const backend = () => (flavor === 'reference' ? reference : pair(flavor).wasm);

  for (const { c, expected } of SINGLE_STEP) {
    it(`${c.name}: one step`, () => {
      const state = new State(backend(), c, Float32Array.from([1, 2, 3, 4]));
      state.step(Float32Array.from([1, 6, 7, 2]), 1);
      const w = state.buffers(c.name).w;
      expectClose(w, expected, `${c.name} single step`, { rtol: 1e-4, atol: 1e-4 });
      state.release();
    });
  }

  for (const { c, expected } of GOLDEN) {
    it(`${c.name}: golden run`, () => {
      // x = ones(10); one step with gradient 0.01, then steps with gradient 0.1, 0.2, ..., 1.0.
      const state = new State(backend(), c, new Float32Array(10).fill(1));
      state.step(new Float32Array(10).fill(0.01), 1);
      const g = Float32Array.from({ length: 10 }, (_, i) => 0.1 * (i + 1));
      for (let i = 0; i < expected.length; i++) {
        const w = state.buffers(c.name).w;
        expectClose(w, expected[i], `${c.name} golden row ${i}`, KERAS_TOLERANCE);
        state.step(g, i + 2);
      }
      state.release();
    });
  }

  it('decoupled weight decay: three optimizers, each at step 1, take 2 to 1.9760959', () => {
    // The weight-decay part of Keras's test: a zero gradient, so only w -= w * 0.004 * lr(1.0)
    // acts, once per optimizer. Adam's slots stay zero, so each call is again a first step.
    for (const c of [GOLDEN[0].c, GOLDEN[1].c]) {
      const decayed = { ...c, lr: 1, weightDecay: 0.004 };
      const state = new State(backend(), decayed, Float32Array.from([2]));
      for (let k = 0; k < 3; k++) state.step(Float32Array.from([0]), 1);
      const w = state.buffers(c.name).w;
      expectClose(w, [1.9760959], `${c.name} weight decay`, { rtol: 0, atol: 1e-6 });
      state.release();
    }
  });

  it("RMSprop's docstring example: lr 0.1, w = 10, g = w gives 9.683772", () => {
    const state = new State(backend(), rmsprop('RMSprop', { lr: 0.1 }), Float32Array.from([10]));
    state.step(Float32Array.from([10]), 1);
    const w = state.buffers('RMSprop docstring').w;
    expectClose(w, [9.683772], 'RMSprop docstring', { rtol: 1e-6, atol: 0 });
    state.release();
  });
});
