// The pooling family: every kernel over one table of window geometries, run on the wasm kernels
// (both SIMD flavors) and on the reference with identical inputs. Buffers sit one f32 past an
// aligned boundary with guard elements either side that must stay untouched, and outputs start
// as a NaN canary. The reference's backward kernels are checked against central finite
// differences of its forward kernels, and the first-maximum rule against hand-made ties.

import { describe, expect, it } from 'vitest';
import { createReferenceBackend, type Backend } from '../../src/backend/backend.js';
import { window2d, type Padding, type Window2D } from '../../src/backend/geometry.js';
import type { Ptr } from '../../src/backend/kernels.js';
import { Random } from '../../src/util/random.js';
import {
  expectClose, expectGradientClose, flavorsUnderTest, pair, uniform, type Tolerance, place, readPlaced, expectGuards, release, type Placed,
} from '../helpers/kernels.js';

interface PoolCase {
  shape: [number, number, number, number]; // N, H, W, C
  pool: [number, number];
  strides: [number, number];
  padding: Padding;
}

// Every window, stride and padding below, each met with four image shapes drawn (from a
// fixed seed) from N in {1, 2}, H and W in {1, 2, 5, 7, 13, 24} and C in {1, 3, 4, 5, 8, 17, 64}:
// 1, under, at and over the SIMD width 4 and the 16-channel block, and primes. So every size
// meets many windows without running the whole cross product; poolTable() checks that each
// size does occur.
const POOLS: [number, number][] = [[1, 1], [2, 2], [3, 3], [2, 3]];
const STRIDES: [number, number][] = [[1, 1], [2, 2], [3, 3]];
const PADDINGS: Padding[] = ['valid', 'same'];
const NS = [1, 2];
const HWS = [1, 2, 5, 7, 13, 24];
const CS = [1, 3, 4, 5, 8, 17, 64];
const SHAPES_PER_WINDOW = 4;

function poolTable(): PoolCase[] {
  const rng = new Random(7);
  const pick = (values: number[]) => values[rng.int(values.length)];
  const cases: PoolCase[] = [];
  for (const pool of POOLS) {
    for (const strides of STRIDES) {
      for (const padding of PADDINGS) {
        for (let j = 0; j < SHAPES_PER_WINDOW; j++) {
          cases.push({ shape: [pick(NS), pick(HWS), pick(HWS), pick(CS)], pool, strides, padding });
        }
      }
    }
  }
  const used = (axis: number, values: number[]) =>
    values.every((v) => cases.some((c) => c.shape[axis] === v));
  if (!(used(0, NS) && used(1, HWS) && used(2, HWS) && used(3, CS))) {
    throw new Error('pool table: the seed leaves out a size; pick another seed');
  }
  // Shapes the random draw may miss: the benchmark shape, mixed strides, odd sizes with
  // 'same' (2x2 windows clipped to 2x1 and 1x2 at the far edges), big C with big windows.
  cases.push(
    { shape: [2, 24, 24, 64], pool: [2, 2], strides: [2, 2], padding: 'valid' },
    { shape: [1, 13, 7, 17], pool: [2, 2], strides: [2, 2], padding: 'same' },
    { shape: [2, 5, 13, 21], pool: [2, 2], strides: [1, 1], padding: 'same' },
    { shape: [1, 13, 13, 64], pool: [3, 3], strides: [2, 2], padding: 'same' },
    { shape: [2, 7, 24, 33], pool: [3, 3], strides: [1, 2], padding: 'same' },
    { shape: [1, 24, 5, 5], pool: [2, 3], strides: [3, 1], padding: 'valid' },
    { shape: [1, 2, 2, 3], pool: [3, 3], strides: [1, 1], padding: 'valid' }, // empty output
  );
  return cases;
}

const CASES = poolTable();

function geometry(c: PoolCase): Window2D {
  return window2d(c.shape, c.pool, c.strides, [1, 1], c.padding);
}

function describeCase(c: PoolCase): string {
  return `${c.shape.join('x')} pool ${c.pool.join('x')} stride ${c.strides.join('x')} ${c.padding}`;
}

const read = readPlaced;

