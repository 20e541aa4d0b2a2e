// Max and average pooling over NHWC images, vectorized over channels.
//
// Geometry (shared with conv): input x[N,H,W,C], output y[N,OH,OW,C]; output pixel (oy, ox)
// looks at input rows oy*strideH - padTop + ky (ky < KH) and columns ox*strideW - padLeft + kx.
// The window is clipped to the image first (TensorFlow's convention): padding never wins a max
// and is not counted in an average, and a window with nothing left gives 0.
//
// In NHWC the C channels of one pixel are contiguous, so a window is a small grid of
// contiguous channel vectors, `rowBytes` apart vertically and `colBytes` apart horizontally:
//
//   pwin ──> | c0 c1 c2 c3 | c4 .. c7 | ... | c(C-1) |   pixel (y0, x0)      <- colBytes ->
//            | c0 c1 c2 c3 | ...                      |   pixel (y0, x0 + 1)
//            ...                                           (rowBytes later: row y0 + 1)
//
// Every output pixel is reduced over its clipped window one channel block at a time: 16
// channels (four v128 accumulators, enough loads in flight to keep the memory system busy),
// then 4, then the leftover channels one by one.
//
// Max pooling uses f32x4.pmax(best, v) = best < v ? v : best, which is also the scalar rule
// `v > best`, starting from the window's first element in row-major order (ky, then kx): ties
// keep the first maximum, a NaN wins only when it comes first, and the backward pass routes dy
// to that same element. pmax is also a single instruction on x86 (maxps), where f32x4.max needs
// extra work to propagate NaNs.
// see: XNNPACK src/f32-maxpool (channel-vectorized NHWC pooling); the TypeScript reference in
//      src/backend/reference/pool.ts is the specification.

import { vload, vsplat, vstore, VLANES } from './simd';

/** Channels per block of the main loops: four v128 accumulators. */
const BLOCK: i32 = 16;

// @ts-ignore: decorator
@inline function vcombine(vacc: v128, v: v128, isMax: bool): v128 {
  return isMax ? f32x4.pmax(vacc, v) : f32x4.add(vacc, v);
}

// @ts-ignore: decorator
@inline function combine(acc: f32, v: f32, isMax: bool): f32 {
  return isMax ? (v > acc ? v : acc) : acc + v;
}

/**
 * Reduces one clipped window of `rows` x `cols` pixels starting at `pwin` into C values at `py`
 * (max, or sum times `scale`). Starts from the first element, so neither reduction needs an
 * identity value and an all -Infinity window stays -Infinity.
 */
// @ts-ignore: decorator
@inline function reduceWindow(
  pwin: usize, py: usize, C: i32, rows: i32, cols: i32, rowBytes: usize, colBytes: usize,
  scale: f32, isMax: bool,
): void {
  const vscale = vsplat(scale);
  let c = 0;
  for (; c + BLOCK <= C; c += BLOCK) {
    const pc = pwin + (<usize>c << 2);
    let vacc0 = vload(pc);
    let vacc1 = vload(pc + 16);
    let vacc2 = vload(pc + 32);
    let vacc3 = vload(pc + 48);
    let prow = pc;
    for (let ky = 0; ky < rows; ky++, prow += rowBytes) {
      // The first element seeded the accumulators: row 0 starts at kx = 1.
      for (let kx = select(1, 0, ky == 0); kx < cols; kx++) {
        const p = prow + <usize>kx * colBytes;
        vacc0 = vcombine(vacc0, vload(p), isMax);
        vacc1 = vcombine(vacc1, vload(p + 16), isMax);
        vacc2 = vcombine(vacc2, vload(p + 32), isMax);
        vacc3 = vcombine(vacc3, vload(p + 48), isMax);
      }
    }
    const q = py + (<usize>c << 2);
    if (!isMax) {
      vacc0 = f32x4.mul(vacc0, vscale);
      vacc1 = f32x4.mul(vacc1, vscale);
      vacc2 = f32x4.mul(vacc2, vscale);
      vacc3 = f32x4.mul(vacc3, vscale);
    }
    vstore(q, vacc0);
    vstore(q + 16, vacc1);
    vstore(q + 32, vacc2);
    vstore(q + 48, vacc3);
  }
  for (; c + VLANES <= C; c += VLANES) {
    const pc = pwin + (<usize>c << 2);
    let vacc = vload(pc);
    let prow = pc;
    for (let ky = 0; ky < rows; ky++, prow += rowBytes) {
      for (let kx = select(1, 0, ky == 0); kx < cols; kx++) {
        vacc = vcombine(vacc, vload(prow + <usize>kx * colBytes), isMax);
      }
    }
    vstore(py + (<usize>c << 2), isMax ? vacc : f32x4.mul(vacc, vscale));
  }
  for (; c < C; c++) {
    const pc = pwin + (<usize>c << 2);
    let acc = load<f32>(pc);
    let prow = pc;
    for (let ky = 0; ky < rows; ky++, prow += rowBytes) {
      for (let kx = select(1, 0, ky == 0); kx < cols; kx++) {
        acc = combine(acc, load<f32>(prow + <usize>kx * colBytes), isMax);
      }
    }
    store<f32>(py + (<usize>c << 2), isMax ? acc : acc * scale);
  }
}

