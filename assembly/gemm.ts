// GEMM: C[M,N] = act(alpha * op(A) * op(B) + beta * C + bias[N]), row-major.
//
// The loop structure is GotoBLAS/BLIS: C is cut into NC-wide column blocks, K into KC-deep
// slices, and M into MC-tall row blocks. For each (NC, KC) block, op(B) is packed once into
// 8-column panels; for each MC block inside it, op(A) is packed into 4-row panels; then a 4x8
// register-tiled microkernel runs over every (4-row panel, 8-column panel) pair. Packing is
// where transA / transB disappear: the microkernel only ever sees one layout.
// see: K. Goto, R. van de Geijn, "Anatomy of high-performance matrix multiplication" (2008);
//      F. Van Zee, R. van de Geijn, "BLIS: a framework for rapidly instantiating BLAS" (2015);
//      XNNPACK src/f32-gemm/gen/f32-gemm-4x8-wasmsimd-loadsplat.c for the register tile.
//
// Workspace `work`, (KC * NC + MC * KC + MR * NR) floats (gemmWorkspaceBytes() computes it from
// the same constants):
//
//   [ packed B: KC x NC floats ][ packed A: MC x KC floats ][ edge tile: MR x NR floats ]
//
// Packed B, one panel per 8 columns j0..j0+7 of the block, kc rows each (k-major):
//   panel p: b[k][j0..j0+7] for k = 0..kc-1, columns past N are zeros
// Packed A, one panel per 4 rows i0..i0+3 of the block:
//   panel p: a[i0..i0+3][k] for k = 0..kc-1, stored k-major, rows past M are zeros
// Zero padding lets the microkernel always run a full 4x8 tile; tiles that hang over the M or
// N edge are computed into the edge tile and copied out element by element.
// Packing is cheap next to the microkernel: timed inside square products, it takes 2-4% of the
// time for N = 512 and 1024, and at N = 256 the whole product runs 6-10% slower than its
// microkernel loops alone.
//
// With fewer than 4 rows (M < MR; batch-1 inference is M == 1), 3/4 of each tile would be
// padding and packing B would copy all of it for a single use, so gemmRows reads B in place:
// a 1x32 tile along B's rows, or, with transB, 4 dot products along B's rows at once.

import { GEMM_KC, GEMM_MC, GEMM_MR, GEMM_NC, GEMM_NR } from '../src/backend/blocking';
import { ACT_LINEAR } from '../src/backend/opcodes';
import { activate, activate4 } from './activation';
import { at, vbroadcast, vload, vmadd, vsplat, vstore } from './simd';

// Tile and block sizes (MR, NR, KC, MC, NC) live in src/backend/blocking.ts, where the front
// end reads them too.
const MR = GEMM_MR;
const NR = GEMM_NR;
const KC = GEMM_KC;
const MC = GEMM_MC;
const NC = GEMM_NC;

/** C = act(alpha * op(A) * op(B) + beta * C + bias); the contract is in src/backend/kernels.ts. */
export function f32_gemm(
  transA: i32, transB: i32, M: i32, N: i32, K: i32,
  alpha: f32, a: usize, lda: i32, b: usize, ldb: i32,
  beta: f32, c: usize, ldc: i32,
  bias: usize, act: i32, actAlpha: f32, work: usize,
): void {
  if (M <= 0 || N <= 0) return;
  // gemmRows gathers a strided row of op(A) into `work`, which holds KC * NC floats or more.
  if (M < MR && (!transA || K <= KC * NC)) {
    gemmRows(
      transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, bias, act, actAlpha, work,
    );
  } else {
    gemmPacked(
      transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, bias, act, actAlpha, work,
    );
  }
}