// ---- Running the kernels ---------------------------------------------------------------------

const KERNELS = [
  'f32_maxpool2d', 'f32_maxpool2d_backward', 'f32_avgpool2d', 'f32_avgpool2d_backward',
] as const;
type Kernel = (typeof KERNELS)[number];

// Max pooling picks one of its inputs: exact. The backward sums of dy differ from the float64
// reference only by f32 rounding (at most KH*KW terms of size ~1). The average kernels multiply
// by 1/count in f32, a few ulp. A wrong count or a misplaced window is off by far more.
const TOLERANCE: Record<Kernel, Tolerance> = {
  f32_maxpool2d: { rtol: 0, atol: 0 },
  f32_maxpool2d_backward: { rtol: 1e-6, atol: 1e-6 },
  f32_avgpool2d: { rtol: 1e-5, atol: 1e-6 },
  f32_avgpool2d_backward: { rtol: 1e-5, atol: 1e-6 },
};

const sizeOf = (g: Window2D) => ({ input: g.N * g.H * g.W * g.C, output: g.N * g.OH * g.OW * g.C });

/**
 * Runs one kernel on `backend` and returns its output. Inputs are `x` (the forward input, or
 * unused) and `dy` (the output gradient, or unused); guards and input integrity are checked.
 */
function run(
  backend: Backend, kernel: Kernel, g: Window2D, x: Float32Array, dy: Float32Array, label: string,
): Float32Array {
  const { N, H, W, C, KH, KW, strideH, strideW, padTop, padLeft, OH, OW } = g;
  const k = backend.kernels;
  const forward = kernel === 'f32_maxpool2d' || kernel === 'f32_avgpool2d';
  const { input, output } = sizeOf(g);
  const px = place(backend, x);
  const pdy = place(backend, dy);
  const out = place(backend, forward ? output : input);
  const geom = [N, H, W, C, KH, KW, strideH, strideW, padTop, padLeft, OH, OW] as const;
  switch (kernel) {
    case 'f32_maxpool2d': k.f32_maxpool2d(px.ptr, out.ptr, ...geom); break;
    case 'f32_avgpool2d': k.f32_avgpool2d(px.ptr, out.ptr, ...geom); break;
    case 'f32_maxpool2d_backward':
      k.f32_maxpool2d_backward(px.ptr, pdy.ptr, out.ptr, ...geom);
      break;
    case 'f32_avgpool2d_backward': k.f32_avgpool2d_backward(pdy.ptr, out.ptr, ...geom); break;
  }
  expectGuards(backend, out, `${label}: output`);
  expectGuards(backend, px, `${label}: x`);
  expectGuards(backend, pdy, `${label}: dy`);
  expectClose(read(backend, px), x, `${label}: x must stay unchanged`, { rtol: 0, atol: 0 });
  expectClose(read(backend, pdy), dy, `${label}: dy must stay unchanged`, { rtol: 0, atol: 0 });
  const result = read(backend, out);
  release(backend, px, pdy, out);
  return result;
}

// ---- wasm vs reference over the table ----------------------------------------------------------

describe.each(flavorsUnderTest())('pooling kernels, %s wasm vs reference', (flavor) => {
  for (const kernel of KERNELS) {
    it(`${kernel} over ${CASES.length} geometries`, () => {
      const { wasm, ref } = pair(flavor);
      CASES.forEach((c, i) => {
        const g = geometry(c);
        const { input, output } = sizeOf(g);
        const x = uniform(input, 100 + i);
        const dy = uniform(output, 200 + i);
        const label = `${flavor} ${kernel} ${describeCase(c)}`;
        const expected = run(ref, kernel, g, x, dy, label);
        const actual = run(wasm, kernel, g, x, dy, label);
        expectClose(actual, expected, label, TOLERANCE[kernel]);
      });
    });
  }

  it('keeps the heap flat over repeated calls', () => {
    const { wasm } = pair(flavor);
    const g = geometry({ shape: [2, 13, 13, 17], pool: [3, 3], strides: [2, 2], padding: 'same' });
    const { input, output } = sizeOf(g);
    const x = place(wasm, uniform(input, 1));
    const dy = place(wasm, uniform(output, 2));
    const y = place(wasm, output);
    const dx = place(wasm, input);
    const geom = [g.N, g.H, g.W, g.C, g.KH, g.KW, g.strideH, g.strideW, g.padTop, g.padLeft,
      g.OH, g.OW] as const;
    const before = wasm.heap.byteLength;
    for (let i = 0; i < 50; i++) {
      wasm.kernels.f32_maxpool2d(x.ptr, y.ptr, ...geom);
      wasm.kernels.f32_maxpool2d_backward(x.ptr, dy.ptr, dx.ptr, ...geom);
      wasm.kernels.f32_avgpool2d(x.ptr, y.ptr, ...geom);
      wasm.kernels.f32_avgpool2d_backward(dy.ptr, dx.ptr, ...geom);
    }
    expect(wasm.heap.byteLength).toBe(before);
    release(wasm, x, dy, y, dx);
  });
});

