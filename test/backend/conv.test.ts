// The convolution family: every kernel, on every row of one table of geometries, runs on the
// wasm kernels (both SIMD flavors) and on the reference with identical inputs. The reference's
// backward kernels are in turn checked against finite differences of its forward kernels.

import { describe, expect, it } from 'vitest';
import { createReferenceBackend, type Backend } from '../../src/backend/backend.js';
import { window2d, type Padding, type Window2D } from '../../src/backend/geometry.js';
import type { KernelName, Ptr } from '../../src/backend/kernels.js';
import {
  ACT_ELU, ACT_GELU, ACT_LEAKY_RELU, ACT_LINEAR, ACT_RELU, ACT_SIGMOID, ACT_SWISH, ACT_TANH,
} from '../../src/backend/opcodes.js';
import { conv2dWorkspaceBytes } from '../../src/backend/workspace.js';
import {
  expectClose, expectGradientClose, flavorsUnderTest, pair, uniform, type Tolerance,
} from '../helpers/kernels.js';

interface ConvCase {
  /** [N, H, W, C] */
  input: [number, number, number, number];
  kernel: [number, number];
  /** Output channels of the dense conv. */
  CO: number;
  /** Channel multiplier of the depthwise conv. */
  M: number;
  strides?: [number, number];
  dilations?: [number, number];
  padding: Padding;
  bias?: boolean;
  act?: number;
  actAlpha?: number;
  /** Small enough for the finite-difference check of the reference's backward kernels. */
  gradient?: boolean;
}

// C and CO cover 1, the SIMD width 4 and the 8- and 16-channel panels, each +-1, and larger
// multiples; spatial sizes are odd (or 28) so that register tiles always have leftovers. The
// dense backward-data kernel takes two paths (stride 1 with C >= 8, and the rest): both occur.
// 3x3 filters with stride 1, no dilation and CO >= 16 take the Winograd paths of the forward
// kernel with C >= 16 (and of backward data, a forward conv with C and CO swapped) and of the
// backward-filter kernel with C >= 8: the 1x1x17 and 28x28x32 rows and the last two, which
// have odd output sizes (partial 2x2 tiles), C and CO past a SIMD vector, C odd, and CO past a
// 16-channel panel.
const CASES: ConvCase[] = [
  { input: [1, 5, 5, 3], kernel: [1, 1], CO: 4, M: 1, padding: 'valid', gradient: true },
  {
    input: [1, 7, 7, 1], kernel: [3, 3], CO: 8, M: 2, padding: 'same', bias: true, act: ACT_RELU,
    gradient: true,
  },
  { input: [3, 13, 13, 4], kernel: [3, 3], CO: 9, M: 1, padding: 'valid', bias: true },
  {
    input: [1, 13, 13, 5], kernel: [5, 5], CO: 16, M: 2, strides: [2, 2], padding: 'same',
    act: ACT_LEAKY_RELU, actAlpha: 0.2,
  },
  {
    input: [1, 28, 28, 8], kernel: [3, 2], CO: 17, M: 1, strides: [3, 3], padding: 'same',
    bias: true,
  },
  {
    input: [3, 13, 13, 9], kernel: [3, 3], CO: 5, M: 2, dilations: [2, 2], padding: 'same',
    act: ACT_ELU, actAlpha: 1,
  },
  {
    input: [1, 1, 1, 17], kernel: [3, 3], CO: 32, M: 1, padding: 'same', bias: true,
    act: ACT_SIGMOID,
  },
  {
    input: [1, 7, 28, 16], kernel: [1, 3], CO: 3, M: 2, strides: [1, 2], padding: 'valid',
    act: ACT_TANH,
  },
  {
    input: [1, 28, 28, 32], kernel: [3, 3], CO: 32, M: 1, padding: 'valid', bias: true,
    act: ACT_RELU,
  },
  {
    input: [1, 13, 13, 3], kernel: [5, 5], CO: 1, M: 2, dilations: [2, 2], padding: 'valid',
    act: ACT_GELU,
  },
  {
    input: [3, 7, 7, 32], kernel: [1, 1], CO: 32, M: 1, strides: [2, 2], padding: 'valid',
    bias: true, act: ACT_SWISH,
  },
  {
    input: [1, 5, 7, 4], kernel: [2, 5], CO: 17, M: 1, strides: [2, 3], dilations: [2, 1],
    padding: 'same',
  },
  {
    input: [1, 5, 7, 3], kernel: [2, 3], CO: 3, M: 1, strides: [2, 3], dilations: [2, 1],
    padding: 'same', gradient: true,
  },
  {
    input: [3, 5, 5, 2], kernel: [3, 3], CO: 3, M: 2, strides: [2, 1], padding: 'same',
    bias: true, gradient: true,
  },
  {
    input: [1, 28, 28, 1], kernel: [3, 3], CO: 32, M: 1, padding: 'valid', bias: true,
    act: ACT_RELU,
  },
  { input: [3, 13, 13, 1], kernel: [3, 3], CO: 9, M: 1, strides: [2, 2], padding: 'same' },
  { input: [1, 5, 5, 17], kernel: [5, 5], CO: 24, M: 1, dilations: [2, 2], padding: 'same' },
  {
    input: [1, 13, 5, 16], kernel: [3, 3], CO: 9, M: 2, strides: [3, 3], padding: 'valid',
    bias: true,
  },
  // The filter is larger than the input: 'valid' has no output pixel, so gradients are zero.
  { input: [1, 5, 5, 3], kernel: [7, 7], CO: 4, M: 1, padding: 'valid' },
  {
    input: [2, 9, 11, 13], kernel: [3, 3], CO: 20, M: 1, padding: 'same', bias: true,
    act: ACT_TANH,
  },
  { input: [1, 11, 12, 24], kernel: [3, 3], CO: 17, M: 1, padding: 'valid', bias: true },
];