/** The general case: packed panels and the 4x8 microkernel (see the top of the file). */
function gemmPacked(
  transA: i32, transB: i32, M: i32, N: i32, K: i32,
  alpha: f32, a: usize, lda: i32, b: usize, ldb: i32,
  beta: f32, c: usize, ldc: i32,
  bias: usize, act: i32, actAlpha: f32, work: usize,
): void {
  const packedB = work;
  const packedA = work + (<usize>(KC * NC) << 2);
  const edge = packedA + (<usize>(MC * KC) << 2);

  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    // K == 0 still needs one pass, to apply beta, bias and act.
    for (let pc = 0; pc < K || pc == 0; pc += KC) {
      const kc = min(KC, K - pc);
      const first = pc == 0;
      const last = pc + kc >= K;
      // The first slice scales the old C by beta; later ones add to what earlier ones stored.
      const sliceBeta: f32 = first ? beta : 1;
      const sliceBias: usize = last ? bias : 0;
      const sliceAct: i32 = last ? act : ACT_LINEAR;
      packB(transB, b, ldb, pc, kc, jc, nc, packedB);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        packA(transA, a, lda, ic, mc, pc, kc, packedA);
        macroKernel(
          mc, nc, kc, packedA, packedB, edge, c + ((<usize>ic * ldc + jc) << 2), ldc,
          alpha, sliceBeta, sliceBias ? at(sliceBias, jc) : 0, sliceAct, actAlpha,
        );
      }
    }
  }
}

/**
 * Every (4-row A panel, 8-column B panel) pair of one packed block: C[mc, nc] at c, with the
 * bias of its first column at bias (or 0). Its own function, so that the outer loops' values
 * do not compete with the microkernel's for registers.
 */
function macroKernel(
  mc: i32, nc: i32, kc: i32, packedA: usize, packedB: usize, edge: usize, c: usize, ldc: i32,
  alpha: f32, beta: f32, bias: usize, act: i32, actAlpha: f32,
): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const pb = packedB + (<usize>(jr * kc) << 2);
    const biasJ = bias ? at(bias, jr) : 0;
    for (let ir = 0; ir < mc; ir += MR) {
      const mr = min(MR, mc - ir);
      const pa = packedA + (<usize>(ir * kc) << 2);
      const cij = c + ((<usize>ir * ldc + jr) << 2);
      // One call site, so that the microkernel is inlined once: a tile that hangs over an
      // edge goes to the edge tile as plain sums, and storeEdge finishes it.
      const full = mr == MR && nr == NR;
      f32_gemm_4x8(
        kc, pa, pb, full ? cij : edge, full ? ldc : NR, full ? alpha : 1,
        full ? beta : 0, full ? biasJ : 0, full ? act : ACT_LINEAR, actAlpha,
      );
      if (!full) storeEdge(edge, mr, nr, cij, ldc, alpha, beta, biasJ, act, actAlpha);
    }
  }
}

/**
 * M < MR: each row of C is a vector-matrix product, computed straight from B (see the top of
 * the file). A strided row of op(A) (transA) is first gathered into `work`.
 */
function gemmRows(
  transA: i32, transB: i32, M: i32, N: i32, K: i32,
  alpha: f32, a: usize, lda: i32, b: usize, ldb: i32,
  beta: f32, c: usize, ldc: i32,
  bias: usize, act: i32, actAlpha: f32, work: usize,
): void {
  for (let i = 0; i < M; i++) {
    let arow = a + (<usize>(i * lda) << 2);
    if (transA) {
      for (let k = 0; k < K; k++) store<f32>(at(work, k), load<f32>(at(a, k * lda + i)));
      arow = work;
    }
    const crow = c + (<usize>(i * ldc) << 2);
    if (transB) {
      f32_gemm_1x4_dot(N, K, arow, b, ldb, crow, alpha, beta, bias, act, actAlpha);
    } else {
      f32_gemm_1x32(N, K, arow, b, ldb, crow, alpha, beta, bias, act, actAlpha);
    }
  }
}

/**
 * One row of C from a row of op(A) (K floats at arow) and B[K,N] read in place: 32 columns at
 * a time in 8 accumulators (vaccCCCC holds columns CCCC of the block), then 4 at a time, then
 * one at a time. Each k broadcasts one a value against 8 vectors of B's row k.
 */
