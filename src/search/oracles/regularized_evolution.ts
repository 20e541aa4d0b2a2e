// Regularized (aging) evolution: the population is the most recent `populationSize` completed
// trials; each new trial copies the winner of a random tournament and changes one
// hyperparameter. Because the oldest member leaves whatever its score, a lucky early
// evaluation cannot dominate the search forever.
// see: Real et al., "Regularized Evolution for Image Classifier Architecture Search", AAAI 2019.

import type { Random } from '../../util/random.js';
import { sampleValue, type HPValues, type HyperParameterSpec } from '../hyperparameters.js';
import { Oracle, type OracleArgs, type Trial, type TrialRequest } from './oracle.js';

export interface RegularizedEvolutionArgs extends OracleArgs {
  /** Completed trials kept in the population (default 20); random trials until it is full. */
  populationSize?: number;
  /** Population members drawn for each tournament (default 5). */
  sampleSize?: number;
}

/**
 * @example
 * ```ts
 * const oracle = new RegularizedEvolution({ populationSize: 10, sampleSize: 3 });
 * ```
 */
export class RegularizedEvolution extends Oracle {
  readonly algorithm = 'RegularizedEvolution';
  readonly populationSize: number;
  readonly sampleSize: number;

  constructor(args: RegularizedEvolutionArgs = {}) {
    super(args);
    this.populationSize = args.populationSize ?? 20;
    this.sampleSize = args.sampleSize ?? 5;
    if (!Number.isInteger(this.populationSize) || this.populationSize < 2) {
      throw new Error(`kerasm.RegularizedEvolution: expected populationSize to be an integer >= 2, got ${this.populationSize}`);
    }
    if (!Number.isInteger(this.sampleSize) || this.sampleSize < 1 || this.sampleSize > this.populationSize) {
      throw new Error(`kerasm.RegularizedEvolution: expected sampleSize in [1, populationSize ${this.populationSize}], got ${this.sampleSize}`);
    }
  }

  /** The youngest populationSize completed trials, oldest first (derived from the trials, so a resume needs no state). */
  population(): Trial[] {
    return this.completed().slice(-this.populationSize);
  }

  protected propose(trialId: string): TrialRequest | 'wait' | 'exhausted' {
    const rng = this.rngFor(trialId);
    const population = this.population();
    if (population.length < this.populationSize) {
      const values = this.sampleUnseen(rng);
      return values === null ? 'exhausted' : { values };
    }
    const keys = this.seenKeys();
    for (let attempt = 0; attempt <= this.maxCollisions; attempt++) {
      const contenders = Array.from({ length: this.sampleSize }, () => population[rng.int(population.length)]);
      const parent = this.byScore(contenders)[0];
      const child = this.mutate(parent.hyperparameters, rng);
      if (child && !this.seen(child, keys)) return { values: child };
    }
    const values = this.sampleUnseen(rng);
    return values === null ? 'exhausted' : { values };
  }

  /** `values` with one active hyperparameter changed; children of a changed parent are re-drawn or dropped. */
  private mutate(values: HPValues, rng: Random): HPValues | null {
    const active = (spec: HyperParameterSpec, v: HPValues) => spec.conditions.every((c) => c.parent in v && c.values.includes(v[c.parent]));
    const mutable = this.space.space.filter((s) => s.type !== 'fixed' && s.name in values && active(s, values));
    if (mutable.length === 0) return null;
    const target = mutable[rng.int(mutable.length)];
    let value = sampleValue(target, rng);
    for (let i = 0; i < 10 && value === values[target.name]; i++) value = sampleValue(target, rng);
    if (value === values[target.name]) return null;
    const child: HPValues = {};
    for (const spec of this.space.space) {
      if (!active(spec, child)) continue;
      if (spec.name === target.name) child[spec.name] = value;
      else child[spec.name] = spec.name in values ? values[spec.name] : sampleValue(spec, rng);
    }
    return child;
  }
}