function geometryOf(c: ConvCase): Window2D {
  return window2d(c.input, c.kernel, c.strides ?? [1, 1], c.dilations ?? [1, 1], c.padding);
}

function describeCase(c: ConvCase): string {
  const g = geometryOf(c);
  return (
    `x[${c.input}] k${c.kernel.join('x')} CO ${c.CO} M ${c.M} s${g.strideH},${g.strideW} ` +
    `d${g.dilationH},${g.dilationW} ${c.padding}${c.bias ? ' bias' : ''} act ${c.act ?? 0}`
  );
}

/** The seeded buffers of one case: x is shared by the dense and the depthwise conv. */
interface Inputs {
  x: Float32Array;
  /** Dense filter, bias, and a gradient of the dense output. */
  w: Float32Array;
  bias: Float32Array | null;
  dy: Float32Array;
  /** Depthwise filter, bias, and a gradient of the depthwise output. */
  dw: Float32Array;
  dwBias: Float32Array | null;
  ddy: Float32Array;
}

function inputsOf(c: ConvCase, seed: number): Inputs {
  const { N, H, W, C, KH, KW, OH, OW } = geometryOf(c);
  return {
    x: uniform(N * H * W * C, seed),
    w: uniform(KH * KW * C * c.CO, seed + 1),
    bias: c.bias ? uniform(c.CO, seed + 2) : null,
    dy: uniform(N * OH * OW * c.CO, seed + 3),
    dw: uniform(KH * KW * C * c.M, seed + 4),
    dwBias: c.bias ? uniform(C * c.M, seed + 5) : null,
    ddy: uniform(N * OH * OW * C * c.M, seed + 6),
  };
}

/**
 * One kernel of the family: which inputs it reads, how long its output is, how many products
 * each output element sums (for the tolerance), and how it is called.
 */
