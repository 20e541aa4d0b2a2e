// RandomTranslation, RandomRotation, RandomZoom and Normalization: what they compute, against
// plain loops.

import { describe, expect, it } from 'vitest';
import { Normalization, RandomRotation, RandomTranslation, RandomZoom, type FillMode } from '../../src/layers/preprocessing.js';
import { tensor } from '../../src/tensor.js';
import { Random } from '../../src/util/random.js';

/** The shift RandomTranslation draws, replayed from the same generator (whole pixels unless `exact`). */
function shifts(seed: number, n: number, h: number, w: number, hf: [number, number], wf: [number, number], exact = false): [number, number][] {
  const rng = new Random(seed);
  const round = exact ? (v: number) => v : Math.round;
  const draw = (r: [number, number], size: number) => round((r[0] + rng.uniform() * (r[1] - r[0])) * size);
  return Array.from({ length: n }, () => {
    const dy = draw(hf, h);
    return [dy, draw(wf, w)];
  });
}

/** Where pixel index i reads from under a fill mode, or -1 for the constant fill. */
function source(i: number, size: number, fillMode: FillMode): number {
  if (i >= 0 && i < size) return i;
  if (fillMode === 'constant') return -1;
  if (fillMode === 'nearest') return i < 0 ? 0 : size - 1;
  if (fillMode === 'wrap') return (i + 10 * size) % size;
  // reflect: ... c b a | a b c ... | c b a ...  (one reflection is enough for these sizes)
  return i < 0 ? -i - 1 : 2 * size - 1 - i;
}

/** Channel ch of image b at the real point (y, x): the rounded pixel or the four around it. */
function sample(
  img: (r: number, col: number) => number, y: number, x: number, h: number, w: number,
  interpolation: 'nearest' | 'bilinear', fillMode: FillMode, fillValue: number,
): number {
  const pixel = (r: number, col: number) => {
    const sr = source(r, h, fillMode);
    const sc = source(col, w, fillMode);
    return sr < 0 || sc < 0 ? fillValue : img(sr, sc);
  };
  if (interpolation === 'nearest') return pixel(Math.round(y), Math.round(x));
  const [y0, x0] = [Math.floor(y), Math.floor(x)];
  const [fy, fx] = [y - y0, x - x0];
  return (1 - fy) * ((1 - fx) * pixel(y0, x0) + fx * pixel(y0, x0 + 1)) + fy * ((1 - fx) * pixel(y0 + 1, x0) + fx * pixel(y0 + 1, x0 + 1));
}

