// The example every Keras tutorial starts from, nearly verbatim, at a small input size.

import { describe, expect, it } from 'vitest';
import {
  Conv2D, Dense, Flatten, MaxPooling2D, Sequential, setRandomSeed, tensor,
} from '../../src/index.js';
import { Random } from '../../src/util/random.js';

/** Two classes of 12x12x3 images: a bright square in the left or the right half. */
function toyImages(n: number, seed: number) {
  const rng = new Random(seed);
  const size = 12;
  const x = new Float32Array(n * size * size * 3);
  const y = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const cx = label === 0 ? 2 + rng.int(3) : 7 + rng.int(3);
    const cy = 2 + rng.int(7);
    for (let k = 0; k < size * size * 3; k++) x[i * size * size * 3 + k] = rng.uniform() * 0.2;
    for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) for (let c = 0; c < 3; c++) {
      x[i * size * size * 3 + ((cy + dy) * size + (cx + dx)) * 3 + c] = 1;
    }
    y[i * 2 + label] = 1;
  }
  return { x: tensor(x, [n, size, size, 3]), y: tensor(y, [n, 2]) };
}

describe('the Keras convnet example', () => {
  it('compiles with Keras identifiers, fits, and learns', async () => {
    setRandomSeed(1);
    const model = new Sequential([
      new Conv2D({ filters: 32, kernelSize: [3, 3], activation: 'relu', inputShape: [12, 12, 3] }),
      new MaxPooling2D({ poolSize: [2, 2] }),
      new Flatten(),
      new Dense({ units: 2, activation: 'softmax' }),
    ]);
    model.compile({ optimizer: 'sgd', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
    const { x, y } = toyImages(64, 2);
    const history = await model.fit(x, y, { epochs: 10, batchSize: 16, verbose: 0 });
    expect(history.history.loss).toHaveLength(10);
    expect(history.history.loss[9]).toBeLessThan(history.history.loss[0]);
    const test = toyImages(32, 3);
    const result = model.evaluate(test.x, test.y);
    expect(result.accuracy).toBeGreaterThanOrEqual(0.9);
  });

  it('accepts camelCase names too', async () => {
    const model = new Sequential([new Dense({ units: 3, activation: 'softmax', inputShape: [4] })]);
    model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['categoricalAccuracy'] });
    const x = tensor(new Float32Array(8 * 4).map((_, i) => Math.sin(i)), [8, 4]);
    const y = tensor(new Float32Array(8 * 3).map((_, i) => (i % 3 === 0 ? 1 : 0)), [8, 3]);
    const h = await model.fit(x, y, { epochs: 2, verbose: 0 });
    expect(Object.keys(h.history)).toEqual(['loss', 'categorical_accuracy']);
  });
});
