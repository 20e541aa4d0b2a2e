// The search's progress line: what it says, and how it is drawn in a terminal and elsewhere.

import { describe, expect, it, vi } from 'vitest';
import { Dense, Sequential, tensor } from '../../src/index.js';
import { formatDuration, ProgressLine, progressOf } from '../../src/search/progress.js';
import { formatSearchProgress, GridSearch, Tuner, type HyperParameters, type Trial } from '../../src/search/index.js';

const trial = (trialId: string, status: Trial['status'], score: number | null): Trial => ({
  trialId, hyperparameters: {}, metrics: {}, status, score, bestStep: 0,
});

describe('search progress', () => {
  it('says trials done of the total, failures, the best so far and the time left', () => {
    expect(formatSearchProgress({
      done: 7, total: 20, failed: 1, invalid: 0, objective: 'val_accuracy', best: { score: 0.98123, trialId: '0004' }, secondsLeft: 192,
    })).toBe('trials 7/20 (1 failed) · best val_accuracy 0.9812 (trial 0004) · 3m12s left');
    expect(formatSearchProgress({
      done: 0, total: 5, failed: 0, invalid: 0, objective: 'val_loss', best: null, secondsLeft: null,
    })).toBe('trials 0/5 · best val_loss -');
    expect(formatSearchProgress({
      done: 3, total: 5, failed: 1, invalid: 2, objective: 'params', best: { score: 1234, trialId: '0002' }, secondsLeft: 0,
    })).toBe('trials 3/5 (1 failed, 2 invalid) · best params 1234 (trial 0002) · 0s left');
    expect(formatSearchProgress({
      done: 1, total: 2, failed: 0, invalid: 0, objective: 'val_loss', best: { score: 0.00001234, trialId: '0000' }, secondsLeft: null,
    })).toBe('trials 1/2 · best val_loss 1.234e-5 (trial 0000)');
    expect([44.6, 60, 192, 3599.4, 3600, 3725].map(formatDuration)).toEqual(['45s', '1m00s', '3m12s', '59m59s', '1h00m', '1h02m']);
  });

  it('counts finished trials by status', () => {
    const trials = [trial('0000', 'completed', 0.5), trial('0001', 'failed', null), trial('0002', 'invalid', null), trial('0003', 'completed', 0.2)];
    expect(progressOf(trials, trials[3], 10, 'val_loss', 12.5)).toEqual({
      done: 4, total: 10, failed: 1, invalid: 1, objective: 'val_loss', best: { score: 0.2, trialId: '0003' }, secondsLeft: 12.5,
    });
  });

  it('redraws one line in a terminal and writes plain lines elsewhere', () => {
    const p = (done: number) => ({ done, total: 2, failed: 0, invalid: 0, objective: 'loss', best: null, secondsLeft: null });
    for (const isTTY of [true, false]) {
      let out = '';
      const line = new ProgressLine({ isTTY, write: (s) => { out += s; } });
      line.show(p(1));
      line.show(p(2));
      line.end();
      expect(out).toBe(isTTY
        ? '\rtrials 1/2 · best loss -\x1b[K\rtrials 2/2 · best loss -\x1b[K\n'
        : 'trials 1/2 · best loss -\ntrials 2/2 · best loss -\n');
    }
  });
});

describe('Tuner verbose', () => {
  it('prints a progress line per trial with verbose: 1, and nothing with verbose: 0', async () => {
    const build = (hp: HyperParameters) => {
      const model = new Sequential([new Dense({ units: hp.choice('units', [1, 2]), inputShape: [2] }), new Dense({ units: 1 })]);
      model.compile({ optimizer: 'sgd', loss: 'mse' });
      return model;
    };
    const x = tensor([[0, 1], [1, 0], [1, 1], [0, 0]]);
    const y = tensor([[1], [1], [2], [0]]);
    const stdout = (globalThis as { process?: { stdout?: { write(s: string): boolean } } }).process?.stdout;
    const printed = (): string => {
      const calls = stdout ? spy.mock.calls : spy.mock.calls.map((c) => [`${String(c[0])}\n`]);
      return calls.map((c) => String(c[0])).join('');
    };
    const spy = stdout ? vi.spyOn(stdout, 'write').mockImplementation(() => true) : vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await new Tuner({ hypermodel: build, oracle: new GridSearch(), objective: 'loss', maxTrials: 2, verbose: 1 }).search(x, y, { epochs: 1 });
      expect(printed()).toMatch(/^trials 1\/2 · best loss \S+ \(trial 0000\)\ntrials 2\/2 · best loss \S+ \(trial 000[01]\)\n$/);
      spy.mockClear();
      await new Tuner({ hypermodel: build, oracle: new GridSearch(), objective: 'loss', maxTrials: 2, verbose: 0 }).search(x, y, { epochs: 1 });
      expect(printed()).toBe('');
    } finally {
      spy.mockRestore();
    }
  });
});