interface KernelRow {
  name: KernelName;
  inputs(v: Inputs): (Float32Array | null)[];
  outLength(c: ConvCase, g: Window2D): number;
  terms(c: ConvCase, g: Window2D): number;
  /** Whether the kernel takes a work buffer of conv2dWorkspaceBytes(). */
  usesWork: boolean;
  call(b: Backend, c: ConvCase, g: Window2D, inputs: Ptr[], out: Ptr, work: Ptr): void;
}

const KERNELS: KernelRow[] = [
  {
    name: 'f32_conv2d',
    inputs: (v) => [v.x, v.w, v.bias],
    outLength: (c, g) => g.N * g.OH * g.OW * c.CO,
    terms: (_c, g) => g.KH * g.KW * g.C,
    usesWork: true,
    call: (b, c, g, [x, w, bias], y, work) => b.kernels.f32_conv2d(
      x, w, bias, y, g.N, g.H, g.W, g.C, g.KH, g.KW, c.CO, g.strideH, g.strideW, g.dilationH,
      g.dilationW, g.padTop, g.padLeft, g.OH, g.OW, c.act ?? ACT_LINEAR, c.actAlpha ?? 0, work,
    ),
  },
  {
    name: 'f32_conv2d_backward_data',
    inputs: (v) => [v.dy, v.w],
    outLength: (_c, g) => g.N * g.H * g.W * g.C,
    terms: (c, g) => g.KH * g.KW * c.CO,
    usesWork: true,
    call: (b, c, g, [dy, w], dx, work) => b.kernels.f32_conv2d_backward_data(
      dy, w, dx, g.N, g.H, g.W, g.C, g.KH, g.KW, c.CO, g.strideH, g.strideW, g.dilationH,
      g.dilationW, g.padTop, g.padLeft, g.OH, g.OW, work,
    ),
  },
  {
    name: 'f32_conv2d_backward_filter',
    inputs: (v) => [v.x, v.dy],
    outLength: (c, g) => g.KH * g.KW * g.C * c.CO,
    terms: (_c, g) => g.N * g.OH * g.OW,
    usesWork: true,
    call: (b, c, g, [x, dy], dw, work) => b.kernels.f32_conv2d_backward_filter(
      x, dy, dw, g.N, g.H, g.W, g.C, g.KH, g.KW, c.CO, g.strideH, g.strideW, g.dilationH,
      g.dilationW, g.padTop, g.padLeft, g.OH, g.OW, work,
    ),
  },
  {
    name: 'f32_depthwise_conv2d',
    inputs: (v) => [v.x, v.dw, v.dwBias],
    outLength: (c, g) => g.N * g.OH * g.OW * g.C * c.M,
    terms: (_c, g) => g.KH * g.KW,
    usesWork: false,
    call: (b, c, g, [x, w, bias], y) => b.kernels.f32_depthwise_conv2d(
      x, w, bias, y, g.N, g.H, g.W, g.C, g.KH, g.KW, c.M, g.strideH, g.strideW, g.dilationH,
      g.dilationW, g.padTop, g.padLeft, g.OH, g.OW, c.act ?? ACT_LINEAR, c.actAlpha ?? 0,
    ),
  },
  {
    name: 'f32_depthwise_conv2d_backward_data',
    inputs: (v) => [v.ddy, v.dw],
    outLength: (_c, g) => g.N * g.H * g.W * g.C,
    terms: (c, g) => g.KH * g.KW * c.M,
    usesWork: false,
    call: (b, c, g, [dy, w], dx) => b.kernels.f32_depthwise_conv2d_backward_data(
      dy, w, dx, g.N, g.H, g.W, g.C, g.KH, g.KW, c.M, g.strideH, g.strideW, g.dilationH,
      g.dilationW, g.padTop, g.padLeft, g.OH, g.OW,
    ),
  },
  {
    name: 'f32_depthwise_conv2d_backward_filter',
    inputs: (v) => [v.x, v.ddy],
    outLength: (c, g) => g.KH * g.KW * g.C * c.M,
    terms: (_c, g) => g.N * g.OH * g.OW,
    usesWork: false,
    call: (b, c, g, [x, dy], dw) => b.kernels.f32_depthwise_conv2d_backward_filter(
      x, dy, dw, g.N, g.H, g.W, g.C, g.KH, g.KW, c.M, g.strideH, g.strideW, g.dilationH,
      g.dilationW, g.padTop, g.padLeft, g.OH, g.OW,
    ),
  },
];

