/// <reference types="vite/client" />
// A search whose trials run in module Web Workers in Chromium. The tuner, the workers' script
// and the hypermodel's import of kerasm are all the exact bytes of dist/kerasm.js, served from
// one blob: URL (see test/bundle/bundle.browser.test.ts). Needs `npm run build`.

import { describe, expect, test } from 'vitest';
import bundleSource from '../../dist/kerasm.js?raw';
import hypermodelSource from './fixtures/parallel-hypermodel.mjs?raw';

type Kerasm = typeof import('../../dist/kerasm.js');

function moduleUrl(source: string): string {
  return URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
}

const BUNDLE_URL = moduleUrl(bundleSource);
const HYPERMODEL_URL = moduleUrl(hypermodelSource.replace("from 'kerasm'", `from '${BUNDLE_URL}'`));

describe('a search with trials in module Web Workers', () => {
  test('runs maxTrials trials on 2 workers, the same trials as on the page', async () => {
    const k: Kerasm = await import(/* @vite-ignore */ BUNDLE_URL);
    await k.init();
    const xs = Float32Array.from({ length: 64 * 4 }, (_, i) => Math.sin(i * 12.9898) * 2);
    const x = k.tensor(xs, [64, 4]);
    const y = k.tensor(Float32Array.from({ length: 64 }, (_, i) => (xs[i * 4] + xs[i * 4 + 1] > 0 ? 1 : 0)), [64, 1]);
    const fitArgs = { epochs: 2, batchSize: 16, validationSplit: 0.25 };
    const args = () => ({
      hypermodel: { module: HYPERMODEL_URL, exportName: 'classifier' },
      oracle: new k.RandomSearch(), objective: 'val_loss', maxTrials: 4, seed: 5,
    });
    const parallel = new k.Tuner({ ...args(), workers: 2 });
    await parallel.search(x, y, fitArgs);
    expect(parallel.workerStats).toEqual({
      workers: 2, started: 2, crashed: 0, timedOut: 0, sharedData: typeof SharedArrayBuffer !== 'undefined' && crossOriginIsolated,
      kernels: k.getBackend().flavor, reusedKernels: true,
    });
    expect(parallel.trials.map((t) => [t.trialId, t.status])).toEqual([['0000', 'completed'], ['0001', 'completed'], ['0002', 'completed'], ['0003', 'completed']]);

    const onPage = new k.Tuner({ ...args(), workers: 1 });
    await onPage.search(x, y, fitArgs);
    expect(parallel.trials.map((t) => t.hyperparameters)).toEqual(onPage.trials.map((t) => t.hyperparameters));
    parallel.trials.forEach((t, i) => expect(t.score!).toBeCloseTo(onPage.trials[i].score!, 4));
  });
});
