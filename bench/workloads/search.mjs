// Search speedup: the same seeded search of small Dense models on real MNIST digits, run with
// `workers: 1` (trials one after another on the tuner's thread) and with `workers: 2` (trials
// in two worker_threads), in turns, several times. Reported: each configuration's median wall
// time for the whole search, in trials per second, and the ratio. The check: both
// configurations ran the same trials (values and scores), so they did the same work.
// A third configuration measures the machine's ceiling: the one-worker search in two separate
// processes at once (sharing nothing but the cores and the caches), whose trials per second
// over one alone is the most two fully independent workers could reach.
//
// Every search runs in a fresh Node process (this file run as a script), as a user's search
// does: otherwise the tuner's thread, warmed up by the earlier rounds, would run the one-worker
// trials with optimized code while each new pool's workers start cold. The wall time covers
// everything a user waits for once the data is loaded: starting the workers, sending them the
// data, importing the hypermodel. It is not a kernel workload: the harness's repetition and
// CPU-time machinery do not apply, so run.mjs runs it through runSearchWorkload below.

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadMnist, oneHot } from '../../examples/data/mnist.mjs';
import { table } from '../lib/report.mjs';

const HYPERMODEL = new URL('./search-hypermodel.mjs', import.meta.url);
export const ONE_WORKER = 'kerasm, 1 worker';
/**
 * The machine's ceiling for a pool of two: two separate processes running the one-worker search
 * at once, sharing nothing but the cores and their caches. Their trials per second over one
 * alone is what two perfectly independent workers could reach on this machine.
 */
export const TWO_PROCESSES = 'two processes, 1 worker each';

/**
 * A search of `epochs`-epoch trials. Short trials show what starting the workers costs (each
 * new thread compiles kerasm's JavaScript again, competing with the trials for the two cores);
 * longer ones show the rate at which two workers run trials once that is paid.
 * @param {{ quick: boolean, epochs?: number }} options
 * @returns {import('./index.mjs').Workload}
 */
export function search({ quick, epochs = 4 }) {
  const config = quick
    ? { trials: 4, samples: 2000, epochs: 1, rounds: 1 }
    : { trials: 16, samples: 8000, epochs, rounds: 3 };
  return {
    name: `search ${config.trials} MLP trials of ${config.epochs} epochs on ${config.samples} MNIST digits, 1 vs 2 workers`,
    family: 'search',
    kind: 'search',
    tags: ['search'],
    unit: 'trials/s',
    work: config.trials,
    config,
    impls: { kerasm: true },
  };
}

/** One search in this process; returns its wall time, trials and worker stats. */
async function runSearch(api, workers, config) {
  const { train } = loadMnist({ trainSize: config.samples, testSize: 0 });
  const x = api.tensor(train.x, [train.n, 784]);
  const y = api.tensor(oneHot(train.y), [train.n, 10]);
  const tuner = new api.Tuner({
    hypermodel: { module: HYPERMODEL, exportName: 'mlp' },
    oracle: new api.RandomSearch(), objective: 'val_accuracy', maxTrials: config.trials, seed: 1,
    workers, verbose: 0,
  });
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  await tuner.search(x, y, { epochs: config.epochs, batchSize: 64, validationSplit: 0.2 });
  const ms = performance.now() - start;
  // Every thread of the process: the tuner's, the workers', V8's compiler and GC threads.
  const cpu = process.cpuUsage(cpuStart);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, trials: tuner.trials, stats: tuner.workerStats };
}

/**
 * One search in a new Node process with the engine's kernel flavor; resolves to its result.
 * Its stderr passes through.
 */
function timedSearch(flavor, workers, config) {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [fileURLToPath(import.meta.url), JSON.stringify({ flavor, workers, config })], {
      encoding: 'utf8', maxBuffer: 64 << 20,
    }, (error, stdout) => (error ? reject(error) : resolve(JSON.parse(stdout))));
    child.stderr.pipe(process.stderr);
  });
}

/** Two one-worker searches in two processes started together; the wall time of the later one. */
async function sideBySide(flavor, config) {
  const pair = await Promise.all([timedSearch(flavor, 1, config), timedSearch(flavor, 1, config)]);
  return { ms: Math.max(...pair.map((r) => r.ms)), cpuMs: pair[0].cpuMs + pair[1].cpuMs, trials: pair[0].trials };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * Runs the workload with kerasm's engine; returns result rows (one per configuration, as the
 * harness makes them) and the text to print.
 */