function kernel(name: KernelName): KernelRow {
  const row = KERNELS.find((k) => k.name === name);
  if (!row) throw new Error(`no table row for ${name}`);
  return row;
}

/**
 * Float32 sums of `terms` products of values in [-1, 1], against float64 sums: the rounding
 * error grows with the number of terms. Observed errors stay below a tenth of this; a missed,
 * doubled or misplaced tap is off by ~0.1 or more, far above it.
 */
function tolerance(terms: number): Tolerance {
  return { rtol: 1e-5, atol: 2e-6 + 4e-7 * Math.max(1, terms) };
}

/** Elements either side of every buffer a kernel writes; they must stay untouched. */
const GUARD = 5;
const SENTINEL = 1234.5;

/** A block of a backend's heap and the pointer handed to the kernel inside it. */
interface Placed {
  block: Ptr;
  ptr: Ptr;
}

/** Copies `data` one f32 past a 64-byte boundary, so that the kernel sees an unaligned buffer. */
function place(backend: Backend, data: Float32Array): Placed {
  const block = backend.heap.alloc((data.length + 1) * 4);
  backend.heap.write(block + 4, data);
  return { block, ptr: block + 4 };
}

/** n elements starting as NaN (an unwritten output is caught), with SENTINEL guards around. */
function placeOutput(backend: Backend, n: number): Placed {
  const block = backend.heap.alloc((n + 2 * GUARD) * 4);
  const f = backend.heap.f32;
  const first = block >> 2;
  f.fill(SENTINEL, first, first + GUARD);
  f.fill(Number.NaN, first + GUARD, first + GUARD + n);
  f.fill(SENTINEL, first + GUARD + n, first + 2 * GUARD + n);
  return { block, ptr: block + GUARD * 4 };
}

function expectGuards(backend: Backend, out: Placed, n: number, label: string): void {
  const f = backend.heap.f32;
  const first = out.block >> 2;
  for (let i = 0; i < GUARD; i++) {
    expect(f[first + i], `${label}: guard ${i} before the buffer`).toBe(SENTINEL);
    expect(f[first + GUARD + n + i], `${label}: guard ${i} after the buffer`).toBe(SENTINEL);
  }
}

/**
 * Runs one kernel of the table on one backend: places the inputs (null = absent, pointer 0), a
 * guarded NaN-filled output and a guarded work buffer, calls it, checks the guards and that the
 * inputs are unchanged, frees everything and returns the output.
 */
function run(
  backend: Backend, row: KernelRow, c: ConvCase, inputs: (Float32Array | null)[],
): Float32Array {
  const g = geometryOf(c);
  const label = `${backend.flavor} ${row.name} ${describeCase(c)}`;
  const outLength = row.outLength(c, g);
  const workLength = row.usesWork ? conv2dWorkspaceBytes(g, c.CO) / 4 : 0;
  const placed = inputs.map((data) => (data === null ? null : place(backend, data)));
  const out = placeOutput(backend, outLength);
  const work = placeOutput(backend, workLength);
  row.call(backend, c, g, placed.map((p) => p?.ptr ?? 0), out.ptr, work.ptr);
  expectGuards(backend, out, outLength, label);
  expectGuards(backend, work, workLength, `${label} (work)`);
  inputs.forEach((data, i) => {
    const p = placed[i];
    if (data === null || p === null) return;
    const after = backend.heap.readF32(p.ptr, data.length);
    if (!after.every((v, j) => Object.is(v, data[j]))) {
      throw new Error(`${label}: input ${i} was modified`);
    }
  });
  const result = backend.heap.readF32(out.ptr, outLength);
  for (const p of placed) if (p !== null) backend.heap.free(p.block);
  backend.heap.free(out.block);
  backend.heap.free(work.block);
  return result;
}