function f32_gemm_1x32(
  N: i32, K: i32, arow: usize, b: usize, ldb: i32, c: usize,
  alpha: f32, beta: f32, bias: usize, act: i32, actAlpha: f32,
): void {
  const ldbBytes = <usize>ldb << 2;
  let j = 0;
  for (; j + 32 <= N; j += 32) {
    let vacc0123 = f32x4.splat(0);
    let vacc4567 = f32x4.splat(0);
    let vacc89AB = f32x4.splat(0);
    let vaccCDEF = f32x4.splat(0);
    let vaccGHIJ = f32x4.splat(0);
    let vaccKLMN = f32x4.splat(0);
    let vaccOPQR = f32x4.splat(0);
    let vaccSTUV = f32x4.splat(0);
    let pb = at(b, j);
    for (let k = 0; k < K; k++) {
      const va = vbroadcast(at(arow, k));
      vacc0123 = vmadd(va, vload(pb), vacc0123);
      vacc4567 = vmadd(va, vload(pb + 16), vacc4567);
      vacc89AB = vmadd(va, vload(pb + 32), vacc89AB);
      vaccCDEF = vmadd(va, vload(pb + 48), vaccCDEF);
      vaccGHIJ = vmadd(va, vload(pb + 64), vaccGHIJ);
      vaccKLMN = vmadd(va, vload(pb + 80), vaccKLMN);
      vaccOPQR = vmadd(va, vload(pb + 96), vaccOPQR);
      vaccSTUV = vmadd(va, vload(pb + 112), vaccSTUV);
      pb += ldbBytes;
    }
    const cj = at(c, j);
    epilogue4(cj, vacc0123, alpha, beta, biasVector(bias, j), act, actAlpha);
    epilogue4(cj + 16, vacc4567, alpha, beta, biasVector(bias, j + 4), act, actAlpha);
    epilogue4(cj + 32, vacc89AB, alpha, beta, biasVector(bias, j + 8), act, actAlpha);
    epilogue4(cj + 48, vaccCDEF, alpha, beta, biasVector(bias, j + 12), act, actAlpha);
    epilogue4(cj + 64, vaccGHIJ, alpha, beta, biasVector(bias, j + 16), act, actAlpha);
    epilogue4(cj + 80, vaccKLMN, alpha, beta, biasVector(bias, j + 20), act, actAlpha);
    epilogue4(cj + 96, vaccOPQR, alpha, beta, biasVector(bias, j + 24), act, actAlpha);
    epilogue4(cj + 112, vaccSTUV, alpha, beta, biasVector(bias, j + 28), act, actAlpha);
  }
  for (; j + 4 <= N; j += 4) {
    let vacc = f32x4.splat(0);
    let pb = at(b, j);
    for (let k = 0; k < K; k++) {
      vacc = vmadd(vbroadcast(at(arow, k)), vload(pb), vacc);
      pb += ldbBytes;
    }
    epilogue4(at(c, j), vacc, alpha, beta, biasVector(bias, j), act, actAlpha);
  }
  // Leftover columns, one at a time.
  for (; j < N; j++) {
    let acc: f32 = 0;
    let pb = at(b, j);
    for (let k = 0; k < K; k++) {
      acc += load<f32>(at(arow, k)) * load<f32>(pb);
      pb += ldbBytes;
    }
    epilogue1(at(c, j), acc, alpha, beta, biasScalar(bias, j), act, actAlpha);
  }
}

/**
 * One row of C from a row of op(A) (K floats at arow) and B[N,K] (transB): C[j] is the dot
 * product of arow with row j of B. Four rows of B at a time, 4 k per step in 4 accumulators
 * (vaccQ holds partial sums for column j + Q), reduced to one vector of 4 results at the end.
 */