describe('RandomTranslation', () => {
  const [n, h, w, c] = [3, 5, 6, 2];
  const x = Float32Array.from({ length: n * h * w * c }, (_, i) => i + 1);
  const at = (b: number, r: number, col: number, ch: number) => x[((b * h + r) * w + col) * c + ch];

  it('is the identity at inference', () => {
    const layer = new RandomTranslation({ heightFactor: 0.5 });
    const y = layer.apply([tensor(x, [n, h, w, c])], { training: false, rng: new Random(1) });
    expect(y.dataSync()).toEqual(x);
  });

  for (const fillMode of ['constant', 'nearest', 'wrap', 'reflect'] as const) {
    it(`shifts each image by whole pixels while training (fill ${fillMode})`, () => {
      const hf: [number, number] = [-0.4, 0.4];
      const wf: [number, number] = [-0.5, 0.2];
      const layer = new RandomTranslation({ heightFactor: hf, widthFactor: wf, fillMode, fillValue: -7 });
      const y = layer.apply([tensor(x, [n, h, w, c])], { training: true, rng: new Random(9) }).dataSync();
      let moved = 0;
      shifts(9, n, h, w, hf, wf).forEach(([dy, dx], b) => {
        if (dy !== 0 || dx !== 0) moved++;
        for (let r = 0; r < h; r++) {
          for (let col = 0; col < w; col++) {
            for (let ch = 0; ch < c; ch++) {
              const sr = source(r - dy, h, fillMode);
              const sc = source(col - dx, w, fillMode);
              const expected = sr < 0 || sc < 0 ? -7 : at(b, sr, sc, ch);
              expect(y[((b * h + r) * w + col) * c + ch], `image ${b} (${dy}, ${dx}) at ${r},${col},${ch}`).toBe(expected);
            }
          }
        }
      });
      expect(moved).toBeGreaterThan(0);
    });
  }

  for (const fillMode of ['constant', 'reflect'] as const) {
    it(`shifts by fractions of a pixel with bilinear interpolation (fill ${fillMode})`, () => {
      const hf: [number, number] = [-0.3, 0.3];
      const wf: [number, number] = [-0.25, 0.35];
      const layer = new RandomTranslation({ heightFactor: hf, widthFactor: wf, fillMode, fillValue: -7, interpolation: 'bilinear' });
      const y = layer.apply([tensor(x, [n, h, w, c])], { training: true, rng: new Random(4) }).dataSync();
      let fractional = 0;
      shifts(4, n, h, w, hf, wf, true).forEach(([dy, dx], b) => {
        if (!Number.isInteger(dy) && !Number.isInteger(dx)) fractional++;
        for (let r = 0; r < h; r++) {
          for (let col = 0; col < w; col++) {
            for (let ch = 0; ch < c; ch++) {
              const expected = sample((sr, sc) => at(b, sr, sc, ch), r - dy, col - dx, h, w, 'bilinear', fillMode, -7);
              expect(y[((b * h + r) * w + col) * c + ch], `image ${b} (${dy}, ${dx}) at ${r},${col},${ch}`).toBeCloseTo(expected, 4);
            }
          }
        }
      });
      expect(fractional).toBe(n);
    });
  }

  it('rejects factors outside [-1, 1], unknown fill modes and interpolations', () => {
    expect(() => new RandomTranslation({ heightFactor: 1.5 })).toThrow(/heightFactor to be a fraction in \[-1, 1\].*got 1.5/);
    expect(() => new RandomTranslation({ heightFactor: [0.3, 0.1] })).toThrow(/lower <= upper, got \[0.3,0.1\]/);
    expect(() => new RandomTranslation({ heightFactor: 0.1, fillMode: 'mirror' as never })).toThrow(/fillMode one of constant, reflect, nearest, wrap, got 'mirror'/);
    expect(() => new RandomTranslation({ heightFactor: 0.1, interpolation: 'bicubic' as never })).toThrow(/interpolation one of nearest, bilinear, got 'bicubic'/);
    const layer = new RandomTranslation({ heightFactor: 0.1 });
    expect(() => layer.apply([tensor(new Float32Array(6), [2, 3])], { training: true, rng: new Random(1) })).toThrow(/expected images of shape \(batch, height, width, channels\).*got \(None, 3\)/);
  });
});

