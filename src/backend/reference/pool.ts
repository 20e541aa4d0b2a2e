// Reference pooling: the definition of the f32_*pool2d kernels, one output element at a time.
//
// Geometry (NHWC): output pixel (oy, ox) of image n looks at input rows
// oy * strideH - padTop + ky, ky < KH, and columns ox * strideW - padLeft + kx, kx < KW.
// Positions outside the input are not part of the window at all (TensorFlow's convention):
// padding never wins a max and is not counted in an average. A window with no input element
// gives 0, and its dy goes nowhere.
//
// Max pooling compares with `v > best`, starting from the window's first element in row-major
// order (ky, then kx). So ties go to the first maximum, and so does the gradient; a NaN wins
// only when it comes first. The wasm kernels keep exactly this rule (f32x4.pmax, f32x4.gt).

import type { Heap } from '../heap.js';
import type { Kernels } from '../kernels.js';

/** The input positions of one output pixel's window, clipped to the image: [y0, y1) x [x0, x1). */
interface Span { y0: number; y1: number; x0: number; x1: number }

function clippedWindow(
  oy: number, ox: number, H: number, W: number, KH: number, KW: number,
  strideH: number, strideW: number, padTop: number, padLeft: number,
): Span {
  const top = oy * strideH - padTop;
  const left = ox * strideW - padLeft;
  return {
    y0: Math.max(top, 0), y1: Math.min(top + KH, H),
    x0: Math.max(left, 0), x1: Math.min(left + KW, W),
  };
}

type PoolKernels =
  'f32_maxpool2d' | 'f32_maxpool2d_backward' | 'f32_avgpool2d' | 'f32_avgpool2d_backward';

export function poolReference(heap: Heap): Pick<Kernels, PoolKernels> {
  /** Flat heap index of x[n, iy, ix, c] for a tensor at byte pointer `p` of height H, width W. */
  const index = (p: number, n: number, iy: number, ix: number, c: number,
    H: number, W: number, C: number) => (p >> 2) + ((n * H + iy) * W + ix) * C + c;

  /** Heap index of the first maximum of one window and channel, or -1 for an empty window. */
  function firstMax(
    f32: Float32Array, x: number, n: number, c: number, s: Span, H: number, W: number, C: number,
  ): number {
    let arg = -1;
    for (let iy = s.y0; iy < s.y1; iy++) {
      for (let ix = s.x0; ix < s.x1; ix++) {
        const i = index(x, n, iy, ix, c, H, W, C);
        if (arg < 0 || f32[i] > f32[arg]) arg = i;
      }
    }
    return arg;
  }

  return {
    f32_maxpool2d(x, y, N, H, W, C, KH, KW, strideH, strideW, padTop, padLeft, OH, OW) {
      const f32 = heap.f32;
      for (let n = 0; n < N; n++) {
        for (let oy = 0; oy < OH; oy++) {
          for (let ox = 0; ox < OW; ox++) {
            const s = clippedWindow(oy, ox, H, W, KH, KW, strideH, strideW, padTop, padLeft);
            for (let c = 0; c < C; c++) {
              const arg = firstMax(f32, x, n, c, s, H, W, C);
              f32[index(y, n, oy, ox, c, OH, OW, C)] = arg < 0 ? 0 : f32[arg];
            }
          }
        }
      }
    },

    f32_maxpool2d_backward(
      x, dy, dx, N, H, W, C, KH, KW, strideH, strideW, padTop, padLeft, OH, OW,
    ) {
      const f32 = heap.f32;
      // dx is an output: overwritten, then every dy adds into its window's first maximum.
      const dx0 = dx >> 2;
      const grad = new Float64Array(N * H * W * C);
      for (let n = 0; n < N; n++) {
        for (let oy = 0; oy < OH; oy++) {
          for (let ox = 0; ox < OW; ox++) {
            const s = clippedWindow(oy, ox, H, W, KH, KW, strideH, strideW, padTop, padLeft);
            for (let c = 0; c < C; c++) {
              const arg = firstMax(f32, x, n, c, s, H, W, C);
              if (arg >= 0) grad[arg - (x >> 2)] += f32[index(dy, n, oy, ox, c, OH, OW, C)];
            }
          }
        }
      }
      f32.set(grad, dx0);
    },

    f32_avgpool2d(x, y, N, H, W, C, KH, KW, strideH, strideW, padTop, padLeft, OH, OW) {
      const f32 = heap.f32;
      for (let n = 0; n < N; n++) {
        for (let oy = 0; oy < OH; oy++) {
          for (let ox = 0; ox < OW; ox++) {
            const s = clippedWindow(oy, ox, H, W, KH, KW, strideH, strideW, padTop, padLeft);
            const count = Math.max(s.y1 - s.y0, 0) * Math.max(s.x1 - s.x0, 0);
            for (let c = 0; c < C; c++) {
              let sum = 0;
              for (let iy = s.y0; iy < s.y1; iy++) {
                for (let ix = s.x0; ix < s.x1; ix++) sum += f32[index(x, n, iy, ix, c, H, W, C)];
              }
              f32[index(y, n, oy, ox, c, OH, OW, C)] = count > 0 ? sum / count : 0;
            }
          }
        }
      }
    },

    f32_avgpool2d_backward(dy, dx, N, H, W, C, KH, KW, strideH, strideW, padTop, padLeft, OH, OW) {
      const f32 = heap.f32;
      // Each window element receives dy / count, where count is the window's clipped size.
      const grad = new Float64Array(N * H * W * C);
      for (let n = 0; n < N; n++) {
        for (let oy = 0; oy < OH; oy++) {
          for (let ox = 0; ox < OW; ox++) {
            const s = clippedWindow(oy, ox, H, W, KH, KW, strideH, strideW, padTop, padLeft);
            const count = Math.max(s.y1 - s.y0, 0) * Math.max(s.x1 - s.x0, 0);
            if (count === 0) continue;
            for (let c = 0; c < C; c++) {
              const share = f32[index(dy, n, oy, ox, c, OH, OW, C)] / count;
              for (let iy = s.y0; iy < s.y1; iy++) {
                for (let ix = s.x0; ix < s.x1; ix++) grad[index(0, n, iy, ix, c, H, W, C)] += share;
              }
            }
          }
        }
      }
      f32.set(grad, dx >> 2);
    },
  };
}