export async function runSearchWorkload(workload, engine) {
  const { config } = workload;
  const flavor = engine.describe.flavor;
  const runs = { 1: [], 2: [], pair: [] };
  for (let round = 0; round < config.rounds; round++) {
    // In turns, so that a change in the machine's load hits every configuration alike.
    for (const workers of [1, 2]) runs[workers].push(await timedSearch(flavor, workers, config));
    runs.pair.push(await sideBySide(flavor, config));
  }
  const check12 = compareTrials(runs[1][0].trials, runs[2][0].trials);
  const pairCheck = compareTrials(runs[1][0].trials, runs.pair[0].trials);
  const rowOf = (workers) => {
    const times = runs[workers].map((r) => r.ms);
    // Two processes finish two searches' worth of trials.
    const trials = workers === 'pair' ? 2 * config.trials : config.trials;
    const rates = times.map((ms) => trials / (ms / 1000));
    const check = workers === 'pair' ? pairCheck : check12;
    return {
      workload: workload.name, family: workload.family, tags: workload.tags, run: 'main',
      impl: workers === 2 ? 'kerasm' : workers === 1 ? ONE_WORKER : TWO_PROCESSES, unit: workload.unit, work: workload.work,
      median: median(rates), min: Math.min(...rates), max: Math.max(...rates), medianMs: median(times),
      samples: times.length, reps: 1, times,
      // Cores kept busy over the search (CPU time of the whole process / wall time), median.
      cores: median(runs[workers].map((r) => r.cpuMs / r.ms)),
      ...(workers === 2 ? { workerStats: runs[2].at(-1).stats } : {}),
      maxErr: check.maxErr, tolerance: 1e-4, check: check.ok ? 'ok' : 'MISMATCH', ...(check.ok ? {} : { detail: check.detail }),
    };
  };
  const rows = [rowOf(1), rowOf(2), rowOf('pair')];
  rows[1].ratio = rows[1].median / rows[0].median;
  rows[2].ratio = rows[2].median / rows[0].median;
  // The pool against the ceiling: 1.0 means two workers lose nothing that two processes do not.
  rows[1].ofCeiling = rows[1].median / rows[2].median;
  const best = Math.max(...runs[2][0].trials.map((t) => t.score ?? -Infinity));
  const text = [
    `${workload.name}  (${config.samples * 0.8} digits trained per epoch, ` +
      `${config.rounds} round${config.rounds > 1 ? 's' : ''}; best val_accuracy ${best.toFixed(4)})`,
    table(
      ['config', 'median s', 'min - max s', 'trials/s', 'cores busy', 'speedup', 'check'],
      rows.map((r) => [
        r.impl === ONE_WORKER ? 'workers: 1' : r.impl === TWO_PROCESSES ? '2 processes x workers: 1' : 'workers: 2',
        (r.medianMs / 1000).toFixed(2),
        `${(Math.min(...r.times) / 1000).toFixed(2)} - ${(Math.max(...r.times) / 1000).toFixed(2)}`,
        r.median.toFixed(3),
        r.cores.toFixed(2),
        r.ratio ? `${r.ratio.toFixed(2)}x` : '-',
        r.check === 'ok' ? 'ok' : `MISMATCH: ${r.detail}`,
      ]),
      [1, 2, 3, 4, 5],
    ),
    `workers: 2 run at ${(rows[1].ofCeiling * 100).toFixed(0)}% of the rate of two separate one-worker processes side by side ` +
      '(what two cores give two independent searches on this machine)',
  ].join('\n');
  return { rows, text };
}

/** The two searches ran the same trials: same ids, values and statuses, scores within 1e-4. */
function compareTrials(a, b) {
  const key = (t) => JSON.stringify([t.trialId, t.hyperparameters, t.status]);
  if (a.length !== b.length || a.some((t, i) => key(t) !== key(b[i]))) {
    return { ok: false, maxErr: null, detail: 'the two configurations ran different trials' };
  }
  const maxErr = Math.max(0, ...a.map((t, i) => Math.abs((t.score ?? 0) - (b[i].score ?? 0))));
  return maxErr <= 1e-4 ? { ok: true, maxErr } : { ok: false, maxErr, detail: `scores differ by ${maxErr.toExponential(1)}` };
}

// As a script: one search, its result as JSON on stdout. Relaxed SIMD needs a V8 flag in Node
// 20 (see run.mjs), so a child asked for it sets the flag before the kernels compile.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { flavor, workers, config } = JSON.parse(process.argv[2]);
  if (flavor === 'relaxed-simd') (await import('node:v8')).setFlagsFromString('--experimental-wasm-relaxed-simd');
  const api = await import('../../dist/kerasm.js');
  await api.init({ flavor });
  process.stdout.write(JSON.stringify(await runSearch(api, workers, config)));
}