describe('RandomRotation and RandomZoom', () => {
  const [n, h, w, c] = [3, 5, 6, 2];
  const x = Float32Array.from({ length: n * h * w * c }, (_, i) => Math.sin(i) * 3 + i / 10);
  const image = (b: number, ch: number) => (r: number, col: number) => x[((b * h + r) * w + col) * c + ch];

  /** Checks every output value against `point`, the real (y, x) each output pixel of image b reads. */
  function expectResampled(
    y: Float32Array, point: (b: number, r: number, col: number) => [number, number],
    interpolation: 'nearest' | 'bilinear', fillMode: FillMode, fillValue: number,
  ): void {
    for (let b = 0; b < n; b++) {
      for (let r = 0; r < h; r++) {
        for (let col = 0; col < w; col++) {
          const [yIn, xIn] = point(b, r, col);
          for (let ch = 0; ch < c; ch++) {
            const expected = sample(image(b, ch), yIn, xIn, h, w, interpolation, fillMode, fillValue);
            expect(y[((b * h + r) * w + col) * c + ch], `image ${b} at ${r},${col},${ch} reads (${yIn}, ${xIn})`).toBeCloseTo(expected, 4);
          }
        }
      }
    }
  }

  for (const interpolation of ['bilinear', 'nearest'] as const) {
    for (const fillMode of ['constant', 'nearest', 'wrap', 'reflect'] as const) {
      it(`RandomRotation turns each image about its centre (${interpolation}, fill ${fillMode})`, () => {
        const factor: [number, number] = [-0.2, 0.1];
        const layer = new RandomRotation({ factor, fillMode, interpolation, fillValue: -7 });
        const y = layer.apply([tensor(x, [n, h, w, c])], { training: true, rng: new Random(4) }).dataSync();
        const rng = new Random(4);
        const angles = Array.from({ length: n }, () => (factor[0] + rng.uniform() * (factor[1] - factor[0])) * 2 * Math.PI);
        const [cy, cx] = [(h - 1) / 2, (w - 1) / 2];
        expectResampled(y, (b, r, col) => {
          const [cos, sin] = [Math.cos(angles[b]), Math.sin(angles[b])];
          return [cy + sin * (col - cx) + cos * (r - cy), cx + cos * (col - cx) - sin * (r - cy)];
        }, interpolation, fillMode, -7);
      });

      it(`RandomZoom scales each image about its centre (${interpolation}, fill ${fillMode})`, () => {
        const hf: [number, number] = [-0.4, 0.5];
        const wf: [number, number] = [-0.3, 0.3];
        const layer = new RandomZoom({ heightFactor: hf, widthFactor: wf, fillMode, interpolation, fillValue: -7 });
        const y = layer.apply([tensor(x, [n, h, w, c])], { training: true, rng: new Random(8) }).dataSync();
        const rng = new Random(8);
        const zooms = Array.from({ length: n }, () => {
          const zy = 1 + hf[0] + rng.uniform() * (hf[1] - hf[0]);
          return [zy, 1 + wf[0] + rng.uniform() * (wf[1] - wf[0])];
        });
        const [cy, cx] = [(h - 1) / 2, (w - 1) / 2];
        expectResampled(y, (b, r, col) => [cy + zooms[b][0] * (r - cy), cx + zooms[b][1] * (col - cx)], interpolation, fillMode, -7);
      });
    }
  }

  it('a quarter turn is numpy.rot90 (counter-clockwise), as in Keras', () => {
    const s = 4;
    const img = Float32Array.from({ length: s * s }, (_, i) => i);
    const layer = new RandomRotation({ factor: [0.25, 0.25], interpolation: 'nearest' });
    const y = layer.apply([tensor(img, [1, s, s, 1])], { training: true, rng: new Random(1) }).dataSync();
    // rot90(A)[r][col] = A[col][s - 1 - r]: the last column becomes the first row.
    for (let r = 0; r < s; r++) for (let col = 0; col < s; col++) expect(y[r * s + col]).toBe(img[col * s + (s - 1 - r)]);
    const bilinear = new RandomRotation({ factor: [0.25, 0.25] });
    const yb = bilinear.apply([tensor(img, [1, s, s, 1])], { training: true, rng: new Random(1) }).dataSync();
    yb.forEach((v, i) => expect(v).toBeCloseTo(y[i], 5));
  });

  it('RandomZoom without widthFactor zooms both axes by one draw; zoom 1 and inference are the identity', () => {
    const hf: [number, number] = [-0.5, 0.5];
    const layer = new RandomZoom({ heightFactor: hf, fillMode: 'constant' });
    const y = layer.apply([tensor(x, [n, h, w, c])], { training: true, rng: new Random(2) }).dataSync();
    const rng = new Random(2);
    const zooms = Array.from({ length: n }, () => 1 + hf[0] + rng.uniform() * (hf[1] - hf[0]));
    const [cy, cx] = [(h - 1) / 2, (w - 1) / 2];
    expectResampled(y, (b, r, col) => [cy + zooms[b] * (r - cy), cx + zooms[b] * (col - cx)], 'bilinear', 'constant', 0);
    const still = new RandomZoom({ heightFactor: [0, 0] });
    const same = still.apply([tensor(x, [n, h, w, c])], { training: true, rng: new Random(2) }).dataSync();
    same.forEach((v, i) => expect(v).toBeCloseTo(x[i], 5));
    const atInference = layer.apply([tensor(x, [n, h, w, c])], { training: false, rng: new Random(2) });
    expect(atInference.dataSync()).toEqual(x);
    expect(new RandomRotation({ factor: 0.3 }).apply([tensor(x, [n, h, w, c])], { training: false, rng: new Random(2) }).dataSync()).toEqual(x);
  });

  it('rejects bad factors, fill modes, interpolations and input shapes', () => {
    expect(() => new RandomRotation({ factor: [0.2, -0.2] })).toThrow(/RandomRotation.*factor to be a fraction in \[-1, 1\].*got \[0.2,-0.2\]/);
    expect(() => new RandomZoom({ heightFactor: 0.1, widthFactor: -2 })).toThrow(/RandomZoom.*widthFactor to be a fraction in \[-1, 1\].*got -2/);
    expect(() => new RandomZoom({ heightFactor: 0.1, fillMode: 'mirror' as never })).toThrow(/RandomZoom.*fillMode one of constant, reflect, nearest, wrap, got 'mirror'/);
    expect(() => new RandomRotation({ factor: 0.1, interpolation: 'bicubic' as never })).toThrow(/RandomRotation.*interpolation one of nearest, bilinear, got 'bicubic'/);
    const layer = new RandomZoom({ heightFactor: 0.1 });
    expect(() => layer.apply([tensor(new Float32Array(12), [2, 2, 3])], { training: true, rng: new Random(1) })).toThrow(/RandomZoom.*expected images of shape \(batch, height, width, channels\).*got \(None, 2, 3\)/);
  });
});

