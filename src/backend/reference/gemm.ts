// Reference GEMM: the definition of f32_gemm, written as the formula reads.

import type { Heap } from '../heap.js';
import type { Kernels } from '../kernels.js';
import { activate } from './activation.js';

/**
 * The GEMM family over `heap`: f32_gemm as the contract in kernels.ts states it, one float64
 * dot product per element of C. It needs no workspace.
 */
export function gemmReference(heap: Heap): Pick<Kernels, 'f32_gemm'> {
  return {
    f32_gemm(
      transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, bias, act, actAlpha, work,
    ) {
      void work; // the reference needs no packing space
      // Numbers cross the wasm boundary as f32; round them the same way here.
      const alpha32 = Math.fround(alpha);
      const beta32 = Math.fround(beta);
      const actAlpha32 = Math.fround(actAlpha);
      const f32 = heap.f32;
      const a0 = a >> 2;
      const b0 = b >> 2;
      const c0 = c >> 2;
      // op(A)[i, k] and op(B)[k, j] as flat indices into the heap.
      const aAt = transA ? (i: number, k: number) => a0 + k * lda + i
        : (i: number, k: number) => a0 + i * lda + k;
      const bAt = transB ? (k: number, j: number) => b0 + j * ldb + k
        : (k: number, j: number) => b0 + k * ldb + j;
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let acc = 0;
          for (let k = 0; k < K; k++) acc += f32[aAt(i, k)] * f32[bAt(k, j)];
          let y = alpha32 * acc;
          // beta == 0 means "C is output only": its old contents, NaN included, are ignored.
          if (beta32 !== 0) y += beta32 * f32[c0 + i * ldc + j];
          if (bias !== 0) y += f32[(bias >> 2) + j];
          f32[c0 + i * ldc + j] = activate(act, y, actAlpha32);
        }
      }
    },
  };
}
