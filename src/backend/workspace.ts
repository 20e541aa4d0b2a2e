// Scratch space that kernels need beyond their inputs and outputs. The caller allocates
// `work` with at least this many bytes; a kernel never touches more of it.

import type { Window2D } from './geometry.js';

/** Bytes of packing space f32_gemm needs (independent of the problem size). */
export function gemmWorkspaceBytes(): number {
  return 0;
}

/** Bytes of scratch f32_conv2d and its backward kernels need for this geometry. */
export function conv2dWorkspaceBytes(g: Window2D, CO: number): number {
  void g;
  void CO;
  return 0;
}
