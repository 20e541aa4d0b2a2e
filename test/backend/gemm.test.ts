// f32_gemm on the wasm backends (both SIMD flavors) against the TypeScript reference.
//
// One table of shapes drives everything: each shape runs with all four transpose combinations,
// and the remaining options (alpha, beta, bias, activation, leading-dimension padding) rotate
// through the rows so that every option meets edge tiles, several K slices and sub-matrix views.
// C sits between guard elements, and its padding columns (ldc > N) are guards too: the kernel
// must write exactly the M x N view.

import { describe, expect, test } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import { GEMM_KC, GEMM_MC, GEMM_NC } from '../../src/backend/blocking.js';
import type { Ptr } from '../../src/backend/kernels.js';
import {
  ACT_ELU, ACT_GELU, ACT_LEAKY_RELU, ACT_LINEAR, ACT_RELU, ACT_SIGMOID, ACT_SWISH, ACT_TANH,
} from '../../src/backend/opcodes.js';
import { gemmWorkspaceBytes } from '../../src/backend/workspace.js';
import {
  allocCanary, download, expectClose, flavorsUnderTest, pair, upload, uniform,
} from '../helpers/kernels.js';

const ACTIVATIONS = [
  ACT_LINEAR, ACT_RELU, ACT_LEAKY_RELU, ACT_ELU, ACT_SIGMOID, ACT_TANH, ACT_GELU, ACT_SWISH,
];
const ACT_NAMES = ['linear', 'relu', 'leaky_relu', 'elu', 'sigmoid', 'tanh', 'gelu', 'swish'];

/**
 * [M, N, K]: 1, the 4x8 register tile +-1 on each axis, odd primes, and the blocking edges of
 * assembly/gemm.ts, taken from the block sizes themselves (K slices of GEMM_KC, A blocks of
 * GEMM_MC rows, B blocks of GEMM_NC columns); M < 4 takes the unpacked path.
 */
const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 1, 7], [1, 8, 1], [4, 1, 1], [1, 17, 33], [1, 257, 64], [33, 1, 31],
  [3, 7, 5], [4, 8, 4], [5, 9, 3], [3, 9, 16], [5, 7, 17], [4, 16, 8], [8, 8, 8],
  [7, 13, 9], [9, 17, 13], [13, 31, 4], [16, 16, 16], [17, 15, 31], [31, 33, 1],
  [33, 31, 64], [64, 64, 64], [9, 64, 127], [127, 9, 5], [64, 127, 33], [13, 257, 7],
  [257, 13, 9], [5, 33, 257], [17, 8, 300], [31, 64, GEMM_KC + 1], [127, 127, 127],
  [257, 129, 300], [129, 257, 17], [3, 1030, 5], [2, 70, 299], [260, 4, 3], [16, 3, 0],
  [7, 9, 0], [2, 40, 0], [9, GEMM_NC + 18, 7], [GEMM_MC + 1, 33, 2 * GEMM_KC + 6],
];

interface GemmCase {
  M: number;
  N: number;
  K: number;
  transA: number;
  transB: number;
  alpha: number;
  /** 0 fills C with NaN garbage, which the kernel must ignore. */
  beta: number;
  bias: boolean;
  act: number;
  actAlpha: number;
  /** Extra elements per row of A, B and C (a view into a wider matrix). */
  pad: number;
  /** Scale of the A and B entries, to move the activation inputs across their range. */
  scale: number;
}

const ALPHAS = [1, 0.75, -1.5];
const BETAS = [0, 0.5, 0, -1.25, 1];

function tableCases(): GemmCase[] {
  const cases: GemmCase[] = [];
  let row = 0;
  for (const [M, N, K] of SHAPES) {
    for (let t = 0; t < 4; t++, row++) {
      cases.push({
        M, N, K, transA: t & 1, transB: t >> 1,
        alpha: ALPHAS[row % ALPHAS.length],
        beta: BETAS[row % BETAS.length],
        bias: row % 2 === 1,
        act: ACTIVATIONS[row % ACTIVATIONS.length],
        actAlpha: 0.2,
        pad: row % 3 === 0 ? 0 : 3,
        scale: 1,
      });
    }
  }
  return cases;
}

/** Every activation with and without bias, on a shape with edge tiles on both axes. */
function activationCases(): GemmCase[] {
  return ACTIVATIONS.flatMap((act, i) => [false, true].map((bias) => ({
    M: 9, N: 17, K: 33, transA: i & 1, transB: bias ? 1 : 0, alpha: 1, beta: bias ? 0.5 : 0,
    bias, act, actAlpha: act === ACT_ELU ? 1.3 : 0.1, pad: 1, scale: 1.2,
  })));
}

function describeCase(c: GemmCase): string {
  return `M=${c.M} N=${c.N} K=${c.K} transA=${c.transA} transB=${c.transB} alpha=${c.alpha} ` +
    `beta=${c.beta} bias=${c.bias} act=${ACT_NAMES[c.act]} pad=${c.pad}`;
}

