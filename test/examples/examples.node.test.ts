// Every example runs, with a tiny budget, against the built bundle (as a user would run it).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function run(script: string, args: string[], timeout = 120_000): string {
  return execFileSync(process.execPath, [script, ...args], { cwd: ROOT, encoding: 'utf8', timeout });
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

  it('automl-mnist (npm start): searches convnets in workers, shows the leaderboard, exports the best', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kerasm-automl-'));
    try {
      const out = run('examples/automl-mnist.mjs', [
        '--budget', '5', '--trials', '2', '--epochs', '1', '--train', '300', '--test', '60', '--workers', '2', '--out', dir,
      ], 300_000);
      expect(out).toMatch(/Searching convnets for 5 s \(at most 2 trials of up to 1 epochs, 2 workers\)/);
      expect(out).toMatch(/rank\s+trial\s+val_accuracy/);
      expect(out).toMatch(/ {3}1 {2}000\d {3}\s*\d\.\d{4}/);
      expect(out).toMatch(/Best model: test accuracy \d+\.\d\d% \(loss \d+\.\d{4}\) on 60 held-out digits/);
      expect(existsSync(join(dir, 'best', 'model.json'))).toBe(true);
      expect(existsSync(join(dir, 'mnist', 'state.json'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 320_000);
});