/**
 * The max of a full 2x2 window (the common 2x2 / stride 2 pooling, and any window clipped to
 * 2x2): four loads and three pmax per vector, no window loops.
 */
// @ts-ignore: decorator
@inline function maxWindow2x2(
  pwin: usize, py: usize, C: i32, rowBytes: usize, colBytes: usize,
): void {
  const p00 = pwin;
  const p01 = pwin + colBytes;
  const p10 = pwin + rowBytes;
  const p11 = p10 + colBytes;
  let o: usize = 0;
  const blockEnd = <usize>(C & ~(BLOCK - 1)) << 2;
  for (; o < blockEnd; o += <usize>BLOCK << 2) {
    // Row-major order: (0,0), (0,1), (1,0), (1,1), so ties keep the first maximum.
    const vmax0 = f32x4.pmax(f32x4.pmax(vload(p00 + o), vload(p01 + o)),
      f32x4.pmax(vload(p10 + o), vload(p11 + o)));
    const vmax1 = f32x4.pmax(f32x4.pmax(vload(p00 + o + 16), vload(p01 + o + 16)),
      f32x4.pmax(vload(p10 + o + 16), vload(p11 + o + 16)));
    const vmax2 = f32x4.pmax(f32x4.pmax(vload(p00 + o + 32), vload(p01 + o + 32)),
      f32x4.pmax(vload(p10 + o + 32), vload(p11 + o + 32)));
    const vmax3 = f32x4.pmax(f32x4.pmax(vload(p00 + o + 48), vload(p01 + o + 48)),
      f32x4.pmax(vload(p10 + o + 48), vload(p11 + o + 48)));
    vstore(py + o, vmax0);
    vstore(py + o + 16, vmax1);
    vstore(py + o + 32, vmax2);
    vstore(py + o + 48, vmax3);
  }
  const vecEnd = <usize>(C & ~(VLANES - 1)) << 2;
  for (; o < vecEnd; o += 16) {
    vstore(py + o, f32x4.pmax(f32x4.pmax(vload(p00 + o), vload(p01 + o)),
      f32x4.pmax(vload(p10 + o), vload(p11 + o))));
  }
  const end = <usize>C << 2;
  for (; o < end; o += 4) {
    const top = combine(load<f32>(p00 + o), load<f32>(p01 + o), true);
    const bottom = combine(load<f32>(p10 + o), load<f32>(p11 + o), true);
    store<f32>(py + o, combine(top, bottom, true));
  }
}

/** y = max over each window of x (NHWC); see the geometry at the top of this file. */
export function f32_maxpool2d(
  x: usize, y: usize, N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32,
  strideH: i32, strideW: i32, padTop: i32, padLeft: i32, OH: i32, OW: i32,
): void {
  const colBytes = <usize>C << 2;
  const rowBytes = <usize>W * colBytes;
  let py = y;
  for (let n = 0; n < N; n++) {
    const image = x + <usize>n * <usize>H * rowBytes;
    for (let oy = 0; oy < OH; oy++) {
      const top = oy * strideH - padTop;
      const y0 = max(top, 0);
      const rows = min(top + KH, H) - y0;
      for (let ox = 0; ox < OW; ox++, py += colBytes) {
        const left = ox * strideW - padLeft;
        const x0 = max(left, 0);
        const cols = min(left + KW, W) - x0;
        if (rows <= 0 || cols <= 0) {
          memory.fill(py, 0, colBytes);
          continue;
        }
        const pwin = image + <usize>y0 * rowBytes + <usize>x0 * colBytes;
        if (rows == 2 && cols == 2) maxWindow2x2(pwin, py, C, rowBytes, colBytes);
        else reduceWindow(pwin, py, C, rows, cols, rowBytes, colBytes, 1, true);
      }
    }
  }
}

