// The JS heap stays flat over many training steps (Node only: it needs a forced GC).

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import { Conv2D, Dense, Flatten, MaxPooling2D, Sequential, tensor } from '../../src/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

it('2000 training steps of a convnet leave the JS heap flat', () => {
  const model = new Sequential([
    new Conv2D({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [8, 8, 1] }),
    new MaxPooling2D(),
    new Flatten(),
    new Dense({ units: 3, activation: 'softmax' }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
  const x = tensor(new Float32Array(8 * 64).map((_, i) => Math.sin(i)), [8, 8, 8, 1]);
  const y = tensor(new Float32Array(24).map((_, i) => (i % 3 === 0 ? 1 : 0)), [8, 3]);
  // The first ~2000 steps grow the heap with V8's optimized code and type feedback.
  for (let i = 0; i < 2000; i++) model.trainOnBatch(x, y);
  const before = heapAfterGc();
  for (let i = 0; i < 2000; i++) model.trainOnBatch(x, y);
  const after = heapAfterGc();
  // Measured noise is about +-50 KB; a leak of one small object (~100 B) per step adds 200 KB.
  expect(after - before).toBeLessThan(160 * 1024);
});
