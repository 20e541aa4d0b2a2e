// The example every Keras tutorial starts from:
//
//   model = Sequential([Conv2D(32, (3, 3), activation='relu', input_shape=(224, 224, 3)),
//                       MaxPooling2D((2, 2)), Flatten(), Dense(10, activation='softmax')])
//   model.compile(optimizer='sgd', loss='categorical_crossentropy', metrics=['accuracy'])
//   model.fit(x_train, y_train, epochs=10)
//
// Here on synthetic images (a bright square whose position gives the class), so it runs
// anywhere. Options: --size 224 --samples 64 --epochs 10
import { Conv2D, Dense, Flatten, MaxPooling2D, Sequential, setRandomSeed, tensor } from 'kerasm';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const size = arg('size', 224);
const samples = arg('samples', 64);
const epochs = arg('epochs', 10);
const classes = 10;

setRandomSeed(7);

/** Class k puts a bright square in the k-th cell of a 5x2 grid over the image. */
function makeData(n) {
  const x = new Float32Array(n * size * size * 3);
  const y = new Float32Array(n * classes);
  const cellH = Math.floor(size / 2);
  const cellW = Math.floor(size / 5);
  const side = Math.max(1, Math.floor(Math.min(cellH, cellW) / 2));
  for (let i = 0; i < n; i++) {
    const k = i % classes;
    const top = Math.floor(k / 5) * cellH + Math.floor((cellH - side) / 2);
    const left = (k % 5) * cellW + Math.floor((cellW - side) / 2);
    for (let r = top; r < top + side; r++) {
      for (let c = left; c < left + side; c++) {
        for (let ch = 0; ch < 3; ch++) x[((i * size + r) * size + c) * 3 + ch] = 1;
      }
    }
    y[i * classes + k] = 1;
  }
  return [tensor(x, [n, size, size, 3]), tensor(y, [n, classes])];
}

const [xTrain, yTrain] = makeData(samples);

const model = new Sequential([
  new Conv2D({ filters: 32, kernelSize: [3, 3], activation: 'relu', inputShape: [size, size, 3] }),
  new MaxPooling2D({ poolSize: [2, 2] }),
  new Flatten(),
  new Dense({ units: classes, activation: 'softmax' }),
]);
model.summary();
model.compile({ optimizer: 'sgd', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
const history = await model.fit(xTrain, yTrain, { epochs, batchSize: 32 });
const final = history.history.accuracy.at(-1);
console.log(`final training accuracy: ${(final * 100).toFixed(1)}%`);