/** y = mean over each clipped window of x; the count excludes padding. */
export function f32_avgpool2d(
  x: usize, y: usize, N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32,
  strideH: i32, strideW: i32, padTop: i32, padLeft: i32, OH: i32, OW: i32,
): void {
  const colBytes = <usize>C << 2;
  const rowBytes = <usize>W * colBytes;
  let py = y;
  for (let n = 0; n < N; n++) {
    const image = x + <usize>n * <usize>H * rowBytes;
    for (let oy = 0; oy < OH; oy++) {
      const top = oy * strideH - padTop;
      const y0 = max(top, 0);
      const rows = min(top + KH, H) - y0;
      for (let ox = 0; ox < OW; ox++, py += colBytes) {
        const left = ox * strideW - padLeft;
        const x0 = max(left, 0);
        const cols = min(left + KW, W) - x0;
        if (rows <= 0 || cols <= 0) {
          memory.fill(py, 0, colBytes);
          continue;
        }
        const pwin = image + <usize>y0 * rowBytes + <usize>x0 * colBytes;
        const scale = <f32>1 / <f32>(rows * cols);
        reduceWindow(pwin, py, C, rows, cols, rowBytes, colBytes, scale, false);
      }
    }
  }
}

/**
 * dx = dy routed to the first maximum of each window, summed where windows overlap.
 *
 * Per output pixel and channel block, pass 1 walks the clipped window in row-major order and
 * keeps, per lane, the best value and its position k in the window (an i32 lane, replaced only
 * where f32x4.gt says the new value is strictly greater, so the first maximum stays). Pass 2
 * walks the window again and gives each position dy in the lanes whose winner is k, and 0 in
 * the others: plain vector loads and stores, with no lane extraction and no scatter.
 *
 * When the windows tile the input exactly (stride == window and the last window reaches the
 * far edge, as in the usual 2x2 / stride 2 pooling) every dx element belongs to exactly one
 * window, so pass 2 simply stores and dx needs no zero fill first. Otherwise dx is zeroed and
 * pass 2 adds, which also sums overlapping windows.
 */
