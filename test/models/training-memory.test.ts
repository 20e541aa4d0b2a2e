// Training plans its memory once: after the first step, steps allocate nothing in the kernel
// heap. And a seed makes a run reproducible bit for bit.

import { describe, expect, it } from 'vitest';
import { getBackend } from '../../src/backend/backend.js';
import {
  Conv2D, Dense, Dropout, Flatten, MaxPooling2D, Sequential, setRandomSeed, tensor,
} from '../../src/index.js';
import { Random } from '../../src/util/random.js';

function convnet(): Sequential {
  const model = new Sequential([
    new Conv2D({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [8, 8, 1] }),
    new MaxPooling2D(),
    new Dropout({ rate: 0.25 }),
    new Flatten(),
    new Dense({ units: 3, activation: 'softmax' }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
  return model;
}

function data(n: number) {
  const rng = new Random(5);
  const x = new Float32Array(n * 64).map(() => rng.uniform());
  const y = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) y[i * 3 + (i % 3)] = 1;
  return { x: tensor(x, [n, 8, 8, 1]), y: tensor(y, [n, 3]) };
}

describe('training memory', () => {
  it('1000 training steps of a convnet keep the WebAssembly heap flat', () => {
    const model = convnet();
    const { x, y } = data(8);
    model.trainOnBatch(x, y); // the first step plans (allocates) the step's memory
    model.trainOnBatch(x, y);
    const heap = getBackend().heap;
    const bytes = heap.byteLength;
    const inUse = heap.bytesInUse;
    for (let i = 0; i < 1000; i++) model.trainOnBatch(x, y);
    expect(heap.byteLength).toBe(bytes);
    expect(heap.bytesInUse).toBe(inUse);
  });

  it('fit over many epochs keeps the heap flat, including the shorter last batch', async () => {
    const model = convnet();
    const { x, y } = data(50);
    await model.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0 });
    const heap = getBackend().heap;
    const inUse = heap.bytesInUse;
    await model.fit(x, y, { epochs: 20, batchSize: 16, verbose: 0 });
    expect(heap.bytesInUse).toBe(inUse);
  });
});

describe('determinism', () => {
  it('two runs with the same seed give bit-identical weights', async () => {
    const run = async () => {
      setRandomSeed(123);
      const model = convnet();
      const { x, y } = data(40);
      await model.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0, validationSplit: 0.2 });
      return model.getWeights().map((w) => Array.from(w.dataSync()));
    };
    const a = await run();
    const b = await run();
    expect(b).toEqual(a);
    setRandomSeed(124);
    const other = convnet().getWeights()[0].dataSync();
    expect(Array.from(other)).not.toEqual(a[0]);
  });
});