function f32_gemm_1x4_dot(
  N: i32, K: i32, arow: usize, b: usize, ldb: i32, c: usize,
  alpha: f32, beta: f32, bias: usize, act: i32, actAlpha: f32,
): void {
  const ldbBytes = <usize>ldb << 2;
  let j = 0;
  for (; j + 4 <= N; j += 4) {
    const pb0 = b + (<usize>(j * ldb) << 2);
    const pb1 = pb0 + ldbBytes;
    const pb2 = pb1 + ldbBytes;
    const pb3 = pb2 + ldbBytes;
    let vacc0 = f32x4.splat(0);
    let vacc1 = f32x4.splat(0);
    let vacc2 = f32x4.splat(0);
    let vacc3 = f32x4.splat(0);
    let k = 0;
    for (; k + 4 <= K; k += 4) {
      const va = vload(at(arow, k));
      vacc0 = vmadd(va, vload(at(pb0, k)), vacc0);
      vacc1 = vmadd(va, vload(at(pb1, k)), vacc1);
      vacc2 = vmadd(va, vload(at(pb2, k)), vacc2);
      vacc3 = vmadd(va, vload(at(pb3, k)), vacc3);
    }
    // Lane q of vsum = the sum of vacc q's lanes.
    const v01 = f32x4.add(
      i32x4.shuffle(vacc0, vacc1, 0, 4, 1, 5), i32x4.shuffle(vacc0, vacc1, 2, 6, 3, 7),
    );
    const v23 = f32x4.add(
      i32x4.shuffle(vacc2, vacc3, 0, 4, 1, 5), i32x4.shuffle(vacc2, vacc3, 2, 6, 3, 7),
    );
    let vsum = f32x4.add(
      i32x4.shuffle(v01, v23, 0, 1, 4, 5), i32x4.shuffle(v01, v23, 2, 3, 6, 7),
    );
    // Leftover k, one at a time.
    for (; k < K; k++) {
      const vak = vbroadcast(at(arow, k));
      let vbk = v128.load32_zero(at(pb0, k));
      vbk = f32x4.replace_lane(vbk, 1, load<f32>(at(pb1, k)));
      vbk = f32x4.replace_lane(vbk, 2, load<f32>(at(pb2, k)));
      vbk = f32x4.replace_lane(vbk, 3, load<f32>(at(pb3, k)));
      vsum = vmadd(vak, vbk, vsum);
    }
    epilogue4(at(c, j), vsum, alpha, beta, biasVector(bias, j), act, actAlpha);
  }
  // Leftover columns, one at a time.
  for (; j < N; j++) {
    const pb = b + (<usize>(j * ldb) << 2);
    let acc: f32 = 0;
    for (let k = 0; k < K; k++) acc += load<f32>(at(arow, k)) * load<f32>(at(pb, k));
    epilogue1(at(c, j), acc, alpha, beta, biasScalar(bias, j), act, actAlpha);
  }
}

/** bias[j..j+3], or zeros when there is no bias. */
// @ts-ignore: decorator
@inline function biasVector(bias: usize, j: i32): v128 {
  return bias ? vload(at(bias, j)) : f32x4.splat(0);
}

/** bias[j], or 0 when there is no bias. */
// @ts-ignore: decorator
@inline function biasScalar(bias: usize, j: i32): f32 {
  return bias ? load<f32>(at(bias, j)) : 0;
}

/**
 * The microkernel: one 4x8 tile of C from a packed 4 x kc A panel and a packed kc x 8 B panel,
 * in 8 f32x4 accumulators (vaccRxCCCC holds row R, columns CCCC), then
 * C = act(alpha * acc + beta * C + bias). beta == 0 does not read C; bias may be 0.
 */
