// Every example runs, with a tiny budget, against the built bundle (as a user would run it).

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function run(script: string, args: string[]): string {
  return execFileSync(process.execPath, [script, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
}

describe('examples', () => {
  it('keras-convnet: the tutorial model compiles, fits and reports accuracy', () => {
    const out = run('examples/keras-convnet.mjs', ['--size', '16', '--samples', '20', '--epochs', '2']);
    expect(out).toMatch(/conv2d(_\d+)? \(Conv2D\)\s+\(None, 14, 14, 32\)\s+896/);
    expect(out).toMatch(/Epoch 2\/2 - .* - loss: \d\.\d{4} - accuracy: \d\.\d{4}/);
    expect(out).toMatch(/final training accuracy: \d+\.\d%/);
  });

  it('mnist-convnet: trains on real digits and reports test accuracy', () => {
    const out = run('examples/mnist-convnet.mjs', ['--epochs', '1', '--train', '256', '--test', '64']);
    expect(out).toContain('Total params: 1,199,882');
    expect(out).toMatch(/test accuracy: \d+\.\d\d% \(loss \d\.\d{4}\) after 1 epochs, \d+\.\d s per epoch/);
  });
});