export function f32_maxpool2d_backward(
  x: usize, dy: usize, dx: usize, N: i32, H: i32, W: i32, C: i32,
  KH: i32, KW: i32, strideH: i32, strideW: i32,
  padTop: i32, padLeft: i32, OH: i32, OW: i32,
): void {
  const colBytes = <usize>C << 2;
  const rowBytes = <usize>W * colBytes;
  const imageBytes = <usize>H * rowBytes;
  // Windows of stride == size cover the rows [-padTop, OH * KH - padTop) without overlap.
  const tiled = strideH == KH && strideW == KW && padTop >= 0 && padLeft >= 0 &&
    OH * KH - padTop >= H && OW * KW - padLeft >= W;
  if (!tiled) memory.fill(dx, 0, <usize>N * imageBytes);
  let pdy = dy;
  for (let n = 0; n < N; n++) {
    const image = <usize>n * imageBytes; // the same offset into x and dx
    for (let oy = 0; oy < OH; oy++) {
      const top = oy * strideH - padTop;
      const y0 = max(top, 0);
      const rows = min(top + KH, H) - y0;
      for (let ox = 0; ox < OW; ox++, pdy += colBytes) {
        const left = ox * strideW - padLeft;
        const x0 = max(left, 0);
        const cols = min(left + KW, W) - x0;
        if (rows <= 0 || cols <= 0) continue; // an empty window has no input to route to
        const win = image + <usize>y0 * rowBytes + <usize>x0 * colBytes;
        let c = 0;
        for (; c + BLOCK <= C; c += BLOCK) {
          const o = win + (<usize>c << 2);
          // Pass 1: per lane, the value and window position of the first maximum. Position 0
          // seeds it and is visited again, harmlessly: gt(x, x) is false.
          let vbest0 = vload(x + o);
          let vbest1 = vload(x + o + 16);
          let vbest2 = vload(x + o + 32);
          let vbest3 = vload(x + o + 48);
          let vk0 = i32x4.splat(0);
          let vk1 = vk0;
          let vk2 = vk0;
          let vk3 = vk0;
          let k = 0;
          let prow = x + o;
          for (let ky = 0; ky < rows; ky++, prow += rowBytes) {
            for (let kx = 0; kx < cols; kx++, k++) {
              const p = prow + <usize>kx * colBytes;
              const vkhere = i32x4.splat(k);
              const vx0 = vload(p);
              const vx1 = vload(p + 16);
              const vx2 = vload(p + 32);
              const vx3 = vload(p + 48);
              vk0 = v128.bitselect(vkhere, vk0, f32x4.gt(vx0, vbest0));
              vk1 = v128.bitselect(vkhere, vk1, f32x4.gt(vx1, vbest1));
              vk2 = v128.bitselect(vkhere, vk2, f32x4.gt(vx2, vbest2));
              vk3 = v128.bitselect(vkhere, vk3, f32x4.gt(vx3, vbest3));
              vbest0 = f32x4.pmax(vbest0, vx0);
              vbest1 = f32x4.pmax(vbest1, vx1);
              vbest2 = f32x4.pmax(vbest2, vx2);
              vbest3 = f32x4.pmax(vbest3, vx3);
            }
          }
          // Pass 2: dy where the winner is k, 0 elsewhere.
          const q = pdy + (<usize>c << 2);
          const vdy0 = vload(q);
          const vdy1 = vload(q + 16);
          const vdy2 = vload(q + 32);
          const vdy3 = vload(q + 48);
          k = 0;
          prow = dx + o;
          for (let ky = 0; ky < rows; ky++, prow += rowBytes) {
            for (let kx = 0; kx < cols; kx++, k++) {
              const p = prow + <usize>kx * colBytes;
              const vkhere = i32x4.splat(k);
              const vgrad0 = v128.and(vdy0, i32x4.eq(vk0, vkhere));
              const vgrad1 = v128.and(vdy1, i32x4.eq(vk1, vkhere));
              const vgrad2 = v128.and(vdy2, i32x4.eq(vk2, vkhere));
              const vgrad3 = v128.and(vdy3, i32x4.eq(vk3, vkhere));
              vstore(p, tiled ? vgrad0 : f32x4.add(vload(p), vgrad0));
              vstore(p + 16, tiled ? vgrad1 : f32x4.add(vload(p + 16), vgrad1));
              vstore(p + 32, tiled ? vgrad2 : f32x4.add(vload(p + 32), vgrad2));
              vstore(p + 48, tiled ? vgrad3 : f32x4.add(vload(p + 48), vgrad3));
            }
          }
        }
        for (; c + VLANES <= C; c += VLANES) {
          const o = win + (<usize>c << 2);
          let vbest = vload(x + o);
          let vk = i32x4.splat(0);
          let k = 0;
          let prow = x + o;
          for (let ky = 0; ky < rows; ky++, prow += rowBytes) {
            for (let kx = 0; kx < cols; kx++, k++) {
              const vx = vload(prow + <usize>kx * colBytes);
              vk = v128.bitselect(i32x4.splat(k), vk, f32x4.gt(vx, vbest));
              vbest = f32x4.pmax(vbest, vx);
            }
          }
          const vdy = vload(pdy + (<usize>c << 2));
          k = 0;
          prow = dx + o;
          for (let ky = 0; ky < rows; ky++, prow += rowBytes) {
            for (let kx = 0; kx < cols; kx++, k++) {
              const p = prow + <usize>kx * colBytes;
              const vgrad = v128.and(vdy, i32x4.eq(vk, i32x4.splat(k)));
              vstore(p, tiled ? vgrad : f32x4.add(vload(p), vgrad));
            }
          }
        }
        for (; c < C; c++) {
          const o = win + (<usize>c << 2);
          let best = load<f32>(x + o);
          let arg = o;
          let prow = o;
          for (let ky = 0; ky < rows; ky++, prow += rowBytes) {
            for (let kx = 0; kx < cols; kx++) {
              const p = prow + <usize>kx * colBytes;
              const v = load<f32>(x + p);
              if (v > best) {
                best = v;
                arg = p;
              }
            }
          }
          const grad = load<f32>(pdy + (<usize>c << 2));
          prow = o;
          for (let ky = 0; ky < rows; ky++, prow += rowBytes) {
            for (let kx = 0; kx < cols; kx++) {
              const p = prow + <usize>kx * colBytes;
              const share: f32 = p == arg ? grad : 0;
              store<f32>(dx + p, tiled ? share : load<f32>(dx + p) + share);
            }
          }
        }
      }
    }
  }
}

/**
 * dx = each dy spread evenly over its clipped window, summed where windows overlap.
 *
 * Written as a gather rather than a scatter: each input pixel takes dy / count from each
 * output window that contains it, so dx is written pixel by pixel, with no zero fill first
 * and no read-modify-write outside the pixel being built. Output row oy covers input row iy
 * when oy*strideH - padTop <= iy < oy*strideH - padTop + KH, that is
 * ceil((iy + padTop - KH + 1) / strideH) <= oy <= floor((iy + padTop) / strideH).
 */