// @ts-ignore: decorator
@inline function f32_gemm_4x8(
  kc: i32, pa: usize, pb: usize, c: usize, ldc: i32,
  alpha: f32, beta: f32, bias: usize, act: i32, actAlpha: f32,
): void {
  let vacc0x0123 = f32x4.splat(0);
  let vacc0x4567 = f32x4.splat(0);
  let vacc1x0123 = f32x4.splat(0);
  let vacc1x4567 = f32x4.splat(0);
  let vacc2x0123 = f32x4.splat(0);
  let vacc2x4567 = f32x4.splat(0);
  let vacc3x0123 = f32x4.splat(0);
  let vacc3x4567 = f32x4.splat(0);
  // Each load names its constant offset from pa or pb (v128.load's immediate), which V8 folds
  // into the x64 address, and the loop ends on a pointer compare: per k, 6 loads, 8 multiply-
  // adds and 3 loop instructions (with vload(pa + 4) and a k counter there were 6 more, and the
  // plain build's GEMM ran 5-17% slower). Unrolling k does not help: Binaryen merges each
  // accumulator's updates into one expression, which loads every unrolled operand first, and V8
  // spills the accumulators.
  const paEnd = pa + (<usize>(kc * MR) << 2);
  while (pa < paEnd) {
    const vb0123 = v128.load(pb);
    const vb4567 = v128.load(pb, 16);
    const va0 = v128.load32_splat(pa);
    const va1 = v128.load32_splat(pa, 4);
    const va2 = v128.load32_splat(pa, 8);
    const va3 = v128.load32_splat(pa, 12);
    vacc0x0123 = vmadd(va0, vb0123, vacc0x0123);
    vacc0x4567 = vmadd(va0, vb4567, vacc0x4567);
    vacc1x0123 = vmadd(va1, vb0123, vacc1x0123);
    vacc1x4567 = vmadd(va1, vb4567, vacc1x4567);
    vacc2x0123 = vmadd(va2, vb0123, vacc2x0123);
    vacc2x4567 = vmadd(va2, vb4567, vacc2x4567);
    vacc3x0123 = vmadd(va3, vb0123, vacc3x0123);
    vacc3x4567 = vmadd(va3, vb4567, vacc3x4567);
    pa += MR << 2;
    pb += NR << 2;
  }

  const vbias0123 = biasVector(bias, 0);
  const vbias4567 = biasVector(bias, 4);
  const c0 = c;
  const c1 = c0 + (<usize>ldc << 2);
  const c2 = c1 + (<usize>ldc << 2);
  const c3 = c2 + (<usize>ldc << 2);
  epilogue4(c0, vacc0x0123, alpha, beta, vbias0123, act, actAlpha);
  epilogue4(c0 + 16, vacc0x4567, alpha, beta, vbias4567, act, actAlpha);
  epilogue4(c1, vacc1x0123, alpha, beta, vbias0123, act, actAlpha);
  epilogue4(c1 + 16, vacc1x4567, alpha, beta, vbias4567, act, actAlpha);
  epilogue4(c2, vacc2x0123, alpha, beta, vbias0123, act, actAlpha);
  epilogue4(c2 + 16, vacc2x4567, alpha, beta, vbias4567, act, actAlpha);
  epilogue4(c3, vacc3x0123, alpha, beta, vbias0123, act, actAlpha);
  epilogue4(c3 + 16, vacc3x4567, alpha, beta, vbias4567, act, actAlpha);
}

/** The epilogue of a tile that hangs over the M or N edge: tile holds acc, NR floats per row. */
function storeEdge(
  tile: usize, mr: i32, nr: i32, c: usize, ldc: i32,
  alpha: f32, beta: f32, bias: usize, act: i32, actAlpha: f32,
): void {
  for (let r = 0; r < mr; r++) {
    const row = c + (<usize>(r * ldc) << 2);
    for (let j = 0; j < nr; j++) {
      const acc = load<f32>(at(tile, r * NR + j));
      epilogue1(at(row, j), acc, alpha, beta, biasScalar(bias, j), act, actAlpha);
    }
  }
}

/**
 * The epilogue of every path, for 4 consecutive elements of C at c:
 * c = act(alpha * acc + beta * c + bias). beta == 0 does not read c (it may hold NaN).
 */
// @ts-ignore: decorator
@inline function epilogue4(
  c: usize, vacc: v128, alpha: f32, beta: f32, vbias: v128, act: i32, actAlpha: f32,
): void {
  let vy = f32x4.mul(vacc, vsplat(alpha));
  if (beta != 0) vy = vmadd(vload(c), vsplat(beta), vy);
  vstore(c, activate4(act, f32x4.add(vy, vbias), actAlpha));
}