/** The inputs of one case, as host arrays (identical for every backend). */
interface Inputs {
  a: Float32Array;
  b: Float32Array;
  /** The whole C region: guards, the M x ldc rows (padding columns included), guards. */
  c: Float32Array;
  bias: Float32Array;
  lda: number;
  ldb: number;
  ldc: number;
}

const GUARD = 16;

function makeInputs(c: GemmCase, seed: number): Inputs {
  const lda = (c.transA ? c.M : c.K) + c.pad;
  const ldb = (c.transB ? c.K : c.N) + c.pad;
  const ldc = c.N + c.pad;
  const a = uniform((c.transA ? c.K : c.M) * lda, seed, -c.scale, c.scale);
  const b = uniform((c.transB ? c.N : c.K) * ldb, seed + 1, -c.scale, c.scale);
  const region = uniform(GUARD + c.M * ldc + GUARD, seed + 2, -2, 2);
  if (c.beta === 0) {
    // Garbage that beta == 0 must not let through, NaN included.
    for (let i = 0; i < c.M; i++) {
      for (let j = 0; j < c.N; j++) region[GUARD + i * ldc + j] = j % 2 ? Number.NaN : 1e30;
    }
  }
  const bias = uniform(c.N, seed + 3, -1, 1);
  return { a, b, c: region, bias, lda, ldb, ldc };
}

interface Outputs {
  region: Float32Array;
  a: Float32Array;
  b: Float32Array;
}

/** Runs one case on `backend`; returns the C region and the inputs as read back afterwards. */
function runCase(backend: Backend, c: GemmCase, inputs: Inputs, work: Ptr): Outputs {
  const a = upload(backend, inputs.a);
  const b = upload(backend, inputs.b);
  const region = upload(backend, inputs.c);
  const bias = c.bias ? upload(backend, inputs.bias) : 0;
  backend.kernels.f32_gemm(
    c.transA, c.transB, c.M, c.N, c.K, c.alpha, a, inputs.lda, b, inputs.ldb,
    c.beta, region + GUARD * 4, inputs.ldc, bias, c.act, c.actAlpha, work,
  );
  const out = {
    region: download(backend, region, inputs.c.length),
    a: download(backend, a, inputs.a.length),
    b: download(backend, b, inputs.b.length),
  };
  for (const ptr of [a, b, region, bias]) backend.heap.free(ptr);
  return out;
}

/** The M x N view of C inside a region. */
function view(region: Float32Array, c: GemmCase, ldc: number): Float32Array {
  const out = new Float32Array(c.M * c.N);
  for (let i = 0; i < c.M; i++) {
    out.set(region.subarray(GUARD + i * ldc, GUARD + i * ldc + c.N), i * c.N);
  }
  return out;
}

/** Every element of the region outside the view must be exactly as it was. */
function expectGuardsUntouched(
  region: Float32Array, before: Float32Array, c: GemmCase, ldc: number, label: string,
): void {
  for (let p = 0; p < region.length; p++) {
    const q = p - GUARD;
    const inView = q >= 0 && q < c.M * ldc && q % ldc < c.N;
    if (!inView && !Object.is(region[p], before[p])) {
      throw new Error(`${label}: element ${p} of the C region (outside the view) changed ` +
        `from ${before[p]} to ${region[p]}`);
    }
  }
}

/**
 * float32 accumulation over K (in any blocking order) against float64. The running sums grow
 * like sqrt(k), so their rounding errors add up to about eps * K * |a| * |b|: the worst error
 * observed over the table is 2e-8 * |alpha| * K * scale^2, and the bound leaves a margin of 6
 * over it, while one lost or doubled term (|a b| is 0.25 on average) still fails. rtol covers
 * the activations' own few-ulp error.
 */
function tolerance(c: GemmCase): { rtol: number; atol: number } {
  const sumScale = Math.abs(c.alpha) * c.scale * c.scale * Math.max(c.K, 1);
  return { rtol: 2e-5, atol: 1e-6 + 1.2e-7 * sumScale };
}

function checkCases(cases: GemmCase[]): void {
  const flavors = flavorsUnderTest();
  const { ref } = pair(flavors[0]);
  const refWork = ref.heap.alloc(0);
  cases.forEach((c, index) => {
    const inputs = makeInputs(c, 1000 + 7 * index);
    const expected = runCase(ref, c, inputs, refWork);
    for (const flavor of flavors) {
      const { wasm } = pair(flavor);
      const label = `f32_gemm [${flavor}] ${describeCase(c)}`;
      const work = wasm.heap.alloc(gemmWorkspaceBytes());
      const actual = runCase(wasm, c, inputs, work);
      wasm.heap.free(work);
      expectClose(
        view(actual.region, c, inputs.ldc), view(expected.region, c, inputs.ldc), label,
        tolerance(c),
      );
      expectGuardsUntouched(actual.region, inputs.c, c, inputs.ldc, label);
      expectClose(actual.a, inputs.a, `${label}: A changed`, { rtol: 0, atol: 0 });
      expectClose(actual.b, inputs.b, `${label}: B changed`, { rtol: 0, atol: 0 });
    }
  });
  ref.heap.free(refWork);
}

