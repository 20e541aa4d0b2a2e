// Convolution kernels over NHWC images: dense conv2d (forward, backward data, backward filter)
// as implicit GEMMs on register tiles of 8 f32x4 accumulators, and depthwise conv2d vectorized
// over channels.
//
// Shapes (row-major):
//   x, dx   [N, H, W, C]          dense w, dw    [KH, KW, C, CO]  (HWIO)
//   y, dy   [N, OH, OW, CO]       depthwise w    [KH, KW, C, M], output channel c*M + m
// Output pixel (oy, ox) reads input pixel (oy*strideH - padTop + ky*dilationH,
// ox*strideW - padLeft + kx*dilationW) for tap (ky, kx); taps outside the image read zero.
//
// The dense conv as a GEMM, per image:
//   rows     P = OH*OW output pixels
//   columns  CO output channels
//   depth    K = KH*KW*C, k = (ky*KW + kx)*C + c, which is exactly the row of the HWIO filter,
//            so w is already a row-major [K, CO] matrix.
// Row p of the implicit input matrix ("im2col") is never stored: it is the concatenation of
// the input pixels under the filter, read in place from the pixel's window origin plus one
// offset per "run" of the window. A run is a stretch of k that is contiguous in the image:
// with dilationW == 1 a whole filter row (KW*C floats), otherwise one tap (C floats).
// see: XNNPACK src/f32-igemm/ (the "indirect GEMM", which reads rows through pointers likewise)
//
// Kernels and tiles:
//   f32_conv2d                  rows x columns, 2 pixels x 16 channels; 3x3 filters with
//                               stride 1 and enough channels run as Winograd F(2x2, 3x3)
//   f32_conv2d_backward_data    stride 1 (and C >= 8): a forward conv of dy with the flipped
//                               filter (so Winograd for 3x3); otherwise dy * w^T, 4 pixels x 8
//                               depth rows, whose tiles are added straight into dx (col2im)
//   f32_conv2d_backward_filter  cols^T * dy, 4 depth rows x 8 channels, reduced over pixels;
//                               Winograd F(3x3, 2x2) where the forward conv is Winograd
//
// Padding: when any tap can fall outside the image, the image is first copied into a
// zero-bordered buffer in `work` (one image at a time), so that the inner loops never test
// bounds. The copy costs one pass over the input, small against K multiply-adds per output.

import { ACT_LINEAR, ACT_RELU } from '../src/backend/opcodes';
import { activate, activate4 } from './activation';
import { at, vbroadcast, vload, vmadd, vsplat, vstore } from './simd';

/** Forward filter panels are 16 channels wide, with one 8-wide panel for a small leftover. */
const WIDE_PANEL: i32 = 16;
const NARROW_PANEL: i32 = 8;
/** The backward tiles: 4 rows (pixels or depth rows) x 8 columns (two f32x4). */
const TILE_ROWS: i32 = 4;
const TILE_COLUMNS: i32 = 8;
/**
 * Output pixels per block of the backward kernels: the block's pixel table, and in
 * f32_conv2d_backward_filter its packed dy rows (2 KiB per 8 channels), stay in L1.
 */
const PIXEL_BLOCK: i32 = 64;

// ---- Shared pieces ------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function roundUp(n: i32, to: i32): i32 {
  return (n + to - 1) / to * to;
}