for (const flavor of flavorsUnderTest()) {
  describe(`conv kernels, ${flavor} vs reference`, () => {
    CASES.forEach((c, index) => {
      it(describeCase(c), () => {
        const { wasm, ref } = pair(flavor);
        const g = geometryOf(c);
        const v = inputsOf(c, 100 * index);
        for (const row of KERNELS) {
          expectClose(
            run(wasm, row, c, row.inputs(v)), run(ref, row, c, row.inputs(v)),
            `${flavor} ${row.name} ${describeCase(c)}`, tolerance(row.terms(c, g)),
          );
        }
      });
    });

    it('does not grow the heap over repeated calls', () => {
      const { wasm } = pair(flavor);
      const c = CASES[8];
      const v = inputsOf(c, 7);
      for (const row of KERNELS) run(wasm, row, c, row.inputs(v)); // reach the working size
      const bytes = wasm.heap.byteLength;
      const inUse = wasm.heap.bytesInUse;
      for (let i = 0; i < 10; i++) {
        for (const row of KERNELS) run(wasm, row, c, row.inputs(v));
      }
      expect(wasm.heap.byteLength).toBe(bytes);
      expect(wasm.heap.bytesInUse).toBe(inUse);
    });
  });
}

describe('conv reference backward kernels vs finite differences of its forward', () => {
  const ref = createReferenceBackend();
  // Each backward kernel is the gradient of sum(forward(...) * probe) with respect to one input
  // of the forward kernel, the probe being the backward kernel's dy.
  const CHECKS: { forward: KernelName; backward: KernelName; wrt: 'x' | 'w' }[] = [
    { forward: 'f32_conv2d', backward: 'f32_conv2d_backward_data', wrt: 'x' },
    { forward: 'f32_conv2d', backward: 'f32_conv2d_backward_filter', wrt: 'w' },
    { forward: 'f32_depthwise_conv2d', backward: 'f32_depthwise_conv2d_backward_data', wrt: 'x' },
    { forward: 'f32_depthwise_conv2d', backward: 'f32_depthwise_conv2d_backward_filter', wrt: 'w' },
  ];
  // The forward is linear in x and in w, so central differences are exact up to rounding, and a
  // large step keeps the float32 rounding of the outputs small against it.
  const step = { eps: 1e-2, rtol: 1e-3, atol: 1e-3 };

  CASES.forEach((c, index) => {
    if (!c.gradient) return;
    const linear: ConvCase = { ...c, bias: false, act: ACT_LINEAR };
    it(describeCase(linear), () => {
      const v = inputsOf(linear, 100 * index);
      for (const { forward, backward, wrt } of CHECKS) {
        const dense = forward === 'f32_conv2d';
        const w = dense ? v.w : v.dw;
        const probe = dense ? v.dy : v.ddy;
        const at = wrt === 'x' ? v.x : w;
        const f = (point: Float64Array): number => {
          const p = Float32Array.from(point);
          const args = wrt === 'x' ? [p, w, null] : [v.x, p, null];
          const out = run(ref, kernel(forward), linear, args);
          let sum = 0;
          for (let i = 0; i < out.length; i++) sum += out[i] * probe[i];
          return sum;
        };
        const grad = run(ref, kernel(backward), linear, wrt === 'x' ? [probe, w] : [v.x, probe]);
        expectGradientClose(
          f, Float64Array.from(at), grad, `${backward} ${describeCase(linear)}`, step,
        );
      }
    });
  });
});