/**
 * Inputs for the activation accuracy test: a sweep over [-30, 30], where every activation
 * changes regime, plus the edges of the approximations' branches and the special values.
 */
function activationInputs(): Float32Array {
  const special = [
    0, -0, 1e-30, -1e-30, 1e-8, -1e-8, 0.625, -0.625, 0.6249, -0.6249, 88.3, 88.5, 88.72, 88.8,
    -86.9, -87.1, -87.5, -88.5, -100, 100, -1e30, 1e30, Infinity, -Infinity, Number.NaN,
  ];
  const sweep = Array.from({ length: 1199 }, (_, i) => -30 + (60 * i) / 1198);
  return Float32Array.from([...special, ...sweep]);
}

describe('f32_gemm', () => {
  test(`matches the reference over ${tableCases().length} cases of the shape table`, () => {
    checkCases(tableCases());
  });

  test('matches the reference for every activation, with and without bias', () => {
    checkCases(activationCases());
  });

  test.each(flavorsUnderTest())('[%s] activations are accurate to a few ulp', (flavor) => {
    // With K = 1 and A = 1, C = act(1 * x) exactly, so only the activation's own error is left.
    const { wasm, ref } = pair(flavor);
    const x = activationInputs();
    const M = 5; // a full 4-row tile and an edge row
    const N = x.length;
    for (const act of ACTIVATIONS) {
      const actAlpha = act === ACT_ELU ? 1.3 : 0.1;
      const outputs = [wasm, ref].map((backend) => {
        const a = upload(backend, new Float32Array(M).fill(1));
        const b = upload(backend, x);
        const c = allocCanary(backend, M * N);
        const work = backend.heap.alloc(gemmWorkspaceBytes());
        backend.kernels.f32_gemm(0, 0, M, N, 1, 1, a, 1, b, N, 0, c, N, 0, act, actAlpha, work);
        const out = download(backend, c, M * N);
        for (const ptr of [a, b, c, work]) backend.heap.free(ptr);
        return out;
      });
      // The worst relative error observed is 1.4e-7 (2 ulp), except in gelu's left tail, where
      // the rounding of x^2 inside exp(-x^2 / 2) grows with x^2: up to 1.3e-6 relative where
      // gelu(x) is below 1e-8. rtol is 8 ulp; atol lets that tail through.
      expectClose(outputs[0], outputs[1], `f32_gemm [${flavor}] act=${ACT_NAMES[act]}`, {
        rtol: 5e-7, atol: 5e-10,
      });
    }
  });

  test.each(flavorsUnderTest())('[%s] writes only its view of C and its workspace', (flavor) => {
    const { wasm } = pair(flavor);
    const c: GemmCase = {
      M: 13, N: 21, K: 600, transA: 1, transB: 1, alpha: 1, beta: 0, bias: true,
      act: ACT_GELU, actAlpha: 0, pad: 2, scale: 1,
    };
    const inputs = makeInputs(c, 77);
    // The workspace sits between guards as well: the kernel may use all of it, nothing more.
    const bytes = gemmWorkspaceBytes();
    const block = wasm.heap.alloc(bytes + 2 * GUARD * 4);
    const guards = uniform(GUARD, 5);
    wasm.heap.write(block, guards);
    wasm.heap.write(block + GUARD * 4 + bytes, guards);
    runCase(wasm, c, inputs, block + GUARD * 4);
    expectClose(download(wasm, block, GUARD), guards, 'guard before work', { rtol: 0, atol: 0 });
    expectClose(
      download(wasm, block + GUARD * 4 + bytes, GUARD), guards, 'guard after work',
      { rtol: 0, atol: 0 },
    );
    wasm.heap.free(block);
  });

  test.each(flavorsUnderTest())('[%s] repeated calls do not grow the heap', (flavor) => {
    const { wasm } = pair(flavor);
    const c: GemmCase = {
      M: 65, N: 70, K: 260, transA: 0, transB: 1, alpha: 1, beta: 1, bias: true,
      act: ACT_RELU, actAlpha: 0, pad: 0, scale: 1,
    };
    const inputs = makeInputs(c, 99);
    const work = wasm.heap.alloc(gemmWorkspaceBytes());
    runCase(wasm, c, inputs, work);
    const byteLength = wasm.heap.byteLength;
    const inUse = wasm.heap.bytesInUse;
    for (let i = 0; i < 20; i++) runCase(wasm, c, inputs, work);
    expect(wasm.heap.byteLength).toBe(byteLength);
    expect(wasm.heap.bytesInUse).toBe(inUse);
    wasm.heap.free(work);
  });
});
