// verbose: 1 output: a Keras-like bar redrawn in place in a terminal, plain lines elsewhere.

import { describe, expect, it } from 'vitest';
import { Dense, Sequential, tensor } from '../../src/index.js';
import { ProgressLogger } from '../../src/training/progress.js';

async function train(isTTY: boolean): Promise<string> {
  let text = '';
  const model = new Sequential([new Dense({ units: 2, activation: 'softmax', inputShape: [3] })]);
  model.compile({ optimizer: 'sgd', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
  const x = tensor(new Float32Array(30).map((_, i) => Math.sin(i)), [10, 3]);
  const y = tensor(new Float32Array(20).map((_, i) => i % 2), [10, 2]);
  await model.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0, callbacks: [new ProgressLogger({ isTTY, write: (s) => (text += s) })] });
  return text;
}

describe('progress output', () => {
  it('draws a Keras-like bar with steps, ETA or time, loss and metrics in a terminal', async () => {
    const text = await train(true);
    expect(text).toContain('Epoch 1/2\n');
    expect(text).toMatch(/\r3\/3 \[=+\] - \d+s \d+ms\/step - loss: \d\.\d{4} - accuracy: \d\.\d{4}/);
    expect(text).toMatch(/Epoch 2\/2\n/);
  });

  it('prints one plain line per epoch when not a terminal', async () => {
    const lines = (await train(false)).trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^Epoch 1\/2 - \d+\.\ds - loss: \d\.\d{4} - accuracy: \d\.\d{4}$/);
    expect(lines.join('')).not.toContain('\r');
  });
});
