// The hypermodel of the search workload: small Dense classifiers of MNIST digits. The Tuner and
// its workers import it by module reference; it imports the same bundle file they run.

import { Adam, Dense, Sequential } from '../../dist/kerasm.js';

export function mlp() {
  return (hp) => {
    const model = new Sequential([
      new Dense({ units: hp.choice('units', [32, 64, 128]), activation: 'relu', inputShape: [784] }),
      new Dense({ units: 10, activation: 'softmax' }),
    ]);
    const learningRate = hp.float('learning_rate', { min: 1e-4, max: 1e-2, sampling: 'log' });
    model.compile({ optimizer: new Adam({ learningRate }), loss: 'categorical_crossentropy', metrics: ['accuracy'] });
    return model;
  };
}