/** Stores the first `count` lanes of v (count may be anything; <= 0 stores nothing). */
// @ts-ignore: decorator
@inline function storeLanes(p: usize, v: v128, count: i32): void {
  if (count >= 4) {
    vstore(p, v);
    return;
  }
  if (count > 0) store<f32>(p, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/** Stores the first `count` of the 8 lanes lo:hi at p. */
// @ts-ignore: decorator
@inline function storeRow8(p: usize, vlo: v128, vhi: v128, count: i32): void {
  if (count >= 8) {
    vstore(p, vlo);
    vstore(p + 16, vhi);
    return;
  }
  storeLanes(p, vlo, count);
  storeLanes(p + 16, vhi, count - 4);
}

/** Adds the first `count` lanes of v to the f32 values at p. */
// @ts-ignore: decorator
@inline function addLanes(p: usize, v: v128, count: i32): void {
  if (count >= 4) {
    vstore(p, f32x4.add(vload(p), v));
    return;
  }
  if (count > 0) store<f32>(p, load<f32>(p) + f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(p, load<f32>(p, 4) + f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(p, load<f32>(p, 8) + f32x4.extract_lane(v, 2), 8);
}

/** Adds the first `count` of the 8 lanes lo:hi to the f32 values at p. */
// @ts-ignore: decorator
@inline function addRow8(p: usize, vlo: v128, vhi: v128, count: i32): void {
  if (count >= 8) {
    vstore(p, f32x4.add(vload(p), vlo));
    vstore(p + 16, f32x4.add(vload(p + 16), vhi));
    return;
  }
  addLanes(p, vlo, count);
  addLanes(p + 16, vhi, count - 4);
}

/** Rows of the zero-bordered image: every row any output pixel's window touches. */
// @ts-ignore: decorator
@inline function paddedExtent(O: i32, K: i32, stride: i32, dilation: i32): i32 {
  return (O - 1) * stride + (K - 1) * dilation + 1;
}

/**
 * Whether some tap falls outside the image, so that the kernel must work on a zero-bordered
 * copy. Mirrored by conv2dWorkspaceBytes() in src/backend/workspace.ts.
 */
// @ts-ignore: decorator
@inline function needsPadding(H: i32, W: i32, Hp: i32, Wp: i32, padTop: i32, padLeft: i32): bool {
  return padTop != 0 || padLeft != 0 || Hp > H || Wp > W;
}

/**
 * Copies image src [H, W, C] into dst [Hp, Wp, C] at row padTop, column padLeft. Only the part
 * that lands inside dst is copied; the border of dst is left as it is (zeroed once by the caller).
 */
function copyIntoPadded(
  src: usize, dst: usize, H: i32, W: i32, C: i32, Hp: i32, Wp: i32, padTop: i32, padLeft: i32,
): void {
  const iy0 = max(0, -padTop);
  const iy1 = min(H, Hp - padTop);
  const ix0 = max(0, -padLeft);
  const ix1 = min(W, Wp - padLeft);
  if (ix1 <= ix0) return;
  const bytes = <usize>((ix1 - ix0) * C) << 2;
  for (let iy = iy0; iy < iy1; iy++) {
    memory.copy(
      at(dst, ((iy + padTop) * Wp + ix0 + padLeft) * C), at(src, (iy * W + ix0) * C), bytes,
    );
  }
}

/** The inverse of copyIntoPadded: copies the part of dst [Hp, Wp, C] that lies inside src. */
function copyFromPadded(
  padded: usize, img: usize, H: i32, W: i32, C: i32, Hp: i32, Wp: i32, padTop: i32, padLeft: i32,
): void {
  const iy0 = max(0, -padTop);
  const iy1 = min(H, Hp - padTop);
  const ix0 = max(0, -padLeft);
  const ix1 = min(W, Wp - padLeft);
  if (ix1 <= ix0) return;
  const bytes = <usize>((ix1 - ix0) * C) << 2;
  for (let iy = iy0; iy < iy1; iy++) {
    memory.copy(
      at(img, (iy * W + ix0) * C), at(padded, ((iy + padTop) * Wp + ix0 + padLeft) * C), bytes,
    );
  }
}

/**
 * Fills `table` with the byte address of the window origin of output pixels [p0, p1) of an
 * image whose rows are `srcW` pixels wide: src + (oy*strideH*srcW + ox*strideW) * C floats.
 */
function fillPixelTable(
  table: usize, src: usize, p0: i32, p1: i32, OW: i32, srcW: i32, C: i32,
  strideH: i32, strideW: i32,
): void {
  let oy = p0 / OW;
  let ox = p0 - oy * OW;
  for (let p = p0; p < p1; p++) {
    store<u32>(at(table, p - p0), <u32>at(src, (oy * strideH * srcW + ox * strideW) * C));
    if (++ox == OW) {
      ox = 0;
      oy++;
    }
  }
}

/**
 * Fills `table` with the byte offset, from a window origin, of each of the K = KH*KW*C filter
 * rows k = (ky*KW + kx)*C + c, in an image whose rows are `rowBytes` long.
 */
function fillDepthTable(
  table: usize, KH: i32, KW: i32, C: i32, dilationH: i32, dilationW: i32, rowBytes: i32,
): void {
  let k = 0;
  for (let ky = 0; ky < KH; ky++) {
    for (let kx = 0; kx < KW; kx++) {
      const tap = ky * dilationH * rowBytes + ((kx * dilationW * C) << 2);
      for (let c = 0; c < C; c++) store<i32>(at(table, k++), tap + (c << 2));
    }
  }
}

// ---- Dense conv2d, forward ----------------------------------------------------------------------

// work layout of f32_conv2d (every part 4-byte aligned, nothing more is assumed):
//   packed    the filter in column panels, each [K][width] and zero past CO:
//             floor(CO/16) panels of width 16, then the leftover CO % 16 channels in one
//             panel of width 8 (when <= 8) or 16
//   bias      [COP]          zero past CO, or all zero without a bias
//   runs      [KH*KW]        i32 byte offset of each run from a window origin
//   padded    [Hp, Wp, C]    the zero-bordered image, when needsPadding()
// with COP the total panel width (CO rounded up to 8 or 16). Mirrored by conv2dWorkspaceBytes().

/**
 * Stores act(v0..v3), 16 lanes, or their first `count` lanes, at p. The dispatch on act is made
 * once per tile row rather than once per vector, which the small-K convolutions notice.
 */
// @ts-ignore: decorator
@inline function storeActivated16(
  p: usize, v0: v128, v1: v128, v2: v128, v3: v128, count: i32, act: i32, alpha: f32,
): void {
  if (act == ACT_RELU) {
    // As in activate4: pmax(v, 0) keeps NaN.
    const vzero = vsplat(0);
    v0 = f32x4.pmax(v0, vzero);
    v1 = f32x4.pmax(v1, vzero);
    v2 = f32x4.pmax(v2, vzero);
    v3 = f32x4.pmax(v3, vzero);
  } else if (act != ACT_LINEAR) {
    v0 = activate4(act, v0, alpha);
    v1 = activate4(act, v1, alpha);
    v2 = activate4(act, v2, alpha);
    v3 = activate4(act, v3, alpha);
  }
  if (count >= 16) {
    vstore(p, v0);
    vstore(p + 16, v1);
    vstore(p + 32, v2);
    vstore(p + 48, v3);
    return;
  }
  storeRow8(p, v0, v1, count);
  storeRow8(p + 32, v2, v3, count - 8);
}

/**
 * y[N,OH,OW,CO] = act(conv(x, w) + bias): an implicit GEMM on 2-pixel x 16-channel tiles.
 *
 * Per tile, 8 accumulators hold 2 pixels x 16 channels. Each depth step broadcasts one input
 * value per pixel and loads one 16-wide row of the filter panel, then does 8 multiply-adds
 * (XNNPACK's "loadsplat" GEMM). 2x16 rather than the usual 4x8: the same 8 accumulators, but
 * half the broadcasts and pointer updates per multiply-add, which pays off when K is small
 * (K = 9 for a 3x3 filter over one channel: 2x16 runs ~15% faster there, and the same speed
 * for K in the hundreds). A tile sweeps every panel before the next tile, so its input window
 * is read from L1 while the filter streams from L2.
 * see: XNNPACK src/f32-igemm/ (indirect GEMM) and src/f32-gemm/ (the wasmsimd loadsplat kernels)
 */
export function f32_conv2d(
  x: usize, w: usize, bias: usize, y: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, CO: i32,
  strideH: i32, strideW: i32, dilationH: i32, dilationW: i32,
  padTop: i32, padLeft: i32, OH: i32, OW: i32,
  act: i32, actAlpha: f32, work: usize,
): void {
  const P = OH * OW;
  if (N <= 0 || P <= 0 || CO <= 0) return;
  if (
    usesWinograd(KH, KW, strideH, strideW, dilationH, dilationW, C, CO, WINOGRAD_MIN_CHANNELS)
  ) {
    conv2dWinograd(
      x, w, bias, y, N, H, W, C, CO, padTop, padLeft, OH, OW, act, actAlpha, work,
    );
    return;
  }
  const K = max(0, KH * KW * C);
  // Channels [0, wideWidth) in 16-wide panels; a leftover of 1..8 channels in one 8-wide panel.
  const rest = CO % WIDE_PANEL;
  const wideWidth = CO - rest + (rest > NARROW_PANEL ? WIDE_PANEL : 0);
  const COP = wideWidth + (rest > 0 && rest <= NARROW_PANEL ? NARROW_PANEL : 0);
  const Hp = paddedExtent(OH, KH, strideH, dilationH);
  const Wp = paddedExtent(OW, KW, strideW, dilationW);
  const padded = needsPadding(H, W, Hp, Wp, padTop, padLeft);
  const srcW = padded ? Wp : W;

  const packed = work;
  const packedBias = at(packed, COP * K);
  const runs = at(packedBias, COP);
  const paddedImage = at(runs, KH * KW);

  // Filter panels: the panel of channels [j, j + width) holds panel[k][i] = w[k][j + i].
  for (let j = 0; j < COP; ) {
    const width = j < wideWidth ? WIDE_PANEL : NARROW_PANEL;
    const panel = at(packed, j * K);
    const valid = min(width, CO - j);
    for (let k = 0; k < K; k++) {
      const src = at(w, k * CO + j);
      const dst = at(panel, k * width);
      for (let i = 0; i < valid; i++) store<f32>(at(dst, i), load<f32>(at(src, i)));
      for (let i = valid; i < width; i++) store<f32>(at(dst, i), 0);
    }
    j += width;
  }
  for (let j = 0; j < COP; j++) {
    store<f32>(at(packedBias, j), bias != 0 && j < CO ? load<f32>(at(bias, j)) : 0);
  }

  // Runs: filter rows when the taps of a row are adjacent (dilationW == 1), else single taps.
  const rowBytes = (srcW * C) << 2;
  let runCount = 0;
  let runLength = 0;
  if (K == 0) {
    // No depth: every output is act(bias).
  } else if (dilationW == 1) {
    runCount = KH;
    runLength = KW * C;
    for (let ky = 0; ky < KH; ky++) store<i32>(at(runs, ky), ky * dilationH * rowBytes);
  } else {
    runCount = KH * KW;
    runLength = C;
    for (let ky = 0; ky < KH; ky++) {
      for (let kx = 0; kx < KW; kx++) {
        store<i32>(at(runs, ky * KW + kx), ky * dilationH * rowBytes + ((kx * dilationW * C) << 2));
      }
    }
  }
  const runBytes = <usize>runLength << 2;
  const originStepX = <usize>(strideW * C) << 2;
  const originStepY = <usize>(strideH * srcW * C) << 2;
  if (padded) memory.fill(paddedImage, 0, <usize>(Hp * Wp * C) << 2);

  for (let n = 0; n < N; n++) {
    let src = at(x, n * H * W * C);
    if (padded) {
      copyIntoPadded(src, paddedImage, H, W, C, Hp, Wp, padTop, padLeft);
      src = paddedImage;
    }
    const yImage = at(y, n * P * CO);
    // Window origins walk the output pixels row-major: origin is pixel p's, rowOrigin its row's.
    let origin = src;
    let rowOrigin = src;
    let ox = 0;
    for (let p = 0; p < P; p += 2) {
      // A last tile with one pixel computes it twice and stores it once.
      const rows = min(2, P - p);
      const a0 = origin;
      if (++ox == OW) {
        ox = 0;
        rowOrigin += originStepY;
        origin = rowOrigin;
      } else {
        origin += originStepX;
      }
      const a1 = rows > 1 ? origin : a0;
      if (++ox == OW) {
        ox = 0;
        rowOrigin += originStepY;
        origin = rowOrigin;
      } else {
        origin += originStepX;
      }
      const py = at(yImage, p * CO);
      const yRowBytes = <usize>CO << 2;
      let pw = packed;
      let j = 0;
      for (; j < wideWidth; j += WIDE_PANEL) {
        let vacc0x0123 = vload(at(packedBias, j));
        let vacc0x4567 = vload(at(packedBias, j + 4));
        let vacc0x89AB = vload(at(packedBias, j + 8));
        let vacc0xCDEF = vload(at(packedBias, j + 12));
        let vacc1x0123 = vacc0x0123;
        let vacc1x4567 = vacc0x4567;
        let vacc1x89AB = vacc0x89AB;
        let vacc1xCDEF = vacc0xCDEF;
        for (let r = 0; r < runCount; r++) {
          const offset = <usize>load<i32>(at(runs, r));
          let pa0 = a0 + offset;
          let pa1 = a1 + offset;
          const pend = pa0 + runBytes;
          do {
            const vb0123 = vload(pw);
            const vb4567 = vload(pw + 16);
            const vb89AB = vload(pw + 32);
            const vbCDEF = vload(pw + 48);
            const va0 = vbroadcast(pa0);
            vacc0x0123 = vmadd(va0, vb0123, vacc0x0123);
            vacc0x4567 = vmadd(va0, vb4567, vacc0x4567);
            vacc0x89AB = vmadd(va0, vb89AB, vacc0x89AB);
            vacc0xCDEF = vmadd(va0, vbCDEF, vacc0xCDEF);
            const va1 = vbroadcast(pa1);
            vacc1x0123 = vmadd(va1, vb0123, vacc1x0123);
            vacc1x4567 = vmadd(va1, vb4567, vacc1x4567);
            vacc1x89AB = vmadd(va1, vb89AB, vacc1x89AB);
            vacc1xCDEF = vmadd(va1, vbCDEF, vacc1xCDEF);
            pa0 += 4;
            pa1 += 4;
            pw += 64;
          } while (pa0 < pend);
        }
        const channels = CO - j;
        const py0 = at(py, j);
        storeActivated16(
          py0, vacc0x0123, vacc0x4567, vacc0x89AB, vacc0xCDEF, channels, act, actAlpha,
        );
        if (rows > 1) {
          storeActivated16(
            py0 + yRowBytes, vacc1x0123, vacc1x4567, vacc1x89AB, vacc1xCDEF, channels, act,
            actAlpha,
          );
        }
      }
      // Leftover: the last 1..8 channels, on a 2x8 tile.
      if (j < COP) {
        let vacc0x0123 = vload(at(packedBias, j));
        let vacc0x4567 = vload(at(packedBias, j + 4));
        let vacc1x0123 = vacc0x0123;
        let vacc1x4567 = vacc0x4567;
        for (let r = 0; r < runCount; r++) {
          const offset = <usize>load<i32>(at(runs, r));
          let pa0 = a0 + offset;
          let pa1 = a1 + offset;
          const pend = pa0 + runBytes;
          do {
            const vb0123 = vload(pw);
            const vb4567 = vload(pw + 16);
            const va0 = vbroadcast(pa0);
            vacc0x0123 = vmadd(va0, vb0123, vacc0x0123);
            vacc0x4567 = vmadd(va0, vb4567, vacc0x4567);
            const va1 = vbroadcast(pa1);
            vacc1x0123 = vmadd(va1, vb0123, vacc1x0123);
            vacc1x4567 = vmadd(va1, vb4567, vacc1x4567);
            pa0 += 4;
            pa1 += 4;
            pw += 32;
          } while (pa0 < pend);
        }
        const channels = CO - j;
        const vzero = vsplat(0);
        const py0 = at(py, j);
        storeActivated16(py0, vacc0x0123, vacc0x4567, vzero, vzero, channels, act, actAlpha);
        if (rows > 1) {
          storeActivated16(
            py0 + yRowBytes, vacc1x0123, vacc1x4567, vzero, vzero, channels, act, actAlpha,
          );
        }
      }
    }
  }
}

// ---- Dense conv2d, forward, Winograd F(2x2, 3x3) -----------------------------------------------
// A 3x3 conv with stride 1 and no dilation computes each 2x2 block of output pixels ("tile")
// from the 4x4 input pixels under it as
//   Y = A^T [ (G g G^T) . (B^T d B) ] A        (. the element-wise product)
// for one input and one output channel, d the input tile and g the filter. The sum over input
// channels moves inside the brackets, so for each of the 16 positions e of the 4x4 transformed
// tile, the sum over c is a GEMM
//   M[e][tile, co] = V[e][tile, c] * U[e][c, co],  V = B^T d B,  U = G g G^T.
// 16 GEMMs of depth C replace one of depth 9*C: 2.25 times fewer multiply-adds, for transforms
// that cost O(C + CO) per tile. The transform matrices hold only 0, +-1 and 1/2, so the result
// stays within a few rounding errors of the direct sum (the table tests hold it to the same
// tolerance).
// see: A. Lavin and S. Gray, "Fast algorithms for convolutional neural networks" (2016)
//
//   B^T = [1  0 -1  0]     G = [ 1    0    0 ]     A^T = [1  1  1  0]
//         [0  1  1  0]         [1/2  1/2  1/2]           [0  1 -1 -1]
//         [0 -1  1  0]         [1/2 -1/2  1/2]
//         [0  1  0 -1]         [ 0    0    1 ]
//
// work layout of the Winograd path of f32_conv2d (mirrored by conv2dWorkspaceBytes()):
//   U        [16][COP/16][C][16]  the transformed filter in 16-channel panels, zero past CO
//   V        [16][TILE_BLOCK][CP] one block of transformed input tiles, CP = C rounded up to 4
//   M        [16][TILE_BLOCK][COP] their products, before the output transform
//   padded   [Hp, Wp, C]          the zero-bordered image, when needsPadding()
// with COP = CO rounded up to 16, Hp = 2*ceil(OH/2) + 2 and Wp = 2*ceil(OW/2) + 2, and each of
// the 16 planes of V and of M followed by PLANE_SKEW unused floats.

/** Tiles transformed and multiplied together: V and M of a block stay in L2, a plane in L1. */
const TILE_BLOCK: i32 = 32;
/**
 * Floats between consecutive planes of a block beyond the plane itself. A transform touches
 * all 16 planes at one offset; without the skew, planes a multiple of 4 KiB apart all map to
 * the same L1 set, and the 16 accesses evict each other (the transforms ran 2x slower).
 */
const PLANE_SKEW: i32 = 16;

/** Floats from one plane of a tile block to the next, for rows of `rowFloats`. */
// @ts-ignore: decorator
@inline function blockPlane(rowFloats: i32): i32 {
  return TILE_BLOCK * rowFloats + PLANE_SKEW;
}

/**
 * Input channels from which the Winograd forward beats the direct kernel. C is the depth of its
 * GEMMs; with fewer channels the transforms weigh too much (measured on 13x13 outputs: C = 8
 * ran 1.15-1.5x slower than direct, C = 12 even, C = 16 and up faster).
 */
const WINOGRAD_MIN_CHANNELS: i32 = 16;
/**
 * The same for the filter gradient, whose GEMMs reduce over tiles instead: only the transforms
 * depend on C, and C = 8 already runs 1.2-1.4x faster than the direct kernel.
 */
const WINOGRAD_FILTER_MIN_CHANNELS: i32 = 8;

/**
 * Whether a conv can take a Winograd path: a 3x3 filter, stride 1, no dilation, at least
 * `minChannels` input channels and one full 16-channel panel of outputs. Mirrored by
 * conv2dWorkspaceBytes() in src/backend/workspace.ts.
 */
// @ts-ignore: decorator
@inline function usesWinograd(
  KH: i32, KW: i32, strideH: i32, strideW: i32, dilationH: i32, dilationW: i32, C: i32, CO: i32,
  minChannels: i32,
): bool {
  return KH == 3 && KW == 3 && strideH == 1 && strideW == 1 && dilationH == 1 &&
    dilationW == 1 && C >= minChannels && CO >= WIDE_PANEL;
}

/** Loads the first `count` lanes at p (count >= 1), the others zero. */
// @ts-ignore: decorator
@inline function loadLanes(p: usize, count: i32): v128 {
  if (count >= 4) return vload(p);
  let v = f32x4.replace_lane(vsplat(0), 0, load<f32>(p));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/**
 * V = B^T d B for 4 channels (or the first `count`) of the 4x4 input tile at `d` (rows
 * `rowBytes`, pixels `pixelBytes` apart). Position e of the result goes to v + e * planeBytes.
 */
function winogradInputTile(
  d: usize, rowBytes: usize, pixelBytes: usize, count: i32, v: usize, planeBytes: usize,
): void {
  // d B, row by row: t[i] = [d0 - d2, d1 + d2, d2 - d1, d1 - d3].
  let p = d;
  let d0 = loadLanes(p, count);
  let d1 = loadLanes(p + pixelBytes, count);
  let d2 = loadLanes(p + 2 * pixelBytes, count);
  let d3 = loadLanes(p + 3 * pixelBytes, count);
  const t00 = f32x4.sub(d0, d2);
  const t01 = f32x4.add(d1, d2);
  const t02 = f32x4.sub(d2, d1);
  const t03 = f32x4.sub(d1, d3);
  p += rowBytes;
  d0 = loadLanes(p, count);
  d1 = loadLanes(p + pixelBytes, count);
  d2 = loadLanes(p + 2 * pixelBytes, count);
  d3 = loadLanes(p + 3 * pixelBytes, count);
  const t10 = f32x4.sub(d0, d2);
  const t11 = f32x4.add(d1, d2);
  const t12 = f32x4.sub(d2, d1);
  const t13 = f32x4.sub(d1, d3);
  p += rowBytes;
  d0 = loadLanes(p, count);
  d1 = loadLanes(p + pixelBytes, count);
  d2 = loadLanes(p + 2 * pixelBytes, count);
  d3 = loadLanes(p + 3 * pixelBytes, count);
  const t20 = f32x4.sub(d0, d2);
  const t21 = f32x4.add(d1, d2);
  const t22 = f32x4.sub(d2, d1);
  const t23 = f32x4.sub(d1, d3);
  p += rowBytes;
  d0 = loadLanes(p, count);
  d1 = loadLanes(p + pixelBytes, count);
  d2 = loadLanes(p + 2 * pixelBytes, count);
  d3 = loadLanes(p + 3 * pixelBytes, count);
  const t30 = f32x4.sub(d0, d2);
  const t31 = f32x4.add(d1, d2);
  const t32 = f32x4.sub(d2, d1);
  const t33 = f32x4.sub(d1, d3);
  // B^T (d B), column by column. A partial vector stores its zero lanes too: V's rows are CP
  // floats long, and the GEMMs never read past C.
  vstore(v, f32x4.sub(t00, t20));
  vstore(v + planeBytes, f32x4.sub(t01, t21));
  vstore(v + 2 * planeBytes, f32x4.sub(t02, t22));
  vstore(v + 3 * planeBytes, f32x4.sub(t03, t23));
  vstore(v + 4 * planeBytes, f32x4.add(t10, t20));
  vstore(v + 5 * planeBytes, f32x4.add(t11, t21));
  vstore(v + 6 * planeBytes, f32x4.add(t12, t22));
  vstore(v + 7 * planeBytes, f32x4.add(t13, t23));
  vstore(v + 8 * planeBytes, f32x4.sub(t20, t10));
  vstore(v + 9 * planeBytes, f32x4.sub(t21, t11));
  vstore(v + 10 * planeBytes, f32x4.sub(t22, t12));
  vstore(v + 11 * planeBytes, f32x4.sub(t23, t13));
  vstore(v + 12 * planeBytes, f32x4.sub(t10, t30));
  vstore(v + 13 * planeBytes, f32x4.sub(t11, t31));
  vstore(v + 14 * planeBytes, f32x4.sub(t12, t32));
  vstore(v + 15 * planeBytes, f32x4.sub(t13, t33));
}

/**
 * Y = A^T m A for 4 output channels (or the first `count`) of one tile, plus bias, activated,
 * stored at y (rows `rowBytes`, pixels `pixelBytes` apart): `rows` x `cols` of the 2x2 pixels.
 * Position e of m is at m + e * planeBytes.
 */
// @ts-ignore: decorator
@inline function winogradOutputTile(
  m: usize, planeBytes: usize, vbias: v128, y: usize, rowBytes: usize, pixelBytes: usize,
  rows: i32, cols: i32, count: i32, act: i32, alpha: f32,
): void {
  // m A, row by row: s[i] = [m0 + m1 + m2, m1 - m2 - m3].
  let p = m;
  let m0 = vload(p);
  let m1 = vload(p + planeBytes);
  let m2 = vload(p + 2 * planeBytes);
  let m3 = vload(p + 3 * planeBytes);
  const s00 = f32x4.add(f32x4.add(m0, m1), m2);
  const s01 = f32x4.sub(f32x4.sub(m1, m2), m3);
  p += 4 * planeBytes;
  m0 = vload(p);
  m1 = vload(p + planeBytes);
  m2 = vload(p + 2 * planeBytes);
  m3 = vload(p + 3 * planeBytes);
  const s10 = f32x4.add(f32x4.add(m0, m1), m2);
  const s11 = f32x4.sub(f32x4.sub(m1, m2), m3);
  p += 4 * planeBytes;
  m0 = vload(p);
  m1 = vload(p + planeBytes);
  m2 = vload(p + 2 * planeBytes);
  m3 = vload(p + 3 * planeBytes);
  const s20 = f32x4.add(f32x4.add(m0, m1), m2);
  const s21 = f32x4.sub(f32x4.sub(m1, m2), m3);
  p += 4 * planeBytes;
  m0 = vload(p);
  m1 = vload(p + planeBytes);
  m2 = vload(p + 2 * planeBytes);
  m3 = vload(p + 3 * planeBytes);
  const s30 = f32x4.add(f32x4.add(m0, m1), m2);
  const s31 = f32x4.sub(f32x4.sub(m1, m2), m3);
  // A^T (m A), plus bias.
  const y00 = f32x4.add(f32x4.add(f32x4.add(s00, s10), s20), vbias);
  const y01 = f32x4.add(f32x4.add(f32x4.add(s01, s11), s21), vbias);
  storeLanes(y, activate4(act, y00, alpha), count);
  if (cols > 1) storeLanes(y + pixelBytes, activate4(act, y01, alpha), count);
  if (rows > 1) {
    const y10 = f32x4.add(f32x4.sub(f32x4.sub(s10, s20), s30), vbias);
    const y11 = f32x4.add(f32x4.sub(f32x4.sub(s11, s21), s31), vbias);
    storeLanes(y + rowBytes, activate4(act, y10, alpha), count);
    if (cols > 1) storeLanes(y + rowBytes + pixelBytes, activate4(act, y11, alpha), count);
  }
}

/** Row i of U = (G g) G^T from row i of G g: positions 4i .. 4i+3, `planeBytes` apart. */
// @ts-ignore: decorator
@inline function storeFilterRow(p: usize, planeBytes: usize, a: f32, b: f32, c: f32): void {
  store<f32>(p, a);
  store<f32>(p + planeBytes, (a + b + c) * 0.5);
  store<f32>(p + 2 * planeBytes, (a - b + c) * 0.5);
  store<f32>(p + 3 * planeBytes, c);
}

/**
 * U = G g G^T for every (c, co) of an HWIO 3x3 filter, into 16-channel panels:
 * U[e][co / 16][c][co % 16], zero for co in [CO, COP).
 */
function winogradFilter(w: usize, u: usize, C: i32, CO: i32, COP: i32): void {
  memory.fill(u, 0, <usize>(16 * C * COP) << 2);
  const tapBytes = <usize>(C * CO) << 2;
  const planeBytes = <usize>(C * COP) << 2;
  for (let c = 0; c < C; c++) {
    for (let co = 0; co < CO; co++) {
      const g = at(w, c * CO + co);
      const g00 = load<f32>(g);
      const g01 = load<f32>(g + tapBytes);
      const g02 = load<f32>(g + 2 * tapBytes);
      const g10 = load<f32>(g + 3 * tapBytes);
      const g11 = load<f32>(g + 4 * tapBytes);
      const g12 = load<f32>(g + 5 * tapBytes);
      const g20 = load<f32>(g + 6 * tapBytes);
      const g21 = load<f32>(g + 7 * tapBytes);
      const g22 = load<f32>(g + 8 * tapBytes);
      const dst = at(u, (co >> 4) * C * WIDE_PANEL + c * WIDE_PANEL + (co & (WIDE_PANEL - 1)));
      // Rows of G g: g's first row, half the sum and half the alternating sum of its rows, the
      // last row.
      storeFilterRow(dst, planeBytes, g00, g01, g02);
      storeFilterRow(
        dst + 4 * planeBytes, planeBytes,
        (g00 + g10 + g20) * 0.5, (g01 + g11 + g21) * 0.5, (g02 + g12 + g22) * 0.5,
      );
      storeFilterRow(
        dst + 8 * planeBytes, planeBytes,
        (g00 - g10 + g20) * 0.5, (g01 - g11 + g21) * 0.5, (g02 - g12 + g22) * 0.5,
      );
      storeFilterRow(dst + 12 * planeBytes, planeBytes, g20, g21, g22);
    }
  }
}

/**
 * M[e] = V[e] * U[e] for the 16 positions e of a block of `tiles` tiles, on the register tiles
 * of f32_conv2d's direct path (2 tiles x 16 channels), over a depth of C. A plane's V and its
 * filter panel stay in L1 while the tiles sweep by.
 */
function winogradMultiply(v: usize, u: usize, m: usize, tiles: i32, C: i32, CP: i32, COP: i32): void {
  const vRowBytes = <usize>CP << 2;
  const mRowBytes = <usize>COP << 2;
  const depthBytes = <usize>C << 2;
  for (let e = 0; e < 16; e++) {
    const ve = at(v, e * blockPlane(CP));
    const ue = at(u, e * C * COP);
    const me = at(m, e * blockPlane(COP));
    for (let j = 0; j < COP; j += WIDE_PANEL) {
      const panel = at(ue, j * C);
      for (let t = 0; t < tiles; t += 2) {
        // A last block row with one tile computes it twice and stores it once.
        let pa0 = ve + <usize>t * vRowBytes;
        let pa1 = t + 1 < tiles ? pa0 + vRowBytes : pa0;
        const pend = pa0 + depthBytes;
        let pw = panel;
        let vacc0x0123 = vsplat(0);
        let vacc0x4567 = vsplat(0);
        let vacc0x89AB = vsplat(0);
        let vacc0xCDEF = vsplat(0);
        let vacc1x0123 = vsplat(0);
        let vacc1x4567 = vsplat(0);
        let vacc1x89AB = vsplat(0);
        let vacc1xCDEF = vsplat(0);
        do {
          const vb0123 = vload(pw);
          const vb4567 = vload(pw + 16);
          const vb89AB = vload(pw + 32);
          const vbCDEF = vload(pw + 48);
          const va0 = vbroadcast(pa0);
          vacc0x0123 = vmadd(va0, vb0123, vacc0x0123);
          vacc0x4567 = vmadd(va0, vb4567, vacc0x4567);
          vacc0x89AB = vmadd(va0, vb89AB, vacc0x89AB);
          vacc0xCDEF = vmadd(va0, vbCDEF, vacc0xCDEF);
          const va1 = vbroadcast(pa1);
          vacc1x0123 = vmadd(va1, vb0123, vacc1x0123);
          vacc1x4567 = vmadd(va1, vb4567, vacc1x4567);
          vacc1x89AB = vmadd(va1, vb89AB, vacc1x89AB);
          vacc1xCDEF = vmadd(va1, vbCDEF, vacc1xCDEF);
          pa0 += 4;
          pa1 += 4;
          pw += 64;
        } while (pa0 < pend);
        const pm = at(me + <usize>t * mRowBytes, j);
        vstore(pm, vacc0x0123);
        vstore(pm + 16, vacc0x4567);
        vstore(pm + 32, vacc0x89AB);
        vstore(pm + 48, vacc0xCDEF);
        if (t + 1 < tiles) {
          vstore(pm + mRowBytes, vacc1x0123);
          vstore(pm + mRowBytes + 16, vacc1x4567);
          vstore(pm + mRowBytes + 32, vacc1x89AB);
          vstore(pm + mRowBytes + 48, vacc1xCDEF);
        }
      }
    }
  }
}

/**
 * The input transform of tiles t0 .. t0 + tiles of one image (tile t covers rows 2ty .. 2ty + 3
 * and columns 2tx .. 2tx + 3 of `src`, TW tiles to a row) into the 16 planes of v, CP channels
 * per tile. Shared by the forward conv and the filter gradient.
 */
function winogradInputTiles(
  src: usize, rowBytes: usize, pixelBytes: usize, TW: i32, t0: i32, tiles: i32, C: i32, CP: i32,
  v: usize, vPlaneBytes: usize,
): void {
  for (let t = 0; t < tiles; t++) {
    const ty = (t0 + t) / TW;
    const tx = t0 + t - ty * TW;
    const d = src + <usize>(2 * ty) * rowBytes + <usize>(2 * tx) * pixelBytes;
    for (let c = 0; c < C; c += 4) {
      winogradInputTile(at(d, c), rowBytes, pixelBytes, min(4, C - c), at(v, t * CP + c), vPlaneBytes);
    }
  }
}

/** f32_conv2d for a 3x3 filter with stride 1 and no dilation (usesWinograd()). */
function conv2dWinograd(
  x: usize, w: usize, bias: usize, y: usize,
  N: i32, H: i32, W: i32, C: i32, CO: i32, padTop: i32, padLeft: i32, OH: i32, OW: i32,
  act: i32, actAlpha: f32, work: usize,
): void {
  const COP = roundUp(CO, WIDE_PANEL);
  const CP = roundUp(C, 4);
  const TW = (OW + 1) >> 1;
  const T = ((OH + 1) >> 1) * TW;
  // Tiles that hang over the bottom or right edge read a zero border.
  const Hp = 2 * ((OH + 1) >> 1) + 2;
  const Wp = 2 * TW + 2;
  const padded = needsPadding(H, W, Hp, Wp, padTop, padLeft);
  const srcW = padded ? Wp : W;

  const u = work;
  const v = at(u, 16 * C * COP);
  const m = at(v, 16 * blockPlane(CP));
  const paddedImage = at(m, 16 * blockPlane(COP));

  winogradFilter(w, u, C, CO, COP);
  if (padded) memory.fill(paddedImage, 0, <usize>(Hp * Wp * C) << 2);
  const pixelBytes = <usize>C << 2;
  const rowBytes = <usize>(srcW * C) << 2;
  const vPlaneBytes = <usize>blockPlane(CP) << 2;
  const mPlaneBytes = <usize>blockPlane(COP) << 2;
  const yPixelBytes = <usize>CO << 2;
  const yRowBytes = <usize>(OW * CO) << 2;
  for (let n = 0; n < N; n++) {
    let src = at(x, n * H * W * C);
    if (padded) {
      copyIntoPadded(src, paddedImage, H, W, C, Hp, Wp, padTop, padLeft);
      src = paddedImage;
    }
    const yImage = at(y, n * OH * OW * CO);
    for (let t0 = 0; t0 < T; t0 += TILE_BLOCK) {
      const tiles = min(TILE_BLOCK, T - t0);
      winogradInputTiles(src, rowBytes, pixelBytes, TW, t0, tiles, C, CP, v, vPlaneBytes);
      winogradMultiply(v, u, m, tiles, C, CP, COP);
      for (let t = 0; t < tiles; t++) {
        const ty = (t0 + t) / TW;
        const tx = t0 + t - ty * TW;
        const rows = min(2, OH - 2 * ty);
        const cols = min(2, OW - 2 * tx);
        const py = yImage + <usize>(2 * ty) * yRowBytes + <usize>(2 * tx) * yPixelBytes;
        for (let co = 0; co < CO; co += 4) {
          const count = min(4, CO - co);
          const vbias = bias != 0 ? loadLanes(at(bias, co), count) : vsplat(0);
          winogradOutputTile(
            at(m, t * COP + co), mPlaneBytes, vbias, at(py, co), yRowBytes, yPixelBytes,
            rows, cols, count, act, actAlpha,
          );
        }
      }
    }
  }
}

// ---- Dense conv2d, backward data ----------------------------------------------------------------

/**
 * Whether f32_conv2d_backward_data runs as a forward conv (stride 1, at least one full 8-wide
 * channel panel). Mirrored by conv2dWorkspaceBytes() in src/backend/workspace.ts.
 */
// @ts-ignore: decorator
@inline function transposedIsConv(strideH: i32, strideW: i32, C: i32): bool {
  return strideH == 1 && strideW == 1 && C >= NARROW_PANEL;
}

// work layout of f32_conv2d_backward_data, as a forward conv (transposedIsConv()):
//   flipped   [KH, KW, CO, C]  the filter flipped in space, C and CO swapped
//   then f32_conv2d's work for the transposed geometry
// otherwise:
//   packed    [KP/8][CO][8]  the transposed filter in panels of 8 depth rows, zero past K
//   depth     [K]            i32 byte offset of each depth row k from a window origin
//   pixels    [PIXEL_BLOCK]  u32 window origin (in dx, or in the padded buffer) of each pixel
//   padded    [Hp, Wp, C]    the zero-bordered gradient image, when needsPadding()
// with KP = K rounded up to 8.

/**
 * dx = conv2d gradient with respect to x, given dy. With stride 1 (and C >= 8) it is computed
 * as a forward convolution, below. Otherwise, per image, the GEMM cols[P, K] = dy[P, CO] * w^T
 * runs on 4-pixel x 8-depth tiles, and each tile is scatter-added into the window it came from
 * (col2im), so the columns are never stored. Rows of dy are read in place; w^T is packed in
 * panels of 8 depth rows. When the 8 depth rows of a panel are adjacent in the image (they lie
 * in one run), a tile row is added with two vector read-modify-writes, else lane by lane.
 */
export function f32_conv2d_backward_data(
  dy: usize, w: usize, dx: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, CO: i32,
  strideH: i32, strideW: i32, dilationH: i32, dilationW: i32,
  padTop: i32, padLeft: i32, OH: i32, OW: i32, work: usize,
): void {
  if (N <= 0 || C <= 0) return;
  if (OH <= 0 || OW <= 0 || CO <= 0) {
    // No output pixel, so no input pixel contributes anything.
    memory.fill(dx, 0, <usize>(N * H * W * C) << 2);
    return;
  }
  if (transposedIsConv(strideH, strideW, C)) {
    // With stride 1 the gradient is itself a convolution: dy, zero-padded by the filter's
    // extent minus padTop / padLeft, convolved with the filter flipped in space and with C and
    // CO swapped. The forward kernel then does all the work, and dx is written exactly once.
    // (With C < 8 its channel panels would be mostly padding; col2im below is faster there.)
    // see: V. Dumoulin and F. Visin, "A guide to convolution arithmetic for deep learning",
    // section 4 (transposed convolution of a unit-stride convolution).
    const K = KH * KW * C;
    const flipped = work;
    for (let ky = 0; ky < KH; ky++) {
      for (let kx = 0; kx < KW; kx++) {
        const tap = at(w, (ky * KW + kx) * C * CO);
        const flippedTap = at(flipped, ((KH - 1 - ky) * KW + (KW - 1 - kx)) * CO * C);
        for (let c = 0; c < C; c++) {
          for (let co = 0; co < CO; co++) {
            store<f32>(at(flippedTap, co * C + c), load<f32>(at(tap, c * CO + co)));
          }
        }
      }
    }
    f32_conv2d(
      dy, flipped, 0, dx, N, OH, OW, CO, KH, KW, C, 1, 1, dilationH, dilationW,
      (KH - 1) * dilationH - padTop, (KW - 1) * dilationW - padLeft, H, W,
      ACT_LINEAR, 0, at(flipped, K * CO),
    );
    return;
  }
  memory.fill(dx, 0, <usize>(N * H * W * C) << 2);
  const P = OH * OW;
  const K = KH * KW * C;
  const KP = roundUp(K, TILE_COLUMNS);
  const Hp = paddedExtent(OH, KH, strideH, dilationH);
  const Wp = paddedExtent(OW, KW, strideW, dilationW);
  const padded = needsPadding(H, W, Hp, Wp, padTop, padLeft);
  const dstW = padded ? Wp : W;

  const packed = work;
  const depth = at(packed, KP * CO);
  const pixels = at(depth, K);
  const paddedImage = at(pixels, PIXEL_BLOCK);

  // Transposed panels: packed[j][co][0..8] = w[8j..8j+8][co], zero past K.
  for (let j = 0; j < KP; j += TILE_COLUMNS) {
    const panel = at(packed, j * CO);
    const valid = min(TILE_COLUMNS, K - j);
    for (let co = 0; co < CO; co++) {
      const dst = at(panel, co * TILE_COLUMNS);
      for (let i = 0; i < valid; i++) store<f32>(at(dst, i), load<f32>(at(w, (j + i) * CO + co)));
      for (let i = valid; i < TILE_COLUMNS; i++) store<f32>(at(dst, i), 0);
    }
  }
  fillDepthTable(depth, KH, KW, C, dilationH, dilationW, (dstW * C) << 2);

  for (let n = 0; n < N; n++) {
    let dst = at(dx, n * H * W * C);
    if (padded) {
      memory.fill(paddedImage, 0, <usize>(Hp * Wp * C) << 2);
      dst = paddedImage;
    }
    const dyImage = at(dy, n * P * CO);
    for (let pb = 0; pb < P; pb += PIXEL_BLOCK) {
      const pe = min(pb + PIXEL_BLOCK, P);
      fillPixelTable(pixels, dst, pb, pe, OW, dstW, C, strideH, strideW);
      for (let j = 0; j < KP; j += TILE_COLUMNS) {
        const panel = at(packed, j * CO);
        const valid = min(TILE_COLUMNS, K - j);
        // Depth offsets of the panel's 8 rows; past K they repeat the last one (never used).
        const o0 = <usize>load<i32>(at(depth, j));
        const o1 = <usize>load<i32>(at(depth, min(j + 1, K - 1)));
        const o2 = <usize>load<i32>(at(depth, min(j + 2, K - 1)));
        const o3 = <usize>load<i32>(at(depth, min(j + 3, K - 1)));
        const o4 = <usize>load<i32>(at(depth, min(j + 4, K - 1)));
        const o5 = <usize>load<i32>(at(depth, min(j + 5, K - 1)));
        const o6 = <usize>load<i32>(at(depth, min(j + 6, K - 1)));
        const o7 = <usize>load<i32>(at(depth, min(j + 7, K - 1)));
        const adjacent = valid == TILE_COLUMNS && o7 - o0 == 28;
        for (let p = pb; p < pe; p += TILE_ROWS) {
          const rows = min(TILE_ROWS, pe - p);
          const pa0 = at(dyImage, p * CO);
          const pa1 = rows > 1 ? pa0 + (<usize>CO << 2) : pa0;
          const pa2 = rows > 2 ? pa1 + (<usize>CO << 2) : pa1;
          const pa3 = rows > 3 ? pa2 + (<usize>CO << 2) : pa2;
          let vacc0x0123 = vsplat(0);
          let vacc0x4567 = vsplat(0);
          let vacc1x0123 = vsplat(0);
          let vacc1x4567 = vsplat(0);
          let vacc2x0123 = vsplat(0);
          let vacc2x4567 = vsplat(0);
          let vacc3x0123 = vsplat(0);
          let vacc3x4567 = vsplat(0);
          let pw = panel;
          for (let co: usize = 0; co < (<usize>CO << 2); co += 4) {
            const va0 = vbroadcast(pa0 + co);
            const va1 = vbroadcast(pa1 + co);
            const va2 = vbroadcast(pa2 + co);
            const va3 = vbroadcast(pa3 + co);
            const vb0123 = vload(pw);
            const vb4567 = vload(pw + 16);
            vacc0x0123 = vmadd(va0, vb0123, vacc0x0123);
            vacc0x4567 = vmadd(va0, vb4567, vacc0x4567);
            vacc1x0123 = vmadd(va1, vb0123, vacc1x0123);
            vacc1x4567 = vmadd(va1, vb4567, vacc1x4567);
            vacc2x0123 = vmadd(va2, vb0123, vacc2x0123);
            vacc2x4567 = vmadd(va2, vb4567, vacc2x4567);
            vacc3x0123 = vmadd(va3, vb0123, vacc3x0123);
            vacc3x4567 = vmadd(va3, vb4567, vacc3x4567);
            pw += 32;
          }
          // col2im: rows one after another, since windows of the tile's pixels may overlap.
          for (let i = 0; i < rows; i++) {
            const base = <usize>load<u32>(at(pixels, p - pb + i));
            let vlo = vacc0x0123;
            let vhi = vacc0x4567;
            if (i == 1) {
              vlo = vacc1x0123;
              vhi = vacc1x4567;
            } else if (i == 2) {
              vlo = vacc2x0123;
              vhi = vacc2x4567;
            } else if (i == 3) {
              vlo = vacc3x0123;
              vhi = vacc3x4567;
            }
            if (adjacent) {
              addRow8(base + o0, vlo, vhi, TILE_COLUMNS);
            } else {
              addScattered(base + o0, f32x4.extract_lane(vlo, 0));
              if (valid > 1) addScattered(base + o1, f32x4.extract_lane(vlo, 1));
              if (valid > 2) addScattered(base + o2, f32x4.extract_lane(vlo, 2));
              if (valid > 3) addScattered(base + o3, f32x4.extract_lane(vlo, 3));
              if (valid > 4) addScattered(base + o4, f32x4.extract_lane(vhi, 0));
              if (valid > 5) addScattered(base + o5, f32x4.extract_lane(vhi, 1));
              if (valid > 6) addScattered(base + o6, f32x4.extract_lane(vhi, 2));
              if (valid > 7) addScattered(base + o7, f32x4.extract_lane(vhi, 3));
            }
          }
        }
      }
    }
    if (padded) {
      copyFromPadded(paddedImage, at(dx, n * H * W * C), H, W, C, Hp, Wp, padTop, padLeft);
    }
  }
}

// @ts-ignore: decorator
@inline function addScattered(p: usize, v: f32): void {
  store<f32>(p, load<f32>(p) + v);
}

// ---- Dense conv2d, backward filter --------------------------------------------------------------

// work layout of f32_conv2d_backward_filter:
//   depth     [K]                    i32 byte offset of each depth row k from a window origin
//   pixels    [PIXEL_BLOCK]          u32 window origin of each pixel of the current block
//   panels    [COP/8][PIXEL_BLOCK][8] the block's dy rows in panels of 8 channels, zero past CO
//   padded    [Hp, Wp, C]            the zero-bordered image, when needsPadding()

/**
 * dw[K, CO] = sum over images and pixels of cols[p, k] * dy[p, co], i.e. cols^T * dy, where
 * cols is the implicit input matrix of the forward pass. Tiles are 4 depth rows x 8 channels;
 * the reduction runs over a block of 64 pixels, whose dy rows are first packed into 8-channel
 * panels, and each block's sums are added into dw. The 4 input values of a tile row are read
 * through the pixel's window origin plus 4 depth offsets.
 */
export function f32_conv2d_backward_filter(
  x: usize, dy: usize, dw: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, CO: i32,
  strideH: i32, strideW: i32, dilationH: i32, dilationW: i32,
  padTop: i32, padLeft: i32, OH: i32, OW: i32, work: usize,
): void {
  const K = KH * KW * C;
  if (K <= 0 || CO <= 0) return;
  memory.fill(dw, 0, <usize>(K * CO) << 2);
  const P = OH * OW;
  if (N <= 0 || P <= 0) return;
  if (
    usesWinograd(
      KH, KW, strideH, strideW, dilationH, dilationW, C, CO, WINOGRAD_FILTER_MIN_CHANNELS,
    )
  ) {
    conv2dBackwardFilterWinograd(
      x, dy, dw, N, H, W, C, CO, padTop, padLeft, OH, OW, work,
    );
    return;
  }
  const COP = roundUp(CO, TILE_COLUMNS);
  const Hp = paddedExtent(OH, KH, strideH, dilationH);
  const Wp = paddedExtent(OW, KW, strideW, dilationW);
  const padded = needsPadding(H, W, Hp, Wp, padTop, padLeft);
  const srcW = padded ? Wp : W;

  const depth = work;
  const pixels = at(depth, K);
  const panels = at(pixels, PIXEL_BLOCK);
  const paddedImage = at(panels, COP * PIXEL_BLOCK);

  fillDepthTable(depth, KH, KW, C, dilationH, dilationW, (srcW * C) << 2);
  if (padded) memory.fill(paddedImage, 0, <usize>(Hp * Wp * C) << 2);

  for (let n = 0; n < N; n++) {
    let src = at(x, n * H * W * C);
    if (padded) {
      copyIntoPadded(src, paddedImage, H, W, C, Hp, Wp, padTop, padLeft);
      src = paddedImage;
    }
    const dyImage = at(dy, n * P * CO);
    for (let pb = 0; pb < P; pb += PIXEL_BLOCK) {
      const pe = min(pb + PIXEL_BLOCK, P);
      const count = pe - pb;
      fillPixelTable(pixels, src, pb, pe, OW, srcW, C, strideH, strideW);
      // panels[j][p][0..8] = dy[pb + p][8j..8j+8], zero past CO.
      for (let j = 0; j < COP; j += TILE_COLUMNS) {
        const panel = at(panels, j * PIXEL_BLOCK);
        const valid = min(TILE_COLUMNS, CO - j);
        for (let p = 0; p < count; p++) {
          const s = at(dyImage, (pb + p) * CO + j);
          const d = at(panel, p * TILE_COLUMNS);
          if (valid == TILE_COLUMNS) {
            vstore(d, vload(s));
            vstore(d + 16, vload(s + 16));
          } else {
            for (let i = 0; i < valid; i++) store<f32>(at(d, i), load<f32>(at(s, i)));
            for (let i = valid; i < TILE_COLUMNS; i++) store<f32>(at(d, i), 0);
          }
        }
      }
      for (let k = 0; k < K; k += TILE_ROWS) {
        // Depth rows past K repeat the last one and are not stored.
        const rows = min(TILE_ROWS, K - k);
        const o0 = <usize>load<i32>(at(depth, k));
        const o1 = <usize>load<i32>(at(depth, min(k + 1, K - 1)));
        const o2 = <usize>load<i32>(at(depth, min(k + 2, K - 1)));
        const o3 = <usize>load<i32>(at(depth, min(k + 3, K - 1)));
        for (let j = 0; j < COP; j += TILE_COLUMNS) {
          let vacc0x0123 = vsplat(0);
          let vacc0x4567 = vsplat(0);
          let vacc1x0123 = vsplat(0);
          let vacc1x4567 = vsplat(0);
          let vacc2x0123 = vsplat(0);
          let vacc2x4567 = vsplat(0);
          let vacc3x0123 = vsplat(0);
          let vacc3x4567 = vsplat(0);
          let pb8 = at(panels, j * PIXEL_BLOCK);
          for (let p = 0; p < count; p++) {
            const origin = <usize>load<u32>(at(pixels, p));
            const va0 = vbroadcast(origin + o0);
            const va1 = vbroadcast(origin + o1);
            const va2 = vbroadcast(origin + o2);
            const va3 = vbroadcast(origin + o3);
            const vb0123 = vload(pb8);
            const vb4567 = vload(pb8 + 16);
            vacc0x0123 = vmadd(va0, vb0123, vacc0x0123);
            vacc0x4567 = vmadd(va0, vb4567, vacc0x4567);
            vacc1x0123 = vmadd(va1, vb0123, vacc1x0123);
            vacc1x4567 = vmadd(va1, vb4567, vacc1x4567);
            vacc2x0123 = vmadd(va2, vb0123, vacc2x0123);
            vacc2x4567 = vmadd(va2, vb4567, vacc2x4567);
            vacc3x0123 = vmadd(va3, vb0123, vacc3x0123);
            vacc3x4567 = vmadd(va3, vb4567, vacc3x4567);
            pb8 += 32;
          }
          const channels = CO - j;
          const pdw = at(dw, k * CO + j);
          const rowBytes = <usize>CO << 2;
          addRow8(pdw, vacc0x0123, vacc0x4567, channels);
          if (rows > 1) addRow8(pdw + rowBytes, vacc1x0123, vacc1x4567, channels);
          if (rows > 2) addRow8(pdw + 2 * rowBytes, vacc2x0123, vacc2x4567, channels);
          if (rows > 3) addRow8(pdw + 3 * rowBytes, vacc3x0123, vacc3x4567, channels);
        }
      }
    }
  }
}

// ---- Dense conv2d, backward filter, Winograd F(3x3, 2x2) ---------------------------------------
// The filter gradient of a 3x3, stride-1 conv correlates the input with dy: per 2x2 block of dy
// ("tile") and the 4x4 input pixels under it, the dual of the forward algorithm gives
//   dw = G^T [ (A dy A^T) . (B^T d B) ] G
// with the matrices of the forward F(2x2, 3x3) above. Summing over tiles moves inside the
// brackets, so for each of the 16 positions e a GEMM reduces over every tile of every image:
//   S[e][c, co] += V[e][tile, c]^T * D[e][tile, co],  V = B^T d B,  D = A dy A^T,
// and one final transform per (c, co) gives the 3x3 taps. 2.25 times fewer multiply-adds than
// the direct reduction.
// see: A. Lavin and S. Gray, "Fast algorithms for convolutional neural networks" (2016), on
// using F(3x3, 2x2) for the filter gradient.
//
// work layout of the Winograd path of f32_conv2d_backward_filter:
//   S        [16][C][COP]         the sums, zeroed first
//   V        [16][TILE_BLOCK][CP] one block of transformed input tiles
//   D        [16][TILE_BLOCK][COP] the same block's transformed dy tiles
//   padded   [Hp, Wp, C]          as in the forward Winograd path
// with PLANE_SKEW floats after each plane of V and D, as in the forward path.

/**
 * D = A dy A^T for 4 channels (or the first `count`) of the 2x2 dy tile at `dy` (rows
 * `rowBytes`, pixels `pixelBytes` apart; only `rows` x `cols` of it exist, the rest is zero).
 * Position e of the result goes to d + e * planeBytes.
 */
function winogradGradientTile(
  dy: usize, rowBytes: usize, pixelBytes: usize, rows: i32, cols: i32, count: i32,
  d: usize, planeBytes: usize,
): void {
  const vzero = vsplat(0);
  const a0 = loadLanes(dy, count);
  const b0 = cols > 1 ? loadLanes(dy + pixelBytes, count) : vzero;
  const a1 = rows > 1 ? loadLanes(dy + rowBytes, count) : vzero;
  const b1 = rows > 1 && cols > 1 ? loadLanes(dy + rowBytes + pixelBytes, count) : vzero;
  // A applied to each row [a, b]: [a, a + b, a - b, -b].
  const r00 = a0;
  const r01 = f32x4.add(a0, b0);
  const r02 = f32x4.sub(a0, b0);
  const r03 = f32x4.neg(b0);
  const r10 = a1;
  const r11 = f32x4.add(a1, b1);
  const r12 = f32x4.sub(a1, b1);
  const r13 = f32x4.neg(b1);
  // Then to each column [r0k, r1k].
  vstore(d, r00);
  vstore(d + planeBytes, r01);
  vstore(d + 2 * planeBytes, r02);
  vstore(d + 3 * planeBytes, r03);
  vstore(d + 4 * planeBytes, f32x4.add(r00, r10));
  vstore(d + 5 * planeBytes, f32x4.add(r01, r11));
  vstore(d + 6 * planeBytes, f32x4.add(r02, r12));
  vstore(d + 7 * planeBytes, f32x4.add(r03, r13));
  vstore(d + 8 * planeBytes, f32x4.sub(r00, r10));
  vstore(d + 9 * planeBytes, f32x4.sub(r01, r11));
  vstore(d + 10 * planeBytes, f32x4.sub(r02, r12));
  vstore(d + 11 * planeBytes, f32x4.sub(r03, r13));
  vstore(d + 12 * planeBytes, f32x4.neg(r10));
  vstore(d + 13 * planeBytes, f32x4.neg(r11));
  vstore(d + 14 * planeBytes, f32x4.neg(r12));
  vstore(d + 15 * planeBytes, f32x4.neg(r13));
}

/**
 * S[e] += V[e]^T * D[e] over a block of `tiles` tiles, for the 16 positions e: 2 input
 * channels x 16 output channels per register tile, reduced along the tiles.
 */
function winogradAccumulate(
  v: usize, d: usize, s: usize, tiles: i32, C: i32, CP: i32, COP: i32,
): void {
  const vRowBytes = <usize>CP << 2;
  const dRowBytes = <usize>COP << 2;
  const sRowBytes = <usize>COP << 2;
  for (let e = 0; e < 16; e++) {
    const ve = at(v, e * blockPlane(CP));
    const de = at(d, e * blockPlane(COP));
    const se = at(s, e * C * COP);
    for (let j = 0; j < COP; j += WIDE_PANEL) {
      for (let c = 0; c < C; c += 2) {
        // With C odd, the last pair reads channel c twice and adds it once.
        const second: usize = c + 1 < C ? 4 : 0;
        let pa = at(ve, c);
        let pb = at(de, j);
        let vacc0x0123 = vsplat(0);
        let vacc0x4567 = vsplat(0);
        let vacc0x89AB = vsplat(0);
        let vacc0xCDEF = vsplat(0);
        let vacc1x0123 = vsplat(0);
        let vacc1x4567 = vsplat(0);
        let vacc1x89AB = vsplat(0);
        let vacc1xCDEF = vsplat(0);
        for (let t = 0; t < tiles; t++) {
          const vb0123 = vload(pb);
          const vb4567 = vload(pb + 16);
          const vb89AB = vload(pb + 32);
          const vbCDEF = vload(pb + 48);
          const va0 = vbroadcast(pa);
          vacc0x0123 = vmadd(va0, vb0123, vacc0x0123);
          vacc0x4567 = vmadd(va0, vb4567, vacc0x4567);
          vacc0x89AB = vmadd(va0, vb89AB, vacc0x89AB);
          vacc0xCDEF = vmadd(va0, vbCDEF, vacc0xCDEF);
          const va1 = vbroadcast(pa + second);
          vacc1x0123 = vmadd(va1, vb0123, vacc1x0123);
          vacc1x4567 = vmadd(va1, vb4567, vacc1x4567);
          vacc1x89AB = vmadd(va1, vb89AB, vacc1x89AB);
          vacc1xCDEF = vmadd(va1, vbCDEF, vacc1xCDEF);
          pa += vRowBytes;
          pb += dRowBytes;
        }
        const ps = at(se + <usize>c * sRowBytes, j);
        addRow8(ps, vacc0x0123, vacc0x4567, TILE_COLUMNS);
        addRow8(ps + 32, vacc0x89AB, vacc0xCDEF, TILE_COLUMNS);
        if (second != 0) {
          addRow8(ps + sRowBytes, vacc1x0123, vacc1x4567, TILE_COLUMNS);
          addRow8(ps + sRowBytes + 32, vacc1x89AB, vacc1xCDEF, TILE_COLUMNS);
        }
      }
    }
  }
}

/**
 * dw = G^T S G for 4 output channels (or the first `count`) of one input channel: position e
 * of S at s + e * planeBytes, tap (ky, kx) stored at dw + (ky*3 + kx) * tapBytes.
 */
function winogradFilterGradient(
  s: usize, planeBytes: usize, dw: usize, tapBytes: usize, count: i32,
): void {
  const vhalf = vsplat(0.5);
  // Each row [m0, m1, m2, m3] of S times G: [m0 + (m1 + m2)/2, (m1 - m2)/2, (m1 + m2)/2 + m3].
  let p = s;
  let m0 = vload(p);
  let m1 = vload(p + planeBytes);
  let m2 = vload(p + 2 * planeBytes);
  let m3 = vload(p + 3 * planeBytes);
  let sum = f32x4.mul(f32x4.add(m1, m2), vhalf);
  const q00 = f32x4.add(m0, sum);
  const q01 = f32x4.mul(f32x4.sub(m1, m2), vhalf);
  const q02 = f32x4.add(sum, m3);
  p += 4 * planeBytes;
  m0 = vload(p);
  m1 = vload(p + planeBytes);
  m2 = vload(p + 2 * planeBytes);
  m3 = vload(p + 3 * planeBytes);
  sum = f32x4.mul(f32x4.add(m1, m2), vhalf);
  const q10 = f32x4.add(m0, sum);
  const q11 = f32x4.mul(f32x4.sub(m1, m2), vhalf);
  const q12 = f32x4.add(sum, m3);
  p += 4 * planeBytes;
  m0 = vload(p);
  m1 = vload(p + planeBytes);
  m2 = vload(p + 2 * planeBytes);
  m3 = vload(p + 3 * planeBytes);
  sum = f32x4.mul(f32x4.add(m1, m2), vhalf);
  const q20 = f32x4.add(m0, sum);
  const q21 = f32x4.mul(f32x4.sub(m1, m2), vhalf);
  const q22 = f32x4.add(sum, m3);
  p += 4 * planeBytes;
  m0 = vload(p);
  m1 = vload(p + planeBytes);
  m2 = vload(p + 2 * planeBytes);
  m3 = vload(p + 3 * planeBytes);
  sum = f32x4.mul(f32x4.add(m1, m2), vhalf);
  const q30 = f32x4.add(m0, sum);
  const q31 = f32x4.mul(f32x4.sub(m1, m2), vhalf);
  const q32 = f32x4.add(sum, m3);
  // G^T times each column [q0k, q1k, q2k, q3k], the same combination.
  const sum0 = f32x4.mul(f32x4.add(q10, q20), vhalf);
  const sum1 = f32x4.mul(f32x4.add(q11, q21), vhalf);
  const sum2 = f32x4.mul(f32x4.add(q12, q22), vhalf);
  storeLanes(dw, f32x4.add(q00, sum0), count);
  storeLanes(dw + tapBytes, f32x4.add(q01, sum1), count);
  storeLanes(dw + 2 * tapBytes, f32x4.add(q02, sum2), count);
  storeLanes(dw + 3 * tapBytes, f32x4.mul(f32x4.sub(q10, q20), vhalf), count);
  storeLanes(dw + 4 * tapBytes, f32x4.mul(f32x4.sub(q11, q21), vhalf), count);
  storeLanes(dw + 5 * tapBytes, f32x4.mul(f32x4.sub(q12, q22), vhalf), count);
  storeLanes(dw + 6 * tapBytes, f32x4.add(sum0, q30), count);
  storeLanes(dw + 7 * tapBytes, f32x4.add(sum1, q31), count);
  storeLanes(dw + 8 * tapBytes, f32x4.add(sum2, q32), count);
}

/** f32_conv2d_backward_filter for a 3x3 filter with stride 1 and no dilation. */
function conv2dBackwardFilterWinograd(
  x: usize, dy: usize, dw: usize,
  N: i32, H: i32, W: i32, C: i32, CO: i32, padTop: i32, padLeft: i32, OH: i32, OW: i32,
  work: usize,
): void {
  const COP = roundUp(CO, WIDE_PANEL);
  const CP = roundUp(C, 4);
  const TW = (OW + 1) >> 1;
  const T = ((OH + 1) >> 1) * TW;
  const Hp = 2 * ((OH + 1) >> 1) + 2;
  const Wp = 2 * TW + 2;
  const padded = needsPadding(H, W, Hp, Wp, padTop, padLeft);
  const srcW = padded ? Wp : W;

  const s = work;
  const v = at(s, 16 * C * COP);
  const d = at(v, 16 * blockPlane(CP));
  const paddedImage = at(d, 16 * blockPlane(COP));

  memory.fill(s, 0, <usize>(16 * C * COP) << 2);
  if (padded) memory.fill(paddedImage, 0, <usize>(Hp * Wp * C) << 2);
  const pixelBytes = <usize>C << 2;
  const rowBytes = <usize>(srcW * C) << 2;
  const vPlaneBytes = <usize>blockPlane(CP) << 2;
  const dPlaneBytes = <usize>blockPlane(COP) << 2;
  const dyPixelBytes = <usize>CO << 2;
  const dyRowBytes = <usize>(OW * CO) << 2;
  for (let n = 0; n < N; n++) {
    let src = at(x, n * H * W * C);
    if (padded) {
      copyIntoPadded(src, paddedImage, H, W, C, Hp, Wp, padTop, padLeft);
      src = paddedImage;
    }
    const dyImage = at(dy, n * OH * OW * CO);
    for (let t0 = 0; t0 < T; t0 += TILE_BLOCK) {
      const tiles = min(TILE_BLOCK, T - t0);
      winogradInputTiles(src, rowBytes, pixelBytes, TW, t0, tiles, C, CP, v, vPlaneBytes);
      for (let t = 0; t < tiles; t++) {
        const ty = (t0 + t) / TW;
        const tx = t0 + t - ty * TW;
        const rows = min(2, OH - 2 * ty);
        const cols = min(2, OW - 2 * tx);
        const pdy = dyImage + <usize>(2 * ty) * dyRowBytes + <usize>(2 * tx) * dyPixelBytes;
        // Channels past CO get zero rows of D, so that the 16-wide panels read no garbage.
        for (let co = 0; co < COP; co += 4) {
          const count = CO - co;
          if (count > 0) {
            winogradGradientTile(
              at(pdy, co), dyRowBytes, dyPixelBytes, rows, cols, count,
              at(d, t * COP + co), dPlaneBytes,
            );
          } else {
            const pz = at(d, t * COP + co);
            for (let e: usize = 0; e < 16; e++) vstore(pz + e * dPlaneBytes, vsplat(0));
          }
        }
      }
      winogradAccumulate(v, d, s, tiles, C, CP, COP);
    }
  }
  const planeBytes = <usize>(C * COP) << 2;
  const tapBytes = <usize>(C * CO) << 2;
  for (let c = 0; c < C; c++) {
    for (let co = 0; co < CO; co += 4) {
      winogradFilterGradient(
        at(s, c * COP + co), planeBytes, at(dw, c * CO + co), tapBytes, min(4, CO - co),
      );
    }
  }
}

// ---- Depthwise conv2d ---------------------------------------------------------------------------
// Output channel k = c*M + m reads input channel c = k / M. With M == 1 (the usual case) a
// vector of 4 output channels reads 4 adjacent input channels, so every loop runs over
// channels 16 at a time (4 vectors), then 4, then one by one. With M > 1 a vector's 4 inputs
// are gathered lane by lane (forward), or the work is scalar (backward): correct, not fast.
// These kernels take no work buffer, so taps outside the image are excluded by computing, per
// output pixel, the range of taps that land inside it; all channels share that range.

/** The first tap t of [0, taps) whose input origin + t*dilation is >= 0. */
// @ts-ignore: decorator
@inline function firstTap(origin: i32, taps: i32, dilation: i32): i32 {
  return origin >= 0 ? 0 : min(taps, (dilation - 1 - origin) / dilation);
}

/** One past the last tap t of [0, taps) whose input origin + t*dilation is < size. */
// @ts-ignore: decorator
@inline function endTap(origin: i32, taps: i32, dilation: i32, size: i32): i32 {
  return origin >= size ? 0 : min(taps, (size - origin + dilation - 1) / dilation);
}

/**
 * y[N,OH,OW,C*M] = act(depthwise(x, w) + bias). Per output pixel and block of channels, the
 * accumulators stay in registers over the pixel's valid taps; x and w advance by pointer steps.
 */
export function f32_depthwise_conv2d(
  x: usize, w: usize, bias: usize, y: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, M: i32,
  strideH: i32, strideW: i32, dilationH: i32, dilationW: i32,
  padTop: i32, padLeft: i32, OH: i32, OW: i32,
  act: i32, actAlpha: f32,
): void {
  const CM = C * M;
  if (N <= 0 || OH <= 0 || OW <= 0 || CM <= 0) return;
  const xColStep = <usize>(dilationW * C) << 2;
  const xRowStep = <usize>(dilationH * W * C) << 2;
  const wColStep = <usize>CM << 2;
  const wRowStep = <usize>(KW * CM) << 2;
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < OH; oy++) {
      const iy = oy * strideH - padTop;
      const ky0 = firstTap(iy, KH, dilationH);
      const ky1 = endTap(iy, KH, dilationH, H);
      for (let ox = 0; ox < OW; ox++) {
        const ix = ox * strideW - padLeft;
        const kx0 = firstTap(ix, KW, dilationW);
        const kx1 = endTap(ix, KW, dilationW, W);
        const py = at(y, ((n * OH + oy) * OW + ox) * CM);
        // The first valid tap's input pixel and filter row (not read when no tap is valid).
        const xTap = at(x, ((n * H + iy + ky0 * dilationH) * W + ix + kx0 * dilationW) * C);
        const wTap = at(w, (ky0 * KW + kx0) * CM);
        let k = 0;
        if (M == 1) {
          for (; k + 16 <= CM; k += 16) {
            let vacc0123 = bias != 0 ? vload(at(bias, k)) : vsplat(0);
            let vacc4567 = bias != 0 ? vload(at(bias, k + 4)) : vsplat(0);
            let vacc89AB = bias != 0 ? vload(at(bias, k + 8)) : vsplat(0);
            let vaccCDEF = bias != 0 ? vload(at(bias, k + 12)) : vsplat(0);
            let xRow = at(xTap, k);
            let wRow = at(wTap, k);
            for (let ky = ky0; ky < ky1; ky++) {
              let px = xRow;
              let pw = wRow;
              for (let kx = kx0; kx < kx1; kx++) {
                vacc0123 = vmadd(vload(px), vload(pw), vacc0123);
                vacc4567 = vmadd(vload(px + 16), vload(pw + 16), vacc4567);
                vacc89AB = vmadd(vload(px + 32), vload(pw + 32), vacc89AB);
                vaccCDEF = vmadd(vload(px + 48), vload(pw + 48), vaccCDEF);
                px += xColStep;
                pw += wColStep;
              }
              xRow += xRowStep;
              wRow += wRowStep;
            }
            storeActivated16(at(py, k), vacc0123, vacc4567, vacc89AB, vaccCDEF, 16, act, actAlpha);
          }
          for (; k + 4 <= CM; k += 4) {
            let vacc = bias != 0 ? vload(at(bias, k)) : vsplat(0);
            let xRow = at(xTap, k);
            let wRow = at(wTap, k);
            for (let ky = ky0; ky < ky1; ky++) {
              let px = xRow;
              let pw = wRow;
              for (let kx = kx0; kx < kx1; kx++) {
                vacc = vmadd(vload(px), vload(pw), vacc);
                px += xColStep;
                pw += wColStep;
              }
              xRow += xRowStep;
              wRow += wRowStep;
            }
            vstore(at(py, k), activate4(act, vacc, actAlpha));
          }
        } else {
          for (; k + 4 <= CM; k += 4) {
            // Lane i reads input channel (k + i) / M.
            const c0 = at(0, k / M);
            const c1 = at(0, (k + 1) / M);
            const c2 = at(0, (k + 2) / M);
            const c3 = at(0, (k + 3) / M);
            let vacc = bias != 0 ? vload(at(bias, k)) : vsplat(0);
            let xRow = xTap;
            let wRow = at(wTap, k);
            for (let ky = ky0; ky < ky1; ky++) {
              let px = xRow;
              let pw = wRow;
              for (let kx = kx0; kx < kx1; kx++) {
                let vx = vbroadcast(px + c0);
                vx = f32x4.replace_lane(vx, 1, load<f32>(px + c1));
                vx = f32x4.replace_lane(vx, 2, load<f32>(px + c2));
                vx = f32x4.replace_lane(vx, 3, load<f32>(px + c3));
                vacc = vmadd(vx, vload(pw), vacc);
                px += xColStep;
                pw += wColStep;
              }
              xRow += xRowStep;
              wRow += wRowStep;
            }
            vstore(at(py, k), activate4(act, vacc, actAlpha));
          }
        }
        // Leftover channels, one at a time.
        for (; k < CM; k++) {
          let acc: f32 = bias != 0 ? load<f32>(at(bias, k)) : 0;
          let xRow = at(xTap, k / M);
          let wRow = at(wTap, k);
          for (let ky = ky0; ky < ky1; ky++) {
            let px = xRow;
            let pw = wRow;
            for (let kx = kx0; kx < kx1; kx++) {
              acc += load<f32>(px) * load<f32>(pw);
              px += xColStep;
              pw += wColStep;
            }
            xRow += xRowStep;
            wRow += wRowStep;
          }
          store<f32>(at(py, k), activate(act, acc, actAlpha));
        }
      }
    }
  }
}

/**
 * dx[n, iy, ix, c] = sum over output pixels, taps and m of dy[pixel, c*M + m] * w[tap, c*M + m],
 * as a scatter: dx is zeroed, then each output pixel adds dy * w into the input pixels under
 * its valid taps. dy's vectors stay in registers over the taps; dx is read-modify-written.
 */
export function f32_depthwise_conv2d_backward_data(
  dy: usize, w: usize, dx: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, M: i32,
  strideH: i32, strideW: i32, dilationH: i32, dilationW: i32,
  padTop: i32, padLeft: i32, OH: i32, OW: i32,
): void {
  const CM = C * M;
  if (N <= 0 || H <= 0 || W <= 0 || C <= 0) return;
  memory.fill(dx, 0, <usize>(N * H * W * C) << 2);
  if (OH <= 0 || OW <= 0 || M <= 0) return;
  const xColStep = <usize>(dilationW * C) << 2;
  const xRowStep = <usize>(dilationH * W * C) << 2;
  const wColStep = <usize>CM << 2;
  const wRowStep = <usize>(KW * CM) << 2;
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < OH; oy++) {
      const iy = oy * strideH - padTop;
      const ky0 = firstTap(iy, KH, dilationH);
      const ky1 = endTap(iy, KH, dilationH, H);
      for (let ox = 0; ox < OW; ox++) {
        const ix = ox * strideW - padLeft;
        const kx0 = firstTap(ix, KW, dilationW);
        const kx1 = endTap(ix, KW, dilationW, W);
        const pdy = at(dy, ((n * OH + oy) * OW + ox) * CM);
        const dxTap = at(dx, ((n * H + iy + ky0 * dilationH) * W + ix + kx0 * dilationW) * C);
        const wTap = at(w, (ky0 * KW + kx0) * CM);
        let c = 0;
        if (M == 1) {
          for (; c + 16 <= C; c += 16) {
            const vdy0123 = vload(at(pdy, c));
            const vdy4567 = vload(at(pdy, c + 4));
            const vdy89AB = vload(at(pdy, c + 8));
            const vdyCDEF = vload(at(pdy, c + 12));
            let dxRow = at(dxTap, c);
            let wRow = at(wTap, c);
            for (let ky = ky0; ky < ky1; ky++) {
              let px = dxRow;
              let pw = wRow;
              for (let kx = kx0; kx < kx1; kx++) {
                vstore(px, vmadd(vdy0123, vload(pw), vload(px)));
                vstore(px + 16, vmadd(vdy4567, vload(pw + 16), vload(px + 16)));
                vstore(px + 32, vmadd(vdy89AB, vload(pw + 32), vload(px + 32)));
                vstore(px + 48, vmadd(vdyCDEF, vload(pw + 48), vload(px + 48)));
                px += xColStep;
                pw += wColStep;
              }
              dxRow += xRowStep;
              wRow += wRowStep;
            }
          }
          for (; c + 4 <= C; c += 4) {
            const vdy = vload(at(pdy, c));
            let dxRow = at(dxTap, c);
            let wRow = at(wTap, c);
            for (let ky = ky0; ky < ky1; ky++) {
              let px = dxRow;
              let pw = wRow;
              for (let kx = kx0; kx < kx1; kx++) {
                vstore(px, vmadd(vdy, vload(pw), vload(px)));
                px += xColStep;
                pw += wColStep;
              }
              dxRow += xRowStep;
              wRow += wRowStep;
            }
          }
        }
        // Leftover input channels (every channel when M > 1): the M products of a tap summed.
        for (; c < C; c++) {
          let dxRow = at(dxTap, c);
          let wRow = at(wTap, c * M);
          const pdyc = at(pdy, c * M);
          for (let ky = ky0; ky < ky1; ky++) {
            let px = dxRow;
            let pw = wRow;
            for (let kx = kx0; kx < kx1; kx++) {
              let sum: f32 = 0;
              for (let m = 0; m < M; m++) sum += load<f32>(at(pdyc, m)) * load<f32>(at(pw, m));
              store<f32>(px, load<f32>(px) + sum);
              px += xColStep;
              pw += wColStep;
            }
            dxRow += xRowStep;
            wRow += wRowStep;
          }
        }
      }
    }
  }
}

/**
 * dw[ky, kx, k] = sum over images and output pixels of x[tap input, k / M] * dy[pixel, k].
 * For each output row and tap, a block of channels accumulates in registers along the row's
 * pixels whose tap lands inside the image, then is added into dw, which is zeroed first.
 */
export function f32_depthwise_conv2d_backward_filter(
  x: usize, dy: usize, dw: usize,
  N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32, M: i32,
  strideH: i32, strideW: i32, dilationH: i32, dilationW: i32,
  padTop: i32, padLeft: i32, OH: i32, OW: i32,
): void {
  const CM = C * M;
  if (CM <= 0 || KH <= 0 || KW <= 0) return;
  memory.fill(dw, 0, <usize>(KH * KW * CM) << 2);
  if (N <= 0 || OH <= 0 || OW <= 0) return;
  const xStep = <usize>(strideW * C) << 2;
  const dyStep = <usize>CM << 2;
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < OH; oy++) {
      const dyRow = at(dy, (n * OH + oy) * OW * CM);
      const iyOrigin = oy * strideH - padTop;
      const ky1 = endTap(iyOrigin, KH, dilationH, H);
      for (let ky = firstTap(iyOrigin, KH, dilationH); ky < ky1; ky++) {
        const xRow = at(x, (n * H + iyOrigin + ky * dilationH) * W * C);
        for (let kx = 0; kx < KW; kx++) {
          // Output pixels ox in [ox0, ox1) read columns inside the image for this tap: as taps
          // of a window at column kx*dilationW - padLeft with "dilation" strideW.
          const shift = kx * dilationW - padLeft;
          const ox0 = firstTap(shift, OW, strideW);
          const ox1 = endTap(shift, OW, strideW, W);
          if (ox0 >= ox1) continue;
          const px0 = at(xRow, (ox0 * strideW + shift) * C);
          const pdy0 = at(dyRow, ox0 * CM);
          const pdw = at(dw, (ky * KW + kx) * CM);
          let k = 0;
          if (M == 1) {
            for (; k + 16 <= CM; k += 16) {
              let vacc0123 = vsplat(0);
              let vacc4567 = vsplat(0);
              let vacc89AB = vsplat(0);
              let vaccCDEF = vsplat(0);
              let px = at(px0, k);
              let pdy = at(pdy0, k);
              for (let ox = ox0; ox < ox1; ox++) {
                vacc0123 = vmadd(vload(px), vload(pdy), vacc0123);
                vacc4567 = vmadd(vload(px + 16), vload(pdy + 16), vacc4567);
                vacc89AB = vmadd(vload(px + 32), vload(pdy + 32), vacc89AB);
                vaccCDEF = vmadd(vload(px + 48), vload(pdy + 48), vaccCDEF);
                px += xStep;
                pdy += dyStep;
              }
              addLanes(at(pdw, k), vacc0123, 4);
              addLanes(at(pdw, k + 4), vacc4567, 4);
              addLanes(at(pdw, k + 8), vacc89AB, 4);
              addLanes(at(pdw, k + 12), vaccCDEF, 4);
            }
            for (; k + 4 <= CM; k += 4) {
              let vacc = vsplat(0);
              let px = at(px0, k);
              let pdy = at(pdy0, k);
              for (let ox = ox0; ox < ox1; ox++) {
                vacc = vmadd(vload(px), vload(pdy), vacc);
                px += xStep;
                pdy += dyStep;
              }
              addLanes(at(pdw, k), vacc, 4);
            }
          }
          // Leftover channels (every channel when M > 1), one at a time.
          for (; k < CM; k++) {
            let acc: f32 = 0;
            let px = at(px0, k / M);
            let pdy = at(pdy0, k);
            for (let ox = ox0; ox < ox1; ox++) {
              acc += load<f32>(px) * load<f32>(pdy);
              px += xStep;
              pdy += dyStep;
            }
            store<f32>(at(pdw, k), load<f32>(at(pdw, k)) + acc);
          }
        }
      }
    }
  }
}
