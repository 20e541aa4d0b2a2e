// Scratch space that kernels need beyond their inputs and outputs. The caller allocates
// `work` with at least this many bytes; a kernel never touches more of it.

import { GEMM_KC, GEMM_MC, GEMM_MR, GEMM_NC, GEMM_NR } from './blocking.js';
import type { Window2D } from './geometry.js';

/**
 * Bytes of packing space f32_gemm needs (independent of the problem size): packed B panels
 * (KC x NC floats), packed A panels (MC x KC floats) and one register tile for the edges, as
 * drawn in assembly/gemm.ts.
 */
export function gemmWorkspaceBytes(): number {
  return (GEMM_KC * GEMM_NC + GEMM_MC * GEMM_KC + GEMM_MR * GEMM_NR) * 4;
}

// The Winograd paths of assembly/conv.ts: TILE_BLOCK, PLANE_SKEW, the channel thresholds and
// the test in usesWinograd().
const WINOGRAD_TILE_BLOCK = 32;
const WINOGRAD_PLANE_SKEW = 16;
const WINOGRAD_MIN_CHANNELS = 16;
const WINOGRAD_FILTER_MIN_CHANNELS = 8;

/** Whether a conv with this filter, stride, dilation and channel counts runs as Winograd. */
function usesWinograd(
  g: Window2D, stride: [number, number], C: number, CO: number, minChannels: number,
): boolean {
  return g.KH === 3 && g.KW === 3 && stride[0] === 1 && stride[1] === 1 && g.dilationH === 1 &&
    g.dilationW === 1 && C >= minChannels && CO >= 16;
}

/**
 * Bytes of scratch f32_conv2d and its backward kernels need for this geometry: the largest of
 * their layouts, drawn in assembly/conv.ts. It depends on the filter and on one image, never on
 * the batch size N.
 */
export function conv2dWorkspaceBytes(g: Window2D, CO: number): number {
  const K = g.KH * g.KW * g.C;
  if (g.N <= 0 || g.OH <= 0 || g.OW <= 0 || K <= 0 || CO <= 0) return 0;
  const PIXEL_BLOCK = 64; // as in assembly/conv.ts
  /** Floats of a zero-bordered copy of one image, when some tap falls outside it. */
  const paddedImage = (
    H: number, W: number, C: number, OH: number, OW: number, stride: [number, number],
    padTop: number, padLeft: number,
  ): number => {
    const Hp = (OH - 1) * stride[0] + (g.KH - 1) * g.dilationH + 1;
    const Wp = (OW - 1) * stride[1] + (g.KW - 1) * g.dilationW + 1;
    const padded = padTop !== 0 || padLeft !== 0 || Hp > H || Wp > W;
    return padded ? Hp * Wp * C : 0;
  };
  /**
   * Floats of the Winograd paths of f32_conv2d and f32_conv2d_backward_filter (both the same):
   * the transformed filter or its sums, one block of transformed tiles on each side, and an
   * image padded to whole 2x2 output tiles.
   */
  const winograd = (
    H: number, W: number, C: number, CO: number, OH: number, OW: number,
    padTop: number, padLeft: number,
  ): number => {
    const COP = Math.ceil(CO / 16) * 16;
    const CP = Math.ceil(C / 4) * 4;
    const Hp = 2 * Math.ceil(OH / 2) + 2;
    const Wp = 2 * Math.ceil(OW / 2) + 2;
    const padded = padTop !== 0 || padLeft !== 0 || Hp > H || Wp > W;
    const planes = 16 * (WINOGRAD_TILE_BLOCK * CP + WINOGRAD_PLANE_SKEW) +
      16 * (WINOGRAD_TILE_BLOCK * COP + WINOGRAD_PLANE_SKEW);
    return 16 * C * COP + planes + (padded ? Hp * Wp * C : 0);
  };
  /** Floats of f32_conv2d's work: panels 16 channels wide (8 for a small leftover), bias, runs. */
  const forward = (
    H: number, W: number, C: number, CO: number, OH: number, OW: number,
    stride: [number, number], padTop: number, padLeft: number,
  ): number => {
    if (usesWinograd(g, stride, C, CO, WINOGRAD_MIN_CHANNELS)) {
      return winograd(H, W, C, CO, OH, OW, padTop, padLeft);
    }
    const rest = CO % 16;
    const width = CO - rest + (rest === 0 ? 0 : rest <= 8 ? 8 : 16);
    const image = paddedImage(H, W, C, OH, OW, stride, padTop, padLeft);
    return width * g.KH * g.KW * C + width + g.KH * g.KW + image;
  };
  const strides: [number, number] = [g.strideH, g.strideW];
  const forwardBytes = forward(g.H, g.W, g.C, CO, g.OH, g.OW, strides, g.padTop, g.padLeft);
  // Backward data: with stride 1 and C >= 8 (transposedIsConv()), the flipped filter plus a
  // forward conv of dy in the transposed geometry; otherwise transposed filter panels, depth
  // offsets and the pixel table.
  const backwardData =
    g.strideH === 1 && g.strideW === 1 && g.C >= 8
      ? K * CO +
        forward(
          g.OH, g.OW, CO, g.C, g.H, g.W, [1, 1],
          (g.KH - 1) * g.dilationH - g.padTop, (g.KW - 1) * g.dilationW - g.padLeft,
        )
      : Math.ceil(K / 8) * 8 * CO + K + PIXEL_BLOCK +
        paddedImage(g.H, g.W, g.C, g.OH, g.OW, strides, g.padTop, g.padLeft);
  const backwardFilter = usesWinograd(g, strides, g.C, CO, WINOGRAD_FILTER_MIN_CHANNELS)
    ? winograd(g.H, g.W, g.C, CO, g.OH, g.OW, g.padTop, g.padLeft)
    : K + PIXEL_BLOCK + Math.ceil(CO / 8) * 8 * PIXEL_BLOCK +
      paddedImage(g.H, g.W, g.C, g.OH, g.OW, strides, g.padTop, g.padLeft);
  return 4 * Math.max(forwardBytes, backwardData, backwardFilter);
}
