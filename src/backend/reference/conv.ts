// Reference convolution kernels: the specification of assembly/conv.ts. Every output element
// is a float64 sum over the taps that land inside the input; taps in the padding read zero.
//
// Index conventions (row-major):
//   x, dx    [N, H, W, C]        element ((n*H + iy)*W + ix)*C + c
//   y, dy    [N, OH, OW, CO]     element ((n*OH + oy)*OW + ox)*CO + co
//   w, dw    [KH, KW, C, CO]     element ((ky*KW + kx)*C + c)*CO + co   (HWIO)
//   depthwise w [KH, KW, C, M]   output channel c*M + m, element (ky*KW + kx)*C*M + c*M + m
// Output pixel (oy, ox) reads input row iy = oy*strideH - padTop + ky*dilationH (likewise x).

import type { Window2D } from '../geometry.js';
import type { Heap } from '../heap.js';
import type { Kernels, Ptr } from '../kernels.js';
import { activate } from './activation.js';

type ConvKernels = Pick<
  Kernels,
  | 'f32_conv2d'
  | 'f32_conv2d_backward_data'
  | 'f32_conv2d_backward_filter'
  | 'f32_depthwise_conv2d'
  | 'f32_depthwise_conv2d_backward_data'
  | 'f32_depthwise_conv2d_backward_filter'
>;

/**
 * Calls `tap(ky, kx, xPixel, yPixel)` for every (output pixel, filter tap) pair whose
 * input pixel lies inside the image. xPixel / yPixel are flat pixel indices (n*H + iy)*W + ix and
 * (n*OH + oy)*OW + ox; multiply by the channel count for an element index.
 */
function forEachTap(
  g: Window2D,
  tap: (ky: number, kx: number, xPixel: number, yPixel: number) => void,
): void {
  for (let n = 0; n < g.N; n++) {
    for (let oy = 0; oy < g.OH; oy++) {
      for (let ox = 0; ox < g.OW; ox++) {
        const yPixel = (n * g.OH + oy) * g.OW + ox;
        for (let ky = 0; ky < g.KH; ky++) {
          const iy = oy * g.strideH - g.padTop + ky * g.dilationH;
          if (iy < 0 || iy >= g.H) continue;
          for (let kx = 0; kx < g.KW; kx++) {
            const ix = ox * g.strideW - g.padLeft + kx * g.dilationW;
            if (ix < 0 || ix >= g.W) continue;
            tap(ky, kx, (n * g.H + iy) * g.W + ix, yPixel);
          }
        }
      }
    }
  }
}

/** Writes float64 sums into an f32 buffer (rounding once, at the end). */
function writeSums(heap: Heap, ptr: Ptr, sums: Float64Array): void {
  heap.f32.set(sums, ptr >> 2);
}