/** epilogue4 for one element: the same operations in the same order (relaxed madd may fuse). */
// @ts-ignore: decorator
@inline function epilogue1(
  c: usize, acc: f32, alpha: f32, beta: f32, bias: f32, act: i32, actAlpha: f32,
): void {
  let y = acc * alpha;
  if (beta != 0) y = load<f32>(c) * beta + y;
  store<f32>(c, activate(act, y + bias, actAlpha));
}

/**
 * Packs rows pc..pc+kc-1, columns jc..jc+nc-1 of op(B) into 8-column panels (see the layout at
 * the top). op(B) is B[K,N] with row stride ldb, or with transB B^T for B[N,K].
 */
function packB(
  transB: i32, b: usize, ldb: i32, pc: i32, kc: i32, jc: i32, nc: i32, dst: usize,
): void {
  const ldbBytes = <usize>ldb << 2;
  const panelBytes = <usize>(kc * NR) << 2;
  let jr = 0;
  if (!transB) {
    // Row k of a panel is 8 consecutive floats of row pc + k of B. Two panels at a time: the
    // 16 floats read per row are a whole cache line (when aligned), fetched once.
    for (; jr + 2 * NR <= nc; jr += 2 * NR) {
      let src = b + ((<usize>pc * ldb + jc + jr) << 2);
      let d0 = dst + <usize>(jr >> 3) * panelBytes;
      let d1 = d0 + panelBytes;
      for (let k = 0; k < kc; k++) {
        vstore(d0, vload(src));
        vstore(d0 + 16, vload(src + 16));
        vstore(d1, vload(src + 32));
        vstore(d1 + 16, vload(src + 48));
        src += ldbBytes;
        d0 += NR << 2;
        d1 += NR << 2;
      }
    }
    for (; jr + NR <= nc; jr += NR) {
      let src = b + ((<usize>pc * ldb + jc + jr) << 2);
      let d = dst + <usize>(jr >> 3) * panelBytes;
      for (let k = 0; k < kc; k++) {
        vstore(d, vload(src));
        vstore(d + 16, vload(src + 16));
        src += ldbBytes;
        d += NR << 2;
      }
    }
  } else {
    // Column j of op(B) is row j of B: transpose 4x4 blocks of B's rows j..j+7.
    for (; jr + NR <= nc; jr += NR) {
      const src = b + ((<usize>(jc + jr) * ldb + pc) << 2);
      let d = dst + <usize>(jr >> 3) * panelBytes;
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        transpose4x4(at(src, k), ldbBytes, d, NR << 2);
        transpose4x4(at(src, k) + 4 * ldbBytes, ldbBytes, d + 16, NR << 2);
        d += 4 * NR << 2;
      }
      for (; k < kc; k++) {
        for (let q = 0; q < NR; q++) {
          store<f32>(at(d, q), load<f32>(at(src + <usize>q * ldbBytes, k)));
        }
        d += NR << 2;
      }
    }
  }
  // The last, partial panel: copy nc - jr columns, zero the rest.
  if (jr < nc) {
    const nr = nc - jr;
    const j = jc + jr;
    let d = dst + <usize>(jr >> 3) * panelBytes;
    for (let k = 0; k < kc; k++) {
      for (let q = 0; q < nr; q++) {
        const p = transB ? (<usize>(j + q) * ldb + pc + k) : (<usize>(pc + k) * ldb + j + q);
        store<f32>(at(d, q), load<f32>(b + (p << 2)));
      }
      for (let q = nr; q < NR; q++) store<f32>(at(d, q), 0);
      d += NR << 2;
    }
  }
}

/**
 * Packs rows ic..ic+mc-1, columns pc..pc+kc-1 of op(A) into 4-row panels (see the layout at the
 * top). op(A) is A[M,K] with row stride lda, or with transA A^T for A[K,M].
 */
