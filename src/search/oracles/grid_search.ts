// Grid search: every combination of the grid points of the active hyperparameters, in order
// (the last-defined hyperparameter varies fastest). Ints and floats with a step are enumerated
// by their step; continuous or log-sampled floats by `floatPoints` evenly spaced points.

import { gridValues, type HPValues, type HyperParameterSpec } from '../hyperparameters.js';
import { Oracle, type OracleArgs, type TrialRequest } from './oracle.js';

export interface GridSearchArgs extends OracleArgs {
  /** Points per continuous float (default 5). */
  floatPoints?: number;
}

/** Every combination of `specs` from index i on, extending `values` (conditions honoured). */
function* combinations(specs: readonly HyperParameterSpec[], i: number, values: HPValues, floatPoints: number): Generator<HPValues> {
  if (i === specs.length) {
    yield { ...values };
    return;
  }
  const spec = specs[i];
  const active = spec.conditions.every((c) => c.parent in values && c.values.includes(values[c.parent]));
  if (!active) {
    yield* combinations(specs, i + 1, values, floatPoints);
    return;
  }
  for (const v of gridValues(spec, floatPoints)) {
    values[spec.name] = v;
    yield* combinations(specs, i + 1, values, floatPoints);
    delete values[spec.name];
  }
}

/**
 * @example
 * ```ts
 * const oracle = new GridSearch({ floatPoints: 3 }); // 'exhausted' once every combination ran
 * ```
 */
export class GridSearch extends Oracle {
  readonly algorithm = 'GridSearch';
  private readonly floatPoints: number;

  constructor(args: GridSearchArgs = {}) {
    super(args);
    this.floatPoints = args.floatPoints ?? 5;
    if (!Number.isInteger(this.floatPoints) || this.floatPoints < 1) {
      throw new Error(`kerasm.GridSearch: expected floatPoints to be a positive integer, got ${this.floatPoints}`);
    }
  }

  /** The first combination not yet tried (recomputed, so a grown space or a resume needs no state). */
  protected propose(_trialId: string): TrialRequest | 'wait' | 'exhausted' {
    const keys = this.seenKeys();
    for (const values of combinations(this.space.space, 0, {}, this.floatPoints)) {
      if (!this.seen(values, keys)) return { values };
    }
    return 'exhausted';
  }
}
