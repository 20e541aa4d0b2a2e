// Searches whose trials run in worker_threads, with the built bundle (dist/kerasm.js) as the
// tuner and as the workers' script, and the hypermodel given by module reference
// (fixtures/parallel-hypermodel.mjs). Needs `npm run build`.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

type Kerasm = typeof import('../../dist/kerasm.js');
type Trial = import('../../dist/kerasm.js').Trial;

const BUNDLE = fileURLToPath(new URL('../../dist/kerasm.js', import.meta.url));
const HYPERMODEL = new URL('./fixtures/parallel-hypermodel.mjs', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'kerasm-parallel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let k: Kerasm;
let x: InstanceType<Kerasm['Tensor']>;
let y: InstanceType<Kerasm['Tensor']>;
const fitArgs = { epochs: 2, batchSize: 16, validationSplit: 0.25 };

beforeAll(async () => {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first`);
  k = await import('../../dist/kerasm.js');
  // 64 points in 4-D, labelled by the sign of x0 + x1 (the last 16 are the validation split).
  let state = 7;
  const normal = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const u = (state + 0.5) / 2 ** 32;
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos((2 * Math.PI * state) / 2 ** 32);
  };
  const xs = Float32Array.from({ length: 64 * 4 }, normal);
  x = k.tensor(xs, [64, 4]);
  y = k.tensor(Float32Array.from({ length: 64 }, (_, i) => (xs[i * 4] + xs[i * 4 + 1] > 0 ? 1 : 0)), [64, 1]);
});

const summary = (trials: Trial[]) => trials.map((t) => [t.trialId, t.status, t.hyperparameters]);

describe('a search with trials in worker_threads', () => {
  it('runs maxTrials trials on 2 workers, the same trials as on one thread, sending the data once per worker', async () => {
    const args = () => ({
      hypermodel: { module: HYPERMODEL, exportName: 'classifier' },
      oracle: new k.RandomSearch(), objective: 'val_loss', maxTrials: 6, seed: 3,
    });
    const ended: string[] = [];
    const parallel = new k.Tuner({ ...args(), workers: 2, directory: dir, projectName: 'two', onTrialEnd: (t) => { ended.push(t.trialId); } });
    const yielded: string[] = [];
    for await (const trial of parallel.searchIterator(x, y, fitArgs)) yielded.push(trial.trialId);
    expect(parallel.workerStats).toEqual({
      workers: 2, started: 2, crashed: 0, timedOut: 0, sharedData: true, kernels: k.getBackend().flavor, reusedKernels: true,
    });

    const ids = ['0000', '0001', '0002', '0003', '0004', '0005'];
    expect(parallel.trials.map((t) => t.trialId)).toEqual(ids);
    expect([...yielded].sort()).toEqual(ids);
    expect(ended).toEqual(yielded);
    const state = JSON.parse(readFileSync(join(dir, 'two', 'state.json'), 'utf8'));
    expect(state.trials.map((t: Trial) => t.trialId)).toEqual(ids);
    expect(state.running).toEqual([]);

    const serial = new k.Tuner({ ...args(), workers: 1 });
    await serial.search(x, y, fitArgs);
    expect(serial.workerStats).toBeNull();
    expect(summary(parallel.trials)).toEqual(summary(serial.trials));
    for (const [i, t] of parallel.trials.entries()) {
      expect(t.status).toBe('completed');
      expect(t.score).toBeGreaterThan(0);
      expect(t.score).toBeLessThan(2);
      expect(t.score!).toBeCloseTo(serial.trials[i].score!, 4); // same seed, same model: same training
    }
    // The best model, rebuilt on this thread from the weights the worker trained.
    const [best] = await parallel.getBestModels(1);
    const xVal = k.tensor(x.dataSync().slice(48 * 4), [16, 4]);
    const yVal = k.tensor(y.dataSync().slice(48), [16, 1]);
    expect(best.evaluate(xVal, yVal, { batchSize: 16 }).loss).toBeCloseTo(parallel.getBestTrials(1)[0].score!, 4);
  });

  it('retries a trial whose worker dies, on the worker that replaces it', async () => {
    const marker = join(dir, 'crashed-once');
    const tuner = new k.Tuner({
      hypermodel: { module: HYPERMODEL, exportName: 'classifier', config: { crash: { units: 4, marker } } },
      oracle: new k.GridSearch({ floatPoints: 1 }), objective: 'val_loss', maxTrials: 3, workers: 2, seed: 1,
    });
    await tuner.search(x, y, fitArgs);
    expect(existsSync(marker)).toBe(true);
    expect(tuner.trials.map((t) => [t.hyperparameters.units, t.status, t.retries ?? 0])).toEqual([[2, 'completed', 0], [4, 'completed', 1], [8, 'completed', 0]]);
    expect(tuner.workerStats).toMatchObject({ started: 3, crashed: 1 });

    // A trial that kills every worker it runs on fails (after one retry), and the search goes on.
    const doomed = new k.Tuner({
      hypermodel: { module: HYPERMODEL, exportName: 'classifier', config: { crash: { units: 4, always: true } } },
      oracle: new k.GridSearch({ floatPoints: 1 }), objective: 'val_loss', maxTrials: 3, workers: 2, seed: 1,
    });
    await doomed.search(x, y, fitArgs);
    expect(doomed.trials.map((t) => [t.hyperparameters.units, t.status, t.retries ?? 0])).toEqual([[2, 'completed', 0], [4, 'failed', 1], [8, 'completed', 0]]);
    expect(doomed.trials[1].error).toMatch(/^kerasm.WorkerPool: worker \d died while running a task: it exited with code 3$/);
    expect(doomed.workerStats).toMatchObject({ started: 4, crashed: 2 });
  });

  it('ends a worker whose trial is stuck past trialTimeout, fails that trial and goes on', async () => {
    const tuner = new k.Tuner({
      hypermodel: { module: HYPERMODEL, exportName: 'classifier', config: { hang: { units: 4 } } },
      oracle: new k.GridSearch({ floatPoints: 1 }), objective: 'val_loss', maxTrials: 3, workers: 2, seed: 1,
      trialTimeout: 1, maxRetriesPerTrial: 1,
    });
    await tuner.search(x, y, fitArgs);
    expect(tuner.trials.map((t) => [t.hyperparameters.units, t.status, t.retries ?? 0])).toEqual([[2, 'completed', 0], [4, 'failed', 0], [8, 'completed', 0]]);
    // 1 s * 1.5 + 1 s: the worker had time to stop by itself, then was ended.
    expect(tuner.trials[1].error).toMatch(/^kerasm.WorkerPool: worker \d was ended: its task ran past 2.5 s$/);
    expect(tuner.workerStats).toMatchObject({ started: 3, crashed: 0, timedOut: 1 });
  });

  it('continues promoted Hyperband trials in a worker from the weights their parent trained', async () => {
    const args = () => ({
      hypermodel: { module: HYPERMODEL, exportName: 'classifier' },
      oracle: new k.Hyperband({ maxEpochs: 3, factor: 3 }), objective: 'val_loss', maxTrials: 20, seed: 3,
    });
    const parallel = new k.Tuner({ ...args(), workers: 2 });
    await parallel.search(x, y, fitArgs);
    const serial = new k.Tuner({ ...args(), workers: 1 });
    await serial.search(x, y, fitArgs);
    // Brackets for maxEpochs 3: 3 configurations x 1 epoch, then the best one to 3 epochs; then 2 x 3 epochs.
    const shape = (t: Trial) => `${t.initialEpoch}-${t.epochs}${t.resumedFrom ? ` from ${t.resumedFrom}` : ''}`;
    expect(parallel.trials.map(shape)).toEqual(serial.trials.map(shape));
    expect(parallel.trials[3].initialEpoch).toBe(1); // continued, not started over
    // Training on from other weights would end elsewhere.
    parallel.trials.forEach((t, i) => expect(t.score!).toBeCloseTo(serial.trials[i].score!, 4));
  });

  it('stops a trial in a worker by the median rule the tuner sent with it', async () => {
    // Learning rate 0 never learns; it is the fifth trial, proposed once three have reported.
    const tuner = new k.Tuner({
      hypermodel: { module: HYPERMODEL, exportName: 'classifier', config: { rates: [0.5, 0.3, 0.4, 0.2, 0] } },
      oracle: new k.GridSearch({ medianStopping: true }), objective: 'val_loss', maxTrials: 5, seed: 1, workers: 2,
    });
    await tuner.search(x, y, { epochs: 5, batchSize: 16, validationSplit: 0.25 });
    expect(tuner.trials.map((t) => t.hyperparameters.lr)).toEqual([0.5, 0.3, 0.4, 0.2, 0]);
    expect(tuner.trials.map((t) => t.curve!.length)).toEqual([5, 5, 5, 5, 1]);
    expect(tuner.trials[4].stoppedEarly).toBe(true);
  });

  it('runs again, after an interruption, only the trials that were in flight', async () => {
    const args = { hypermodel: { module: HYPERMODEL, exportName: 'classifier' }, objective: 'val_loss', maxTrials: 5, seed: 9, workers: 2, directory: dir, projectName: 'cut' };
    const first = new k.Tuner({ ...args, oracle: new k.RandomSearch() });
    for await (const trial of first.searchIterator(x, y, fitArgs)) {
      void trial;
      break; // leaves the other worker's trial running
    }
    const state = JSON.parse(readFileSync(join(dir, 'cut', 'state.json'), 'utf8'));
    const finished: string[] = state.trials.map((t: Trial) => t.trialId);
    const inFlight: { trialId: string; request: { values: object } }[] = state.running;
    expect(finished).toHaveLength(1);
    expect(inFlight).toHaveLength(1);

    const started: string[] = [];
    const second = new k.Tuner({ ...args, oracle: new k.RandomSearch(), onTrialEnd: (t) => { started.push(t.trialId); } });
    await second.search(x, y, fitArgs);
    expect(second.trials.map((t) => t.trialId)).toEqual(['0000', '0001', '0002', '0003', '0004']);
    expect(started.sort()).toEqual(['0000', '0001', '0002', '0003', '0004'].filter((id) => !finished.includes(id)));
    const rerun = second.trials.find((t) => t.trialId === inFlight[0].trialId)!;
    expect(rerun.hyperparameters).toMatchObject(inFlight[0].request.values); // {} for trial 0: the defaults
    const whole = new k.Tuner({ ...args, oracle: new k.RandomSearch(), directory: undefined, workers: 1 });
    await whole.search(x, y, fitArgs);
    expect(summary(second.trials)).toEqual(summary(whole.trials));
  });

  it('gives the workers the tuner thread\'s kernels: the reference ones when it runs those', async () => {
    const wasm = k.getBackend();
    k.setBackend(k.createReferenceBackend());
    try {
      const xr = k.tensor(x.dataSync(), [64, 4]);
      const yr = k.tensor(y.dataSync(), [64, 1]);
      const args = () => ({
        hypermodel: { module: HYPERMODEL, exportName: 'classifier' },
        oracle: new k.RandomSearch(), objective: 'val_loss', maxTrials: 2, seed: 4,
      });
      const parallel = new k.Tuner({ ...args(), workers: 2 });
      await parallel.search(xr, yr, fitArgs);
      expect(parallel.workerStats).toMatchObject({ kernels: 'reference', reusedKernels: false });
      const serial = new k.Tuner({ ...args(), workers: 1 });
      await serial.search(xr, yr, fitArgs);
      // Same kernels on both sides: the same arithmetic, so the same scores to the last bit.
      expect(parallel.trials.map((t) => t.score)).toEqual(serial.trials.map((t) => t.score));
    } finally {
      k.setBackend(wasm);
    }
  });

  it('runs with the CommonJS bundle, whose workers run dist/kerasm.cjs', async () => {
    const cjs = createRequire(import.meta.url)('kerasm') as Kerasm;
    expect(cjs).not.toBe(k);
    const tensor = (t: typeof x) => cjs.tensor(t.dataSync(), [...t.shape] as number[]);
    const tuner = new cjs.Tuner({
      hypermodel: { module: new URL('./fixtures/parallel-hypermodel.cjs', import.meta.url), exportName: 'classifier' },
      oracle: new cjs.RandomSearch(), objective: 'val_loss', maxTrials: 3, seed: 2, workers: 2,
    });
    await tuner.search(tensor(x), tensor(y), fitArgs);
    expect(tuner.trials.map((t) => t.status)).toEqual(['completed', 'completed', 'completed']);
    expect(tuner.workerStats).toMatchObject({ workers: 2, started: 2, crashed: 0 });
    // The ES hypermodel module imports the ES bundle: its models are foreign to the CommonJS tuner.
    const mixed = new cjs.Tuner({
      hypermodel: { module: HYPERMODEL, exportName: 'classifier' }, oracle: new cjs.RandomSearch(), objective: 'val_loss', maxTrials: 2, workers: 2,
    });
    await expect(mixed.search(tensor(x), tensor(y), fitArgs)).rejects.toThrow(/returned a Sequential made by another copy of kerasm/);
  });

  it('ends with a clear error on setup mistakes', async () => {
    const base = { get oracle() { return new k.RandomSearch(); }, maxTrials: 2 };
    const classifier = (hp: InstanceType<Kerasm['HyperParameters']>) => {
      const model = new k.Sequential([new k.Dense({ units: hp.int('units', { min: 1, max: 3 }), inputShape: [4] })]);
      model.compile({ optimizer: 'sgd', loss: 'mse' });
      return model;
    };
    expect(() => new k.Tuner({ ...base, hypermodel: classifier, workers: 2 })).toThrow(/workers: 2 needs the hypermodel as a module reference/);
    const withCallbacks = new k.Tuner({ ...base, hypermodel: { module: HYPERMODEL, exportName: 'classifier' }, workers: 2 });
    await expect(withCallbacks.search(x, y, { ...fitArgs, callbacks: [new k.TerminateOnNaN()] })).rejects.toThrow(/fit callbacks cannot be sent to trial workers/);
    const relative = new k.Tuner({ ...base, hypermodel: { module: './fixtures/parallel-hypermodel.mjs' }, workers: 2 });
    await expect(relative.search(x, y, fitArgs)).rejects.toThrow(/expected the hypermodel module as an absolute URL or a package name, got '.\/fixtures\/parallel-hypermodel.mjs'/);
    const noExport = new k.Tuner({ ...base, hypermodel: { module: HYPERMODEL, exportName: 'notAFactory' }, workers: 2 });
    await expect(noExport.search(x, y, fitArgs)).rejects.toThrow(/to export 'notAFactory' as a function \(config\) => HyperModel, got number/);
    const wrongScript = new k.Tuner({ ...base, hypermodel: { module: HYPERMODEL, exportName: 'classifier' }, workers: 2, workerScript: new URL('./fixtures/no-such-script.mjs', import.meta.url) });
    await expect(wrongScript.search(x, y, fitArgs)).rejects.toThrow(/the trial workers cannot run: .*died before they were ready/);
    const noVal = new k.Tuner({ ...base, hypermodel: { module: HYPERMODEL, exportName: 'classifier' }, workers: 2, objective: 'val_accuracy' });
    await expect(noVal.search(x, y, { epochs: 1 })).rejects.toThrow(/objective 'val_accuracy' is not in the training history/);
  });
});