function packA(
  transA: i32, a: usize, lda: i32, ic: i32, mc: i32, pc: i32, kc: i32, dst: usize,
): void {
  const ldaBytes = <usize>lda << 2;
  const panelBytes = <usize>(kc * MR) << 2;
  let ir = 0;
  if (transA) {
    // Column k of a panel is 4 consecutive floats of row pc + k of A. Four panels at a time:
    // the 16 floats read per row are a whole cache line (when aligned), fetched once.
    for (; ir + 4 * MR <= mc; ir += 4 * MR) {
      let src = a + ((<usize>pc * lda + ic + ir) << 2);
      let d = dst + <usize>(ir >> 2) * panelBytes;
      for (let k = 0; k < kc; k++) {
        vstore(d, vload(src));
        vstore(d + panelBytes, vload(src + 16));
        vstore(d + 2 * panelBytes, vload(src + 32));
        vstore(d + 3 * panelBytes, vload(src + 48));
        src += ldaBytes;
        d += MR << 2;
      }
    }
    for (; ir + MR <= mc; ir += MR) {
      let src = a + ((<usize>pc * lda + ic + ir) << 2);
      let d = dst + <usize>(ir >> 2) * panelBytes;
      for (let k = 0; k < kc; k++) {
        vstore(d, vload(src));
        src += ldaBytes;
        d += MR << 2;
      }
    }
  } else {
    // Rows i..i+3 of A are contiguous in k: transpose 4x4 blocks to make the panel k-major.
    for (; ir + MR <= mc; ir += MR) {
      const src = a + ((<usize>(ic + ir) * lda + pc) << 2);
      let d = dst + <usize>(ir >> 2) * panelBytes;
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        transpose4x4(at(src, k), ldaBytes, d, MR << 2);
        d += 4 * MR << 2;
      }
      for (; k < kc; k++) {
        for (let q = 0; q < MR; q++) {
          store<f32>(at(d, q), load<f32>(at(src + <usize>q * ldaBytes, k)));
        }
        d += MR << 2;
      }
    }
  }
  // The last, partial panel: copy mc - ir rows, zero the rest.
  if (ir < mc) {
    const mr = mc - ir;
    const i = ic + ir;
    let d = dst + <usize>(ir >> 2) * panelBytes;
    for (let k = 0; k < kc; k++) {
      for (let q = 0; q < mr; q++) {
        const p = transA ? (<usize>(pc + k) * lda + i + q) : (<usize>(i + q) * lda + pc + k);
        store<f32>(at(d, q), load<f32>(a + (p << 2)));
      }
      for (let q = mr; q < MR; q++) store<f32>(at(d, q), 0);
      d += MR << 2;
    }
  }
}

/**
 * Reads a 4x4 block (4 rows of 4 floats, rows srcStride bytes apart) and writes its transpose
 * (rows dstStride bytes apart).
 *
 *   src row q: x[q][0] x[q][1] x[q][2] x[q][3]   ->   dst row p: x[0][p] x[1][p] x[2][p] x[3][p]
 */
// @ts-ignore: decorator
@inline function transpose4x4(src: usize, srcStride: usize, dst: usize, dstStride: usize): void {
  const vrow0 = vload(src);
  const vrow1 = vload(src + srcStride);
  const vrow2 = vload(src + 2 * srcStride);
  const vrow3 = vload(src + 3 * srcStride);
  // Interleave pairs of rows, then pairs of pairs (unpcklps / unpckhps, movlhps / movhlps).
  const v01lo = i32x4.shuffle(vrow0, vrow1, 0, 4, 1, 5);
  const v23lo = i32x4.shuffle(vrow2, vrow3, 0, 4, 1, 5);
  const v01hi = i32x4.shuffle(vrow0, vrow1, 2, 6, 3, 7);
  const v23hi = i32x4.shuffle(vrow2, vrow3, 2, 6, 3, 7);
  vstore(dst, i32x4.shuffle(v01lo, v23lo, 0, 1, 4, 5));
  vstore(dst + dstStride, i32x4.shuffle(v01lo, v23lo, 2, 3, 6, 7));
  vstore(dst + 2 * dstStride, i32x4.shuffle(v01hi, v23hi, 0, 1, 4, 5));
  vstore(dst + 3 * dstStride, i32x4.shuffle(v01hi, v23hi, 2, 3, 6, 7));
}
