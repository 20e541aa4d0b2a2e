// Search quality on real data (a benchmark, not a test): how fast each search algorithm reaches
// what RandomSearch finds, and what ImageClassifier reaches against the hand-written Keras
// convnet. Run `npm run build` first; it imports dist/kerasm.js like a user would.
//
//   node bench/search-quality.mjs                  # both parts (about 20 minutes on 2 cores)
//   node bench/search-quality.mjs --only oracles   # part 1: the algorithms, 3 seeds
//   node bench/search-quality.mjs --only image     # part 2: ImageClassifier, 10-minute budget
//   options: --seeds 3 --first-seed 1 --trials 24 --space mlp|wide --oracles A,B (part 1; RandomSearch always runs, it sets the bar;
//            the settings of ORACLES below outside DEFAULT_ORACLES run only when named);
//            --budget 420 --epochs 20 --workers <cores> --refit 0|1 --seed 1 --ensemble 3 (1 with --refit 1) --patience 10 (part 2); --json FILE
//
// Part 1 searches MLPs (depth, units, dropout, optimizer, learning rate) on 3,000 MNIST digits,
// scored on 2,000 others. Every algorithm gets the same budget, counted in epochs trained (which
// wall time follows on an idle machine, so a loaded machine does not change the result): TRIALS
// full trials of EPOCHS epochs. ASHA and Hyperband train most trials for fewer epochs, so they
// run more trials within it. For each seed, Random's best val_accuracy is the bar; for every
// algorithm, the epochs (and trials) it spent until its best reached the bar, as a fraction of
// Random's whole budget.
import { availableParallelism, cpus, loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { loadMnist } from '../examples/data/mnist.mjs';

const kerasm = await import(new URL('../dist/kerasm.js', import.meta.url).href);
const { Tuner, RandomSearch, BayesianOptimization, ASHA, Hyperband, RegularizedEvolution, ImageClassifier, Sequential, Dense, Dropout, tensor, setRandomSeed } = kerasm;

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  return typeof fallback === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
};
const only = arg('only', 'all');
const SEEDS = arg('seeds', 3);
const FIRST_SEED = arg('first-seed', 1);
const TRIALS = arg('trials', 24);
const EPOCHS = 6;
const results = { machine: `${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.versions.node}`, oracles: [], image: null };
console.log(`${results.machine}; load average ${loadavg()[0].toFixed(2)} at the start`);