/** The wasm flavors and the reference: hand-checked cases hold for every backend. */
const EVERY_BACKEND = [...flavorsUnderTest(), 'reference' as const];

const reference = createReferenceBackend();

function backendFor(flavor: (typeof EVERY_BACKEND)[number]): Backend {
  return flavor === 'reference' ? reference : pair(flavor).wasm;
}

// ---- The first-maximum rule ------------------------------------------------------------------

describe.each(EVERY_BACKEND)('max pooling ties, %s', (flavor) => {
  const backend = () => backendFor(flavor);

  it('routes dy to the first maximum in row-major window order, per channel', () => {
    // One 2x2 window (positions 0 1 / 2 3), five channels: four fill a v128, the fifth goes
    // through the leftover loop. Each channel's winner is a different position.
    //            pos0  pos1  pos2  pos3     first max at
    const window = [
      [0, 1, 2, 3], //                       3 (no tie)
      [0, 5, 5, 1], //                       1 (tie 1, 2)
      [7, 7, 7, 7], //                       0 (all equal)
      [-1, -2, 4, 4], //                     2 (tie 2, 3)
      [-3, 9, -3, 9], //                     1 (tie 1, 3), leftover channel
    ];
    const C = window.length;
    const x = new Float32Array(4 * C);
    for (let c = 0; c < C; c++) for (let p = 0; p < 4; p++) x[p * C + c] = window[c][p];
    const dy = Float32Array.from([10, 20, 30, 40, 50]);
    const winner = [3, 1, 0, 2, 1];
    const expected = new Float32Array(4 * C);
    for (let c = 0; c < C; c++) expected[winner[c] * C + c] = dy[c];
    const g = geometry({ shape: [1, 2, 2, C], pool: [2, 2], strides: [2, 2], padding: 'valid' });
    const b = backend();
    expectClose(run(b, 'f32_maxpool2d', g, x, dy, 'tie forward'), [3, 5, 7, 4, 9], 'tie forward');
    const dx = run(b, 'f32_maxpool2d_backward', g, x, dy, 'tie backward');
    expectClose(dx, expected, 'tie backward');
  });

  it('routes a 3x3 window of equal values to its top-left element, -Infinity included', () => {
    for (const value of [0, -Infinity]) {
      const C = 6; // one v128 and two leftover channels
      const x = new Float32Array(9 * C).fill(value);
      const dy = Float32Array.from({ length: C }, (_, c) => c + 1);
      const g = geometry({ shape: [1, 3, 3, C], pool: [3, 3], strides: [3, 3], padding: 'valid' });
      const expected = new Float32Array(9 * C);
      expected.set(dy, 0);
      const b = backend();
      const y = run(b, 'f32_maxpool2d', g, x, dy, 'equal forward');
      expectClose(y, new Float32Array(C).fill(value), `equal ${value} forward`);
      const dx = run(b, 'f32_maxpool2d_backward', g, x, dy, 'equal backward');
      expectClose(dx, expected, `equal ${value} backward`);
    }
  });

  it('adds up the dy of overlapping windows that share one maximum', () => {
    // 1x3x3x1 with its maximum in the middle; 2x2 windows at stride 1 all contain it.
    const x = Float32Array.from([1, 2, 3, 4, 9, 5, 6, 7, 8]);
    const dy = Float32Array.from([1, 10, 100, 1000]);
    const g = geometry({ shape: [1, 3, 3, 1], pool: [2, 2], strides: [1, 1], padding: 'valid' });
    const expected = new Float32Array(9);
    expected[4] = 1111;
    expectClose(run(backend(), 'f32_maxpool2d_backward', g, x, dy, 'overlap'), expected, 'overlap');
  });
});

