// One matmul that every bundle test computes, wherever the bundle runs, and its expected value
// computed here in plain JavaScript (float64), independent of kerasm.
//
// The sizes are awkward on purpose (odd primes around the SIMD width and tile sizes), so the
// kernels' leftover loops run too. Inputs are multiples of 1/64 in [-1, 1]: exact in float32,
// so the bundle sees exactly the numbers the expected value was computed from.

import { expectClose } from '../helpers/kernels.js';

export const M = 37;
export const K = 53;
export const N = 29;

function matrix(rows: number, cols: number, seed: number): number[] {
  const values: number[] = [];
  let state = seed;
  for (let i = 0; i < rows * cols; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0; // see: ANSI C rand() LCG
    values.push(((state >>> 16) % 129) / 64 - 1);
  }
  return values;
}

export const A = matrix(M, K, 1);
export const B = matrix(K, N, 2);

/** A[M,K] * B[K,N] accumulated in float64. */
export const EXPECTED: number[] = (() => {
  const out: number[] = [];
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += A[i * K + k] * B[k * N + j];
      out.push(acc);
    }
  }
  return out;
})();

/** What a worker (or the page) is asked to compute; see matmul.worker.mjs. */
export function request(bundle: string) {
  return { bundle, a: A, aShape: [M, K], b: B, bShape: [K, N] };
}

export interface MatmulReply {
  flavor?: string;
  shape?: number[];
  values?: number[];
  resolved?: string;
  error?: string;
}

/**
 * Checks a reply against EXPECTED. float32 accumulation over K = 53 products of magnitude <= 1
 * drifts by about 1e-6; an indexing or leftover-loop bug is off by far more than 1e-4.
 */
export function expectProduct(reply: MatmulReply, where: string): void {
  if (reply.error) throw new Error(`${where}: the bundle reported an error:\n${reply.error}`);
  if (JSON.stringify(reply.shape) !== JSON.stringify([M, N])) {
    throw new Error(`${where}: expected shape [${M}, ${N}], got ${JSON.stringify(reply.shape)}`);
  }
  expectClose(reply.values ?? [], EXPECTED, `${where}: matmul [${M},${K}] x [${K},${N}]`, {
    rtol: 1e-5,
    atol: 1e-4,
  });
}
