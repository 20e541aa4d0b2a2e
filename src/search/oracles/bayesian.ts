// Bayesian optimization: a Gaussian process fitted to the scores so far, and the next trial
// where the expected improvement over the best score is largest (the model and its encoding of
// the space are in gaussian_process.ts). Trials still running count as observations of the best
// score so far (constant liar), so that proposals made while they run spread out instead of
// piling up near them.

import { decode, defaultInitialPoints, encode, proposeByExpectedImprovement } from './gaussian_process.js';
import { Oracle, type OracleArgs, type TrialRequest } from './oracle.js';
import type { HPValues } from '../hyperparameters.js';

export interface BayesianOptimizationArgs extends OracleArgs {
  /**
   * Random trials before the GP is used (default: one per hyperparameter, at least 3 and at
   * most 10; a choice counts once, not once per value, so a search of 20 to 50 trials spends
   * most of them on the GP's proposals).
   */
  numInitialPoints?: number;
  /** Observation noise added to the kernel diagonal (on standardized scores). */
  alpha?: number;
  /** Random candidates scored by the acquisition per trial. */
  candidates?: number;
}

/**
 * @example
 * ```ts
 * const oracle = new BayesianOptimization({ numInitialPoints: 5, seed: 7 });
 * ```
 */
export class BayesianOptimization extends Oracle {
  readonly algorithm = 'BayesianOptimization';
  private readonly numInitialPoints: number | undefined;
  private readonly alpha: number;
  private readonly candidates: number;

  constructor(args: BayesianOptimizationArgs = {}) {
    super(args);
    this.numInitialPoints = args.numInitialPoints;
    this.alpha = args.alpha ?? 1e-4;
    this.candidates = args.candidates ?? 500;
  }

  /** The coordinates of `values` in the model's unit cube. */
  encode(values: HPValues): Float64Array {
    return encode(this.space.space, values);
  }

  /** The values nearest to `coords`. */
  decode(coords: Float64Array): HPValues {
    return decode(this.space.space, coords);
  }

  protected propose(trialId: string): TrialRequest | 'wait' | 'exhausted' {
    const rng = this.rngFor(trialId);
    const done = this.completed();
    const dims = this.encode({}).length;
    const initial = this.numInitialPoints ?? defaultInitialPoints(this.space.space);
    if (done.length < initial || dims === 0) {
      const values = this.sampleUnseen(rng);
      return values === null ? 'exhausted' : { values };
    }
    const keys = this.seenKeys();
    const values = proposeByExpectedImprovement(
      this.space.space,
      done.map((t) => ({ values: t.hyperparameters, score: this.maximize ? t.score! : -t.score! })),
      [...this.running.values()].map((r) => r.values),
      rng,
      { alpha: this.alpha, candidates: this.candidates, sampleRandom: (r) => this.sampleRandom(r), isSeen: (v) => this.seen(v, keys), owner: this.algorithm },
    ) ?? this.sampleUnseen(rng);
    return values === null ? 'exhausted' : { values };
  }
}