export function f32_avgpool2d_backward(
  dy: usize, dx: usize, N: i32, H: i32, W: i32, C: i32, KH: i32, KW: i32,
  strideH: i32, strideW: i32, padTop: i32, padLeft: i32, OH: i32, OW: i32,
): void {
  const colBytes = <usize>C << 2;
  const outRowBytes = <usize>OW * colBytes;
  let pdx = dx;
  for (let n = 0; n < N; n++) {
    const image = dy + <usize>n * <usize>OH * outRowBytes;
    for (let iy = 0; iy < H; iy++) {
      const oy0 = max(ceilDiv(iy + padTop - KH + 1, strideH), 0);
      const oy1 = min(floorDiv(iy + padTop, strideH) + 1, OH);
      for (let ix = 0; ix < W; ix++, pdx += colBytes) {
        const ox0 = max(ceilDiv(ix + padLeft - KW + 1, strideW), 0);
        const ox1 = min(floorDiv(ix + padLeft, strideW) + 1, OW);
        if (oy0 >= oy1 || ox0 >= ox1) {
          memory.fill(pdx, 0, colBytes); // in no window (a stride larger than the window)
          continue;
        }
        // The first window stores, the others add: all within this one pixel's C values.
        let first = true;
        for (let oy = oy0; oy < oy1; oy++) {
          const rows = windowSize(oy, strideH, padTop, KH, H);
          for (let ox = ox0; ox < ox1; ox++) {
            const share = <f32>1 / <f32>(rows * windowSize(ox, strideW, padLeft, KW, W));
            const pdy = image + <usize>oy * outRowBytes + <usize>ox * colBytes;
            if (first) addScaled(pdx, pdy, share, C, false);
            else addScaled(pdx, pdy, share, C, true);
            first = false;
          }
        }
      }
    }
  }
}

/** dx[c] = dy[c] * share (accumulate: dx[c] += dy[c] * share) for the C channels of a pixel. */
// @ts-ignore: decorator
@inline function addScaled(pdx: usize, pdy: usize, share: f32, C: i32, accumulate: bool): void {
  const vshare = vsplat(share);
  let o: usize = 0;
  const blockEnd = <usize>(C & ~(BLOCK - 1)) << 2;
  for (; o < blockEnd; o += <usize>BLOCK << 2) {
    const vgrad0 = f32x4.mul(vload(pdy + o), vshare);
    const vgrad1 = f32x4.mul(vload(pdy + o + 16), vshare);
    const vgrad2 = f32x4.mul(vload(pdy + o + 32), vshare);
    const vgrad3 = f32x4.mul(vload(pdy + o + 48), vshare);
    vstore(pdx + o, accumulate ? f32x4.add(vload(pdx + o), vgrad0) : vgrad0);
    vstore(pdx + o + 16, accumulate ? f32x4.add(vload(pdx + o + 16), vgrad1) : vgrad1);
    vstore(pdx + o + 32, accumulate ? f32x4.add(vload(pdx + o + 32), vgrad2) : vgrad2);
    vstore(pdx + o + 48, accumulate ? f32x4.add(vload(pdx + o + 48), vgrad3) : vgrad3);
  }
  const vecEnd = <usize>(C & ~(VLANES - 1)) << 2;
  for (; o < vecEnd; o += 16) {
    const vgrad = f32x4.mul(vload(pdy + o), vshare);
    vstore(pdx + o, accumulate ? f32x4.add(vload(pdx + o), vgrad) : vgrad);
  }
  const end = <usize>C << 2;
  for (; o < end; o += 4) {
    const grad = load<f32>(pdy + o) * share;
    store<f32>(pdx + o, accumulate ? load<f32>(pdx + o) + grad : grad);
  }
}

/** The number of input positions in window `o` along one axis, after clipping to [0, size). */
// @ts-ignore: decorator
@inline function windowSize(o: i32, stride: i32, pad: i32, kernel: i32, size: i32): i32 {
  const start = o * stride - pad;
  return min(start + kernel, size) - max(start, 0);
}

// @ts-ignore: decorator
@inline function floorDiv(a: i32, b: i32): i32 {
  const q = a / b;
  return q - i32((a % b != 0) & ((a ^ b) < 0));
}

// @ts-ignore: decorator
@inline function ceilDiv(a: i32, b: i32): i32 {
  return -floorDiv(-a, b);
}
