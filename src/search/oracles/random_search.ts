// Random search: every trial draws each active hyperparameter independently.
// see: Bergstra and Bengio, "Random Search for Hyper-Parameter Optimization", JMLR 2012.

import { Oracle, type TrialRequest } from './oracle.js';

/**
 * @example
 * ```ts
 * const tuner = new Tuner({ hypermodel: build, oracle: new RandomSearch({ seed: 1 }), objective: 'val_loss', maxTrials: 10 });
 * ```
 */
export class RandomSearch extends Oracle {
  readonly algorithm = 'RandomSearch';
  protected propose(trialId: string): TrialRequest | 'wait' | 'exhausted' {
    const values = this.sampleUnseen(this.rngFor(trialId));
    return values === null ? 'exhausted' : { values };
  }
}