describe('Normalization', () => {
  it('adapt() sets mean and variance per feature, and call() standardizes', () => {
    const rows = [[1, 10, -2], [3, 30, -2], [5, 20, 4], [7, 40, 2]];
    const layer = new Normalization();
    layer.adapt(rows);
    const y = layer.apply([tensor(rows)], { training: false, rng: new Random(1) }).dataSync();
    for (let f = 0; f < 3; f++) {
      const column = rows.map((r) => r[f]);
      const mean = column.reduce((a, b) => a + b) / 4;
      const variance = column.reduce((a, b) => a + (b - mean) ** 2, 0) / 4;
      expect(layer.mean.read()[f]).toBeCloseTo(mean, 5);
      expect(layer.variance.read()[f]).toBeCloseTo(variance, 4);
      rows.forEach((r, i) => expect(y[i * 3 + f]).toBeCloseTo((r[f] - mean) / Math.sqrt(variance), 5));
    }
    expect(layer.count.read()[0]).toBe(4);
  });

  it('adapt() after the layer is built updates its weights; wrong feature counts and NaN are refused', () => {
    const layer = new Normalization({ mean: 0, variance: 1 });
    layer.apply([tensor([[1, 2]])], { training: false, rng: new Random(1) });
    layer.adapt(tensor([[0, 4], [2, 8]]));
    expect(Array.from(layer.mean.read())).toEqual([1, 6]);
    expect(() => layer.adapt(tensor([[1, 2, 3]]))).toThrow(/expected data with 2 features \(the last axis\), got 3/);
    expect(() => layer.adapt([[1, NaN]])).toThrow(/expected finite data, found NaN at flat index 1/);
    expect(() => new Normalization({ mean: [1, 2] })).toThrow(/both mean and variance, or neither/);
  });
});