// ---- Average pooling counts only the input --------------------------------------------------

describe.each(EVERY_BACKEND)('average pooling edges, %s', (flavor) => {
  it("excludes 'same' padding from the count", () => {
    // 1x3x3x1, 3x3 window, stride 1, 'same': the corner window sees 2x2 inputs, the edge 2x3.
    const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const g = geometry({ shape: [1, 3, 3, 1], pool: [3, 3], strides: [1, 1], padding: 'same' });
    const b = backendFor(flavor);
    const y = run(b, 'f32_avgpool2d', g, x, new Float32Array(9), 'avg same');
    expectClose(y, [3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7], 'avg same', { rtol: 1e-6, atol: 0 });
    // Backward of a dy that is 1 at the corner (0, 0) only: a quarter to each of its 4 inputs.
    const dy = new Float32Array(9);
    dy[0] = 1;
    const dx = run(b, 'f32_avgpool2d_backward', g, x, dy, 'avg same backward');
    const quarter = [0.25, 0.25, 0, 0.25, 0.25, 0, 0, 0, 0];
    expectClose(dx, quarter, 'avg same backward', { rtol: 1e-6, atol: 0 });
  });
});

// ---- Reference backward vs finite differences of the reference forward ----------------------

/** Distinct values 0.05 apart (more than twice the finite-difference step), shuffled. */
function distinctValues(n: number, seed: number): Float32Array {
  const order = Array.from({ length: n }, (_, i) => i);
  new Random(seed).shuffle(order);
  return Float32Array.from(order, (k) => (k - n / 2) * 0.05);
}

describe('reference pooling gradients vs finite differences', () => {
  // Small shapes: each check runs the forward twice per input element.
  const GRADIENT_CASES: PoolCase[] = [
    { shape: [1, 5, 5, 3], pool: [2, 2], strides: [2, 2], padding: 'valid' },
    { shape: [1, 5, 5, 3], pool: [2, 2], strides: [2, 2], padding: 'same' },
    { shape: [2, 5, 4, 2], pool: [3, 3], strides: [1, 1], padding: 'same' },
    { shape: [1, 7, 5, 5], pool: [2, 3], strides: [3, 2], padding: 'valid' },
    { shape: [1, 7, 7, 1], pool: [3, 3], strides: [2, 2], padding: 'same' },
    { shape: [1, 2, 2, 4], pool: [1, 1], strides: [1, 1], padding: 'valid' },
  ];
  const ref = reference;

  for (const kind of ['max', 'avg'] as const) {
    it(`${kind} pooling`, () => {
      const forward = kind === 'max' ? 'f32_maxpool2d' : 'f32_avgpool2d';
      const backward = kind === 'max' ? 'f32_maxpool2d_backward' : 'f32_avgpool2d_backward';
      GRADIENT_CASES.forEach((c, i) => {
        const g = geometry(c);
        const { input, output } = sizeOf(g);
        const x = distinctValues(input, 300 + i);
        const dy = uniform(output, 400 + i);
        const label = `reference ${kind} pool gradient ${describeCase(c)}`;
        const dx = run(ref, backward, g, x, dy, label);
        // Scalar loss: sum(forward(x) * dy), whose gradient with respect to x is dx.
        const loss = (probe: Float64Array) => {
          const y = run(ref, forward, g, Float32Array.from(probe), dy, label);
          let sum = 0;
          for (let j = 0; j < y.length; j++) sum += y[j] * dy[j];
          return sum;
        };
        const tolerance = { eps: 1e-2, rtol: 1e-3, atol: 1e-4 };
        expectGradientClose(loss, Float64Array.from(x), dx, label, tolerance);
      });
    });
  }
});
