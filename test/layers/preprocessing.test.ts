// RandomTranslation and Normalization: what they compute, against plain loops.

import { describe, expect, it } from 'vitest';
import { Normalization, RandomTranslation } from '../../src/layers/preprocessing.js';
import { tensor } from '../../src/tensor.js';
import { Random } from '../../src/util/random.js';

/** The shift RandomTranslation draws, replayed from the same generator. */
function shifts(seed: number, n: number, h: number, w: number, hf: [number, number], wf: [number, number]): [number, number][] {
  const rng = new Random(seed);
  const draw = (r: [number, number], size: number) => Math.round((r[0] + rng.uniform() * (r[1] - r[0])) * size);
  return Array.from({ length: n }, () => {
    const dy = draw(hf, h);
    return [dy, draw(wf, w)];
  });
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
      const source = (i: number, size: number): number => {
        if (i >= 0 && i < size) return i;
        if (fillMode === 'constant') return -1;
        if (fillMode === 'nearest') return i < 0 ? 0 : size - 1;
        if (fillMode === 'wrap') return (i + 10 * size) % size;
        // reflect: ... c b a | a b c ... | c b a ...
        return i < 0 ? -i - 1 : 2 * size - 1 - i;
      };
      let moved = 0;
      shifts(9, n, h, w, hf, wf).forEach(([dy, dx], b) => {
        if (dy !== 0 || dx !== 0) moved++;
        for (let r = 0; r < h; r++) {
          for (let col = 0; col < w; col++) {
            for (let ch = 0; ch < c; ch++) {
              const sr = source(r - dy, h);
              const sc = source(col - dx, w);
              const expected = sr < 0 || sc < 0 ? -7 : at(b, sr, sc, ch);
              expect(y[((b * h + r) * w + col) * c + ch], `image ${b} (${dy}, ${dx}) at ${r},${col},${ch}`).toBe(expected);
            }
          }
        }
      });
      expect(moved).toBeGreaterThan(0);
    });
  }

  it('rejects factors outside [-1, 1], unknown fill modes and bilinear interpolation', () => {
    expect(() => new RandomTranslation({ heightFactor: 1.5 })).toThrow(/heightFactor to be a fraction in \[-1, 1\].*got 1.5/);
    expect(() => new RandomTranslation({ heightFactor: [0.3, 0.1] })).toThrow(/lower <= upper, got \[0.3,0.1\]/);
    expect(() => new RandomTranslation({ heightFactor: 0.1, fillMode: 'mirror' as never })).toThrow(/fillMode one of constant, reflect, nearest, wrap, got 'mirror'/);
    expect(() => new RandomTranslation({ heightFactor: 0.1, interpolation: 'bilinear' as never })).toThrow(/interpolation 'nearest'.*got 'bilinear'/);
    const layer = new RandomTranslation({ heightFactor: 0.1 });
    expect(() => layer.apply([tensor(new Float32Array(6), [2, 3])], { training: true, rng: new Random(1) })).toThrow(/expected images of shape \(batch, height, width, channels\).*got \(None, 3\)/);
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