/** The MLP space of part 1. */
function mlp(hp) {
  const layers = hp.int('layers', { min: 1, max: 3, default: 1 });
  const model = new Sequential();
  model.add(new Dense({ units: hp.choice('units_0', [16, 32, 64, 128, 256]), activation: 'relu', inputShape: [784] }));
  for (let i = 1; i < 3; i++) {
    hp.conditionalScope('layers', [2, 3].filter((v) => v > i), () => {
      const units = hp.choice(`units_${i}`, [16, 32, 64, 128, 256]);
      if (i < layers) model.add(new Dense({ units, activation: 'relu' }));
    });
  }
  const dropout = hp.choice('dropout', [0, 0.2, 0.4]);
  if (dropout > 0) model.add(new Dropout({ rate: dropout }));
  model.add(new Dense({ units: 10, activation: 'softmax' }));
  const optimizer = hp.choice('optimizer', ['adam', 'sgd']);
  const learningRate = hp.float('learning_rate', { min: 1e-4, max: 0.3, sampling: 'log', default: 1e-3 });
  model.compile({ optimizer: optimizer === 'adam' ? new kerasm.Adam({ learningRate }) : new kerasm.SGD({ learningRate, momentum: 0.9 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  return model;
}

/**
 * A wider space (--space wide): learning rates over five decades, plain SGD, saturating
 * activations and heavy dropout, where many settings train poorly, as in real searches.
 */
function wide(hp) {
  const layers = hp.int('layers', { min: 1, max: 3, default: 1 });
  const activation = hp.choice('activation', ['relu', 'tanh', 'sigmoid']);
  const model = new Sequential();
  model.add(new Dense({ units: hp.choice('units_0', [8, 32, 128, 512]), activation, inputShape: [784] }));
  for (let i = 1; i < 3; i++) {
    hp.conditionalScope('layers', [2, 3].filter((v) => v > i), () => {
      const units = hp.choice(`units_${i}`, [8, 32, 128, 512]);
      if (i < layers) model.add(new Dense({ units, activation }));
    });
  }
  const dropout = hp.float('dropout', { min: 0, max: 0.7 });
  if (dropout > 0) model.add(new Dropout({ rate: dropout }));
  model.add(new Dense({ units: 10, activation: 'softmax' }));
  const optimizer = hp.choice('optimizer', ['adam', 'sgd', 'rmsprop']);
  const learningRate = hp.float('learning_rate', { min: 1e-5, max: 1, sampling: 'log', default: 1e-3 });
  const opt = optimizer === 'adam' ? new kerasm.Adam({ learningRate }) : optimizer === 'sgd' ? new kerasm.SGD({ learningRate }) : new kerasm.RMSprop({ learningRate });
  model.compile({ optimizer: opt, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  return model;
}
const SPACES = { mlp, wide };
const space = arg('space', 'mlp');
if (!(space in SPACES)) throw new Error(`--space: expected one of ${Object.keys(SPACES).join(', ')}, got '${space}'`);

const ORACLES = {
  RandomSearch: (seed) => new RandomSearch({ seed }),
  // With the median stopping rule, on by default (as in RegularizedEvolution).
  BayesianOptimization: (seed) => new BayesianOptimization({ seed }),
  // The settings below were measured before the rule became the default, and run without it.
  // Every trial trained to the end, as in KerasTuner.
  BayesianOptimizationNoStopping: (seed) => new BayesianOptimization({ seed, medianStopping: false }),
  // Initial points in distinct strata of each hyperparameter's range.
  BayesianOptimizationLHS: (seed) => new BayesianOptimization({ seed, initialDesign: 'latin-hypercube', medianStopping: false }),
  // KerasTuner's acquisition: the upper confidence bound, beta 2.6.
  BayesianOptimizationUCB: (seed) => new BayesianOptimization({ seed, acquisition: 'ucb', medianStopping: false }),
  // Fewer random points before the Gaussian process than the default one per hyperparameter.
  BayesianOptimizationInit3: (seed) => new BayesianOptimization({ seed, numInitialPoints: 3, medianStopping: false }),
  BayesianOptimizationInit5: (seed) => new BayesianOptimization({ seed, numInitialPoints: 5, medianStopping: false }),
  ASHA: (seed) => new ASHA({ seed, maxEpochs: EPOCHS, minEpochs: 1, factor: 3 }),
  // The paper's ASHA: new configurations at random throughout (the default searcher is 'bayesian').
  ASHARandom: (seed) => new ASHA({ seed, maxEpochs: EPOCHS, minEpochs: 1, factor: 3, searcher: 'random' }),
  Hyperband: (seed) => new Hyperband({ seed, maxEpochs: EPOCHS, factor: 3, hyperbandIterations: 10 }),
  RegularizedEvolution: (seed) => new RegularizedEvolution({ seed, populationSize: 8, sampleSize: 3 }),
  RegularizedEvolutionNoStopping: (seed) => new RegularizedEvolution({ seed, populationSize: 8, sampleSize: 3, medianStopping: false }),
  // Each child the best of 20 tournament winners' mutations by expected improvement under a Gaussian process.
  RegularizedEvolutionBayesian: (seed) => new RegularizedEvolution({ seed, populationSize: 8, sampleSize: 3, searcher: 'bayesian', medianStopping: false }),
  // Children near their parents (a normal step of 0.15 of each range) instead of fresh draws.
  RegularizedEvolutionLocal: (seed) => new RegularizedEvolution({ seed, populationSize: 8, sampleSize: 3, mutation: 'local', medianStopping: false }),
  RegularizedEvolutionBayesianLocal: (seed) => new RegularizedEvolution({ seed, populationSize: 8, sampleSize: 3, searcher: 'bayesian', mutation: 'local', medianStopping: false }),
  // Smaller populations, which start evolving sooner.
  RegularizedEvolutionPop4: (seed) => new RegularizedEvolution({ seed, populationSize: 4, sampleSize: 2, medianStopping: false }),
  RegularizedEvolutionPop5: (seed) => new RegularizedEvolution({ seed, populationSize: 5, sampleSize: 3, medianStopping: false }),
  // The same three with the median stopping rule, as RegularizedEvolution runs by default.
  RegularizedEvolutionPop4Median: (seed) => new RegularizedEvolution({ seed, populationSize: 4, sampleSize: 2 }),
  RegularizedEvolutionPop5Median: (seed) => new RegularizedEvolution({ seed, populationSize: 5, sampleSize: 3 }),
  RegularizedEvolutionBayesianMedian: (seed) => new RegularizedEvolution({ seed, populationSize: 8, sampleSize: 3, searcher: 'bayesian' }),
  // RandomSearch's own trials with the median stopping rule: the same configurations, fewer epochs.
  RandomSearchMedian: (seed) => new RandomSearch({ seed, medianStopping: true }),
};
// The rows run by default; the other settings above run only when named with --oracles.
const DEFAULT_ORACLES = ['RandomSearch', 'BayesianOptimization', 'ASHA', 'Hyperband', 'RegularizedEvolution'];
const chosen = arg('oracles', DEFAULT_ORACLES.join(',')).split(',');
for (const name of chosen) {
  if (!(name in ORACLES)) throw new Error(`--oracles: expected names among ${Object.keys(ORACLES).join(', ')}, got '${name}'`);
}
const RUN = Object.fromEntries(Object.entries(ORACLES).filter(([name]) => name === 'RandomSearch' || chosen.includes(name)));

async function oracles() {
  const { train, test } = loadMnist({ trainSize: 3000, testSize: 2000, seed: 7 });
  const x = tensor(train.x, [train.n, 784]);
  const y = tensor(Float32Array.from(train.y), [train.n]);
  const val = [tensor(test.x, [test.n, 784]), tensor(Float32Array.from(test.y), [test.n])];
  for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
    const runs = {};
    for (const [name, make] of Object.entries(RUN)) {
      setRandomSeed(seed);
      const curve = []; // [epochs spent so far, best so far] after each trial
      let spent = 0;
      let best = -Infinity;
      const started = performance.now();
      const budget = TRIALS * EPOCHS;
      const tuner = new Tuner({ hypermodel: SPACES[space], oracle: make(seed), objective: 'val_accuracy', maxTrials: 20 * TRIALS, seed, verbose: 0 });
      for await (const trial of tuner.searchIterator(x, y, { epochs: EPOCHS, batchSize: 64, validationData: val, verbose: 0 })) {
        // The epochs this trial trained: its curve has one value per epoch.
        const trained = trial.curve ? trial.curve.length : trial.epochs !== undefined ? trial.epochs - (trial.initialEpoch ?? 0) : EPOCHS;
        spent += trial.status === 'completed' || trial.status === 'failed' ? trained : 0;
        if (trial.status === 'completed') best = Math.max(best, trial.metrics.val_accuracy);
        curve.push([spent, best]);
        if (spent >= budget) break;
      }
      runs[name] = { curve, seconds: (performance.now() - started) / 1000 };
    }
    const bar = runs.RandomSearch.curve.at(-1)[1];
    const randomTrials = TRIALS;
    const randomEpochs = TRIALS * EPOCHS;
    for (const [name, run] of Object.entries(runs)) {
      const k = run.curve.findIndex(([, b]) => b >= bar);
      const row = {
        seed, oracle: name, bar, best: run.curve.at(-1)[1], seconds: run.seconds,
        trialsToBar: k < 0 ? null : k + 1, epochsToBar: k < 0 ? null : run.curve[k][0],
        trialFraction: k < 0 ? null : (k + 1) / randomTrials, epochFraction: k < 0 ? null : run.curve[k][0] / randomEpochs,
      };
      results.oracles.push(row);
      console.log(`seed ${seed} ${name.padEnd(21)} best ${row.best.toFixed(4)} (bar ${bar.toFixed(4)}): ` +
        (k < 0 ? 'did not reach the bar' : `reached it after ${row.trialsToBar} trials (Random: ${randomTrials}), ${row.epochsToBar}/${randomEpochs} epochs`) +
        ` (${run.seconds.toFixed(0)} s)`);
    }
  }
  console.log('\n| algorithm | reached Random\'s best (seeds) | epochs to reach it / Random\'s budget (median) | trials to reach it / Random\'s trials (median) |');
  console.log('|---|---|---|---|');
  const median = (v) => { const s = [...v].sort((a, b) => a - b); return s.length ? s[(s.length - 1) >> 1] : NaN; };
  for (const name of Object.keys(RUN)) {
    const rows = results.oracles.filter((r) => r.oracle === name);
    const reached = rows.filter((r) => r.trialsToBar !== null);
    // A seed that never reached the bar counts as more than the whole budget.
    const fraction = (key) => median(rows.map((r) => r[key] ?? Infinity));
    console.log(`| ${name} | ${reached.length}/${rows.length} | ${fraction('epochFraction').toFixed(2)} | ${fraction('trialFraction').toFixed(2)} |`);
  }
}

async function image() {
  const budget = arg('budget', 420);
  const workers = arg('workers', availableParallelism());
  const { train, test } = loadMnist({ trainSize: 8000, testSize: 2000 });
  const started = performance.now();
  const seed = arg('seed', 1);
  const refit = arg('refit', 0) === 1;
  // Refit retrains the best trial alone, so it goes with the best alone.
  const ensembleSize = arg('ensemble', refit ? 1 : 3);
  const patience = arg('patience', 10);
  const clf = new ImageClassifier({ maxTrials: 40, seed, workers, overwrite: true, ensembleSize, patience });
  await clf.fit(tensor(train.x, [train.n, 28, 28, 1]), Array.from(train.y), { epochs: arg('epochs', 20), batchSize: 64, timeBudget: budget, refit });
  const minutes = (performance.now() - started) / 60000;
  const { accuracy } = clf.evaluate(tensor(test.x, [test.n, 28, 28, 1]), Array.from(test.y));
  const members = clf.getEnsembleHyperparameters().length;
  const singles = [];
  if (ensembleSize > 1) {
    // Each of the ensemble's candidates alone on the test digits, for comparison.
    for (const model of await clf.tuner.getBestModels(ensembleSize)) singles.push(model.evaluate(tensor(test.x, [test.n, 28, 28, 1]), tensor(Float32Array.from(test.y), [test.n])).accuracy);
    const ranked = clf.tuner.getBestTrials(ensembleSize);
    const ids = clf.getEnsembleHyperparameters().map((v) => ranked.find((t) => JSON.stringify(t.hyperparameters) === JSON.stringify(v)).trialId);
    console.log(`trials ${ids.join(' and ')} averaged; the best ${ranked.length} trials (${ranked.map((t) => t.trialId).join(', ')}) alone on the test digits: ${singles.map((a) => `${(a * 100).toFixed(2)}%`).join(', ')}`);
  }
  results.image = { accuracy, minutes, trials: clf.tuner.trials.length, best: clf.getBestHyperparameters(), members, singles, workers, budget, refit, seed, ensembleSize, patience };
  console.log(clf.tuner.resultsSummary(3));
  console.log(`ImageClassifier: test accuracy ${(accuracy * 100).toFixed(2)}% on 2,000 held-out digits after ${minutes.toFixed(1)} minutes ` +
    `(${clf.tuner.trials.length} trials, ${workers} workers, search budget ${budget} s${refit ? ', then the retraining of the best on all 8,000' : members > 1 ? `; the average of ${members} trials' models, trained on 6,400` : '; the best trial\'s model, trained on 6,400'})`);
}

if (only === 'all' || only === 'oracles') await oracles();
if (only === 'all' || only === 'image') await image();
console.log(`load average ${loadavg()[0].toFixed(2)} at the end`);
const json = arg('json', null);
if (json) writeFileSync(json, JSON.stringify(results, null, 1));
