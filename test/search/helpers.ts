// What several search tests share: an oracle given a space, and a small regression problem.

import { Dense, SGD, Sequential, tensor, type Model } from '../../src/index.js';
import { HyperParameters, type Oracle } from '../../src/search/index.js';
import { Random } from '../../src/util/random.js';

/** Gives the oracle the space that `define` registers (what the tuner does after a build). */
export function withSpace<O extends Oracle>(oracle: O, define: (hp: HyperParameters) => void, maximize = false): O {
  const hp = new HyperParameters();
  define(hp);
  oracle.space.merge(hp);
  oracle.maximize = maximize;
  return oracle;
}

/** 48 seeded rows of 3 features; the target is a linear function of two of them. */
export function regressionData() {
  const rng = new Random(11);
  const xData = new Float32Array(48 * 3).map(() => rng.normal());
  const x = tensor(xData, [48, 3]);
  const y = tensor(new Float32Array(48).map((_, i) => xData[i * 3] - 2 * xData[i * 3 + 2]), [48, 1]);
  return { x, y, fitArgs: { epochs: 2, batchSize: 16, validationSplit: 0.25 } };
}

/** A Dense regressor with its width and SGD learning rate searched. */
export function regressor(hp: HyperParameters): Model {
  const model = new Sequential([
    new Dense({ units: hp.int('units', { min: 2, max: 16 }), activation: 'relu', inputShape: [3] }),
    new Dense({ units: 1 }),
  ]);
  model.compile({ optimizer: new SGD({ learningRate: hp.float('lr', { min: 0.001, max: 0.1, sampling: 'log' }) }), loss: 'mse' });
  return model;
}