export function convReference(heap: Heap): ConvKernels {
  return {
    f32_conv2d(
      x, w, bias, y, N, H, W, C, KH, KW, CO, strideH, strideW, dilationH, dilationW,
      padTop, padLeft, OH, OW, act, actAlpha, work,
    ) {
      void work;
      const g: Window2D = {
        N, H, W, C, KH, KW, strideH, strideW, dilationH, dilationW, padTop, padLeft, OH, OW,
      };
      const f = heap.f32;
      const [xi, wi, bi] = [x >> 2, w >> 2, bias >> 2];
      const sums = new Float64Array(N * OH * OW * CO);
      forEachTap(g, (ky, kx, xPixel, yPixel) => {
        for (let co = 0; co < CO; co++) {
          let acc = 0;
          for (let c = 0; c < C; c++) {
            acc += f[xi + xPixel * C + c] * f[wi + ((ky * KW + kx) * C + c) * CO + co];
          }
          sums[yPixel * CO + co] += acc;
        }
      });
      for (let i = 0; i < sums.length; i++) {
        const b = bias === 0 ? 0 : f[bi + (i % CO)];
        sums[i] = activate(act, sums[i] + b, actAlpha);
      }
      writeSums(heap, y, sums);
    },

    f32_conv2d_backward_data(
      dy, w, dx, N, H, W, C, KH, KW, CO, strideH, strideW, dilationH, dilationW,
      padTop, padLeft, OH, OW, work,
    ) {
      void work;
      const g: Window2D = {
        N, H, W, C, KH, KW, strideH, strideW, dilationH, dilationW, padTop, padLeft, OH, OW,
      };
      const f = heap.f32;
      const [dyi, wi] = [dy >> 2, w >> 2];
      // dx[xPixel, c] = sum over taps reaching it of sum_co dy[yPixel, co] * w[ky, kx, c, co].
      const sums = new Float64Array(N * H * W * C);
      forEachTap(g, (ky, kx, xPixel, yPixel) => {
        for (let c = 0; c < C; c++) {
          let acc = 0;
          for (let co = 0; co < CO; co++) {
            acc += f[dyi + yPixel * CO + co] * f[wi + ((ky * KW + kx) * C + c) * CO + co];
          }
          sums[xPixel * C + c] += acc;
        }
      });
      writeSums(heap, dx, sums);
    },

    f32_conv2d_backward_filter(
      x, dy, dw, N, H, W, C, KH, KW, CO, strideH, strideW, dilationH, dilationW,
      padTop, padLeft, OH, OW, work,
    ) {
      void work;
      const g: Window2D = {
        N, H, W, C, KH, KW, strideH, strideW, dilationH, dilationW, padTop, padLeft, OH, OW,
      };
      const f = heap.f32;
      const [xi, dyi] = [x >> 2, dy >> 2];
      // dw[ky, kx, c, co] = sum over output pixels of x[tap input, c] * dy[pixel, co].
      const sums = new Float64Array(KH * KW * C * CO);
      forEachTap(g, (ky, kx, xPixel, yPixel) => {
        for (let c = 0; c < C; c++) {
          const xv = f[xi + xPixel * C + c];
          const row = ((ky * KW + kx) * C + c) * CO;
          for (let co = 0; co < CO; co++) sums[row + co] += xv * f[dyi + yPixel * CO + co];
        }
      });
      writeSums(heap, dw, sums);
    },

    f32_depthwise_conv2d(
      x, w, bias, y, N, H, W, C, KH, KW, M, strideH, strideW, dilationH, dilationW,
      padTop, padLeft, OH, OW, act, actAlpha,
    ) {
      const g: Window2D = {
        N, H, W, C, KH, KW, strideH, strideW, dilationH, dilationW, padTop, padLeft, OH, OW,
      };
      const f = heap.f32;
      const [xi, wi, bi] = [x >> 2, w >> 2, bias >> 2];
      const CM = C * M;
      const sums = new Float64Array(N * OH * OW * CM);
      forEachTap(g, (ky, kx, xPixel, yPixel) => {
        for (let c = 0; c < C; c++) {
          for (let m = 0; m < M; m++) {
            const k = c * M + m;
            sums[yPixel * CM + k] += f[xi + xPixel * C + c] * f[wi + (ky * KW + kx) * CM + k];
          }
        }
      });
      for (let i = 0; i < sums.length; i++) {
        const b = bias === 0 ? 0 : f[bi + (i % CM)];
        sums[i] = activate(act, sums[i] + b, actAlpha);
      }
      writeSums(heap, y, sums);
    },

    f32_depthwise_conv2d_backward_data(
      dy, w, dx, N, H, W, C, KH, KW, M, strideH, strideW, dilationH, dilationW,
      padTop, padLeft, OH, OW,
    ) {
      const g: Window2D = {
        N, H, W, C, KH, KW, strideH, strideW, dilationH, dilationW, padTop, padLeft, OH, OW,
      };
      const f = heap.f32;
      const [dyi, wi] = [dy >> 2, w >> 2];
      const CM = C * M;
      const sums = new Float64Array(N * H * W * C);
      forEachTap(g, (ky, kx, xPixel, yPixel) => {
        for (let c = 0; c < C; c++) {
          for (let m = 0; m < M; m++) {
            const k = c * M + m;
            sums[xPixel * C + c] += f[dyi + yPixel * CM + k] * f[wi + (ky * KW + kx) * CM + k];
          }
        }
      });
      writeSums(heap, dx, sums);
    },

    f32_depthwise_conv2d_backward_filter(
      x, dy, dw, N, H, W, C, KH, KW, M, strideH, strideW, dilationH, dilationW,
      padTop, padLeft, OH, OW,
    ) {
      const g: Window2D = {
        N, H, W, C, KH, KW, strideH, strideW, dilationH, dilationW, padTop, padLeft, OH, OW,
      };
      const f = heap.f32;
      const [xi, dyi] = [x >> 2, dy >> 2];
      const CM = C * M;
      const sums = new Float64Array(KH * KW * CM);
      forEachTap(g, (ky, kx, xPixel, yPixel) => {
        for (let c = 0; c < C; c++) {
          for (let m = 0; m < M; m++) {
            const k = c * M + m;
            sums[(ky * KW + kx) * CM + k] += f[xi + xPixel * C + c] * f[dyi + yPixel * CM + k];
          }
        }
      });
      writeSums(heap, dw, sums);
    },
  };
}
